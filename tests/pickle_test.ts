import { assertEquals, assertThrows } from "./assert.ts";
import {
  pickleBase64,
  pickleDecode,
  pickleEncode,
  PickleError,
  unpickleBase64,
} from "../src/store/pickle.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));

// Byte strings from CPython 3.11: pickle.dumps(value, protocol=2).hex()
const KNOWN: Array<[unknown, string]> = [
  [null, "80024e2e"],
  [true, "8002882e"],
  [false, "8002892e"],
  [0, "80024b002e"],
  [255, "80024bff2e"],
  [256, "80024d00012e"],
  [65535, "80024dffff2e"],
  [65536, "80024a000001002e"],
  [-1, "80024affffffff2e"],
  [2147483647, "80024affffff7f2e"],
  [2147483648, "80028a0500000080002e"],
  [-2147483649, "80028a05ffffff7fff2e"],
  [9223372036854775808n, "80028a090000000000000080002e"],
  [1.5, "8002473ff80000000000002e"],
  [-0, "80024780000000000000002e"],
  [1e300, "8002477e37e43c8800759c2e"],
  ["", "8002580000000071002e"],
  ["héllo 模型", "8002580d00000068c3a96c6c6f20e6a8a1e59e8b71002e"],
  [[], "80025d71002e"],
  [[1], "80025d71004b01612e"],
  [[1, 2], "80025d7100284b014b02652e"],
  [{}, "80027d71002e"],
  [{ a: 1 }, "80027d710058010000006171014b01732e"],
  [
    { a: 1, b: [true, null, 2.5] },
    "80027d71002858010000006171014b0158010000006271025d710328884e47400400000000000065752e",
  ],
  [
    { model: "m", messages: [{ role: "user", content: "hi" }], stream: true },
    "80027d71002858050000006d6f64656c710158010000006d710258080000006d6573736167657371035d71047d7105285804000000726f6c65710658040000007573657271075807000000636f6e74656e7471085802000000686971097561580600000073747265616d710a88752e",
  ],
];

for (const [value, bytes] of KNOWN) {
  Deno.test(`pickle: ${JSON.stringify(value, (_, v) => typeof v === "bigint" ? `${v}n` : v)} encodes as CPython does`, () => {
    assertEquals(hex(pickleEncode(value)), bytes);
    const back = pickleDecode(unhex(bytes));
    assertEquals(
      Object.is(value, -0) ? Object.is(back, -0) : back,
      Object.is(value, -0) ? true : value,
    );
  });
}

Deno.test("pickle: long lists and dicts go in batches of 1000 and round-trip", () => {
  const list = Array.from({ length: 2501 }, (_, i) => `s${i}`);
  const dict = Object.fromEntries(list.map((s, i) => [s, i]));
  assertEquals(pickleDecode(pickleEncode(list)), list);
  assertEquals(pickleDecode(pickleEncode(dict)), dict);
  assertEquals(unpickleBase64(pickleBase64({ list, dict })), { list, dict });
});

Deno.test("pickle: protocol 4/5 plain-data opcodes decode (FRAME, SHORT_BINUNICODE, MEMOIZE, tuples)", () => {
  // pickle.dumps({'a': ('x', 1), 'b': b'by'}, protocol=5).hex()
  const p5 = "8005951a000000000000007d94288c0161948c0178944b0186948c0162944302627994752e";
  assertEquals(pickleDecode(unhex(p5)), { a: ["x", 1], b: "by" });
});

for (
  const [name, bytes] of [
    ["GLOBAL (os.system)", "800263706f7369780a73797374656d0a71002e"],
    ["STACK_GLOBAL", "80058c026f7394938c0673797374656d94932e"],
    ["REDUCE", "80024e4e522e"],
  ] as const
) {
  Deno.test(`pickle: refuses ${name}, never executes`, () => {
    assertThrows(() => pickleDecode(unhex(bytes)), PickleError, "refusing");
  });
}

Deno.test("pickle: damaged input is a PickleError, not a crash", () => {
  assertThrows(() => pickleDecode(unhex("80025d")), PickleError, "truncated");
  assertThrows(() => unpickleBase64("%%%"), PickleError, "not base64");
  assertThrows(() => pickleEncode(new Date()), TypeError);
});

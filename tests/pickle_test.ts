import { assertEquals, assertThrows } from "./assert.ts";
import {
  base64PickleUtf8List,
  bytesToBase64,
  pickleBase64,
  pickleDecode,
  pickleEncode,
  PickleError,
  pickleUtf8List,
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

Deno.test("pickle: a last batch of one item is MARK ... APPENDS / SETITEMS, as CPython writes it", () => {
  // pickle.dumps(list(range(1001)), protocol=2)[-8:].hex() and, for the dict
  // {f"k{i}": i for i in range(1001)}, [-12:].hex() (CPython 3.11, its C pickler)
  const list = Array.from({ length: 1001 }, (_, i) => i);
  assertEquals(hex(pickleEncode(list)).slice(-16), "0365284de803652e");
  const dict = Object.fromEntries(list.map((i) => [`k${i}`, i]));
  assertEquals(hex(pickleEncode(dict)).slice(-24), "303072e90300004de803752e");
});

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

/** The lists the direct assembly is checked on: sizes around each batch and memo boundary. */
function stringLists(): string[][] {
  const lists: string[][] = [[], [""], ["a\r\nb"], ['{"é":"模型"}', "", "x"]];
  for (const n of [2, 255, 256, 257, 999, 1000, 1001, 1002, 2000, 2001, 2501]) {
    lists.push(Array.from({ length: n }, (_, i) => `{"i":${i},"t":"é${"x".repeat(i % 7)}"}`));
  }
  // All ASCII: the separators are then found in the decoded text, not in the bytes.
  lists.push(["", "a", "", ""], ["ab", "cd"]);
  for (const n of [255, 256, 1001]) {
    lists.push(Array.from({ length: n }, (_, i) => `{"i":${i},"t":"${"x".repeat(i % 7)}"}`));
  }
  return lists;
}

Deno.test("pickle: a list of strings assembled from joined UTF-8 bytes is pickleEncode's", () => {
  const enc = new TextEncoder();
  for (const list of stringLists()) {
    const joined = enc.encode(list.join("\r"));
    const fast = pickleUtf8List(joined, list.length);
    assertEquals(hex(fast), hex(pickleEncode(list)), `${list.length} strings`);
    assertEquals(pickleDecode(fast), list);
  }
  assertThrows(() => pickleUtf8List(enc.encode("a\rb"), 3), RangeError);
});

Deno.test("pickle: the strings' byte lengths, when given, cut the bytes as the search would", () => {
  const enc = new TextEncoder();
  for (const list of stringLists()) {
    const joined = enc.encode(list.join("\r"));
    const lengths = Uint32Array.from(list, (s) => enc.encode(s).length);
    const expected = hex(pickleEncode(list));
    assertEquals(hex(pickleUtf8List(joined, list.length, lengths)), expected);
    assertEquals(
      base64PickleUtf8List(joined, list.length, lengths),
      bytesToBase64(pickleEncode(list)),
    );
    if (list.length < 2) continue;
    // Lengths that do not fit the bytes (a separator missed, the wrong sum or count) are not used.
    const off = lengths.slice();
    off[0] += 1;
    off[1] = Math.max(0, off[1] - 1);
    assertEquals(hex(pickleUtf8List(joined, list.length, off)), expected, `${list.length} strings`);
    assertEquals(hex(pickleUtf8List(joined, list.length, lengths.subarray(1))), expected);
  }
});

Deno.test("pickle: the direct assembly copies bytes that are not UTF-8 as they are, split at each CR", () => {
  // Lone bad bytes, then a cut sequence: copied byte for byte, cut only at the CRs.
  const cases: [number[], number, string][] = [
    [
      [0x61, 0x80, 0x0d, 0xff, 0x62, 0x0d, 0x0d, 0x63],
      4,
      "80025d7100" + "28" + "580200000061807101" + "5802000000ff627102" + "58000000007103" +
      "5801000000637104" + "652e",
    ],
    [
      [0xe2, 0x82, 0x0d, 0x61],
      2,
      "80025d7100" + "28" + "5802000000e2827101" + "5801000000617102" + "652e",
    ],
    // A byte-order mark: the decoder drops it, so the text is shorter than the bytes.
    [
      [0xef, 0xbb, 0xbf, 0x0d, 0x61],
      2,
      "80025d7100" + "28" + "5803000000efbbbf7101" + "5801000000617102" + "652e",
    ],
  ];
  for (const [bytes, count, expected] of cases) {
    assertEquals(hex(pickleUtf8List(Uint8Array.from(bytes), count)), expected);
  }
});

Deno.test("pickle: the direct assembly is byte for byte CPython's pickle.dumps(list, 2)", async () => {
  // Distinct strings of two characters or more: CPython memoizes, never shares, each of them.
  const lists = stringLists().filter((l) => l.every((s) => s.length > 1));
  const py = "import json, pickle, sys\n" +
    "for line in sys.stdin: print(pickle.dumps(json.loads(line), protocol=2).hex())";
  const child = new Deno.Command("python3", {
    args: ["-c", py],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const output = child.output(); // read while writing: the answers fill the pipe before the input ends
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(lists.map((l) => JSON.stringify(l)).join("\n") + "\n"));
  await w.close();
  const out = new TextDecoder().decode((await output).stdout).trim().split("\n");
  assertEquals(out.length, lists.length);
  const enc = new TextEncoder();
  lists.forEach((list, i) => {
    assertEquals(hex(pickleUtf8List(enc.encode(list.join("\r")), list.length)), out[i]);
  });
});

Deno.test("base64PickleUtf8List equals the base64 of pickleUtf8List, reusing its buffer across sizes", () => {
  const enc = new TextEncoder();
  // A long list first (the kept buffer grows), then shorter ones (it is reused, never read past
  // the current pickle's end), then a longer one again.
  const lists = [
    Array.from({ length: 1500 }, (_, i) => `{"i":${i},"t":"é${"x".repeat(i % 7)}"}`),
    ["one"],
    [],
    ["a", "", "日本語", "b"],
    Array.from({ length: 3000 }, (_, i) => `p${i}`),
    ["x".repeat(9 * 1024 * 1024), "y"], // past the kept buffer's bound: a buffer of its own
    ["after", "the big one"],
  ];
  for (const list of lists) {
    const joined = enc.encode(list.join("\r"));
    const expected = bytesToBase64(pickleEncode(list));
    assertEquals(base64PickleUtf8List(joined, list.length), expected);
  }
});

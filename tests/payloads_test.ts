/**
 * A response's payloads as one blob (`src/records/payloads.ts`): packed, unpacked and copied, with
 * each payload's byte length where every character is one byte; the runs a response's text is
 * encoded in when some payloads hold characters past U+00FF.
 */
import { assertEquals } from "./assert.ts";
import {
  copyPayloads,
  joinPayloads,
  packPayloads,
  payloadRuns,
  unpackPayloads,
} from "../src/records/payloads.ts";
import { seededRandom } from "../src/util/rng.ts";

Deno.test("payloads: a blob unpacks to its payloads; all-ASCII ones carry their byte lengths", () => {
  const ascii = ['{"a":1}', "", '{"b":"xy"}'];
  const blob = packPayloads(ascii);
  assertEquals(unpackPayloads(blob), ascii);
  assertEquals(blob.utf8.length, 7 + 1 + 0 + 1 + 10);
  assertEquals(Array.from(blob.lengths!), [7, 0, 10]);
  // Any character beyond ASCII (two bytes and more, or a lone surrogate's three): no lengths.
  for (const other of [["é", "a"], ["a", "模型"], ["\ud800", "a"], ["a", "😀"]]) {
    const b = packPayloads(other);
    assertEquals(b.lengths, undefined, JSON.stringify(other));
    assertEquals(unpackPayloads(b).length, 2);
  }
  // One payload (the whole body, CRs and all): no lengths needed.
  assertEquals(packPayloads(["a\rb"]).lengths, undefined);
  assertEquals(unpackPayloads(packPayloads(["a\rb"])), ["a\rb"]);
  assertEquals(packPayloads([]).count, 0);
});

Deno.test("payloads: a copy has buffers of its own", () => {
  const blob = packPayloads(["ab", "c"]);
  const copy = copyPayloads(blob);
  assertEquals(unpackPayloads(copy), ["ab", "c"]);
  assertEquals(Array.from(copy.lengths!), [2, 1]);
  copy.utf8[0] = 0x78;
  copy.lengths![0] = 9;
  assertEquals(unpackPayloads(blob), ["ab", "c"]);
  assertEquals(Array.from(blob.lengths!), [2, 1]);
});

Deno.test("payloads: runs keep payloads past U+00FF apart and join to the whole text", () => {
  const a = '{"a":1}', b = '{"b":"é"}', c = '{"c":"模型"}', d = '{"d":"😀"}';
  assertEquals(payloadRuns([]), []);
  assertEquals(payloadRuns([c]), [c]);
  assertEquals(payloadRuns([a, b, a]), [`${a}\r${b}\r${a}`], "é is one byte: one run");
  assertEquals(payloadRuns([a, a, c, a]), [`${a}\r${a}`, c, a]);
  assertEquals(payloadRuns([c, d]), [c, d]);
  assertEquals(payloadRuns([c, a, b, d]), [c, `${a}\r${b}`, d]);
});

Deno.test("payloads: a blob's bytes are the UTF-8 of the payloads joined by CR, whatever their characters", () => {
  // Characters of one byte in V8 (ASCII, Latin-1), two-byte ones (CJK, a surrogate pair, lone
  // surrogates, which UTF-8 writes as U+FFFD), in random payloads: the bytes equal those of the
  // whole join encoded at once, and they unpack to what that decodes to.
  const chars = ["a", "{", '"', "é", "ÿ", "模", "型", "😀", "\ud800", "\udc00", "’"];
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const random = seededRandom(7);
  const rand = (n: number) => Math.floor(random() * n);
  for (let k = 0; k < 2000; k++) {
    const payloads: string[] = [];
    const count = rand(9);
    for (let i = 0; i < count; i++) {
      let p = "";
      const len = rand(12);
      // Most payloads plain (as in a reply), some with one of the other characters.
      for (let j = 0; j < len; j++) p += chars[rand(4) === 0 ? rand(chars.length) : rand(3)];
      payloads.push(p);
    }
    const blob = packPayloads(payloads);
    const whole = enc.encode(joinPayloads(payloads));
    assertEquals(blob.count, count);
    assertEquals(blob.utf8, whole, JSON.stringify(payloads));
    if (count > 0) assertEquals(unpackPayloads(blob), dec.decode(whole).split("\r"));
    if (blob.lengths !== undefined) {
      assertEquals(Array.from(blob.lengths), payloads.map((p) => enc.encode(p).length));
    }
  }
});

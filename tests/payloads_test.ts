/**
 * A response's payloads as one blob (`src/records/payloads.ts`): packed, unpacked and copied, with
 * each payload's byte length where every character is one byte.
 */
import { assertEquals } from "./assert.ts";
import { copyPayloads, packPayloads, unpackPayloads } from "../src/records/payloads.ts";

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

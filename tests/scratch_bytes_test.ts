/**
 * `src/util/scratch_bytes.ts`: a kept buffer that grows by doubling up to the size it keeps, and
 * hands larger requests a buffer of their own.
 */
import { assert, assertEquals } from "./assert.ts";
import { ScratchBytes } from "../src/util/scratch_bytes.ts";

Deno.test("scratch bytes: views of one kept buffer, doubled as needed; past the limit, a buffer of its own", () => {
  const s = new ScratchBytes(64);
  const a = s.take(10);
  assertEquals(a.length, 10);
  a[0] = 7;
  const b = s.take(8); // fits: the same buffer, as the last use left it
  assertEquals([b.length, b.buffer === a.buffer, b[0]], [8, true, 7]);
  const c = s.take(12); // grows: at least doubled (20), no copy of the old bytes kept
  assertEquals([c.length, c.buffer === a.buffer, c.buffer.byteLength], [12, false, 20]);
  assertEquals(s.take(40).buffer.byteLength, 40, "doubled: 2 × 20");
  assertEquals(s.take(50).buffer.byteLength, 64, "doubling stops at the limit");
  const big = s.take(100); // past the limit: its own, and the kept one stays
  assertEquals([big.length, big.buffer.byteLength], [100, 100]);
  assert(s.take(64).buffer !== big.buffer);
  assertEquals(s.take(64).buffer.byteLength, 64);
});

/**
 * RankSelector against a sort: every rank of random lists (duplicates, zeros of both signs,
 * negatives, infinities, NaN), asked in random order, equals the same index of the list sorted
 * by `Float64Array.prototype.sort`, and asking never changes an earlier answer.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { RankSelector, SORT_AT_MOST } from "../src/metrics/rank_select.ts";

/** A small deterministic generator (mulberry32), so a failure repeats. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomList(r: () => number, n: number): Float64Array {
  const special = [0, -0, -1.5, Infinity, -Infinity, NaN, 0.05, 0.05];
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    a[i] = u < 0.1 ? special[Math.floor(r() * special.length)] : u < 0.5
      ? Math.floor(r() * 5) // many duplicates
      : r() * 100 - 10;
  }
  return a;
}

/** Equal as numbers, NaN equal to NaN (0 and -0 are one rank's value either way). */
function sameNumber(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

Deno.test("RankSelector: every rank, asked in random order, is the sorted list's value there", () => {
  const r = rng(7);
  for (const n of [1, 2, 3, 15, 16, 17, 100, 1000, 20_000]) {
    for (let trial = 0; trial < 6; trial++) {
      const values = randomList(r, n);
      const expected = values.slice().sort();
      // Selection (the lists of an unthrottled run's gaps), and the short lists' sort.
      const sel = new RankSelector(values.slice(), trial % 2 === 0 ? 0 : SORT_AT_MOST);
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const asked = order.slice(0, Math.min(n, 300));
      for (const k of asked) {
        assert(
          sameNumber(sel.at(k), expected[k]),
          `n=${n} rank ${k}: ${sel.at(k)} != ${expected[k]}`,
        );
      }
      // Answers stay put as later ranks are selected around them.
      for (const k of asked) assert(sameNumber(sel.at(k), expected[k]), `n=${n} rank ${k} moved`);
    }
  }
});

Deno.test("RankSelector: a list of one value repeated, and a sorted or reversed one", () => {
  const n = 50_000;
  const same = new RankSelector(new Float64Array(n).fill(0.25), 0);
  assertEquals([same.at(0), same.at(n >> 1), same.at(n - 1)], [0.25, 0.25, 0.25]);
  const up = Float64Array.from({ length: n }, (_, i) => i);
  const down = up.slice().reverse();
  for (const s of [new RankSelector(up, 0), new RankSelector(down, 0), new RankSelector(down)]) {
    for (const k of [0, 1, 4999, 25_000, 49_998, 49_999]) assertEquals(s.at(k), k);
  }
});

Deno.test("RankSelector: NaN values rank last; a rank out of range throws", () => {
  for (const sortAtMost of [0, SORT_AT_MOST]) {
    const s = new RankSelector(Float64Array.of(NaN, 3, NaN, 1, 2), sortAtMost);
    assertEquals([s.at(0), s.at(1), s.at(2)], [1, 2, 3]);
    assert(Number.isNaN(s.at(3)) && Number.isNaN(s.at(4)));
    assertEquals(s.length, 5);
    assertThrows(() => s.at(5), RangeError);
    assertThrows(() => s.at(-1), RangeError);
  }
});

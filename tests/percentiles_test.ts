import { assertEquals } from "./assert.ts";
import {
  mean,
  percentileIndexed,
  percentileLinear,
  PERCENTILES,
  sorted,
} from "../src/metrics/percentiles.ts";

// Hand-computed: data 1..20 (n = 20).
const DATA = sorted(Array.from({ length: 20 }, (_, i) => 20 - i)); // given in reverse, sorted here

Deno.test("percentiles: evalscope's rule takes rows[int(n * p / 100)]", () => {
  // n = 20: p10 → index 2 → 3; p25 → 5 → 6; p50 → 10 → 11; p66 → int(13.2) = 13 → 14;
  // p75 → 15 → 16; p80 → 16 → 17; p90 → 18 → 19; p95 → 19 → 20; p98 → int(19.6) = 19 → 20;
  // p99 → int(19.8) = 19 → 20.
  assertEquals(PERCENTILES.map((p) => percentileIndexed(DATA, p)), [
    3,
    6,
    11,
    14,
    16,
    17,
    19,
    20,
    20,
    20,
  ]);
});

Deno.test("percentiles: linear interpolation matches numpy's default", () => {
  // numpy.percentile(range(1, 21), p): rank = 19 * p / 100, then interpolate.
  // p10 → 2.9, p25 → 5.75, p50 → 10.5, p66 → 13.54, p75 → 15.25, p80 → 16.2, p90 → 18.1,
  // p95 → 19.05, p98 → 19.62, p99 → 19.81.
  const got = PERCENTILES.map((p) => Math.round(percentileLinear(DATA, p) * 1000) / 1000);
  assertEquals(got, [2.9, 5.75, 10.5, 13.54, 15.25, 16.2, 18.1, 19.05, 19.62, 19.81]);
});

Deno.test("percentiles: one value, no values", () => {
  assertEquals(percentileLinear(sorted([7]), 99), 7);
  assertEquals(percentileIndexed(sorted([7]), 99), 7);
  assertEquals(Number.isNaN(percentileLinear(sorted([]), 50)), true);
  assertEquals(Number.isNaN(mean([])), true);
  assertEquals(mean([1, 2, 3, 4]), 2.5);
});

Deno.test("percentiles: sorted() sorts numerically, not as text", () => {
  assertEquals(Array.from(sorted([10, 9, 100, 1])), [1, 9, 10, 100]);
});

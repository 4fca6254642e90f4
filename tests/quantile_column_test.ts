import { assert, assertEquals } from "./assert.ts";
import { QuantileColumn } from "../src/metrics/quantile_column.ts";
import {
  percentileIndexed,
  percentileLinear,
  PERCENTILES,
  sorted,
} from "../src/metrics/percentiles.ts";
import { seededRandom } from "../src/util/rng.ts";

function data(n: number, seed: number): number[] {
  const r = seededRandom(seed);
  // A latency-like spread: mostly 50–150 ms, a long tail, some exact zeros (coalesced reads).
  return Array.from({ length: n }, () => {
    const u = r();
    if (u < 0.02) return 0;
    return 50 + 100 * r() + (u > 0.97 ? 2000 * r() : 0);
  });
}

Deno.test("quantile column: below its limit it is exact (same as the sorted-array functions)", () => {
  const values = data(5000, 1);
  const c = new QuantileColumn(10_000);
  for (const v of values) c.push(v);
  const s = sorted(values);
  assert(c.exact);
  for (const p of PERCENTILES) {
    assertEquals(c.percentileLinear(p), percentileLinear(s, p));
    assertEquals(c.percentileIndexed(p), percentileIndexed(s, p));
  }
  assertEquals(c.mean(), values.reduce((a, b) => a + b, 0) / values.length);
});

Deno.test("quantile column: past its limit, percentiles within 0.1% and the mean still exact", () => {
  const values = data(60_000, 2);
  const c = new QuantileColumn(1000);
  for (const v of values) c.push(v);
  assertEquals(c.exact, false);
  assertEquals(c.length, 60_000);
  const s = sorted(values);
  for (const p of [...PERCENTILES, 0, 1, 99.9, 100]) {
    for (
      const [got, want] of [[c.percentileLinear(p), percentileLinear(s, p)], [
        c.percentileIndexed(p),
        percentileIndexed(s, p),
      ]]
    ) {
      if (want === 0) assertEquals(got, 0, `p${p}`);
      else assert(Math.abs(got - want) / want <= 0.001, `p${p}: ${got} vs exact ${want}`);
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert(Math.abs(c.mean() - mean) < 1e-9 * mean);
});

Deno.test("quantile column: empty is NaN", () => {
  const c = new QuantileColumn();
  assert(
    Number.isNaN(c.mean()) && Number.isNaN(c.percentileLinear(50)) &&
      Number.isNaN(c.percentileIndexed(50)),
  );
});

Deno.test("quantile column: pushAll is push value by value, across the exact limit too", () => {
  const random = seededRandom(11);
  for (const limit of [10, 100, 1_000]) {
    const one = new QuantileColumn(limit);
    const all = new QuantileColumn(limit);
    let sum = 0;
    let count = 0;
    for (let r = 0; r < 60; r++) {
      const values = Float64Array.from({ length: Math.floor(random() * 40) }, () => random() * 50);
      for (const v of values) {
        one.push(v * 1000);
        sum += v * 1000;
        count++;
      }
      all.pushAll(values, 1000);
      assertEquals(all.length, count);
      assertEquals(all.exact, one.exact);
      assertEquals(all.mean(), one.mean());
      assertEquals(all.mean(), sum / count);
      for (const p of [0, 10, 50, 90, 99, 100]) {
        assertEquals(all.percentileLinear(p), one.percentileLinear(p), `limit ${limit}, p${p}`);
        assertEquals(all.percentileIndexed(p), one.percentileIndexed(p));
      }
    }
  }
});

/**
 * Percentiles, two ways. {@link percentileIndexed} is evalscope's late-2024 rule (sort ascending,
 * take `rows[int(n * p / 100)]`), used for its compatible table. {@link percentileLinear} is
 * linear interpolation between closest ranks (numpy's default, as vLLM's benchmark reports it),
 * used for the per-request metrics table.
 *
 * @module
 */

/** The percentiles both tables report. */
export const PERCENTILES: readonly number[] = [10, 25, 50, 66, 75, 80, 90, 95, 98, 99];

/** Ascending numeric sort into a new Float64Array (fast, and leaves the input untouched). */
export function sorted(values: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(values as ArrayLike<number>);
  a.sort();
  return a;
}

/** evalscope's rule on sorted data: `data[floor(n * p / 100)]`, clamped to the last element. */
export function percentileIndexed(sortedData: ArrayLike<number>, p: number): number {
  return indexedAt(sortedData.length, p, (k) => sortedData[k]);
}

/** Linear interpolation between closest ranks (numpy `linear`) on sorted data. */
export function percentileLinear(sortedData: ArrayLike<number>, p: number): number {
  return linearAt(sortedData.length, p, (k) => sortedData[k]);
}

/**
 * {@link percentileIndexed} of `n` values that `at(k)` gives by rank (0-based, ascending), for
 * values kept otherwise than sorted (a histogram, a selection); NaN for none.
 */
export function indexedAt(n: number, p: number, at: (k: number) => number): number {
  if (n === 0) return NaN;
  return at(Math.min(n - 1, Math.floor((n * p) / 100)));
}

/** {@link percentileLinear} of `n` values that `at(k)` gives by rank; NaN for none. */
export function linearAt(n: number, p: number, at: (k: number) => number): number {
  if (n === 0) return NaN;
  const rank = ((n - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const a = at(lo);
  return a + (at(hi) - a) * (rank - lo);
}

/** Arithmetic mean; NaN for no data. */
export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return s / n;
}

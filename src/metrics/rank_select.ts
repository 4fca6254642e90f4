/**
 * Order statistics without sorting: the value of rank `k` (0-based, ascending) of a list,
 * found by selection (quickselect with a three-way partition) in place, each answer narrowing the
 * next. A run's percentile table asks ~20 ranks of each column; sorting the 1,020,000
 * inter-token gaps of an unthrottled run to answer them took the main thread 241–305 ms at the
 * end of the run (V8's `Float64Array.prototype.sort`), selecting them 38 ms; a million gaps of
 * paced streams (all distinct) 143–172 ms against 93–123. Lists up to {@link SORT_AT_MOST}
 * values are still sorted (`tests/rank_select_test.ts` checks every rank against a sort). Hand-written: it is ~60 lines,
 * and no package offers incremental selection on typed arrays.
 *
 * The ranks are those of the ascending order that `Float64Array.prototype.sort` gives: NaN
 * values come last.
 *
 * @example
 * ```ts
 * import { RankSelector } from "./rank_select.ts";
 * const s = new RankSelector(Float64Array.of(5, 1, 4, 2, 3));
 * s.at(0); // 1
 * s.at(4); // 5
 * ```
 *
 * @module
 */

/** Below this many values, a range is finished by insertion sort. */
const SMALL = 16;

/**
 * Up to this many values, a list is sorted at once instead: `Float64Array.prototype.sort` is
 * native and needs no warming up, while selection's loops run a while before V8 optimizes them
 * (65,000 paced gaps, 20 ranks: 12–15 ms sorted against 18–30 ms selected in a fresh process).
 */
export const SORT_AT_MOST = 1 << 18;

/** Values of rank `k`, each found by selection in the caller's array (which it reorders). */
export class RankSelector {
  #a: Float64Array;
  /** Values that are not NaN: ranks `0 .. #m - 1` (the NaNs are moved past them). */
  #m: number;
  /**
   * Ranges of ranks already in place, as `[from, to, from, to, ...]` ascending: every value before
   * a range is ≤ its values, every value after it ≥.
   */
  #known: number[] = [];

  /**
   * @param values the list, reordered in place as ranks are asked (pass a copy to keep it)
   * @param sortAtMost a list of at most this many values is sorted at once instead
   */
  constructor(values: Float64Array, sortAtMost = SORT_AT_MOST) {
    this.#a = values;
    let m = values.length;
    for (let i = 0; i < m; i++) {
      if (values[i] !== values[i]) { // NaN: swap it to the end
        m--;
        values[i] = values[m];
        values[m] = NaN;
        i--;
      }
    }
    this.#m = m;
    if (m <= sortAtMost) { // V8's native sort is quicker here than selection's first calls
      values.subarray(0, m).sort();
      if (m > 0) this.#known.push(0, m - 1);
    }
  }

  /** Number of values. */
  get length(): number {
    return this.#a.length;
  }

  /** The value of rank `k` (0 ≤ k < length; NaN past the last value that is not NaN). */
  at(k: number): number {
    if (!(k >= 0 && k < this.#a.length)) throw new RangeError(`rank ${k} of ${this.#a.length}`);
    if (k >= this.#m) return NaN;
    const known = this.#known;
    // The first range in place that ends at or after k; the one before it ends before k.
    let i = 0;
    let j = known.length >> 1;
    while (i < j) {
      const mid = (i + j) >>> 1;
      if (known[2 * mid + 1] < k) i = mid + 1;
      else j = mid;
    }
    if (2 * i < known.length && known[2 * i] <= k) return this.#a[k];
    const lo = i > 0 ? known[2 * i - 1] + 1 : 0;
    const hi = 2 * i < known.length ? known[2 * i] - 1 : this.#m - 1;
    const [from, to] = select(this.#a, lo, hi, k);
    known.splice(2 * i, 0, from, to);
    return this.#a[k];
  }
}

/**
 * Put the value of rank `k` of `a[lo..hi]` at `a[k]`, smaller ones before it, larger after.
 * Returns the range `[from, to]` around `k` whose values are all in place (the values equal to
 * the last pivot, or the whole small range sorted), for the caller to remember.
 */
function select(a: Float64Array, lo: number, hi: number, k: number): [number, number] {
  let rounds = 0;
  while (hi - lo >= SMALL) {
    if (++rounds > 64) { // far past the expected ~log2(n): finish by sorting, never quadratic
      a.subarray(lo, hi + 1).sort();
      return [lo, hi];
    }
    // Median of three as the pivot, then a three-way partition: values equal to it gather in
    // the middle, so a list of few distinct values (inter-token gaps of a coalesced stream)
    // takes a pass or two, and every rank among them is then known.
    const mid = lo + ((hi - lo) >>> 1);
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt--] = v;
      } else i++;
    }
    // Now a[lo..lt-1] < pivot, a[lt..gt] = pivot, a[gt+1..hi] > pivot.
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return [lt, gt];
  }
  for (let x = lo + 1; x <= hi; x++) {
    const v = a[x];
    let y = x - 1;
    while (y >= lo && a[y] > v) {
      a[y + 1] = a[y];
      y--;
    }
    a[y + 1] = v;
  }
  return [lo, hi];
}

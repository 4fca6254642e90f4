/**
 * Distributions for the HTML report, in bounded memory: a seeded reservoir sample of a metric's
 * values (exact up to its capacity, a uniform sample beyond), and the histogram and CDF drawn
 * from it.
 *
 * @module
 */
import { percentileLinear, sorted } from "../../metrics/percentiles.ts";
import { type Random, seededRandom } from "../../util/rng.ts";

/**
 * A uniform sample of at most `capacity` values of a stream: Li's Algorithm L, which draws how
 * many values to skip before the next one kept, so a value not kept costs a count and a test (the
 * report offers every inter-token gap: a million per run, against three random draws per value
 * kept, about `capacity × ln(seen / capacity)` of them).
 */
export class Reservoir {
  #data: Float64Array;
  #size = 0;
  #seen = 0;
  #random: Random;
  #w = 1; // Algorithm L's running maximum of the kept values' random keys, as W
  #next = 0; // the `seen` count at which the next value is kept, once the sample is full

  /**
   * @param capacity most values kept
   * @param seed seeds the sampling, so a run's report is reproducible
   */
  constructor(capacity: number, seed = 1) {
    this.#data = new Float64Array(capacity);
    this.#random = seededRandom(seed);
  }

  /** Offer one value. */
  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.#seen++;
    const k = this.#data.length;
    if (this.#size < k) {
      this.#data[this.#size++] = v;
      if (this.#size === k) this.#skip();
      return;
    }
    if (this.#seen !== this.#next) return;
    this.#data[Math.floor(this.#random() * k)] = v;
    this.#skip();
  }

  /**
   * Offer each of `values`, in order. Its own loop: the caller's loop over requests is then not
   * the one V8 compiles on stack with every add inlined (a ~20-40 ms compilation, twice, in a
   * 2,048-request run, for a loop that runs ~10 ms in all).
   */
  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  /** Draw the next value to keep: W shrinks by a random factor, the skip is geometric in it. */
  #skip(): void {
    const k = this.#data.length;
    this.#w *= Math.exp(Math.log(1 - this.#random()) / k);
    // log1p keeps a W below 2^-53 from reading as 1 - W = 1; a W of exactly 0 (underflow after
    // ~1e16 values per one kept) keeps nothing more.
    const skip = Math.floor(Math.log(1 - this.#random()) / Math.log1p(-this.#w));
    this.#next = this.#seen + (Number.isNaN(skip) ? Infinity : skip) + 1;
  }

  /** Values offered so far. */
  get seen(): number {
    return this.#seen;
  }

  /** The kept values (a view; valid until the next `add`). */
  values(): Float64Array {
    return this.#data.subarray(0, this.#size);
  }
}

/** A histogram: equal-width bins from `start`. */
export interface Histogram {
  /** Left edge of each bin. */
  edges: number[];
  /** Bin width. */
  width: number;
  /** Values in each bin (the last bin includes the maximum). */
  counts: number[];
}

/** A CDF as points: `x[i]` is the `p[i]`-th percentile. */
export interface Cdf {
  /** Values, ascending. */
  x: number[];
  /** Percent of values at or below `x[i]`, 0–100. */
  p: number[];
}

/** A metric's distribution as the report draws it. */
export interface Distribution {
  /** Values seen. */
  count: number;
  /** Whether the charts come from a sample (more values than the reservoir holds). */
  sampled: boolean;
  /** The histogram. */
  histogram: Histogram;
  /** The CDF. */
  cdf: Cdf;
}

/** A histogram of `values` with `bins` equal-width bins over [min, max]. */
export function histogram(values: ArrayLike<number>, bins = 40): Histogram {
  const n = values.length;
  if (n === 0) return { edges: [], width: 0, counts: [] };
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  const k = hi > lo ? bins : 1;
  const width = hi > lo ? (hi - lo) / k : Math.max(Math.abs(lo) * 0.01, 1e-9);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    counts[Math.min(k - 1, Math.floor((values[i] - lo) / width))]++;
  }
  return { edges: counts.map((_, i) => lo + i * width), width, counts };
}

/** A CDF of `values` at `points + 1` evenly spaced percentiles (0 … 100). */
export function cdf(values: ArrayLike<number>, points = 200): Cdf {
  if (values.length === 0) return { x: [], p: [] };
  const s = sorted(values);
  const x: number[] = [];
  const p: number[] = [];
  for (let i = 0; i <= points; i++) {
    const q = (i / points) * 100;
    x.push(percentileLinear(s, q));
    p.push(q);
  }
  return { x, p };
}

/** The histogram and CDF of a reservoir's values, each value multiplied by `scale`. */
export function distribution(r: Reservoir, scale = 1): Distribution {
  const v = scale === 1 ? r.values() : r.values().map((x) => x * scale);
  return {
    count: r.seen,
    sampled: r.seen > v.length,
    histogram: histogram(v),
    cdf: cdf(v),
  };
}

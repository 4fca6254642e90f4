/**
 * A column of values for percentiles with bounded memory: exact (every value kept, percentiles
 * as numpy and evalscope compute them) up to a limit, then a log-bucket histogram whose buckets
 * are 0.2% wide, so a percentile is within 0.1% of the exact one, whatever the run's length. A
 * 10-minute soak at 512 streams makes ~15 million inter-token gaps; kept exactly, they alone
 * would take 120 MB and grow without end.
 *
 * Means are exact either way (a running sum).
 *
 * @module
 */
import { indexedAt, linearAt } from "./percentiles.ts";
import { RankSelector } from "./rank_select.ts";

/** Smallest value the histogram tells from zero (1 ns in seconds, 1 µs in ms). */
const MIN = 1e-9;
/** Ratio between bucket bounds: 0.2% wide buckets, midpoint within 0.1% of any value in them. */
const GAMMA = 1.002;
const LOG_GAMMA = Math.log(GAMMA);
/** Buckets from MIN to 1e12: far beyond any latency, token count or rate. */
const BUCKETS = Math.ceil(Math.log(1e12 / MIN) / LOG_GAMMA) + 1;

/** Default number of values kept exactly. */
export const EXACT_LIMIT = 250_000;

/** Log-bucket histogram of non-negative values. */
class LogHistogram {
  counts = new Float64Array(BUCKETS);
  zeros = 0;
  add(v: number): void {
    if (!(v >= MIN)) {
      this.zeros++;
      return;
    }
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v / MIN) / LOG_GAMMA));
    this.counts[i]++;
  }
  /** The value at rank `k` (0-based, ascending): its bucket's geometric midpoint. */
  valueAtRank(k: number): number {
    if (k < this.zeros) return 0;
    let seen = this.zeros;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) {
      seen += c[i];
      if (k < seen) return MIN * Math.pow(GAMMA, i + 0.5);
    }
    return MIN * Math.pow(GAMMA, c.length - 0.5);
  }
}

/** Values for percentiles: exact up to a limit, then a bounded histogram. */
export class QuantileColumn {
  #limit: number;
  #exact: Float64Array | undefined = new Float64Array(64);
  /** Ranks of the exact values, found on demand (none until a percentile is asked). */
  #ranks: RankSelector | undefined;
  #hist: LogHistogram | undefined;
  #n = 0;
  #sum = 0;

  /** @param exactLimit how many values to keep exactly before switching to the histogram */
  constructor(exactLimit = EXACT_LIMIT) {
    this.#limit = exactLimit;
  }

  /** Number of values. */
  get length(): number {
    return this.#n;
  }

  /** Whether percentiles are exact (the histogram has not been needed). */
  get exact(): boolean {
    return this.#hist === undefined;
  }

  /** Add a value. */
  push(v: number): void {
    this.#n++;
    this.#sum += v;
    if (this.#hist) return this.#hist.add(v);
    let a = this.#exact!;
    const i = this.#n - 1;
    if (i === this.#limit) {
      // Past the limit: move to the histogram and let the values go.
      const h = new LogHistogram();
      for (let k = 0; k < i; k++) h.add(a[k]);
      h.add(v);
      this.#hist = h;
      this.#exact = undefined;
      this.#ranks = undefined;
      return;
    }
    if (i === a.length) a = this.#grow(i + 1);
    a[i] = v;
    this.#ranks = undefined;
  }

  /**
   * Add each of `values` times `scale`, as {@link push} would one by one (the same sums, in the
   * same order), in one pass while they fit the exact values: a request's inter-token gaps.
   */
  pushAll(values: ArrayLike<number>, scale = 1): void {
    const m = values.length;
    const n = this.#n;
    if (this.#hist !== undefined || n + m > this.#limit) {
      for (let k = 0; k < m; k++) this.push(values[k] * scale);
      return;
    }
    let a = this.#exact!;
    if (n + m > a.length) a = this.#grow(n + m);
    let sum = this.#sum;
    for (let k = 0; k < m; k++) {
      const v = values[k] * scale;
      a[n + k] = v;
      sum += v;
    }
    this.#sum = sum;
    this.#n = n + m;
    this.#ranks = undefined;
  }

  /** The exact values' array grown to hold `need` (at least doubled, at most the limit). */
  #grow(need: number): Float64Array {
    const a = this.#exact!;
    const b = new Float64Array(Math.min(this.#limit, Math.max(need, a.length * 2)));
    b.set(a.subarray(0, this.#n));
    return this.#exact = b;
  }

  /** The mean (exact), NaN when empty. */
  mean(): number {
    return this.#n === 0 ? NaN : this.#sum / this.#n;
  }

  /** The value of rank `k` (0-based, ascending): exact by selection, else the histogram's. */
  #at = (k: number): number => {
    if (this.#hist) return this.#hist.valueAtRank(k);
    this.#ranks ??= new RankSelector(this.#exact!.slice(0, this.#n));
    return this.#ranks.at(k);
  };

  /** Linear interpolation between closest ranks (numpy's default); NaN when empty. */
  percentileLinear(p: number): number {
    return linearAt(this.#n, p, this.#at);
  }

  /** evalscope's rule: the value at index `floor(n * p / 100)` of the sorted values. */
  percentileIndexed(p: number): number {
    return indexedAt(this.#n, p, this.#at);
  }
}

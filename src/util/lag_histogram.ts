/**
 * Delays in milliseconds, counted into fixed buckets: bounded memory however long the run, exact
 * mean and maximum, percentiles to the bucket width.
 *
 * @module
 */

/** Width of a bucket, ms. */
export const LAG_BUCKET_MS = 0.05;
const BUCKETS = 2000; // up to 100 ms; beyond that only the maximum is exact

/** Summary of the recorded delays. */
export interface LagSummary {
  /** Delays recorded. */
  count: number;
  /** Mean, ms (0 when none). */
  meanMs: number;
  /** 99th percentile, ms (bucket upper edge, at most the maximum). */
  p99Ms: number;
  /** Largest, ms. */
  maxMs: number;
}

/** A histogram of delays. */
export class LagHistogram {
  #hist = new Uint32Array(BUCKETS + 1);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Count one delay (negative counts as 0). */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
    this.#hist[Math.min(BUCKETS, Math.floor(v / LAG_BUCKET_MS))]++;
  }

  /** The value below which a share `q` of the delays lie (bucket upper edge). */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#hist[i];
      if (seen >= rank) return Math.min(this.#max, (i + 1) * LAG_BUCKET_MS);
    }
    return this.#max;
  }

  /** Count, mean, p99 and maximum. */
  summary(): LagSummary {
    return {
      count: this.#count,
      meanMs: this.#count > 0 ? this.#sum / this.#count : 0,
      p99Ms: this.quantile(0.99),
      maxMs: this.#max,
    };
  }
}

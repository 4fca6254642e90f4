/**
 * Throughput and in-flight requests over time, in bounded memory: a fixed number of time buckets
 * whose width doubles (merging neighbours) whenever the run outgrows them, so a run of any length
 * keeps between half and all of `maxBuckets` buckets.
 *
 * @module
 */

/** The series the report draws, one value per bucket. */
export interface TimeSeries {
  /** Bucket width, seconds. */
  bucketS: number;
  /** Start of each bucket, seconds since the run started. */
  t: number[];
  /** Output tokens per second (each request's tokens spread evenly from first token to end). */
  outputTokensPerS: number[];
  /** Requests finished per second. */
  requestsPerS: number[];
  /** Requests failed per second. */
  failuresPerS: number[];
  /** Mean requests in flight. */
  inFlight: number[];
}

/** Accumulates requests into doubling time buckets. */
export class TimeBuckets {
  #max: number;
  #width: number;
  #used = 0;
  #end = 0;
  #tokens: Float64Array;
  #done: Float64Array;
  #failed: Float64Array;
  #busy: Float64Array;

  /**
   * @param maxBuckets most buckets kept (even; default 512)
   * @param widthS first bucket width, seconds (default 0.005)
   */
  constructor(maxBuckets = 512, widthS = 0.005) {
    this.#max = maxBuckets - (maxBuckets % 2);
    this.#width = widthS;
    this.#tokens = new Float64Array(this.#max);
    this.#done = new Float64Array(this.#max);
    this.#failed = new Float64Array(this.#max);
    this.#busy = new Float64Array(this.#max);
  }

  #fit(t: number): void {
    while (Math.floor(t / this.#width) >= this.#max) {
      for (const a of [this.#tokens, this.#done, this.#failed, this.#busy]) {
        for (let i = 0; i < this.#max / 2; i++) a[i] = a[2 * i] + a[2 * i + 1];
        a.fill(0, this.#max / 2);
      }
      this.#width *= 2;
      this.#used = Math.ceil(this.#used / 2);
    }
  }

  #index(t: number): number {
    return Math.min(this.#max - 1, Math.floor(t / this.#width));
  }

  /** Add `amount` to `a`, spread over [s, e] in proportion to each bucket's overlap. */
  #spread(a: Float64Array, s: number, e: number, amount: number): void {
    if (!(e > s)) {
      a[this.#index(e)] += amount;
      return;
    }
    const w = this.#width;
    for (let b = this.#index(s); b <= this.#index(e); b++) {
      const overlap = Math.min(e, (b + 1) * w) - Math.max(s, b * w);
      if (overlap > 0) a[b] += (amount * overlap) / (e - s);
    }
  }

  /**
   * Add one finished request; times in seconds since the run started (negative ones count as 0).
   * @param start when it was sent
   * @param firstToken when its first token arrived (its end when not streamed)
   * @param end when it finished
   * @param tokens its output tokens
   * @param ok whether it succeeded
   */
  add(start: number, firstToken: number, end: number, tokens: number, ok: boolean): void {
    const s = Math.max(0, start);
    const e = Math.max(s, end);
    const f = Math.min(e, Math.max(s, firstToken));
    this.#fit(e);
    this.#used = Math.max(this.#used, this.#index(e) + 1);
    this.#end = Math.max(this.#end, e);
    this.#spread(this.#busy, s, e, e - s);
    if (tokens > 0) this.#spread(this.#tokens, f, e, tokens);
    this.#done[this.#index(e)]++;
    if (!ok) this.#failed[this.#index(e)]++;
  }

  /** The series so far (the last bucket's rates use the part of it the run covered). */
  series(): TimeSeries {
    const w = this.#width;
    const out: TimeSeries = {
      bucketS: w,
      t: [],
      outputTokensPerS: [],
      requestsPerS: [],
      failuresPerS: [],
      inFlight: [],
    };
    for (let b = 0; b < this.#used; b++) {
      const span = b === this.#used - 1 ? Math.max(this.#end - b * w, w / 100) : w;
      out.t.push(b * w);
      out.outputTokensPerS.push(this.#tokens[b] / span);
      out.requestsPerS.push(this.#done[b] / span);
      out.failuresPerS.push(this.#failed[b] / span);
      out.inFlight.push(this.#busy[b] / span);
    }
    return out;
  }
}

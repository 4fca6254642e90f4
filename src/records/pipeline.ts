/**
 * Finished requests to the sinks, in batches, off the hot path: records are queued as they
 * arrive (already finished where they were measured, see `finish_request.ts`) and handed to every
 * sink in order, every `batchMs` or `batchSize` records. Nothing here parses a payload; a batch
 * costs the sinks' aggregation alone, but that is 25–140 µs a record on a slow machine (the
 * collector, the HTML report's data, a caller's sink), so a batch of hundreds, run whole, would
 * hold the loop for tens of milliseconds: the reads of the streams still open would wait that long,
 * and a read that then finds two of a stream's events queued gets one kernel stamp for both
 * (docs/performance.md, v19). So a batch goes to the sinks in chunks of at most `chunkSize`
 * records, every sink taking each chunk in turn, and once a task has run `sliceMs` the next
 * chunk waits for a later task (`setTimeout(0)`: a millisecond or more on Deno, no matter here;
 * `setImmediate`/`MessageChannel` yields hold back timers and worker messages by tens of ms).
 *
 * @example
 * ```ts
 * import { ResultPipeline } from "./pipeline.ts";
 * const seen: number[] = [];
 * const pipeline = new ResultPipeline([{ write: (b) => void seen.push(b.length) }]);
 * // pipeline.push(finished) for each record; then:
 * await pipeline.close(); // every record handed on, every sink closed
 * ```
 *
 * @module
 */
import type { FinishedRequest, ResultSink } from "./finished.ts";

/** Options of {@link ResultPipeline}. */
export interface PipelineOptions {
  /** Longest time a record waits before its batch is processed, ms. */
  batchMs?: number;
  /** Batch size that triggers processing at once. */
  batchSize?: number;
  /** Most records any sink is handed at once (default 64). */
  chunkSize?: number;
  /** Longest run of chunks in one task, ms (default 4). */
  sliceMs?: number;
}

/** Queues finished records and hands them to the sinks in batches. */
export class ResultPipeline implements AsyncDisposable {
  #sinks: ResultSink[];
  #queue: FinishedRequest[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy: Promise<void> = Promise.resolve();
  #batchMs: number;
  #batchSize: number;
  #chunkSize: number;
  #sliceMs: number;
  /** When the current slice began: batches that follow in one task share it. */
  #sliceStart = 0;
  /** When the last chunk was handed on. */
  #lastEnd = -Infinity;
  #error: unknown;
  #closing: Promise<void> | undefined;

  /** @param sinks receive each batch, in order */
  constructor(sinks: ResultSink[], opts: PipelineOptions = {}) {
    this.#sinks = sinks;
    this.#batchMs = opts.batchMs ?? 50;
    this.#batchSize = opts.batchSize ?? 512;
    this.#chunkSize = Math.max(1, opts.chunkSize ?? 64);
    this.#sliceMs = opts.sliceMs ?? 4;
  }

  /** Queue a finished record (cheap: an array push, and a timer per batch). */
  push(f: FinishedRequest): void {
    this.#queue.push(f);
    if (this.#queue.length >= this.#batchSize) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#drain();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, this.#batchMs);
    }
  }

  #drain(): Promise<void> {
    const batch = this.#queue;
    if (batch.length === 0) return this.#busy;
    this.#queue = [];
    this.#busy = this.#busy.then(() => this.#process(batch)).catch((e) => {
      this.#error ??= e;
    });
    return this.#busy;
  }

  async #process(batch: FinishedRequest[]): Promise<void> {
    const size = this.#chunkSize;
    // A batch queued behind the one that just ended runs in the same task (the chain's
    // microtasks), so it goes on with that slice; after a pause, a slice starts with it.
    if (performance.now() - this.#lastEnd > 1) this.#sliceStart = performance.now();
    for (let i = 0; i < batch.length; i += size) {
      if (performance.now() - this.#sliceStart >= this.#sliceMs) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        this.#sliceStart = performance.now();
      }
      const chunk = batch.length <= size ? batch : batch.slice(i, i + size);
      for (const sink of this.#sinks) await sink.write(chunk);
      this.#lastEnd = performance.now();
    }
  }

  /**
   * Hand on everything queued and close the sinks (once: later calls answer the same). Throws a
   * sink's error, if one failed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#drain();
    for (const sink of this.#sinks) await sink.close?.();
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * {@link ResultPipeline.close}, for a run that ends on an error of its own: a sink's error is
   * not thrown here (that run's error is the one to report; `close()` throws it otherwise).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close().catch(() => {});
  }
}

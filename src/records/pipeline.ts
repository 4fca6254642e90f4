/**
 * Finished requests to the sinks, in batches, off the hot path: records are queued as they
 * arrive (already finished where they were measured, see `finish_request.ts`) and handed to every
 * sink in order, every `batchMs` or `batchSize` records. Nothing here parses a payload: a batch
 * costs the sinks' aggregation alone (a few microseconds per record), so it runs whole, without
 * yielding: on Deno, `setTimeout(0)` costs a millisecond or more per yield, and
 * `setImmediate`/`MessageChannel` yields hold back timers and worker messages by tens of
 * milliseconds (docs/performance.md).
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
}

/** Queues finished records and hands them to the sinks in batches. */
export class ResultPipeline implements AsyncDisposable {
  #sinks: ResultSink[];
  #queue: FinishedRequest[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy: Promise<void> = Promise.resolve();
  #batchMs: number;
  #batchSize: number;
  #error: unknown;
  #closing: Promise<void> | undefined;

  /** @param sinks receive each batch, in order */
  constructor(sinks: ResultSink[], opts: PipelineOptions = {}) {
    this.#sinks = sinks;
    this.#batchMs = opts.batchMs ?? 50;
    this.#batchSize = opts.batchSize ?? 512;
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
    for (const sink of this.#sinks) await sink.write(batch);
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

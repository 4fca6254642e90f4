/**
 * Records to results, off the hot path: finished records are queued and, in batches (every
 * `batchMs` or `batchSize` records), their token counts are parsed by the API plugin, their
 * metrics computed, and the batch handed to the sinks (metrics collector, result DB, progress).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { requestMetrics } from "../metrics/request_metrics.ts";
import type { ApiPluginLike, TokenCounts } from "../plugins/types.ts";
import type { TokenCounter } from "../tokenizer/token_counters.ts";
import { countTokens } from "../tokenizer/usage_or_tokenizer.ts";
import type { RequestRecord } from "./record.ts";
import type { FinishedRequest, ResultSink } from "./finished.ts";

/** Normalise a plugin's `parseResponses` result. */
export function toCounts(v: TokenCounts | [number, number]): TokenCounts {
  if (Array.isArray(v)) return { promptTokens: v[0] ?? 0, completionTokens: v[1] ?? 0 };
  return v;
}

/** Options of {@link ResultPipeline}. */
export interface PipelineOptions {
  /** Longest time a record waits before its batch is processed, ms. */
  batchMs?: number;
  /** Batch size that triggers processing at once. */
  batchSize?: number;
  /** Counts tokens of responses without `usage` (`--tokenizer-path`); see `countTokens`. */
  tokens?: TokenCounter;
}

/** Longest stretch of batch processing before the event loop gets a turn, ms. */
const SLICE_MS = 2;

/** Queues finished records and processes them in batches. */
export class ResultPipeline implements AsyncDisposable {
  #api: ApiPluginLike;
  #sinks: ResultSink[];
  #queue: RequestRecord[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy: Promise<void> = Promise.resolve();
  #batchMs: number;
  #batchSize: number;
  #tokens: TokenCounter | undefined;
  #error: unknown;
  #closing: Promise<void> | undefined;

  /**
   * @param api parses token counts
   * @param sinks receive each processed batch, in order
   */
  constructor(api: ApiPluginLike, sinks: ResultSink[], opts: PipelineOptions = {}) {
    this.#api = api;
    this.#sinks = sinks;
    this.#batchMs = opts.batchMs ?? 50;
    this.#batchSize = opts.batchSize ?? 512;
    this.#tokens = opts.tokens;
  }

  /** Queue a finished record (cheap: an array push, and a timer per batch). */
  push(rec: RequestRecord): void {
    this.#queue.push(rec);
    if (this.#queue.length >= this.#batchSize) this.#schedule(0);
    else if (this.#timer === undefined) this.#schedule(this.#batchMs);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, ms);
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

  async #process(records: RequestRecord[]): Promise<void> {
    const out: FinishedRequest[] = new Array(records.length);
    let slice = performance.now();
    for (let i = 0; i < records.length; i++) {
      out[i] = await finish(this.#api, records[i]);
      // A batch can take hundreds of ms (a JSON.parse per payload): between slices the event
      // loop runs, so sends, reads and the --rate schedule on this thread are not held up.
      if (performance.now() - slice > SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        slice = performance.now();
      }
    }
    // Responses without usage: counted by the tokenizer in its worker, one message per batch.
    if (this.#tokens) await countTokens(this.#api, out, this.#tokens);
    for (const sink of this.#sinks) await sink.write(out);
  }

  /**
   * Process everything queued and close the sinks (once: later calls answer the same). Throws a
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

/** Check a record for in-band errors, parse its token counts and compute its metrics. */
export async function finish(api: ApiPluginLike, rec: RequestRecord): Promise<FinishedRequest> {
  let counts: TokenCounts | undefined;
  if (rec.success && api.errorInPayload) {
    for (const p of rec.payloads) {
      const err = api.errorInPayload(p);
      if (err !== undefined) {
        rec.success = false;
        rec.failure = { kind: "server-error", message: err.split("\n")[0], body: p.slice(0, 500) };
        break;
      }
    }
  }
  if (rec.success) {
    try {
      counts = toCounts(await api.parseResponses(rec.payloads, rec.body));
    } catch (e) {
      rec.success = false;
      rec.failure = { kind: "protocol", message: `parseResponses failed: ${errorMessage(e)}` };
    }
  }
  return { record: rec, metrics: requestMetrics(rec, counts), counts };
}

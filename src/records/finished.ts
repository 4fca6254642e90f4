/**
 * The one record of a finished request, as every sink receives it, and the interface of the
 * sinks (metrics, progress, the HTML report's data, W&B, `--debug`, a caller's). The thread that
 * sent the request makes it (`finish_request.ts`) and it crosses to the main thread once, as
 * plain data with its times in transferable typed arrays. It carries the payloads and the request
 * body only when a sink asked for them ({@link SinkNeeds}): otherwise they never leave the
 * sending thread (the result DB gets its rows from there directly). Plain types, so that every
 * output can import them without importing the pipeline, or the run.
 *
 * @module
 */
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import type { TokenCounts } from "../plugins/types.ts";
import type { PayloadBlob } from "./payloads.ts";
import type { RequestRecord } from "./record.ts";

/**
 * What the transport measured of a finished request: the {@link RequestRecord} without its
 * payloads, the payloads' arrival times in a typed array.
 */
export type MeasuredRecord = Omit<RequestRecord, "payloads" | "chunkTimesMs"> & {
  /** Arrival time of each payload, `performance.now()` ms of the measuring thread. */
  chunkTimesMs: Float64Array;
};

/** A finished request: what was measured, and everything computed from it. */
export interface FinishedRequest {
  /** What the transport measured. */
  record: MeasuredRecord;
  /** Its metrics. */
  metrics: RequestMetrics;
  /**
   * Its token counts (successful requests only). The plugin's per-payload lists
   * (`contentChunks`, `answerChunks`), which the metrics already measured, come only with the
   * payloads ({@link SinkNeeds.payloads}), which they index.
   */
  counts?: TokenCounts;
  /** The request body's JSON text as sent: only when a sink asked for it. */
  bodyText?: string;
  /** The raw payloads (`unpackPayloads` reads them): only when a sink asked for them. */
  payloads?: PayloadBlob;
}

/** What a sink needs on each record beyond the measurements and metrics. */
export interface SinkNeeds {
  /** The raw payloads ({@link FinishedRequest.payloads}). */
  payloads?: boolean;
  /** The request body's text ({@link FinishedRequest.bodyText}). */
  bodyText?: boolean;
}

/**
 * Receives finished requests in batches.
 *
 * @example A sink that reads the payloads asks for them
 * ```ts
 * import { type ResultSink, unpackPayloads } from "@llmperf/llmperf";
 * const lastEvents: string[] = [];
 * const sink: ResultSink = {
 *   needs: { payloads: true },
 *   write(batch) {
 *     for (const f of batch) lastEvents.push(unpackPayloads(f.payloads!).at(-1) ?? "");
 *   },
 * };
 * ```
 */
export interface ResultSink {
  /** Take one batch, in completion order. */
  write(batch: FinishedRequest[]): void | Promise<void>;
  /** Flush and release; called once at the end of the run. */
  close?(): unknown;
  /** What it reads beyond the measurements and metrics (default: nothing). */
  readonly needs?: SinkNeeds;
}

/** What any of `sinks` needs. */
export function sinkNeeds(sinks: readonly ResultSink[]): SinkNeeds {
  const needs: SinkNeeds = {};
  for (const s of sinks) {
    if (s.needs?.payloads) needs.payloads = true;
    if (s.needs?.bodyText) needs.bodyText = true;
  }
  return needs;
}

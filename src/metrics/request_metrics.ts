/**
 * Per-request metrics from a finished record and its token counts: evalscope's late-2024
 * definitions (latency, first-chunk latency, packages) and the per-request ones users now expect
 * (TTFT, TPOT, inter-token latency, time to first output token). Definitions in `docs/metrics.md`.
 *
 * @module
 */
import type { TokenCounts } from "../plugins/types.ts";
import { epochSeconds, type Failure, type RequestRecord } from "../records/record.ts";

/** Metrics of one finished request. Durations in seconds. */
export interface RequestMetrics {
  /** Dispatch order. */
  index: number;
  /** Whether the request succeeded. */
  success: boolean;
  /** Whether it was streamed. */
  stream: boolean;
  /** Epoch seconds when it was sent. */
  startTime: number;
  /** Epoch seconds when it finished. */
  completedTime: number;
  /** `completed − start`. */
  latency: number;
  /** evalscope: first chunk − start for streams of more than one chunk, else the latency. */
  firstChunkLatency: number;
  /** evalscope: chunks − 2 for such streams, else 1. */
  nChunks: number;
  /** evalscope: second-to-last chunk − first chunk for such streams, else the latency. */
  chunkTime: number;
  /**
   * Time to the first payload that carried generated tokens of any kind, reasoning included (the
   * latency when not streamed).
   */
  ttft: number;
  /**
   * Time to first output token: to the first payload that carried answer tokens (not reasoning);
   * equal to `ttft` for replies without reasoning, the latency when not streamed. Undefined when
   * no answer came (a reply that was all reasoning).
   */
  ttfo?: number;
  /** `(latency − ttft) / (completion tokens − 1)`; undefined unless streamed with 2+ tokens. */
  tpot: number | undefined;
  /** Gaps between successive token-carrying payloads. */
  itl: number[];
  /** Prompt tokens. */
  promptTokens: number;
  /** Completion tokens (reasoning tokens included). */
  completionTokens: number;
  /** Of the completion tokens, the reasoning tokens; undefined when unknown. */
  reasoningTokens?: number;
  /** Where the token counts came from. */
  tokenSource: NonNullable<TokenCounts["source"]>;
  /** HTTP status (0 when no response arrived). */
  status: number;
  /** Why it failed. */
  failure?: Failure;
  /** Times it was sent again (see `RequestRecord.retries`); undefined when unknown. */
  retries?: number;
}

/** Compute a request's metrics. `counts` is undefined for failed requests. */
export function requestMetrics(rec: RequestRecord, counts?: TokenCounts): RequestMetrics {
  const start = rec.start;
  const times = rec.chunkTimes;
  const latency = (rec.end - start) / 1000;
  let firstChunkLatency = latency;
  let nChunks = 1;
  let chunkTime = latency;
  if (rec.stream && times.length > 1) {
    firstChunkLatency = (times[0] - start) / 1000;
    nChunks = times.length - 2;
    chunkTime = (times[times.length - 2] - times[0]) / 1000;
  }
  const completionTokens = counts?.completionTokens ?? 0;
  let ttft = latency;
  let tpot: number | undefined;
  const itl: number[] = [];
  const answers = counts?.answerChunks;
  // No answer chunk at all: no time to first output token (not streamed: the body has it or not).
  let ttfo: number | undefined = answers === undefined || answers.length > 0 ? latency : undefined;
  if (rec.stream && times.length > 0) {
    const idx = counts?.contentChunks;
    if (idx && idx.length > 0) {
      ttft = (times[idx[0]] - start) / 1000;
      for (let i = 1; i < idx.length; i++) itl.push((times[idx[i]] - times[idx[i - 1]]) / 1000);
    } else {
      ttft = (times[0] - start) / 1000;
      for (let i = 1; i < times.length; i++) itl.push((times[i] - times[i - 1]) / 1000);
    }
    if (completionTokens > 1) tpot = (latency - ttft) / (completionTokens - 1);
    if (answers === undefined) ttfo = ttft;
    else if (answers.length > 0 && times[answers[0]] !== undefined) {
      ttfo = (times[answers[0]] - start) / 1000;
    } else ttfo = undefined;
  }
  return {
    index: rec.index,
    success: rec.success,
    stream: rec.stream,
    startTime: epochSeconds(rec, start),
    completedTime: epochSeconds(rec, rec.end),
    latency,
    firstChunkLatency,
    nChunks,
    chunkTime,
    ttft,
    ttfo,
    tpot,
    itl,
    promptTokens: counts?.promptTokens ?? 0,
    completionTokens,
    reasoningTokens: counts?.reasoningTokens,
    tokenSource: counts?.source ?? "none",
    status: rec.status,
    failure: rec.failure,
    retries: rec.retries,
  };
}

/**
 * Per-request metrics from a finished record and its token counts: evalscope's late-2024
 * definitions (latency, first-chunk latency, packages) and the per-request ones users now expect
 * (TTFT, TPOT, inter-token latency, time to first output token), and where the time went: the
 * client's own queueing before the send, connection set-up, time to the response headers, and
 * the latency with the client's queueing included (vLLM's `client_queue_time` and
 * `e2el_including_client_queue`). Definitions in `docs/metrics.md`.
 *
 * @module
 */
import type { TokenCounts } from "../plugins/types.ts";
import { epochSeconds, type Failure, type RequestRecord } from "../records/record.ts";

/** Metrics of one finished request. Names say the unit: `S` seconds, `EpochS` epoch seconds. */
export interface RequestMetrics {
  /** Dispatch order. */
  index: number;
  /** Whether the request succeeded. */
  success: boolean;
  /** Whether it was streamed. */
  stream: boolean;
  /** Epoch seconds when it was sent. */
  startEpochS: number;
  /** Epoch seconds when it finished. */
  completedEpochS: number;
  /** `completed − start`. */
  latencyS: number;
  /** evalscope: first chunk − start for streams of more than one chunk, else the latency. */
  firstChunkLatencyS: number;
  /** evalscope: chunks − 2 for such streams, else 1. */
  nChunks: number;
  /** evalscope: second-to-last chunk − first chunk for such streams, else the latency. */
  chunkTimeS: number;
  /**
   * Time to the first payload that carried generated tokens of any kind, reasoning included (the
   * latency when not streamed).
   */
  ttftS: number;
  /**
   * Time to first output token: to the first payload that carried answer tokens (not reasoning);
   * equal to `ttft` for replies without reasoning, the latency when not streamed. Undefined when
   * no answer came (a reply that was all reasoning).
   */
  ttfoS?: number;
  /** `(latency − ttft) / (completion tokens − 1)`; undefined unless streamed with 2+ tokens. */
  tpotS: number | undefined;
  /** Gaps between successive token-carrying payloads (a typed array: it crosses threads). */
  itlS: Float64Array | readonly number[];
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
  /** Prompt tokens the server's prefix cache held (its usage says); undefined when not said. */
  cachedTokens?: number;
  /** `--multi-turn`: the conversation's number; undefined for single requests. */
  conversation?: number;
  /** `--multi-turn`: the turn's position in its conversation, from 0. */
  turn?: number;
  /**
   * The client's queueing before the send: `--rate`, `start − scheduled` (late sends and the
   * wait for a free `--parallel` slot); closed loop, how long the slot waited after its previous
   * request ended (0 for a slot's first request). Undefined when a result DB does not say.
   */
  clientQueueS?: number;
  /** `latency + client queue` (undefined when the queue is). */
  latencyWithQueueS?: number;
  /** TCP connect time, when the request opened its connection (socket transport only). */
  connectS?: number;
  /** TLS handshake time, when the request opened an https connection (socket transport only). */
  tlsS?: number;
  /** Time from the send to the response headers (connection set-up included); undefined if none. */
  headersS?: number;
}

/**
 * What a request's metrics are computed from: the measured part of its record (a
 * `RequestRecord` or a finished request's record is one; `llmperf report` reads one from each
 * result DB row). Times are milliseconds on one clock, `timeOriginMs` that clock's epoch time.
 */
export type MetricsInput =
  & Pick<
    RequestRecord,
    | "index"
    | "stream"
    | "timeOriginMs"
    | "startMs"
    | "endMs"
    | "status"
    | "success"
    | "failure"
    | "retries"
    | "conversation"
    | "turn"
    | "scheduledMs"
    | "refillLateMs"
    | "headersAtMs"
    | "connectMs"
    | "tlsMs"
  >
  & {
    /** Arrival time of each payload, ms. */
    chunkTimesMs: ArrayLike<number>;
  };

/** No gaps (a request that was not streamed, or had one token). */
const NO_GAPS: readonly number[] = Object.freeze([]);

/**
 * Compute a request's metrics: the one definition, used live and by `llmperf report`. A pure
 * function of the measured times and the token counts (`undefined` for failed requests).
 */
export function requestMetrics(rec: MetricsInput, counts?: TokenCounts): RequestMetrics {
  const start = rec.startMs;
  const times = rec.chunkTimesMs;
  const latencyS = (rec.endMs - start) / 1000;
  let firstChunkLatencyS = latencyS;
  let nChunks = 1;
  let chunkTimeS = latencyS;
  if (rec.stream && times.length > 1) {
    firstChunkLatencyS = (times[0] - start) / 1000;
    nChunks = times.length - 2;
    chunkTimeS = (times[times.length - 2] - times[0]) / 1000;
  }
  const completionTokens = counts?.completionTokens ?? 0;
  let ttftS = latencyS;
  let tpotS: number | undefined;
  let itlS: Float64Array | readonly number[] = NO_GAPS;
  const answers = counts?.answerChunks;
  // No answer chunk at all: no time to first output token (not streamed: the body has it or not).
  let ttfoS: number | undefined = answers === undefined || answers.length > 0
    ? latencyS
    : undefined;
  if (rec.stream && times.length > 0) {
    const idx = counts?.contentChunks;
    if (idx && idx.length > 0) {
      // The token-carrying payloads (an index past the recorded times is skipped).
      const gaps = new Float64Array(Math.max(0, idx.length - 1));
      let n = 0;
      let last: number | undefined;
      for (let i = 0; i < idx.length; i++) {
        const t = times[idx[i]];
        if (t === undefined) continue;
        if (last === undefined) ttftS = (t - start) / 1000;
        else gaps[n++] = (t - last) / 1000;
        last = t;
      }
      itlS = n === gaps.length ? gaps : gaps.slice(0, n);
    } else {
      ttftS = (times[0] - start) / 1000;
      const gaps = new Float64Array(times.length - 1);
      for (let i = 1; i < times.length; i++) gaps[i - 1] = (times[i] - times[i - 1]) / 1000;
      itlS = gaps;
    }
    if (completionTokens > 1) tpotS = (latencyS - ttftS) / (completionTokens - 1);
    if (answers === undefined) ttfoS = ttftS;
    else if (answers.length > 0 && times[answers[0]] !== undefined) {
      ttfoS = (times[answers[0]] - start) / 1000;
    } else ttfoS = undefined;
  }
  const queueMs = rec.scheduledMs !== undefined
    ? Math.max(0, start - rec.scheduledMs)
    : rec.refillLateMs ?? 0;
  const clientQueueS = queueMs / 1000;
  return {
    index: rec.index,
    success: rec.success,
    stream: rec.stream,
    startEpochS: epochSeconds(rec, start),
    completedEpochS: epochSeconds(rec, rec.endMs),
    latencyS,
    firstChunkLatencyS,
    nChunks,
    chunkTimeS,
    ttftS,
    ttfoS,
    tpotS,
    itlS,
    promptTokens: counts?.promptTokens ?? 0,
    completionTokens,
    reasoningTokens: counts?.reasoningTokens,
    tokenSource: counts?.source ?? "none",
    status: rec.status,
    failure: rec.failure,
    retries: rec.retries,
    cachedTokens: counts?.cachedTokens,
    conversation: rec.conversation,
    turn: rec.turn,
    clientQueueS,
    latencyWithQueueS: latencyS + clientQueueS,
    connectS: rec.connectMs === undefined ? undefined : rec.connectMs / 1000,
    tlsS: rec.tlsMs === undefined ? undefined : rec.tlsMs / 1000,
    headersS: rec.headersAtMs === undefined ? undefined : (rec.headersAtMs - start) / 1000,
  };
}

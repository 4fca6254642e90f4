/**
 * The record a transport fills while it reads a response, in the thread that sends: status,
 * times, the raw payloads. It never leaves that thread as it is: the thread finishes it
 * (`finish_request.ts`: its token counts read by the API plugin, its metrics derived, its
 * result-DB row written) into the compact `FinishedRequest` that every sink receives.
 *
 * Times are `performance.now()` values (milliseconds, hence the `Ms` in their names) of the thread
 * that measured them; `timeOriginMs` (that thread's `performance.timeOrigin`, epoch milliseconds)
 * turns them into wall-clock time.
 *
 * @module
 */
/** Why a request failed. */
export type FailureKind =
  | "http" // a non-200 status
  | "connect" // the connection could not be made
  | "connect-timeout"
  | "read-timeout" // silence between bytes longer than --read-timeout
  | "total-timeout"
  | "network" // the connection broke
  | "protocol" // the response did not follow HTTP/SSE/JSON as expected
  | "server-error" // an error reported inside a 200 response
  | "cancelled" // the run was interrupted
  | "client"; // llmperf could not finish the record (a bug, or a plugin that throws)

/** A failure's reason, as recorded and reported. */
export interface Failure {
  /** The kind of failure. */
  kind: FailureKind;
  /** One line: what went wrong. */
  message: string;
  /** The first bytes of the response body, when there was one. */
  body?: string;
}

/** One request as the transport measured it, successful or not. */
export interface RequestRecord {
  /** Position of the request in the run's dispatch order, from 0. */
  index: number;
  /** Whether a streamed response was requested. */
  stream: boolean;
  /** `performance.timeOrigin` of the measuring thread (epoch ms). */
  timeOriginMs: number;
  /** When the schedule wanted the request sent (`--rate` runs), in `performance.now()` ms. */
  scheduledMs?: number;
  /** Just before the request was handed to the network, in `performance.now()` ms. */
  startMs: number;
  /** When the response headers arrived; `undefined` if they never did. */
  headersAtMs?: number;
  /** Arrival time of each payload (SSE `data:` event except `[DONE]`, or the whole body). */
  chunkTimesMs: number[];
  /** The raw payloads, in arrival order. */
  payloads: string[];
  /** When the response was complete (the `[DONE]` event or the end of the body), or failed. */
  endMs: number;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** True when a complete 200 response arrived and carried no error. */
  success: boolean;
  /** Why it failed, when it did. */
  failure?: Failure;
  /**
   * Times the request was sent again because its reused keep-alive connection had been closed
   * before the request could reach the server; `undefined` when the transport cannot tell
   * (`fetch` may re-send without saying so).
   */
  retries?: number;
  /**
   * Closed loop: how long after the previous request of its slot ended this one was sent, ms
   * (the client's own refill delay); `undefined` for a slot's first request and for `--rate`.
   */
  refillLateMs?: number;
  /** `--multi-turn`: the conversation's number (from 0, in dispatch order). */
  conversation?: number;
  /** `--multi-turn`: the turn's position in its conversation (from 0). */
  turn?: number;
  /**
   * TCP connect time, ms, when this request opened the connection that carried its response
   * (`undefined` when it reused a kept-alive one, and with `fetch`, which cannot tell).
   */
  connectMs?: number;
  /** TLS handshake time, ms, when this request opened an https connection (as `connectMs`). */
  tlsMs?: number;
  /**
   * The endpoint that served it, by name (its URL without credentials or query: `endpointName`
   * in `redact.ts`); set by the thread that sent it.
   */
  endpoint?: string;
  /**
   * A warmup request (`--warmup-num`): its thread writes no result-DB row for it and no sink
   * receives it.
   */
  warmup?: true;
  /** The dataset's own id of the request (a trace record's `request_id`), when it has one. */
  requestId?: string;
}

/** A fresh record for a request about to be sent. */
export function newRecord(index: number, stream: boolean): RequestRecord {
  return {
    index,
    stream,
    timeOriginMs: performance.timeOrigin,
    startMs: 0,
    chunkTimesMs: [],
    payloads: [],
    endMs: 0,
    status: 0,
    success: false,
  };
}

/**
 * Empty a record's payloads and chunk times once nothing reads them any more: it is finished
 * (`finishRequest`'s output holds copies of both) and, in a conversation, its reply has been read.
 * Its owner calls this; the record stays valid for its other fields. A plugin that froze the
 * payloads array keeps it as it is.
 *
 * Why: a full collection moves every live young object to the old generation, so the records of
 * the requests in flight then are old for the rest of their lives, and each payload string they
 * receive afterwards is young and held from the old generation. When such a record dies, the
 * scavenges cannot know it (only a full collection can), so they keep copying, then promote,
 * every string it still holds (and the read text each was sliced from), which fills the old
 * generation and brings the next full collection sooner, which makes more records old. Emptying
 * the arrays cuts that chain: against the blast server (64 streams of 256 events), the transport
 * worker's scavenges copied 209 -> 37 MB and promoted 147 -> 10 MB, and it ran 6 -> 1 full
 * collections (`--v8-flags=--trace-gc-nvp`; docs/performance.md, "Hot path v9").
 *
 * @example
 * ```ts
 * const rec = newRecord(0, true);
 * rec.payloads.push('{"choices":[]}');
 * releaseRecord(rec);
 * rec.payloads.length; // 0
 * ```
 */
export function releaseRecord(rec: RequestRecord): void {
  try {
    rec.payloads.length = 0;
    rec.chunkTimesMs.length = 0;
  } catch {
    // frozen by a plugin: nothing to release
  }
}

/** Epoch seconds of a `performance.now()` value (ms) measured in the record's thread. */
export function epochSeconds(rec: Pick<RequestRecord, "timeOriginMs">, t: number): number {
  return (rec.timeOriginMs + t) / 1000;
}

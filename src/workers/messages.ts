/**
 * What the main thread and the transport workers say to each other. Everything is plain data
 * (structured clone, typed arrays transferred): a worker is told once, at start, where to send
 * (URL, headers), how to finish its requests (which API plugin, by the specifier that loads it,
 * and the run's parameters) and where rows and texts go (ports to the result DB's writer and the
 * counting worker); then each request costs one small message each way.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import type { PluginSourceText } from "../plugins/plugin_sources.ts";
import type { FinishedRequest, SinkNeeds } from "../records/finished.ts";
import type { PayloadBlob } from "../records/payloads.ts";
import type { RequestRecord } from "../records/record.ts";
import type { TransportSpec } from "../transport/create.ts";
import { endpointName } from "../redact.ts";
import type { ThreadLoad } from "./loop_monitor.ts";
import type { Turn } from "../plugins/types.ts";

/** Where the requests of a run go: one endpoint, or several (`--url` given more than once). */
export interface SendTarget {
  /** Absolute http(s) URL (the first endpoint, when there are several). */
  url: string;
  /** Header names to values (the same for every endpoint). */
  headers: Record<string, string>;
  /**
   * Several endpoints, in `--url` order: a request goes to the one its {@link SendOrder.endpoint}
   * names. Absent: every request goes to `url`.
   */
  urls?: readonly string[];
}

/** Each endpoint of a target with its name in records ({@link endpointName}), by index. */
export function targetEndpoints(t: SendTarget): { url: string; name: string }[] {
  return (t.urls ?? [t.url]).map((url) => ({ url, name: endpointName(url) }));
}

/** How a worker finishes its requests (plain data). */
export interface FinishSpec {
  /**
   * The API plugin, loaded in the worker by the same specifier as on the main thread (a
   * built-in name, a file path or an http(s) URL) with the run's parameters; absent when it
   * cannot be (a plugin registered in-process by the library's caller): the worker then sends
   * its records raw and the main thread finishes them. `source`: a URL plugin's text as the
   * main thread fetched it (the worker imports that, and fetches nothing).
   */
  api?: { spec: string; params: PerfConfig; source?: PluginSourceText };
  /** What the sinks need on each record. */
  needs: SinkNeeds;
}

/** A conversation to run (plain data: it crosses to a worker). */
export interface ConversationOrder {
  /** The conversation's number, from 0 in dispatch order. */
  id: number;
  /** The request index of its first turn; turn `k` is `firstIndex + k`. */
  firstIndex: number;
  /** The body's JSON text, built by the API plugin from the first turn: `messages` is replaced. */
  base: string;
  /** Its turns. */
  turns: Turn[];
}

/** One request to send. */
export interface SendOrder {
  /** The pool's id of the request. */
  id: number;
  /** Dispatch order. */
  index: number;
  /** The JSON body text. */
  body: string;
  /** Whether a streamed response is expected. */
  stream: boolean;
  /** `--rate`: when the schedule wanted it sent, epoch ms. */
  scheduledEpochMs?: number;
  /** Closed loop: when the previous request of its slot ended, epoch ms. */
  previousEndEpochMs?: number;
  /** `--multi-turn`: the conversation to run (`body` is then its first turn's, unused). */
  conversation?: ConversationOrder;
  /** The endpoint it goes to, by index in {@link SendTarget.urls} (absent: the first). */
  endpoint?: number;
  /** A warmup request (`--warmup-num`): no DB row, no record to the sinks. */
  warmup?: true;
  /** A trace's request with headers of its own: all it is sent with (absent: the target's). */
  headers?: Record<string, string>;
  /** The dataset's own id of the request (a trace record's `request_id`), for its record. */
  requestId?: string;
  /**
   * Closed loop: its slot's next request may be queued behind it ({@link SendOrder.after}): the
   * worker keeps its end until that one comes.
   */
  chained?: true;
  /**
   * Closed loop: sent the moment the request with this id (on the same worker, `chained`) ends,
   * `previousEndEpochMs` its end; dropped, with nothing sent, when that one was not sent, the run
   * was cancelled, or `notAfterEpochMs` has passed by then.
   */
  after?: number;
  /** `--duration`'s deadline, epoch ms: a request queued with `after` is not sent after it. */
  notAfterEpochMs?: number;
}

/** Main → worker. */
export type ToWorker =
  /** Build the transport and load the plugin; start the self-check. */
  | {
    t: "init";
    name: string;
    spec: TransportSpec;
    target: SendTarget;
    finish: FinishSpec;
    /** Where the worker posts its result-DB rows. */
    db?: MessagePort;
    /** Its channel to the counting worker (`--tokenizer-path`). */
    count?: MessagePort;
  }
  /** Send these requests: those dispatched in one turn of the main thread's loop, in order. */
  | { t: "send"; orders: SendOrder[] }
  /** The run was interrupted: stop every request (each is recorded as cancelled). */
  | { t: "cancel" }
  /**
   * Credentials found after the DB opened: passed on on this worker's own row port before any
   * row of a request sent after them (the order of messages on one port is kept).
   */
  | { t: "secrets"; secrets: readonly string[] }
  /** Close the transport, finish what is pending, end the DB port, report the self-check. */
  | { t: "close" };

/** A record the main thread finishes: the measurements, the payloads as one blob. */
export type RawRecord = Omit<RequestRecord, "payloads"> & { payloads: PayloadBlob };

/** When a request was sent and when it ended, epoch ms (what its slot needs to know). */
export interface Span {
  /** Sent. */
  startEpochMs: number;
  /** Ended. */
  endEpochMs: number;
  /**
   * Failed on the main thread without a send of its own (its worker died with it in flight, or
   * none was running): both times are the failure's, so it says nothing of dispatch lateness.
   */
  lost?: true;
}

/** Worker → main. */
export type FromWorker =
  /** The transport is ready (and the plugin loaded). */
  | { t: "ready" }
  /**
   * Requests finished, their records complete: those that ended in one turn of the worker's loop,
   * in order (`ids[i]` is `fs[i]`'s).
   */
  | { t: "done"; ids: number[]; fs: FinishedRequest[] }
  /** A turn of a conversation finished, its record complete (the conversation goes on). */
  | { t: "turn"; id: number; f: FinishedRequest }
  /** A conversation ended (its slot is free): when its first turn was sent and its last ended. */
  | ({ t: "ended"; id: number } & Span)
  /** A request finished; the main thread finishes its record. */
  | { t: "raw"; id: number; rec: RawRecord }
  /** A conversation's turn the worker could not finish; the main thread finishes it (`body`). */
  | { t: "rawTurn"; id: number; rec: RawRecord; body: string }
  /** A request queued behind another ({@link SendOrder.after}) was not sent: dispatch stopped. */
  | { t: "dropped"; id: number }
  /** A request ended, its slot is free; its record follows (it is being counted). */
  | ({ t: "free"; id: number } & Span)
  /** The worker closed; its self-check. */
  | { t: "closed"; load: ThreadLoad }
  /** Something outside any one request failed. */
  | { t: "error"; message: string };

/** A record's span, from its start and end in the measuring thread's clock. */
export function spanOf(r: Pick<RequestRecord, "timeOriginMs" | "startMs" | "endMs">): Span {
  return { startEpochMs: r.timeOriginMs + r.startMs, endEpochMs: r.timeOriginMs + r.endMs };
}

/**
 * A closed loop's next request, sent by `send` with its predecessor's end once `previous` ended;
 * `undefined`, nothing sent, when `previous` was not sent, `signal` aborted, or `notAfterMs`
 * (`performance.now()`) passed by then. For the senders that wait for `previous` on this thread.
 */
export async function afterEnd<T>(
  previous: Promise<Span | void>,
  notAfterMs: number | undefined,
  signal: AbortSignal | undefined,
  send: (endEpochMs: number) => Promise<T>,
): Promise<T | undefined> {
  const span = await previous;
  if (!span || signal?.aborted) return undefined;
  if (notAfterMs !== undefined && performance.now() >= notAfterMs) return undefined;
  return await send(span.endEpochMs);
}

/** A request for the sending threads, as the main thread's load loop hands it over. */
export interface Outgoing {
  /** Dispatch order. */
  index: number;
  /** The JSON body text. */
  body: string;
  /** Whether a streamed response is expected. */
  stream: boolean;
  /** `--rate`: when the schedule wanted it sent, in this (the main) thread's `performance.now()`. */
  scheduledMs?: number;
  /**
   * `--rate`: when it could first be sent, in this thread's `performance.now()`: due, and a slot
   * free under `--parallel`. The client's lateness (the self-check's dispatch lag) counts from
   * here; the wait for a slot before it is the load's own queue (the record's client queue).
   */
  readyMs?: number;
  /** Closed loop: when the previous request of its slot ended, epoch ms. */
  previousEndEpochMs?: number;
  /** `--multi-turn`: the conversation to run. */
  conversation?: ConversationOrder;
  /**
   * The endpoint it goes to, by index in {@link SendTarget.urls} (absent: the first); chosen on
   * the main thread by the run's `--url-strategy`.
   */
  endpoint?: number;
  /** A warmup request (`--warmup-num`): no DB row, no record to the sinks. */
  warmup?: true;
  /** A trace's request with headers of its own: all it is sent with (absent: the target's). */
  headers?: Record<string, string>;
  /** The dataset's own id of the request (a trace record's `request_id`), for its record. */
  requestId?: string;
  /**
   * Closed loop: the slot's next request may follow it with `TransportThreads.sendAfter` (the
   * load's `Follow`).
   */
  chained?: true;
}

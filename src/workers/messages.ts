/**
 * What the main thread and the transport workers say to each other. Everything is plain data
 * (structured clone): a worker gets only what goes on the wire, and sends back what it measured.
 *
 * @module
 */
import type { Failure } from "../records/record.ts";
import type { TransportSpec } from "../transport/create.ts";
import type { ThreadLoad } from "./loop_monitor.ts";

/** Main → worker. */
export type ToWorker =
  /** Build the transport; start the self-check. */
  | { t: "init"; name: string; spec: TransportSpec }
  /** Send one request. */
  | {
    t: "send";
    id: number;
    url: string;
    headers: Record<string, string>;
    body: string;
    stream: boolean;
  }
  /** The run was interrupted: stop every request (each is recorded as cancelled). */
  | { t: "cancel" }
  /** Close the transport and report the self-check. */
  | { t: "close" };

/** The measured part of a record, in the worker's clock (`timeOriginMs` + `performance.now()`). */
export interface MeasuredRecord {
  /** The worker's `performance.timeOrigin`. */
  timeOriginMs: number;
  /** See `RequestRecord.startMs`. */
  startMs: number;
  /** See `RequestRecord.headersAtMs`. */
  headersAtMs?: number;
  /** See `RequestRecord.chunkTimesMs` (a typed array crosses threads faster than a list). */
  chunkTimesMs: Float64Array;
  /**
   * See `RequestRecord.payloads`: the list itself when it has at most one payload, else the
   * payloads joined by `\r` (an SSE payload never holds a CR), which crosses threads several
   * times faster than a list of strings (see {@link joinPayloads}).
   */
  payloads: string[] | string;
  /** See `RequestRecord.endMs`. */
  endMs: number;
  /** See `RequestRecord.status`. */
  status: number;
  /** See `RequestRecord.success`. */
  success: boolean;
  /** See `RequestRecord.failure`. */
  failure?: Failure;
  /** See `RequestRecord.retries`. */
  retries?: number;
}

/** Worker → main. */
export type FromWorker =
  /** The transport is ready. */
  | { t: "ready" }
  /** A request finished. */
  | { t: "done"; id: number; rec: MeasuredRecord }
  /** The worker closed; its self-check. */
  | { t: "closed"; load: ThreadLoad }
  /** Something outside any one request failed. */
  | { t: "error"; message: string };

/** Payloads in the form that crosses threads cheaply: one string when there are several. */
export function joinPayloads(payloads: string[]): string[] | string {
  return payloads.length > 1 ? payloads.join("\r") : payloads;
}

/** Undo {@link joinPayloads}. */
export function splitPayloads(payloads: string[] | string): string[] {
  return typeof payloads === "string" ? payloads.split("\r") : payloads;
}

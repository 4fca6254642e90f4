/**
 * The result DB's writer on a thread of its own: a Web Worker that hands every message to a
 * {@link ResultWriter} (`result_writer.ts`), so that pickling and SQLite never run on a thread
 * that times requests. Rows come from the threads that finished the requests: each transport
 * worker posts its own on a `MessagePort` of its own (registered with a `port` message), the main
 * thread on the worker's channel; the main thread never handles a worker's payloads. It also hosts
 * the run's telemetry service on a port of its own (`telemetry` message).
 *
 * Messages in: `open`, `port`, `telemetry`, `lost`, `secrets`, `rows`, `finish`, `close` (on a
 * port: `rows`, `secrets`, `end`).
 * Messages out: `opened`, `closed`, `error` (answers to `open` and `close`), `failed` and
 * `waiting` (unasked, once each: writing stopped; rows wait for a reader's lock).
 *
 * @module
 */
import { type DbWorkerIn, type DbWorkerOut, ResultWriter } from "./result_writer.ts";

export type { DbWorkerIn, DbWorkerOut };

/** The worker's global scope, typed without a `deno.worker` lib directive (JSR refuses those). */
const scope = self as unknown as {
  postMessage(m: DbWorkerOut): void;
  onmessage: ((ev: MessageEvent<DbWorkerIn>) => void) | null;
};

const writer = new ResultWriter({ post: (m) => scope.postMessage(m) });
scope.onmessage = (ev: MessageEvent<DbWorkerIn>) => writer.handle(ev.data);

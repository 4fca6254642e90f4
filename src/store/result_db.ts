/**
 * The result DB: its writer (`result_writer.ts`, which pickles, redacts and writes) on a thread of
 * its own (`db_worker.ts`) or, in a process that may use one core and sends from its main thread,
 * on the main thread ({@link ResultDbOptions.onThisThread}), and the ways rows reach it. Rows are
 * built where requests are finished (`schema.ts`'s `toResultRow`): a transport worker posts its
 * rows on a port of its own ({@link ResultDb.connect}), the main thread (requests it finished
 * itself: `--workers 0`, a plugin given as an object) through {@link ResultDb.add}. Either way in
 * batches, with their buffers handed over.
 *
 * @module
 */
import { RunError } from "../errors.ts";
import { type DbWorkerIn, type DbWorkerOut, ResultWriter } from "./result_writer.ts";
import { RowQueue, type RowSink } from "./rows.ts";
import type { ResultValues, RunRow } from "./schema.ts";

/** A port that a transport worker posts its rows on, and what to do if that worker dies. */
export interface RowChannel {
  /** Transfer it to the worker, which posts `RowsMessage`s on it and `end` when done. */
  port: MessagePort;
  /** The worker died before its `end`: the writer stops waiting for it. */
  lost(): void;
}

/** How a run ended, for the `run` table. */
export interface RunEnd {
  /** Epoch seconds. */
  endedAt: number;
  /** Whether it was interrupted. */
  interrupted: boolean;
  /** Client self-check measurements, when any. */
  client?: unknown;
}

/** Options of {@link ResultDb.open}. */
export interface ResultDbOptions {
  /**
   * Called once, as soon as a write fails (a full disk...), with one line naming the cause and
   * the file: `the result DB could not be written: disk full (SQLITE_FULL) at <path>`. Later
   * rows are dropped; what was committed stays readable.
   */
  onFailure?: (message: string) => void;
  /**
   * Called once if rows wait for another connection's lock (a reader of the live file holds
   * commits off while it reads), with one line saying so; writing goes on when the lock is free.
   */
  onWarning?: (message: string) => void;
  /** The run's secret values: replaced in request bodies and responses before they are stored. */
  secrets?: readonly string[];
  /**
   * Rows per transaction at most (`--db-commit-interval`; below 1 means 1). The writer commits
   * every batch it receives (a few ms of rows), so this only splits a bigger batch.
   */
  commitEvery?: number;
  /**
   * Write on this thread, in tasks of its own, rather than on a thread (and isolate) of its own:
   * for a process that may use one core and sends from its main thread, where the writer's
   * thread would only share that core (and cost the hand-over of every row and ~20 MB). Another
   * connection's lock is then never waited out in SQLite's busy loop: the rows are kept and tried
   * again later (`locks: "yield"`). Rows from other threads' ports ({@link ResultDb.connect}) are
   * then handled on this thread too.
   */
  onThisThread?: boolean;
}

/** Where the writer runs, as the run talks to it: a `Worker`, or {@link WriterHere}. */
interface WriterThread {
  postMessage(m: DbWorkerIn, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<DbWorkerOut>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  terminate(): void;
}

/** Longest run of the writer's messages in one task on this thread, ms. */
const HERE_SLICE_MS = 4;

/**
 * The writer on this thread, talked to as a worker is: each message is handled in a later task
 * (a few at most per task, {@link HERE_SLICE_MS}), never in the caller's; what it says arrives as
 * a message would, after the caller's code. A message it cannot handle is an `error` event, as a
 * worker's uncaught error is.
 */
class WriterHere implements WriterThread {
  onmessage: ((ev: MessageEvent<DbWorkerOut>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  #writer = new ResultWriter({
    post: (m) => queueMicrotask(() => this.onmessage?.(new MessageEvent("message", { data: m }))),
    locks: "yield",
    onError: (e) => this.#died(e),
  });
  #inbox: DbWorkerIn[] = [];
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  postMessage(m: DbWorkerIn): void {
    if (this.#ended) return;
    this.#inbox.push(m);
    this.#timer ??= setTimeout(() => this.#run(), 0);
  }

  #run(): void {
    this.#timer = undefined;
    const until = performance.now() + HERE_SLICE_MS;
    while (this.#next < this.#inbox.length && !this.#ended) {
      const m = this.#inbox[this.#next];
      this.#inbox[this.#next++] = undefined as unknown as DbWorkerIn; // done: not kept
      try {
        this.#writer.handle(m);
      } catch (e) {
        return this.#died(e);
      }
      if (performance.now() >= until) break;
    }
    if (this.#next === this.#inbox.length) {
      this.#inbox = [];
      this.#next = 0;
    } else if (!this.#ended) this.#timer = setTimeout(() => this.#run(), 0);
  }

  /** What a worker's uncaught error does: the writer is gone, and `error` says why. */
  #died(e: unknown): void {
    this.terminate();
    const message = e instanceof Error ? e.message : String(e);
    this.onerror?.(new ErrorEvent("error", { message, error: e, cancelable: true }));
  }

  terminate(): void {
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inbox = [];
    this.#writer.stop();
  }
}

/**
 * Writes the rows of finished requests to `benchmark_data.db` through the DB worker. A failed
 * write never throws into the run: it is reported once through {@link ResultDbOptions.onFailure}
 * and kept in {@link ResultDb.failure}.
 */
export class ResultDb implements RowSink, AsyncDisposable {
  #worker: WriterThread;
  #replies: Array<(m: DbWorkerOut) => void> = [];
  #end: RunEnd | undefined;
  #loadStartedAt: number | null = null;
  #closed = false;
  #onFailure: ((message: string) => void) | undefined;
  #queue: RowQueue;
  #ports = 0;
  /** The answer to every question once the writer's thread has died. */
  #dead: Extract<DbWorkerOut, { type: "error" }> | undefined;
  /** Told if the writer's thread dies (the telemetry service it hosts). */
  #lostHandlers: Array<(why: string) => void> = [];
  /** Path of the DB file. */
  readonly path: string;
  /** Rows in the file once closed (those committed before any failure). */
  written = 0;
  /** Why writing failed, when it did: one line naming the cause and the file. */
  failure: string | undefined;

  private constructor(path: string, worker: WriterThread, opts: ResultDbOptions) {
    this.path = path;
    this.#worker = worker;
    this.#onFailure = opts.onFailure;
    this.#queue = new RowQueue((m, transfer) => worker.postMessage(m, transfer));
    worker.onmessage = (ev: MessageEvent<DbWorkerOut>) => {
      if (ev.data.type === "failed") this.#fail(ev.data.message);
      else if (ev.data.type === "waiting") opts.onWarning?.(`${ev.data.message} (${path})`);
      else this.#replies.shift()?.(ev.data);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      this.#dead = { type: "error", message: ev.message, rows: 0 };
      this.#fail(ev.message);
      for (const r of this.#replies.splice(0)) r(this.#dead);
      for (const lost of this.#lostHandlers.splice(0)) lost(ev.message);
    };
  }

  #fail(why: string): void {
    if (this.failure !== undefined) return;
    this.failure = `the result DB could not be written: ${why} at ${this.path}`;
    this.#onFailure?.(this.failure);
  }

  /** Create the DB at `path` (which must not exist) with its `run` row. */
  static async open(path: string, run: RunRow, opts: ResultDbOptions = {}): Promise<ResultDb> {
    const worker: WriterThread = opts.onThisThread
      ? new WriterHere()
      : new Worker(new URL("./db_worker.ts", import.meta.url).href, { type: "module" });
    const db = new ResultDb(path, worker, opts);
    const reply = await db.#ask({
      type: "open",
      path,
      run,
      secrets: opts.secrets,
      commitEvery: opts.commitEvery,
    });
    if (reply.type === "error") {
      worker.terminate();
      throw new RunError(`cannot create the result DB: ${reply.message} at ${path}`);
    }
    return db;
  }

  #ask(m: DbWorkerIn): Promise<DbWorkerOut> {
    if (this.#dead) return Promise.resolve(this.#dead); // nobody left to answer
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.#worker.postMessage(m);
    });
  }

  /** Queue the row of a request finished on this thread (see {@link RowSink.add}). */
  add(row: ResultValues): void {
    if (this.#closed || this.failure !== undefined) return;
    this.#queue.add(row);
  }

  /**
   * A port for another thread's rows (a transport worker's): the writer writes what comes on it
   * and, when the DB closes, waits for its `end` (or {@link RowChannel.lost}).
   */
  connect(): RowChannel {
    const id = this.#ports++;
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ type: "port", id, port: port2 } satisfies DbWorkerIn, [port2]);
    return {
      port: port1,
      lost: () => this.#worker.postMessage({ type: "lost", id } satisfies DbWorkerIn),
    };
  }

  /**
   * A port on the writer's thread for the run's telemetry service (`telemetry_service.ts`), so
   * that it needs no thread (and isolate) of its own: it shares the writer's, which never times a
   * request. `onLost` is told if the writer's thread dies. Stop the service before closing the DB.
   */
  hostTelemetry(): { port: MessagePort; onLost(fn: (why: string) => void): void } {
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ type: "telemetry", port: port2 } satisfies DbWorkerIn, [port2]);
    return {
      port: port1,
      onLost: (fn) => this.#dead ? fn(this.#dead.message) : this.#lostHandlers.push(fn),
    };
  }

  /**
   * More values to keep out of every row written from now on: credentials found after the DB
   * opened (a dataset's request with headers of its own). Posted before that request is sent,
   * so they reach the writer before its row can.
   */
  addSecrets(secrets: readonly string[]): void {
    if (this.#closed) return;
    this.#worker.postMessage({ type: "secrets", secrets } satisfies DbWorkerIn);
  }

  /** Say when the load began (epoch seconds); written to the `run` row when the DB closes. */
  setLoadStart(epochS: number): void {
    this.#loadStartedAt = epochS;
  }

  /** Say how the run ended; written to the `run` row when the DB closes. */
  setEnd(end: RunEnd): void {
    this.#end = end;
  }

  /**
   * Write everything sent (the ports' rows included: their threads must have ended them, or
   * been reported lost), finish the `run` row, close the file. Resolves to the rows written;
   * never rejects (a failure is in {@link ResultDb.failure}).
   */
  async close(): Promise<number> {
    if (this.#closed) return this.written;
    this.#queue.flush();
    this.#closed = true;
    const end = this.#end ?? { endedAt: Date.now() / 1000, interrupted: false };
    this.#worker.postMessage(
      {
        type: "finish",
        endedAt: end.endedAt,
        interrupted: end.interrupted,
        client: end.client === undefined ? null : JSON.stringify(end.client),
        loadStartedAt: this.#loadStartedAt,
      } satisfies DbWorkerIn,
    );
    const reply = await this.#ask({ type: "close" });
    this.#worker.terminate();
    // A telemetry service still on the writer's thread (it should have been stopped first) is
    // gone too; on this thread ({@link ResultDbOptions.onThisThread}) it runs until stopped.
    for (const lost of this.#lostHandlers.splice(0)) lost("the result DB's thread closed");
    if (reply.type === "error") this.#fail(reply.message);
    this.written = reply.type === "closed" || reply.type === "error" ? reply.rows : 0;
    return this.written;
  }

  /** See {@link ResultDb.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

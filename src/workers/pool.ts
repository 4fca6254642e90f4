/**
 * Transport workers: the main thread keeps scheduling (when to send) and the result pipeline;
 * each request is handed to the worker with the fewest in flight, which sends it on its own
 * event loop, finishes its record there and posts it back once ({@link FromWorker}). The URL, the
 * headers, the plugin and the ports to the result DB and the counting worker are given to each
 * worker once, at start; a request crosses as its body text and a few numbers.
 *
 * Clocks: every thread has its own `performance.timeOrigin`. A record keeps the measuring
 * worker's origin and times; the schedule time crosses as epoch time and is put in the worker's
 * clock there, so `start − scheduled` stays the true dispatch delay.
 *
 * A worker that dies fails its in-flight requests (recorded, never lost); the rest carry on.
 *
 * @module
 */
import { finishAndHand, type Finishing } from "../records/finish_request.ts";
import type { FinishedRequest } from "../records/finished.ts";
import { unpackPayloads } from "../records/payloads.ts";
import { newRecord, type RequestRecord } from "../records/record.ts";
import type { RowChannel } from "../store/result_db.ts";
import type { TransportSpec } from "../transport/create.ts";
import type { ThreadLoad } from "./loop_monitor.ts";
import {
  afterEnd,
  type FinishSpec,
  type FromWorker,
  type Outgoing,
  type SendOrder,
  type SendTarget,
  type Span,
  spanOf,
  targetEndpoints,
  type ToWorker,
} from "./messages.ts";
import { TurnBatch } from "./turn_batch.ts";

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

/** How long {@link WorkerPool.close} waits for a worker's report before ending it, ms. */
const CLOSE_WAIT_MS = 10_000;

/** What the workers of a run share. */
export interface PoolOptions {
  /** Where every request goes. */
  target: SendTarget;
  /** How the workers finish their requests. */
  finish: FinishSpec;
  /** Receives every finished record, once (the main thread's pipeline). */
  onRecord: (f: FinishedRequest) => void;
  /**
   * Finishes records on this thread: those the workers send raw (a plugin they cannot load), and
   * the failures of requests lost with a worker.
   */
  local: Finishing;
  /** A port for each worker's result-DB rows (with the DB on, and plugins in the workers). */
  rows?: () => RowChannel;
  /** A port for each worker to the counting worker (`--tokenizer-path`, plugins in the workers). */
  count?: () => MessagePort;
}

interface Pending {
  worker: number;
  index: number;
  /** Its endpoint, by index. */
  endpoint: number;
  body: string;
  stream: boolean;
  /** The slot was freed before the record came (it is being counted). */
  freed: boolean;
  /** A warmup request: its record, if made here, is kept out of every statistic too. */
  warmup?: true;
  /** The dataset's own id of the request, for a record made here. */
  requestId?: string;
  resolve: (span: Span | void) => void;
}

interface Slot {
  worker: Worker;
  name: string;
  inFlight: number;
  alive: boolean;
  rows?: RowChannel;
  closed?: (load: ThreadLoad | undefined) => void;
  /** Its requests dispatched in this turn of the loop, posted together at the turn's end. */
  sends: TurnBatch<SendOrder>;
}

/** N transport workers, sending and finishing a run's requests. */
export class WorkerPool {
  #slots: Slot[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #loads: ThreadLoad[] = [];
  #signals = new WeakSet<AbortSignal>();
  #opts: PoolOptions;
  /** Records being finished on this thread (counted), awaited by {@link close}. */
  #local = new Set<Promise<void>>();
  /** The closed loop's requests that one may follow ({@link sendAfter}): their id, by promise. */
  #chained = new WeakMap<Promise<Span | void>, { id: number; worker: number }>();

  /** Each endpoint's name, by index (for the records of requests failed here). */
  #names: string[];

  private constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.#names = targetEndpoints(opts.target).map((e) => e.name);
  }

  /** Start `n` workers that each build the transport `spec` describes; resolves when all are ready. */
  static async start(n: number, spec: TransportSpec, opts: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) ready.push(pool.#spawn(i, spec));
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const s of pool.#slots) {
        s.worker.terminate();
        s.rows?.lost();
      }
      throw e;
    }
    return pool;
  }

  #spawn(i: number, spec: TransportSpec): Promise<void> {
    const name = `worker ${i + 1}`;
    const worker = new Worker(WORKER_URL, { type: "module", name: `llmperf ${name}` });
    const slot: Slot = {
      worker,
      name,
      inFlight: 0,
      alive: true,
      sends: new TurnBatch<SendOrder>((orders) => {
        if (slot.alive) worker.postMessage({ t: "send", orders } satisfies ToWorker);
      }),
    };
    this.#slots.push(slot);
    const o = this.#opts;
    const inWorker = o.finish.api !== undefined; // else records come raw: no rows, no counting
    const transfer: Transferable[] = [];
    let db: MessagePort | undefined;
    let count: MessagePort | undefined;
    if (inWorker && o.rows) {
      slot.rows = o.rows();
      transfer.push(db = slot.rows.port);
    }
    if (inWorker && o.count) transfer.push(count = o.count());
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        switch (m.t) {
          case "done":
            for (let k = 0; k < m.ids.length; k++) this.#done(slot, m.ids[k], m.fs[k]);
            break;
          case "turn":
            if (this.#pending.has(m.id)) this.#opts.onRecord(m.f);
            break;
          case "ended":
            this.#ended(slot, m.id, m);
            break;
          case "free":
            this.#free(slot, m.id, m);
            break;
          case "dropped":
            this.#dropped(slot, m.id);
            break;
          case "rawTurn":
            if (this.#pending.has(m.id)) {
              this.#finishHere({ ...m.rec, payloads: unpackPayloads(m.rec.payloads) }, m.body);
            }
            break;
          case "raw":
            this.#raw(slot, m.id, { ...m.rec, payloads: unpackPayloads(m.rec.payloads) });
            break;
          case "ready":
            resolve();
            break;
          case "closed":
            slot.closed?.(m.load);
            break;
          case "error":
            reject(new Error(`${name}: ${m.message}`));
            break;
        }
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        reject(new Error(`${name}: ${e.message}`));
        this.#lost(slot, e.message);
      };
      const init: ToWorker = {
        t: "init",
        name,
        spec,
        target: o.target,
        finish: o.finish,
        db,
        count,
      };
      worker.postMessage(init, transfer);
    });
  }

  #free(slot: Slot, id: number, span: Span): void {
    const p = this.#pending.get(id);
    if (p === undefined || p.freed) return;
    p.freed = true;
    slot.inFlight--;
    p.resolve(span);
  }

  /** A request queued behind another was not sent (dispatch stopped): no record, its slot free. */
  #dropped(slot: Slot, id: number): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    slot.inFlight--;
    p.resolve(undefined);
  }

  #done(slot: Slot, id: number, f: FinishedRequest): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (!p.freed) {
      slot.inFlight--;
      p.resolve(spanOf(f.record));
    }
    this.#opts.onRecord(f);
  }

  /** A conversation ended: its turns' records have all come (`turn`); its slot is free. */
  #ended(slot: Slot, id: number, span: Span): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    slot.inFlight--;
    p.resolve(span);
  }

  /** A record the worker could not finish: finished here. */
  #raw(slot: Slot, id: number, rec: RequestRecord): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    slot.inFlight--;
    p.resolve(spanOf(rec));
    this.#finishHere(rec, p.body);
  }

  #finishHere(rec: RequestRecord, body: string): void {
    const p = finishAndHand(this.#opts.local, rec, body, this.#opts.onRecord);
    if (p === undefined) return;
    this.#local.add(p);
    p.finally(() => this.#local.delete(p));
  }

  /**
   * The record of a request failed here, outside any transport: with its endpoint, its warmup
   * mark (so that it stays out of every statistic) and its dataset id.
   */
  #failed(
    r: Pick<Pending, "index" | "stream" | "warmup" | "requestId"> & { endpoint?: number },
    message: string,
  ): RequestRecord {
    const rec = failed(r.index, r.stream, message);
    rec.endpoint = this.#names[r.endpoint ?? 0];
    if (r.warmup) rec.warmup = true;
    if (r.requestId !== undefined) rec.requestId = r.requestId;
    return rec;
  }

  /** A worker died: fail what it had in flight (or was still counting). */
  #lost(slot: Slot, message: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    slot.rows?.lost();
    const i = this.#slots.indexOf(slot);
    for (const [id, p] of this.#pending) {
      if (p.worker !== i) continue;
      this.#pending.delete(id);
      const rec = this.#failed(p, `${slot.name} stopped: ${message}`);
      if (!p.freed) p.resolve({ ...spanOf(rec), lost: true });
      this.#finishHere(rec, p.body);
    }
    slot.inFlight = 0;
    slot.closed?.(undefined);
  }

  /**
   * Send one request on the worker with the fewest in flight. Resolves when it has ended (its
   * slot is free), with when it was sent and ended; its record goes to `onRecord`. Aborting
   * `signal` cancels every request in every worker (one listener per signal).
   */
  send(req: Outgoing, signal?: AbortSignal): Promise<Span> {
    this.#cancelOn(signal);
    let best = -1;
    for (let i = 0; i < this.#slots.length; i++) {
      const s = this.#slots[i];
      if (s.alive && (best === -1 || s.inFlight < this.#slots[best].inFlight)) best = i;
    }
    if (best === -1) {
      const rec = this.#failed(req, "no transport worker is running");
      this.#finishHere(rec, req.body);
      return Promise.resolve({ ...spanOf(rec), lost: true });
    }
    return this.#order(best, req) as Promise<Span>;
  }

  /**
   * The closed loop's next request of a slot: queued on the worker that has `previous` (a
   * `chained` request this pool sent), which sends it the moment `previous` ends; see
   * `TransportThreads.sendAfter`. Any other `previous` is waited for here, then `req` sent.
   */
  sendAfter(
    req: Outgoing,
    previous: Promise<Span | void>,
    notAfterMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<Span | void> {
    // Sent to that worker even when `previous` has ended already: it holds the end till then.
    const after = this.#chained.get(previous);
    if (after === undefined || !this.#slots[after.worker].alive) {
      // Waited for here; the one sent then is what the slot's next request can follow.
      const outer: Promise<Span | void> = afterEnd(previous, notAfterMs, signal, (end) => {
        const inner = this.send({ ...req, previousEndEpochMs: end }, signal);
        const chained = this.#chained.get(inner);
        if (chained !== undefined) this.#chained.set(outer, chained);
        return inner;
      });
      return outer;
    }
    this.#cancelOn(signal);
    const notAfter = notAfterMs === undefined ? undefined : performance.timeOrigin + notAfterMs;
    return this.#order(after.worker, req, after.id, notAfter);
  }

  /** Aborting `signal` cancels every request in every worker (one listener per signal). */
  #cancelOn(signal: AbortSignal | undefined): void {
    if (!signal || this.#signals.has(signal)) return;
    this.#signals.add(signal);
    // What was dispatched goes first (and is recorded as cancelled).
    const cancelAll = () => this.#broadcast({ t: "cancel" });
    if (signal.aborted) cancelAll();
    else signal.addEventListener("abort", cancelAll, { once: true });
  }

  /** Hand `req` to worker `best` (after the request `after`, when set). */
  #order(
    best: number,
    req: Outgoing,
    after?: number,
    notAfterEpochMs?: number,
  ): Promise<Span | void> {
    const slot = this.#slots[best];
    const id = this.#nextId++;
    slot.inFlight++;
    const promise = new Promise<Span | void>((resolve) => {
      const p: Pending = {
        worker: best,
        index: req.index,
        endpoint: req.endpoint ?? 0,
        body: req.body,
        stream: req.stream,
        freed: false,
        resolve,
      };
      if (req.warmup) p.warmup = true;
      if (req.requestId !== undefined) p.requestId = req.requestId;
      this.#pending.set(id, p);
      const m: SendOrder = {
        id,
        index: req.index,
        body: req.body,
        stream: req.stream,
        scheduledEpochMs: req.scheduledMs === undefined
          ? undefined
          : performance.timeOrigin + req.scheduledMs,
        previousEndEpochMs: req.previousEndEpochMs,
        conversation: req.conversation,
        endpoint: req.endpoint,
      };
      if (req.warmup) m.warmup = true;
      if (req.headers) m.headers = req.headers;
      if (req.requestId !== undefined) m.requestId = req.requestId;
      if (req.chained) m.chained = true;
      if (after !== undefined) m.after = after;
      if (notAfterEpochMs !== undefined) m.notAfterEpochMs = notAfterEpochMs;
      slot.sends.add(m);
    });
    if (req.chained) this.#chained.set(promise, { id, worker: best });
    return promise;
  }

  /**
   * More credentials to keep out of the rows the workers write: posted to each worker after the
   * orders already dispatched and before any later one, and passed on on its row port.
   */
  addSecrets(secrets: readonly string[]): void {
    this.#broadcast({ t: "secrets", secrets });
  }

  /** Post `m` to every live worker, after the orders it was already given (in order). */
  #broadcast(m: ToWorker): void {
    for (const s of this.#slots) {
      if (!s.alive) continue;
      s.sends.flush();
      s.worker.postMessage(m);
    }
  }

  /** The workers' self-checks, in worker order (after {@link close}). */
  get loads(): ThreadLoad[] {
    return this.#loads;
  }

  /**
   * Close every worker (each finishes what it is counting, ends its DB port, reports its
   * self-check) and finish what this thread is counting.
   */
  async close(): Promise<void> {
    const reports = this.#slots.map((s) =>
      new Promise<ThreadLoad | undefined>((resolve) => {
        if (!s.alive) return resolve(undefined);
        const timer = setTimeout(() => {
          this.#lost(s, "did not close in time");
          resolve(undefined);
        }, CLOSE_WAIT_MS);
        s.closed = (load) => {
          clearTimeout(timer);
          resolve(load);
        };
        s.sends.flush();
        s.worker.postMessage({ t: "close" } satisfies ToWorker);
      })
    );
    const loads = await Promise.all(reports);
    for (const s of this.#slots) s.worker.terminate();
    await Promise.all(this.#local);
    this.#loads = loads.filter((l): l is ThreadLoad => l !== undefined);
  }
}

/** The record of a request that failed outside any transport (its worker is gone). */
function failed(index: number, stream: boolean, message: string): RequestRecord {
  const rec = newRecord(index, stream);
  rec.startMs = rec.endMs = performance.now();
  rec.failure = { kind: "network", message };
  return rec;
}

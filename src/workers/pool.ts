/**
 * Transport workers behind the {@link Transport} interface: the main thread keeps scheduling
 * (when to send) and the result pipeline; each request is handed to the worker with the fewest in
 * flight, which sends it on its own event loop and posts the measured record back.
 *
 * Clocks: every thread has its own `performance.timeOrigin`. A record keeps the measuring
 * worker's origin and times; the schedule time the main thread put in `rec.scheduledMs` is moved
 * into that worker's clock, so `start − scheduled` stays the true dispatch delay.
 *
 * A worker that dies fails its in-flight requests (recorded, never lost); the rest carry on.
 *
 * @module
 */
import type { RequestRecord } from "../records/record.ts";
import type { TransportSpec } from "../transport/create.ts";
import type { PreparedRequest, Transport } from "../transport/types.ts";
import type { ThreadLoad } from "./loop_monitor.ts";
import { type FromWorker, type MeasuredRecord, splitPayloads, type ToWorker } from "./messages.ts";

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

/** How long {@link WorkerPool.close} waits for a worker's report before ending it, ms. */
const CLOSE_WAIT_MS = 10_000;

interface Pending {
  rec: RequestRecord;
  worker: number;
  resolve: () => void;
}

interface Slot {
  worker: Worker;
  name: string;
  inFlight: number;
  alive: boolean;
  closed?: (load: ThreadLoad | undefined) => void;
}

/** N transport workers; a {@link Transport} whose `send` runs in one of them. */
export class WorkerPool implements Transport {
  #slots: Slot[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #loads: ThreadLoad[] = [];
  #signals = new WeakSet<AbortSignal>();

  private constructor() {}

  /** Start `n` workers that each build the transport `spec` describes; resolves when all are ready. */
  static async start(n: number, spec: TransportSpec): Promise<WorkerPool> {
    const pool = new WorkerPool();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) ready.push(pool.#spawn(i, spec));
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const s of pool.#slots) s.worker.terminate();
      throw e;
    }
    return pool;
  }

  #spawn(i: number, spec: TransportSpec): Promise<void> {
    const name = `worker ${i + 1}`;
    const worker = new Worker(WORKER_URL, { type: "module", name: `llmperf ${name}` });
    const slot: Slot = { worker, name, inFlight: 0, alive: true };
    this.#slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        switch (m.t) {
          case "done":
            this.#done(slot, m.id, m.rec);
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
      this.#post(slot, { t: "init", name, spec });
    });
  }

  #post(slot: Slot, m: ToWorker): void {
    slot.worker.postMessage(m);
  }

  #done(slot: Slot, id: number, m: MeasuredRecord): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    slot.inFlight--;
    const r = p.rec;
    // The schedule time, moved from the main thread's clock into the worker's.
    if (r.scheduledMs !== undefined) r.scheduledMs += performance.timeOrigin - m.timeOriginMs;
    r.timeOriginMs = m.timeOriginMs;
    r.startMs = m.startMs;
    r.headersAtMs = m.headersAtMs;
    r.chunkTimesMs = Array.from(m.chunkTimesMs);
    r.payloads = splitPayloads(m.payloads);
    r.endMs = m.endMs;
    r.status = m.status;
    r.success = m.success;
    r.failure = m.failure;
    r.retries = m.retries;
    p.resolve();
  }

  /** A worker died: fail what it had in flight. */
  #lost(slot: Slot, message: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    const i = this.#slots.indexOf(slot);
    for (const [id, p] of this.#pending) {
      if (p.worker !== i) continue;
      this.#pending.delete(id);
      this.#fail(p.rec, `${slot.name} stopped: ${message}`);
      p.resolve();
    }
    slot.inFlight = 0;
    slot.closed?.(undefined);
  }

  #fail(rec: RequestRecord, message: string): void {
    rec.startMs ||= performance.now();
    rec.endMs = performance.now();
    rec.success = false;
    rec.failure = { kind: "network", message };
  }

  /** See {@link Transport.send}. */
  send(req: PreparedRequest, rec: RequestRecord, signal?: AbortSignal): Promise<void> {
    if (signal && !this.#signals.has(signal)) {
      this.#signals.add(signal);
      const cancelAll = () => {
        for (const s of this.#slots) if (s.alive) this.#post(s, { t: "cancel" });
      };
      if (signal.aborted) cancelAll();
      else signal.addEventListener("abort", cancelAll, { once: true });
    }
    let best = -1;
    for (let i = 0; i < this.#slots.length; i++) {
      const s = this.#slots[i];
      if (s.alive && (best === -1 || s.inFlight < this.#slots[best].inFlight)) best = i;
    }
    if (best === -1) {
      this.#fail(rec, "no transport worker is running");
      return Promise.resolve();
    }
    const slot = this.#slots[best];
    const id = this.#nextId++;
    slot.inFlight++;
    return new Promise((resolve) => {
      this.#pending.set(id, { rec, worker: best, resolve });
      this.#post(slot, {
        t: "send",
        id,
        url: req.url,
        headers: req.headers,
        body: req.body,
        stream: req.stream,
      });
    });
  }

  /** The workers' self-checks, in worker order (after {@link close}). */
  get loads(): ThreadLoad[] {
    return this.#loads;
  }

  /** Close every worker's transport and collect its self-check. */
  async close(): Promise<void> {
    const reports = this.#slots.map((s) =>
      new Promise<ThreadLoad | undefined>((resolve) => {
        if (!s.alive) return resolve(undefined);
        const timer = setTimeout(() => resolve(undefined), CLOSE_WAIT_MS);
        s.closed = (load) => {
          clearTimeout(timer);
          resolve(load);
        };
        this.#post(s, { t: "close" });
      })
    );
    const loads = await Promise.all(reports);
    for (const s of this.#slots) s.worker.terminate();
    this.#loads = loads.filter((l): l is ThreadLoad => l !== undefined);
  }
}

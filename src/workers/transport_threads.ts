/**
 * The threads that send a run's requests, set up from the config: which transport, on how many
 * worker threads, trusting which CA, where each request's record is finished (next to the socket,
 * by the worker's own copy of the API plugin, whenever the plugin can be loaded there), and the
 * self-check that watches them all. A run sends through {@link TransportThreads.send}, receives
 * each finished record once through `onRecord`, and gets what the threads measured about
 * themselves from {@link TransportThreads.close}.
 *
 * @module
 */
import { readTextFileLimited } from "../util/text_file.ts";
import type { UrlStrategy } from "../config.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { finishAndHand, type Finishing, markUnfinished } from "../records/finish_request.ts";
import type { FinishedRequest } from "../records/finished.ts";
import { newRecord, type RequestRecord } from "../records/record.ts";
import type { RowChannel } from "../store/result_db.ts";
import {
  chooseTransport,
  createTransport,
  type TransportChoice,
  type TransportKind,
  type TransportSpec,
} from "../transport/create.ts";
import { epollAvailable } from "../transport/epoll.ts";
import type { Transport, TransportTimeouts } from "../transport/types.ts";
import { LagHistogram, type LagSummary } from "../util/lag_histogram.ts";
import { LoopMonitor, type ThreadLoad } from "./loop_monitor.ts";
import {
  afterEnd,
  type FinishSpec,
  type Outgoing,
  type SendTarget,
  type Span,
  spanOf,
  targetEndpoints,
} from "./messages.ts";
import { EndpointPicker } from "./endpoint_picker.ts";
import { runConversation } from "./conversation.ts";
import { WorkerPool } from "./pool.ts";
import { SlicedQueue } from "./sliced_queue.ts";

/** The transport settings of a run. */
export interface TransportOptions {
  /** The endpoint (decides `auto`). */
  url: string;
  /** `--transport`. */
  transport: TransportChoice;
  /** `--ca-cert`: a PEM file of extra trusted certificates. */
  caCert?: string;
}

/** How many threads send. */
export interface ThreadOptions {
  /** `--workers`; unset: one per core, at most {@link ThreadOptions.inFlight}. */
  workers?: number;
  /** The most requests the run can have in flight. */
  inFlight: number;
  /** `--multi-turn`: conversations need the API plugin where they run (its reply text). */
  multiTurn?: boolean;
}

/** Where a run's requests go, and where their records are finished and go. */
export interface SendingSetup {
  /** The URL (or URLs) and headers of every request. */
  target: SendTarget;
  /** With several endpoints: how requests are spread over them (default round-robin). */
  urlStrategy?: UrlStrategy;
  /**
   * Finishing on the main thread (its plugin instance, counter and result DB): for `--workers 0`,
   * for a plugin the workers cannot load, and for requests lost with a worker.
   */
  local: Finishing;
  /**
   * The API plugin's specifier (built-in name, file path or URL) and the run's parameters, when
   * the workers can load it themselves; absent: records are finished on the main thread.
   */
  plugin?: FinishSpec["api"];
  /** Receives every finished record, once. */
  onRecord: (f: FinishedRequest) => void;
  /** A port for a worker's result-DB rows (the result DB's `connect`). */
  rows?: () => RowChannel;
  /** A port for a worker to the counting worker (the counter's `connect`). */
  count?: () => MessagePort;
}

/** What the sending threads measured about themselves (judged by `clientCheck`). */
export interface SendingReport {
  /** The transport used. */
  transport: TransportKind;
  /** Transport workers (0: the main thread sent). */
  workers: number;
  /** Each thread's measurements: the main thread first, then the workers. */
  threads: ThreadLoad[];
  /**
   * `--rate` runs: how late requests were sent after they could be: due, and (under
   * `--parallel`) a slot free.
   */
  dispatchLag?: LagSummary;
  /** Closed loop: how late each slot was refilled after its previous request ended. */
  refillLag?: LagSummary;
}

/** The started sending threads. */
export interface TransportThreads {
  /**
   * Send one request; resolves when it has ended (its slot is free) with when it was sent and
   * ended. Its record goes to `onRecord`. Aborting `signal` cancels every request in flight.
   */
  send(req: Outgoing, signal?: AbortSignal): Promise<Span>;
  /**
   * Present when the requests go to one endpoint: send `req` the moment `previous` (a promise
   * {@link send} or this returned) ends, on the worker that has `previous`, there, without a round
   * trip through this thread (with `--workers 0`, here, before `previous`'s record is finished);
   * its refill lag counts from that end.
   * Resolves `undefined`, with nothing sent, when dispatch stopped first (`signal` aborted, or
   * `notAfterMs`, `performance.now()` here, passed by the time `previous` ended) or `previous`
   * was not sent. A `previous` of none of these is waited for here.
   */
  sendAfter?(
    req: Outgoing,
    previous: Promise<Span | void>,
    notAfterMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<Span | void>;
  /**
   * More credentials (a request's own headers, found after the DB opened) to keep out of the
   * rows that the sending threads write, from the next request sent on: they reach the DB writer
   * on each worker's own row port, ahead of those rows.
   */
  addSecrets(secrets: readonly string[]): void;
  /** The transport used. */
  kind: TransportKind;
  /** Transport workers (0: the main thread sends). */
  workers: number;
  /**
   * Close the transport and workers, once every record is in (later calls answer the same); what
   * the threads measured.
   */
  close(): Promise<SendingReport>;
  /** See {@link TransportThreads.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Cores available to this process (honours `taskset`). */
export function availableCores(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * `--workers` when unset: one per core, never more than the requests that can be in flight; none
 * (the main thread sends) when the process may use one core and every read is stamped by the
 * kernel ({@link kernelStamped}). A worker there shares the main thread's core: it isolates the
 * reads from the main thread's work only in how they are timed, which the kernel's stamps already
 * do, and it costs 8–30% more CPU per request and ~12% more memory (docs/performance.md, v12).
 *
 * @example
 * ```ts
 * import { defaultWorkers } from "./transport_threads.ts";
 * defaultWorkers(1024, 8); // 8
 * defaultWorkers(4, 8); // 4
 * defaultWorkers(1024, 1, true); // 0: one core, kernel stamps
 * defaultWorkers(1024, 1, false); // 1
 * ```
 */
export function defaultWorkers(
  inFlight: number,
  cores = availableCores(),
  kernelStamps = false,
): number {
  if (cores === 1 && kernelStamps) return 0;
  return Math.max(1, Math.min(cores, inFlight));
}

/**
 * Whether the socket transport will read every endpoint of `target` through epoll, each read
 * stamped with the kernel's receive time (`src/transport/epoll.ts`): plain http, on a process that
 * may use FFI on Linux.
 */
export function kernelStamped(spec: TransportSpec, target: SendTarget): boolean {
  return spec.kind === "socket" &&
    targetEndpoints(target).every((e) => e.url.startsWith("http://")) && epollAvailable();
}

/**
 * How many transport workers a run's threads will start ({@link startTransportThreads}): `--workers`
 * or {@link defaultWorkers}, at most one per request that can be in flight. 0: the main thread
 * sends (the result DB's writer may then share it: `ResultDbOptions.onThisThread`).
 */
export function plannedWorkers(
  spec: TransportSpec,
  o: Pick<ThreadOptions, "workers" | "inFlight">,
  target: SendTarget,
): number {
  const cores = availableCores();
  return Math.min(
    o.workers ?? defaultWorkers(o.inFlight, cores, cores === 1 && kernelStamped(spec, target)),
    Math.max(1, o.inFlight),
  );
}

/** The PEM text of a `--ca-cert` file, as `caCerts` take it; a {@link UsageError} when unusable. */
export async function readCa(path: string): Promise<string[]> {
  let pem: string;
  try {
    pem = await readTextFileLimited(path);
  } catch (e) {
    throw new UsageError(`--ca-cert '${path}': cannot read the file (${(e as Error).message})`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--ca-cert '${path}': no PEM certificate in the file`);
  }
  return [pem];
}

/**
 * Resolve the transport settings into a spec (`auto` decided, the CA file read). Throws
 * {@link UsageError} for an unreadable CA file.
 */
export async function transportSpec(
  o: TransportOptions,
  timeouts: TransportTimeouts,
  log: Logger,
): Promise<TransportSpec> {
  const { kind, note, proxy } = chooseTransport(o.transport, o.url);
  if (note) log(note);
  const spec: TransportSpec = { kind, timeouts };
  if (kind === "fetch" && proxy !== undefined) spec.proxy = proxy;
  if (o.caCert !== undefined) spec.caCerts = await readCa(o.caCert);
  return spec;
}

/**
 * Start the sending threads of a run: the transport (in workers, or here) and the self-check.
 * Workers that cannot start (a runtime without them, a missing permission, a plugin that fails
 * to load there) leave the sending to the main thread, said once in the log.
 */
export async function startTransportThreads(
  spec: TransportSpec,
  o: ThreadOptions,
  setup: SendingSetup,
  log: Logger = () => {},
): Promise<TransportThreads> {
  const kind = spec.kind;
  const dispatch = new LagHistogram();
  const refill = new LagHistogram();
  const onRecord = (f: FinishedRequest) => {
    const r = f.record;
    if (r.warmup) return; // `--warmup-num`: in no statistic
    if (r.refillLateMs !== undefined) refill.record(r.refillLateMs);
    setup.onRecord(f);
  };
  let workers = plannedWorkers(spec, o, setup.target);
  if (o.workers === undefined && workers === 0) {
    log("one core and kernel-stamped reads: sending from the main thread");
  }
  let sender: WorkerPool | MainSender | undefined;
  if (workers > 0 && o.multiTurn && setup.plugin === undefined) {
    log(
      "--multi-turn: the API plugin cannot be loaded in the transport workers: " +
        "conversations run on the main thread",
    );
    workers = 0;
  }
  if (workers > 0) {
    try {
      sender = await WorkerPool.start(workers, spec, {
        target: setup.target,
        finish: { api: setup.plugin, needs: setup.local.needs },
        onRecord,
        local: setup.local,
        rows: setup.rows,
        count: setup.count,
      });
    } catch (e) {
      log(`transport workers could not start (${errorMessage(e)}): sending from the main thread`);
      workers = 0;
    }
  }
  sender ??= new MainSender(createTransport(spec), setup.target, setup.local, onRecord);
  const s = sender;
  const main = new LoopMonitor("main");
  main.start();
  let closed: Promise<SendingReport> | undefined;
  const close = async (): Promise<SendingReport> => {
    await s.close();
    const report: SendingReport = {
      transport: kind,
      workers,
      threads: [main.stop(), ...(s instanceof WorkerPool ? s.loads : [])],
    };
    const d = dispatch.summary();
    if (d.count > 0) report.dispatchLag = d;
    const r = refill.summary();
    if (r.count > 0) report.refillLag = r;
    return report;
  };
  const count = setup.target.urls?.length ?? 1;
  // `--rate`: how late each request went out after it could (due, and a slot free): the span's
  // start is epoch time of the measuring thread, `readyMs` this thread's clock.
  const timedSend = (req: Outgoing, signal?: AbortSignal): Promise<Span> => {
    const ready = req.readyMs ?? req.scheduledMs;
    const sent = s.send(req, signal);
    if (ready === undefined || req.warmup) return sent; // nothing to time: no extra step
    return sent.then((span) => {
      if (!span.lost) dispatch.record(span.startEpochMs - (performance.timeOrigin + ready));
      return span;
    });
  };
  let send = timedSend;
  if (count > 1) {
    // Decided here, on the main thread, which sees every endpoint's requests in flight.
    const picker = new EndpointPicker(count, setup.urlStrategy);
    send = async (req, signal) => {
      const endpoint = picker.pick();
      req.endpoint = endpoint;
      try {
        return await timedSend(req, signal);
      } finally {
        picker.done(endpoint);
      }
    };
  }
  // The slot's next request queued behind its predecessor, in its worker (`WorkerPool.sendAfter`)
  // or here (`MainSender.sendAfter`): with one endpoint only, since the endpoint picker must see a
  // request when it is sent.
  const sendAfter = count === 1
    ? (req: Outgoing, previous: Promise<Span | void>, notAfter?: number, signal?: AbortSignal) =>
      s.sendAfter(req, previous, notAfter, signal)
    : undefined;
  return {
    send,
    sendAfter,
    // The main thread's own rows go to the writer on its channel, where `ResultDb.addSecrets`
    // puts them in order: only the workers need telling.
    addSecrets: (secrets) => {
      if (s instanceof WorkerPool) s.addSecrets(secrets);
    },
    kind,
    workers,
    close: () => closed ??= close(),
    async [Symbol.asyncDispose]() {
      await (closed ??= close());
    },
  };
}

/** `--workers 0`: the main thread sends, and finishes each record itself. */
class MainSender {
  #transport: Transport;
  #target: SendTarget;
  #endpoints: { url: string; name: string }[];
  #local: Finishing;
  #onRecord: (f: FinishedRequest) => void;
  #counting = new Set<Promise<void>>();
  /** A closed loop's records, finished after the slot's next request went (as a worker does). */
  #deferred = new SlicedQueue<{ rec: RequestRecord; body: string; at: number }>(
    ({ rec, body }) => this.#finishLater(rec, body),
  );
  #failed: unknown;

  constructor(
    transport: Transport,
    target: SendTarget,
    local: Finishing,
    onRecord: (f: FinishedRequest) => void,
  ) {
    this.#transport = transport;
    this.#target = target;
    this.#endpoints = targetEndpoints(target);
    this.#local = local;
    this.#onRecord = onRecord;
  }

  async #measure(
    index: number,
    body: string,
    req: Outgoing,
    previousEnd: number | undefined,
    signal?: AbortSignal,
  ) {
    const rec = newRecord(index, req.stream);
    rec.scheduledMs = req.scheduledMs;
    const endpoint = this.#endpoints[req.endpoint ?? 0];
    rec.endpoint = endpoint.name;
    if (req.warmup) rec.warmup = true;
    if (req.requestId !== undefined) rec.requestId = req.requestId;
    try {
      await this.#transport.send(
        {
          url: endpoint.url,
          headers: req.headers ?? this.#target.headers,
          body,
          stream: req.stream,
        },
        rec,
        signal,
      );
    } catch (err) {
      // Transports record failures rather than throw; a throw is a bug, still never a lost record.
      rec.endMs = performance.now();
      rec.success = false;
      rec.failure = { kind: "network", message: errorMessage(err) };
    }
    if (previousEnd !== undefined) {
      rec.refillLateMs = Math.max(0, rec.timeOriginMs + rec.startMs - previousEnd);
    }
    return rec;
  }

  async send(req: Outgoing, signal?: AbortSignal): Promise<Span> {
    if (req.conversation !== undefined) {
      return await runConversation(
        req.conversation,
        (index, body, first) =>
          this.#measure(index, body, req, first ? req.previousEndEpochMs : undefined, signal),
        this.#local,
        this.#onRecord,
        signal ?? new AbortController().signal,
      );
    }
    const rec = await this.#measure(req.index, req.body, req, req.previousEndEpochMs, signal);
    // A closed loop's next request goes first (`sendAfter` waits for this span); its record can
    // wait for the other reads.
    if (req.chained) this.#deferred.push({ rec, body: req.body, at: performance.now() });
    else this.#finish(rec, req.body);
    return spanOf(rec);
  }

  /** A deferred record: one that cannot be finished is recorded failed, as a worker does. */
  #finishLater(rec: RequestRecord, body: string): void {
    try {
      this.#finish(rec, body);
    } catch (err) {
      markUnfinished(rec, err);
      try {
        this.#finish(rec, body);
      } catch (again) {
        this.#failed ??= again; // a bug past that too: the run fails at close
      }
    }
  }

  #finish(rec: RequestRecord, body: string): void {
    const p = finishAndHand(this.#local, rec, body, this.#onRecord);
    if (p !== undefined) {
      this.#counting.add(p);
      p.finally(() => this.#counting.delete(p));
    }
  }

  /**
   * A closed loop's next request of a slot, sent here the moment `previous` ends (the job was
   * pulled from the dataset while `previous` was in flight); `undefined`, nothing sent, when
   * dispatch stopped first or `previous` was not sent.
   */
  sendAfter(
    req: Outgoing,
    previous: Promise<Span | void>,
    notAfterMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<Span | void> {
    return afterEnd(previous, notAfterMs, signal, (end) => {
      req.previousEndEpochMs = end;
      return this.send(req, signal);
    });
  }

  async close(): Promise<void> {
    this.#deferred.drain();
    try {
      await Promise.all(this.#counting);
    } finally {
      await this.#transport.close();
    }
    if (this.#failed !== undefined) throw this.#failed;
  }
}

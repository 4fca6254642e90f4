/**
 * The threads that send a run's requests, set up from the config: which transport, on how many
 * worker threads, trusting which CA, and the self-check that watches them all. A run sends
 * through {@link TransportThreads.transport} and gets the {@link ClientCheck} from
 * {@link TransportThreads.close}.
 *
 * @module
 */
import { readTextFileLimited } from "../util/text_file.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  chooseTransport,
  createTransport,
  type TransportChoice,
  type TransportKind,
  type TransportSpec,
} from "../transport/create.ts";
import type { Transport, TransportTimeouts } from "../transport/types.ts";
import { type ClientCheck, clientCheck } from "./self_check.ts";
import { LagHistogram } from "./lag_histogram.ts";
import { LoopMonitor } from "./loop_monitor.ts";
import { WorkerPool } from "./pool.ts";

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
}

/** The started sending threads. */
export interface TransportThreads {
  /** Sends requests (in a worker, when there are workers). */
  transport: Transport;
  /** The transport used. */
  kind: TransportKind;
  /** Transport workers (0: the main thread sends). */
  workers: number;
  /** Close the transport and workers (once: later calls answer the same); the self-check. */
  close(): Promise<ClientCheck>;
  /** See {@link TransportThreads.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Cores available to this process (honours `taskset`). */
export function availableCores(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** `--workers` when unset: one per core, never more than the requests that can be in flight. */
export function defaultWorkers(inFlight: number, cores = availableCores()): number {
  return Math.max(1, Math.min(cores, inFlight));
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
 * Start the sending threads of a run: the transport (in workers, or here) and the self-check. Workers that
 * cannot start (a runtime without them, a missing permission) leave the sending to the main
 * thread, said once in the log.
 */
export async function startTransportThreads(
  spec: TransportSpec,
  o: ThreadOptions,
  log: Logger = () => {},
): Promise<TransportThreads> {
  const kind = spec.kind;
  let workers = Math.min(o.workers ?? defaultWorkers(o.inFlight), Math.max(1, o.inFlight));
  let pool: WorkerPool | undefined;
  if (workers > 0) {
    try {
      pool = await WorkerPool.start(workers, spec);
    } catch (e) {
      log(`transport workers could not start (${errorMessage(e)}): sending from the main thread`);
      workers = 0;
    }
  }
  const inner: Transport = pool ?? createTransport(spec);
  const main = new LoopMonitor("main");
  main.start();
  const dispatch = new LagHistogram();
  let closed: Promise<ClientCheck> | undefined;
  const close = async () => {
    await inner.close();
    const threads = [main.stop(), ...(pool?.loads ?? [])];
    return clientCheck(kind, workers, threads, dispatch.summary());
  };
  return {
    transport: {
      async send(req, rec, signal) {
        await inner.send(req, rec, signal);
        // Both times are in the measuring thread's clock (the pool moves `scheduledMs` there).
        if (rec.scheduledMs !== undefined) dispatch.record(rec.startMs - rec.scheduledMs);
      },
      close: () => inner.close(),
    },
    kind,
    workers,
    close: () => closed ??= close(),
    async [Symbol.asyncDispose]() {
      await (closed ??= close());
    },
  };
}

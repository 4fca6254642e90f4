/**
 * The second stage of a run, `open`: what the load writes into and sends through. The run folder
 * and `benchmark_args.json`, the result DB, the sinks (metrics, goodput, progress, the HTML
 * report's data, W&B, `--debug`, the caller's), the tokenizer's counting worker, the result
 * pipeline, and the sending threads. Each is disposable, and they are taken down in the reverse
 * of the order they were opened, once, however the run ends:
 *
 * ```
 * open:     run folder → result DB → telemetry → outputs → token counter → pipeline → sending
 *           threads
 * teardown: sending threads (every record finished; the DB's run row gets how the run ended) →
 *           pipeline (every record through every sink, the sinks closed) → token counter →
 *           outputs → telemetry (its own connection to the DB) → result DB (every row in)
 * ```
 *
 * The result DB is not a sink of the pipeline: rows are written by the threads that finish the
 * requests (each transport worker through its own port), so the main thread never handles a
 * payload. The sinks say what else they need on each record (`SinkNeeds`: the payloads and body
 * for `--debug` or a caller's sink); nothing else leaves the sending threads.
 *
 * The telemetry service (the server's `/metrics`, this host's GPUs) starts before the load and
 * takes its last reading in `finish`, after it. `--max-error-rate` is a sink that stops sending
 * through the same stop signal as a result DB that cannot be written.
 *
 * @module
 */
import { toSnakeCase } from "../config.ts";
import { shardCount } from "../config/shard.ts";
import { MetricsCollector } from "../metrics/collector.ts";
import type { Logger } from "../log.ts";
import { RunError } from "../errors.ts";
import { type FinishedRequest, type ResultSink, sinkNeeds } from "../records/finished.ts";
import { ResultPipeline } from "../records/pipeline.ts";
import { loadableByName } from "../plugins/loader.ts";
import { fetchedSource } from "../plugins/plugin_sources.ts";
import { endpointName, type Redactor } from "../redact.ts";
import { EndpointBreakdown } from "../metrics/endpoint_breakdown.ts";
import { debugSink } from "../report/debug.ts";
import { createRunDir, defaultRunName, safeName, writeJson } from "../report/files.ts";
import { RunOutputs } from "../report/run_outputs.ts";
import {
  checkReusedFolder2026,
  folders2026,
  OWN_DB_FILE_2026,
  pointName2026,
} from "../report/evalscope2026/outputs.ts";
import { isSpeedBenchmark, SpeedBenchmarkSink } from "../report/speed_benchmark.ts";
import { GoodputCounter } from "../slo/evaluate.ts";
import { ErrorRateGuard } from "../slo/error_rate.ts";
import { requestHeaders } from "../load/requests.ts";
import { defaultMetricsUrl, Telemetry } from "../telemetry/telemetry.ts";
import { ResultDb } from "../store/result_db.ts";
import { DB_FILE, runRow } from "../store/run_meta.ts";
import { WorkerCounter } from "../tokenizer/token_counters.ts";
import type { LoadStats } from "../load/runner.ts";
import { type ClientCheck, clientCheck } from "../workers/self_check.ts";
import {
  availableCores,
  plannedWorkers,
  startTransportThreads,
  type TransportThreads,
} from "../workers/transport_threads.ts";
import type { RunOptions } from "./options.ts";
import { type PreparedRun, usesChatTemplate } from "./prepare.ts";

/** An open run. Disposing it takes everything down, in the order the module doc gives. */
export interface OpenRun extends AsyncDisposable {
  /** The run's name. */
  readonly name: string;
  /** The run folder. */
  readonly outputDir: string;
  /**
   * `--compat 2026`, a run on its own: the folder above the run folder, which gets
   * `performance_summary.txt` (a sweep writes its own).
   */
  readonly compatTop?: string;
  /** The settings as written to `benchmark_args.json` (secrets redacted). */
  readonly settings: Record<string, unknown>;
  /** The result DB, unless turned off. */
  readonly db?: ResultDb;
  /** The run's tables, from every finished request. */
  readonly collector: MetricsCollector;
  /** Requests that met every per-request `--slo` condition (with `--slo`). */
  readonly goodput?: GoodputCounter;
  /** The `speed_benchmark` dataset's table (that dataset only). */
  readonly speed?: SpeedBenchmarkSink;
  /** The numbers per endpoint (several `--url` only). */
  readonly endpoints?: EndpointBreakdown;
  /** Progress, `report.html` and W&B. */
  readonly outputs: RunOutputs;
  /** Finished records to the sinks, in batches. */
  readonly pipeline: ResultPipeline;
  /** The threads that send. */
  readonly threads: TransportThreads;
  /**
   * Aborted when the caller aborts, when the result DB cannot be written, or when
   * `--max-error-rate` is exceeded: sending stops.
   */
  readonly signal: AbortSignal;
  /** The telemetry thread (server `/metrics`, GPUs), when anything is read. */
  readonly telemetry?: Telemetry;
  /** Why the run stopped sending early (`--max-error-rate`), once it did. */
  stoppedEarly(): string | undefined;
  /**
   * Close the sending threads (once: later calls answer the same) and give the result DB's run
   * row how the run ended; resolves to the client's self-check, which judges `load` (what the
   * load kept up) too when it is given.
   */
  closeSending(load?: LoadStats): Promise<ClientCheck>;
}

/**
 * `--compat 2026 --no-timestamp`: the run folder `path`, made with its parents or used as it is,
 * unless it holds a run's result DB (a {@link UsageError}, as evalscope refuses it).
 */
async function reuseRunDir(path: string): Promise<string> {
  await checkReusedFolder2026(path);
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (e) {
    throw new RunError(`cannot create the run folder '${path}' (${(e as Error).message})`);
  }
  return path;
}

/** Redact the failure text of finished requests, in place. */
function redactFailures(batch: FinishedRequest[], redactor: Redactor): void {
  for (const { record, metrics } of batch) {
    const f = record.failure;
    if (!f) continue;
    f.message = redactor.text(f.message);
    if (f.body !== undefined) f.body = redactor.text(f.body);
    if (metrics.failure) metrics.failure.message = f.message;
  }
}

/** The concurrency a load kept up, as the self-check judges it. */
function concurrencyOf(load: LoadStats) {
  return load.meanInFlight === null ? undefined : {
    target: load.slots,
    achieved: load.meanInFlight,
    closedLoop: load.closedLoop,
  };
}

/**
 * Open a prepared run. What was opened before a failure is taken down again before the error
 * propagates.
 */
export async function openRun(prep: PreparedRun, options: RunOptions): Promise<OpenRun> {
  const { cfg, log, redactor, source } = prep;
  const name = cfg.name ?? defaultRunName(cfg.model, new Date(), cfg.shard, !cfg.noTimestamp);
  // `--compat 2026` on its own (not a sweep point or a repeat, whose folders are made above it):
  // `<outputs>/<YYYYmmdd_HHMMSS>/<name>/parallel_P_number_N/`.
  // With --no-timestamp the run folder is reused, unless it holds a run's DB (checked in
  // prepare, before the endpoint check; again here for a sweep's point).
  const own = cfg.compat === "2026" && options.group === undefined
    ? folders2026(cfg, source.expected ?? 0, new Date())
    : undefined;
  const compatTop = own?.top;
  const outputDir = cfg.compat === "2026" && cfg.noTimestamp
    ? await reuseRunDir(own?.run ?? `${cfg.outputsDir.replace(/\/+$/, "")}/${safeName(name)}`)
    : own === undefined
    ? await createRunDir(cfg.outputsDir, name)
    : await createRunDir(own.top, pointName2026(cfg, source.expected ?? 0));
  log(`saving results to ${outputDir}`);
  const settings = toSnakeCase(redactor.value({ ...cfg, name }));
  // evalscope 2026 forces an open loop's `parallel` to -1 (unbounded) in what it writes.
  const args = cfg.compat === "2026" && cfg.openLoop ? { ...settings, parallel: -1 } : settings;
  await writeJson(`${outputDir}/benchmark_args.json`, args);
  await using stack = new AsyncDisposableStack();
  // Sending stops when the caller aborts, or when the result DB cannot be written (a full disk):
  // the run then ends early, with every request that finished in its tables.
  const stop = new AbortController();
  const signal = prep.signal ? AbortSignal.any([prep.signal, stop.signal]) : stop.signal;
  let say: Logger = log;
  // With `--compat 2026` evalscope's name holds its 2026 layout, written from ours at the end.
  const dbFile = cfg.compat === "2026" ? OWN_DB_FILE_2026 : DB_FILE;
  const { url, headers } = prep.first.prepared;
  const urls = source.urls;
  const target = { url, headers, ...(urls.length > 1 ? { urls } : {}) };
  const threadOptions = {
    workers: cfg.workers,
    // --open-loop has no cap: as many may be in flight as are sent.
    inFlight: cfg.openLoop
      ? source.expected ?? shardCount(cfg.parallel, cfg.shard)
      : Math.min(shardCount(cfg.parallel, cfg.shard), source.expected ?? Infinity),
    multiTurn: cfg.multiTurn,
  };
  const db = options.resultDb === false ? undefined : stack.use(
    await ResultDb.open(`${outputDir}/${dbFile}`, runRow(name, settings, cfg.shard), {
      secrets: redactor.secrets,
      commitEvery: cfg.dbCommitInterval,
      // One core, sending from the main thread: the writer shares it rather than a thread of
      // its own on the same core (docs/performance.md, v13).
      onThisThread: availableCores() === 1 &&
        plannedWorkers(prep.spec, threadOptions, target) === 0,
      onFailure: (why) => {
        say(`error: ${why}; stopping: no more requests are sent`);
        stop.abort();
      },
      onWarning: (why) => say(`warning: ${why}`),
    }),
  );
  const telemetry = await openTelemetry(prep, db);
  if (telemetry) stack.use(telemetry);
  const outputs = stack.use(
    new RunOutputs({
      ...options,
      cfg,
      name,
      outputDir,
      settings,
      expected: source.expected,
      log,
      defaultLogger: prep.defaultLogger,
    }),
  );
  say = outputs.log;
  const collector = new MetricsCollector();
  const goodput = prep.goals ? new GoodputCounter(prep.goals) : undefined;
  const speed = isSpeedBenchmark(cfg.dataset) ? new SpeedBenchmarkSink() : undefined;
  const endpoints = cfg.urls && cfg.urls.length > 1
    ? new EndpointBreakdown(cfg.urls.map(endpointName))
    : undefined;
  const guard = cfg.maxErrorRate === undefined
    ? undefined
    : new ErrorRateGuard(cfg.maxErrorRate, (why) => {
      say(`stopping: ${why}; no more requests are sent`);
      stop.abort();
    });
  const sinks: ResultSink[] = [
    // First: failure messages and bodies (a server may echo a header or the key) are redacted
    // before any sink sees them; bodies and payloads are redacted where they are written.
    { write: (batch: FinishedRequest[]) => redactFailures(batch, redactor) },
    { write: (batch: FinishedRequest[]) => batch.forEach((f) => collector.add(f.metrics)) },
    ...(goodput ? [goodput] : []),
    ...(guard ? [guard] : []),
    ...outputs.sinks,
    ...(speed ? [speed] : []),
    ...(endpoints
      ? [{
        write: (b: FinishedRequest[]) =>
          b.forEach((f) => endpoints.add(f.record.endpoint, f.metrics)),
      }]
      : []),
    ...(cfg.debug ? [debugSink(outputs.log, (t) => redactor.text(t))] : []),
    ...(options.sinks ?? []),
  ];
  const counter = prep.tokenizer &&
    stack.use(await WorkerCounter.start(prep.tokenizer.dir, usesChatTemplate(cfg)));
  const pipeline = stack.use(new ResultPipeline(sinks));
  const needs = sinkNeeds(sinks);
  const threads = await startTransportThreads(prep.spec, threadOptions, {
    target,
    urlStrategy: cfg.urlStrategy,
    local: { api: prep.api, tokens: counter, rows: db, needs },
    // The workers load the API plugin themselves when its name or path says which it is; the
    // tokenizer stays out of their parameters (counting has its own worker).
    plugin: loadableByName(cfg.api)
      ? { spec: cfg.api, params: cfg, source: fetchedSource(cfg.api) }
      : undefined,
    onRecord: (f) => pipeline.push(f),
    rows: db && (() => db.connect()),
    count: counter && (() => counter.connect()),
  }, log);
  if (db) {
    // A request's own credential headers found from now on (the source is read only once the
    // load starts) are kept out of the DB's rows too: on the writer's own channel for the rows
    // this thread writes, and on each worker's row port ahead of the rows of the requests it is
    // sent from now on (ports keep no order between them).
    const onSecrets = source.onSecrets;
    source.onSecrets = (values) => {
      onSecrets?.(values);
      db.addSecrets(values);
      threads.addSecrets(values);
    };
  }
  let closed: Promise<ClientCheck> | undefined;
  const closeSending = (load?: LoadStats) =>
    closed ??= threads.close().then((report) => {
      const check = clientCheck(report, load && concurrencyOf(load));
      // The run row keeps the client's self-check (event-loop lag, CPU, saturation).
      db?.setEnd({
        endedAt: Date.now() / 1000,
        interrupted: prep.signal?.aborted ?? false,
        client: check,
      });
      return check;
    });
  stack.defer(async () => {
    await closeSending();
  });
  const teardown = stack.move();
  return {
    name,
    outputDir,
    compatTop,
    settings,
    db,
    collector,
    goodput,
    speed,
    endpoints,
    outputs,
    pipeline,
    threads,
    signal,
    telemetry,
    stoppedEarly: () => guard?.reason,
    closeSending,
    [Symbol.asyncDispose]: () => teardown.disposeAsync(),
  };
}

/**
 * Start the telemetry service: the server's `/metrics` (`--server-metrics`, default the URL's
 * origin + `/metrics`; the run's headers go with it only to the benchmark's own origin) and this
 * host's GPUs, unless turned off; on the result DB's writer thread when there is a DB, else on a
 * thread of its own. Undefined when nothing is read.
 */
async function openTelemetry(prep: PreparedRun, db?: ResultDb): Promise<Telemetry | undefined> {
  const { cfg } = prep;
  let server;
  if (!cfg.noServerMetrics) {
    const url = cfg.serverMetrics ?? defaultMetricsUrl(cfg.url);
    const same = new URL(url).origin === new URL(cfg.url).origin;
    const headers = same ? requestHeaders(cfg, prep.api) : {};
    delete headers["content-type"];
    server = { url, headers, extra: cfg.serverMetricsNames ?? [] };
  }
  // With a result DB the service runs on its writer's thread: no thread of its own.
  return await Telemetry.start({
    server,
    gpu: !cfg.noGpuTelemetry,
    dbPath: db?.path,
    host: db && (() => db.hostTelemetry()),
  }, prep.log);
}

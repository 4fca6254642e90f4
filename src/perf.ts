/**
 * One benchmark run, end to end: resolve the config, load plugins, open the run folder, send the
 * requests under the load plan, turn records into results, write the JSON files. The CLI's
 * `perf` command is a thin layer over {@link runPerfBenchmark}.
 *
 * @module
 */
import { type PerfConfig, type PerfConfigInput, resolveConfig, toSnakeCase } from "./config.ts";
import { Interrupted, UsageError } from "./errors.ts";
import { type Logger, stderrLogger } from "./log.ts";
import { type Job, type PromptSource, requestHeaders, RequestSource } from "./load/requests.ts";
import { runLoad } from "./load/runner.ts";
import { applyTemplateStream, bodyBuilder, loadQueryTemplate } from "./load/template.ts";
import { givenKeys } from "./config.ts";
import { isSpeedBenchmark, SpeedBenchmarkSink, type SpeedRow } from "./report/speed_benchmark.ts";
import { MetricsCollector, type PercentileRow, type Summary } from "./metrics/collector.ts";
import { loadApiPlugin, loadDatasetPlugin } from "./plugins/loader.ts";
import type { Message, PluginParams } from "./plugins/types.ts";
import { newRecord } from "./records/record.ts";
import { WorkerCounter } from "./tokenizer/token_counters.ts";
import { loadTokenizer } from "./tokenizer/load.ts";
import { ResultPipeline } from "./records/pipeline.ts";
import type { FinishedRequest, ResultSink } from "./records/finished.ts";
import { envUrlSecrets, redactError, Redactor, runSecrets } from "./redact.ts";
import { createRunDir, defaultRunName, writeEach, writeJson } from "./report/files.ts";
import { countWarning } from "./report/count_warning.ts";
import { type OutputOptions, RunOutputs } from "./report/run_outputs.ts";
import type { SloReport } from "./slo/evaluate.ts";
import { debugSink } from "./report/debug.ts";
import { ResultDb } from "./store/result_db.ts";
import { DB_FILE, runRow } from "./store/run_meta.ts";
import { createTransport } from "./transport/create.ts";
import type { ClientCheck } from "./workers/self_check.ts";
import { startTransportThreads, transportSpec } from "./workers/transport_threads.ts";
import type { PreparedRequest, Transport, TransportTimeouts } from "./transport/types.ts";
import { checkEndpoint } from "./load/preflight.ts";
import { readTextFileLimited } from "./util/text_file.ts";
import { abortable } from "./util/abortable.ts";

/** Options of a run that are not benchmark settings. */
export interface RunOptions extends OutputOptions {
  /**
   * Aborting stops sending and cancels requests in flight (they are recorded as cancelled); the
   * run still returns its results. Aborted before sending began (loading the dataset, the
   * start-up check), the run rejects at once with {@link Interrupted}.
   */
  signal?: AbortSignal;
  /** Receives log lines (default: timestamped lines on stderr). */
  log?: Logger;
  /** Extra sinks that receive every finished request, in batches. */
  sinks?: ResultSink[];
  /** Write the SQLite result DB (default true). */
  resultDb?: boolean;
}

/** What a run returns. */
export interface PerfResult {
  /** The resolved configuration. */
  config: PerfConfig;
  /** The run folder. */
  outputDir: string;
  /** evalscope's summary rows (unrounded), as in `benchmark_summary.json`. */
  summary: Summary;
  /** evalscope's percentile rows (empty when too little data). */
  percentiles: PercentileRow[];
  /** Throughputs and means of the per-request metrics. */
  requestSummary: Summary;
  /** Per-request metric percentiles (TTFT, TPOT, ITL, latency, tokens). */
  requestPercentiles: PercentileRow[];
  /** Failed requests by failure kind. */
  failures: Record<string, number>;
  /** Whether the run was interrupted before it dispatched everything. */
  interrupted: boolean;
  /**
   * Outputs that could not be written, one line each (`the result DB could not be written: disk
   * full (SQLITE_FULL) at ...`). A result DB that fails stops the run early (nothing more is
   * sent); the tables still cover every request that finished. The CLI exits 1 when not empty.
   */
  errors: string[];
  /** The `speed_benchmark` dataset's per-prompt-length speeds (that dataset only). */
  speedBenchmark?: SpeedRow[];
  /** The `--slo` check: each goal's outcome and goodput (only with `slo`). */
  slo?: SloReport;
  /**
   * The client's self-check: transport, workers, each thread's event-loop lag and CPU use, and
   * whether the client could have added more than 1 ms to its timings (`saturated`, `warning`).
   */
  client: ClientCheck;
}

/** Read `--prompt`: the text itself, or a file's content for `@path` (at most 64 MiB). */
export async function loadPrompt(prompt: string): Promise<string> {
  if (!prompt.startsWith("@")) return prompt;
  const path = prompt.slice(1);
  try {
    return await readTextFileLimited(path);
  } catch (e) {
    throw new UsageError(`--prompt '@${path}': cannot read the file (${(e as Error).message})`);
  }
}

async function promptSource(cfg: PluginParams): Promise<PromptSource> {
  if (cfg.prompt !== undefined) {
    return { kind: "prompt", messages: [{ role: "user", content: await loadPrompt(cfg.prompt) }] };
  }
  return { kind: "dataset", name: cfg.dataset, plugin: await loadDatasetPlugin(cfg.dataset, cfg) };
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

/** The first job made small for the start-up check: the same request, one output token. */
function testRequest(job: Job): PreparedRequest {
  const body: Record<string, unknown> = { ...job.body };
  for (const k of ["max_tokens", "max_completion_tokens", "max_new_tokens"]) {
    if (body[k] !== undefined) body[k] = 1;
  }
  const params = body.parameters as Record<string, unknown> | undefined;
  if (params && typeof params === "object" && params.max_tokens !== undefined) {
    body.parameters = { ...params, max_tokens: 1 };
  }
  return { ...job.prepared, body: JSON.stringify(body) };
}

/**
 * Run one benchmark. `input` takes the CLI's flags as keys, camelCase or snake_case
 * (`{ model: "qwen2.5", url: "...", parallel: 4, number: 100, stream: true }`).
 *
 * @example
 * ```ts
 * import { runPerfBenchmark } from "@llmperf/llmperf";
 * const result = await runPerfBenchmark({
 *   url: "http://127.0.0.1:8000/v1/chat/completions",
 *   model: "qwen2.5",
 *   prompt: "Tell me a story",
 *   number: 20,
 *   parallel: 4,
 *   stream: true,
 * });
 * console.log(result.summary["Average time to first token"]);
 * ```
 */
export async function runPerfBenchmark(
  input: PerfConfigInput,
  options: RunOptions = {},
): Promise<PerfResult> {
  // The run's secrets never leave it: not in an error, a log line, a file or a stored response.
  const redactor = new Redactor();
  try {
    return await run(input, options, redactor);
  } catch (e) {
    throw redactError(e, redactor);
  }
}

async function run(
  input: PerfConfigInput,
  options: RunOptions,
  redactor: Redactor,
): Promise<PerfResult> {
  const cfg = resolveConfig(input);
  redactor.add([...runSecrets(cfg), ...envUrlSecrets()]);
  const baseLog = options.log ?? stderrLogger;
  const log: Logger = (line) => baseLog(redactor.text(line));
  const signal = options.signal;
  // Until sending begins, an abort stops the run at once, whatever stage is under way.
  const stage = <T>(what: string, work: Promise<T>) => abortable(work, signal, what);
  // --query-template: read before the plugins, as its `stream` may switch streaming.
  const given = givenKeys(input);
  const template = cfg.queryTemplate === undefined
    ? undefined
    : await stage("reading --query-template", loadQueryTemplate(cfg.queryTemplate));
  applyTemplateStream(cfg, template, given);
  // The tokenizer (--tokenizer-path) measures prompts here and reaches plugins as
  // params.tokenizer; a second copy counts tokens in a worker (below).
  const tokenizer = cfg.tokenizerPath === undefined ? undefined : await stage(
    "loading the tokenizer",
    loadTokenizer(cfg.tokenizerPath, { applyChatTemplate: cfg.applyChatTemplate }),
  );
  const params: PluginParams = tokenizer ? { ...cfg, tokenizer } : cfg;
  const api = await stage("loading the API plugin", loadApiPlugin(cfg.api, params));
  redactor.add(runSecrets({}, requestHeaders(cfg, api))); // a plugin's own credential headers
  const measure = tokenizer && ((m: Message[]) => tokenizer.promptLength(m));
  const prompts = await stage("loading the dataset", promptSource(params));
  const source = new RequestSource(params, api, prompts, log, measure);
  source.bodyBuilder = bodyBuilder(api, { template, extraArgs: cfg.extraArgs, given });
  // Pull the first request now, so dataset errors come before anything is sent.
  const first = await stage("reading the dataset", source.next());
  if (first === undefined) throw new UsageError(`--dataset '${cfg.dataset}': no prompts`);

  const timeouts: TransportTimeouts = {
    connectMs: cfg.connectTimeout * 1000,
    readMs: cfg.readTimeout * 1000,
    totalMs: cfg.totalTimeout !== undefined ? cfg.totalTimeout * 1000 : Infinity,
  };
  const spec = await stage("starting", transportSpec(cfg, timeouts, log));
  const newTransport = (t: TransportTimeouts): Transport =>
    createTransport({ ...spec, timeouts: t });
  if (!cfg.noTestConnection) {
    const limitMs = cfg.connectTimeout * 1000;
    const probe = newTransport({ connectMs: limitMs, readMs: limitMs, totalMs: limitMs });
    try {
      log(`checking the endpoint ${cfg.url} with one small request (skip: --no-test-connection)`);
      await stage(
        "checking the endpoint",
        checkEndpoint(probe, testRequest(first), cfg.connectTimeout, signal),
      );
    } finally {
      await probe.close();
    }
  }
  if (signal?.aborted) throw new Interrupted("starting");

  const name = cfg.name ?? defaultRunName(cfg.model, new Date());
  const outputDir = await createRunDir(cfg.outputsDir, name);
  log(`saving results to ${outputDir}`);
  const args = toSnakeCase(redactor.value({ ...cfg, name }));
  await writeJson(`${outputDir}/benchmark_args.json`, args);
  // Sending stops when the user aborts, or when the result DB cannot be written (a full disk):
  // the run then ends early, with every request that finished in its tables.
  const stop = new AbortController();
  const runSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let say: Logger = log;
  const db = options.resultDb === false
    ? undefined
    : await ResultDb.open(`${outputDir}/${DB_FILE}`, runRow(name, args), {
      secrets: redactor.secrets,
      onFailure: (why) => {
        say(`error: ${why}; stopping: no more requests are sent`);
        stop.abort();
      },
    });

  const collector = new MetricsCollector();
  // Progress, goodput (--slo), report.html's chart data and W&B: sinks, off the hot path.
  const outputs = new RunOutputs({
    ...options,
    cfg,
    name,
    outputDir,
    settings: args,
    expected: source.expected,
    log,
    defaultLogger: options.log === undefined,
  });
  say = outputs.log;
  const speed = isSpeedBenchmark(cfg.dataset) ? new SpeedBenchmarkSink() : undefined;
  const sinks: ResultSink[] = [
    // First: failure messages and bodies (a server may echo a header or the key) are redacted
    // before any sink sees them; bodies and payloads are redacted where they are written.
    { write: (batch: FinishedRequest[]) => redactFailures(batch, redactor) },
    { write: (batch: FinishedRequest[]) => batch.forEach((f) => collector.add(f.metrics)) },
    ...outputs.sinks,
    ...(speed ? [speed] : []),
    ...(db ? [db] : []),
    ...(cfg.debug ? [debugSink(outputs.log, (t) => redactor.text(t))] : []),
    ...(options.sinks ?? []),
  ];
  const counter = tokenizer && await WorkerCounter.start(tokenizer.dir, cfg.applyChatTemplate);
  const pipeline = new ResultPipeline(api, sinks, { tokens: counter });
  const client = await startTransportThreads(spec, {
    workers: cfg.workers,
    inFlight: Math.min(cfg.parallel, source.expected ?? Infinity),
  }, log);
  const transport = client.transport;
  let pending: Job | undefined = first;
  const next = async () => {
    if (pending) {
      const j = pending;
      pending = undefined;
      return j;
    }
    // A dataset that takes long to yield (filtering a huge file) does not hold up a stop.
    try {
      return await abortable(source.next(), runSignal, "reading the dataset");
    } catch (e) {
      if (e instanceof Interrupted) return undefined;
      throw e;
    }
  };
  let sent = 0;
  const execute = async (job: Job, scheduled: number | undefined) => {
    sent++;
    const rec = newRecord(job.index, job.body, job.prepared.stream);
    rec.bodyText = job.prepared.body;
    rec.scheduled = scheduled;
    await transport.send(job.prepared, rec, runSignal);
    pipeline.push(rec);
  };
  log(
    `benchmarking ${cfg.url} (${cfg.model}): ` +
      (cfg.rate === -1
        ? `${cfg.parallel} in flight`
        : `${cfg.rate} req/s, at most ${cfg.parallel} in flight`) +
      (source.expected !== undefined
        ? `, ${source.expected} requests`
        : ", one pass over the dataset"),
  );
  let check: ClientCheck | undefined;
  try {
    await outputs.start();
    await runLoad(next, execute, {
      parallel: cfg.parallel,
      rate: cfg.rate,
      seed: cfg.seed ?? 42,
      signal: runSignal,
    });
  } finally {
    check = await client.close();
    // The run row keeps the client's self-check (event-loop lag, CPU, saturation).
    db?.setEnd({
      endedAt: Date.now() / 1000,
      interrupted: signal?.aborted ?? false,
      client: check,
    });
    try {
      await pipeline.close();
    } finally {
      outputs.stop();
      await counter?.close();
    }
  }

  const summary = collector.summary({
    concurrency: cfg.parallel,
    expected: sent,
    dbPath: db?.path ?? outputDir,
  });
  const errors: string[] = [];
  if (db?.failure) {
    errors.push(`${db.failure}; it holds ${db.written} of the ${sent} requests sent`);
  }
  const result: PerfResult = {
    config: cfg,
    outputDir,
    summary,
    percentiles: collector.percentiles(),
    requestSummary: collector.modernSummary(),
    requestPercentiles: collector.requestPercentiles(),
    failures: Object.fromEntries(collector.failureKinds),
    interrupted: signal?.aborted ?? false,
    errors,
    speedBenchmark: speed?.rows(),
    client: check!,
  };
  if (check!.warning) log(`warning: ${check!.warning}`);
  const counts = countWarning(
    collector.estimatedCounts(),
    collector.succeed,
    counter !== undefined,
  );
  if (counts) log(`warning: ${counts}`);
  await outputs.finish(result);
  await writeResultFiles(result);
  return result;
}

/**
 * Write `benchmark_summary.json` and `benchmark_percentile.json` (and `speed_benchmark.json`)
 * into the run folder: each that fits; the others are said in `r.errors`.
 */
export async function writeResultFiles(r: PerfResult): Promise<void> {
  const rows = r.requestPercentiles.map((row, i) => ({ ...r.percentiles[i], ...row }));
  const dir = r.outputDir;
  await writeEach(r.errors, [
    () => writeJson(`${dir}/benchmark_summary.json`, { ...r.summary, ...r.requestSummary }),
    () => writeJson(`${dir}/benchmark_percentile.json`, rows),
    ...(r.speedBenchmark ? [() => writeJson(`${dir}/speed_benchmark.json`, r.speedBenchmark)] : []),
  ]);
}

/**
 * The last stage of a run, `finish`: once every record has gone through every sink, the run's
 * results are computed, once (the tables, the `--slo` check and goodput, the client's
 * self-check), its warnings logged, and its outputs written, each on its own (`report.html`, the
 * W&B run, the JSON files): an output that cannot be written (a full disk) is one line in
 * `errors`, and the others are still written.
 *
 * @module
 */
import { shardCount } from "../config/shard.ts";
import { MODERN_KEYS, REQUEST_COLUMNS } from "../metrics/collector.ts";
import { serverSummary } from "../telemetry/server_summary.ts";
import { countWarning } from "../report/count_warning.ts";
import { TRACE_SUMMARY_FILE, writeEach, writeJson, writeResultFiles } from "../report/files.ts";
import { writePerformanceSummary, writeRun2026 } from "../report/evalscope2026/outputs.ts";
import { type PerfResult, type RunResults, STOPPED_EARLY_KEY } from "../results/run.ts";
import { checkRun } from "../slo/evaluate.ts";
import type { Driven } from "./drive.ts";
import type { OpenRun } from "./open.ts";
import type { PreparedRun } from "./prepare.ts";

/** Compute the results of a driven run and write its outputs; see the module doc. */
export async function finishRun(
  prep: PreparedRun,
  run: OpenRun,
  driven: Driven,
): Promise<PerfResult> {
  const { cfg, log } = prep;
  // The telemetry's last reading is taken now, after the load, so the server's counts cover it.
  const telemetry = run.telemetry?.stop();
  await run.pipeline.close(); // every record through every sink; a sink's error is thrown here
  // Before the DB closes: the telemetry service runs on the DB writer's thread.
  const measured = await telemetry;
  await run.db?.close(); // every row in (the sending threads have ended their ports)
  run.outputs.stop();
  const c = run.collector;
  const summary = c.summary({
    // A shard's own share; -1 with --open-loop (no cap), as evalscope 2026 reports it.
    concurrency: cfg.openLoop ? -1 : shardCount(cfg.parallel, cfg.shard),
    expected: driven.sent,
    dbPath: run.db?.path ?? run.outputDir,
  });
  const requestPercentiles = c.requestPercentiles();
  const modern = c.modernSummary(driven.client.concurrency?.achieved ?? null);
  const checked = prep.goals &&
    checkRun(
      prep.goals,
      { summary, requestSummary: modern, requestPercentiles },
      run.goodput?.good ?? 0,
    );
  const slo = checked?.slo;
  const pct = (p: string) => {
    const v = requestPercentiles.find((r) => r["Percentile"] === p)?.[REQUEST_COLUMNS.ttft];
    return typeof v === "number" ? v : null;
  };
  const meanTtft = modern[MODERN_KEYS.meanTtft];
  const server = measured?.server && serverSummary(measured.server, {
    mean: typeof meanTtft === "number" ? meanTtft : null,
    p50: pct("50%"),
    p99: pct("99%"),
  });
  const stoppedEarly = run.stoppedEarly();
  const requestSummary = {
    ...(checked?.requestSummary ?? modern),
    ...(stoppedEarly ? { [STOPPED_EARLY_KEY]: stoppedEarly } : {}),
  };
  const results: RunResults = {
    config: cfg,
    outputDir: run.outputDir,
    summary,
    percentiles: c.percentiles(),
    requestSummary,
    requestPercentiles,
    failures: Object.fromEntries(c.failureKinds),
    interrupted: prep.signal?.aborted ?? false,
    speedBenchmark: run.speed?.rows(),
    traceSummary: c.traceSummary(),
    ...(slo ? { slo } : {}),
    client: driven.client,
    ...(stoppedEarly ? { stoppedEarly } : {}),
    ...(server ? { serverSummary: server } : {}),
    ...(measured ? { telemetry: measured } : {}),
    ...(run.endpoints ? { endpoints: run.endpoints.rows() } : {}),
  };
  if (measured?.dbFailure) {
    log(`warning: the result DB's telemetry tables could not be written: ${measured.dbFailure}`);
  }
  if (driven.client.warning) log(`warning: ${driven.client.warning}`);
  const counts = countWarning(c.estimatedCounts(), c.succeed, prep.tokenizer !== undefined);
  if (counts) log(`warning: ${counts}`);
  const errors: string[] = [];
  if (run.db?.failure) {
    errors.push(
      `${run.db.failure}; it holds ${run.db.written} of the ${driven.sent} requests sent`,
    );
  }
  errors.push(...await run.outputs.finish(results));
  if (cfg.compat !== "2026") {
    errors.push(...await writeResultFiles(results));
    return { ...results, errors };
  }
  // `--compat 2026`: evalscope's 2026 files instead, from the run's own DB.
  const compat = await writeCompat2026(prep, run, errors);
  const trace = results.traceSummary; // --multi-turn: evalscope writes it in the run folder too
  if (trace) {
    await writeEach(errors, [() => writeJson(`${run.outputDir}/${TRACE_SUMMARY_FILE}`, trace)]);
  }
  return { ...results, ...(compat ? { evalscope2026: compat } : {}), errors };
}

/** `--compat 2026`: the run's files in evalscope's 2026 layout (see `report/evalscope2026/`). */
async function writeCompat2026(
  prep: PreparedRun,
  run: OpenRun,
  errors: string[],
): Promise<RunResults["evalscope2026"]> {
  const { cfg } = prep;
  if (run.db === undefined) return undefined;
  // -1 with --open-loop (no cap), as evalscope 2026 forces `parallel` to [-1] there.
  const ctx = { parallel: cfg.openLoop ? -1 : shardCount(cfg.parallel, cfg.shard), rate: cfg.rate };
  const written = await writeRun2026(run.db.path, run.outputDir, ctx);
  errors.push(...written.errors);
  if (written.result === undefined || run.compatTop === undefined) return written.result;
  const info = { model: cfg.model, dataset: cfg.dataset, api: cfg.api, outputPath: run.compatTop };
  try {
    const text = await writePerformanceSummary(run.compatTop, info, [written.result]);
    return { ...written.result, performanceSummary: text };
  } catch (e) {
    errors.push((e as Error).message);
    return written.result;
  }
}

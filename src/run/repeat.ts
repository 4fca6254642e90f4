/**
 * `--repeat N`: the same point run N times, one after another, each a full run with fresh
 * connections in its own subfolder (`<outputs-dir>/<name>/repeat_1/`, ...), `--sleep-interval`
 * seconds apart (not after the last). At the end the repeat folder gets `repeat_summary.json`
 * (per metric: mean, standard deviation, 95% confidence interval, coefficient of variation) and
 * `report.html`.
 *
 * `--compat 2026` (evalscope has no `--repeat`): each repeat is a whole evalscope 2026 run folder,
 * as an evalscope run named `<name>_repeat_<k>` at the same timestamp would be:
 * `<outputs>/<YYYYmmdd_HHMMSS>/<name>_repeat_<k>/parallel_P_number_N/` (with its
 * `performance_summary.txt`), so evalscope's readers load every repeat; the repeat folder is
 * `<outputs>/<YYYYmmdd_HHMMSS>/<name>/`, beside them (no timestamp level with `--no-timestamp`).
 * Within a sweep, a point's repeats stay in the point's folder (`repeat_<k>/`).
 *
 * @module
 */
import { type PerfConfigInput, resolveConfig, toSnakeCase } from "../config.ts";
import { basename, dirname } from "node:path";
import { Interrupted } from "../errors.ts";
import { withoutStartAt } from "../load/start_at.ts";
import { stderrLogger } from "../log.ts";
import { runPerfBenchmark } from "../perf.ts";
import { redactConfig } from "../redact.ts";
import { renderRepeatReport } from "../report/html/repeat_page.ts";
import {
  createCompatDir,
  createRunDir,
  defaultRunName,
  writeEach,
  writeJson,
  writeTextOrNothing,
} from "../report/files.ts";
import { type RepeatResult, repeatSummary } from "../results/repeat.ts";
import { runFolder2026 } from "../report/evalscope2026/outputs.ts";
import type { PerfResult } from "../results/run.ts";
import { sleepUntil } from "../util/sleep.ts";
import type { RunOptions } from "./options.ts";

/**
 * Before run `k` (from 0) of a sequence: after the first, say so and wait `seconds`
 * (`--sleep-interval`), less when aborted. Resolves to whether to go on (not aborted).
 */
export async function beforeNext(
  k: number,
  what: string,
  seconds: number,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  if (k > 0 && !signal?.aborted) {
    log(`waiting ${seconds} s (--sleep-interval) before the next ${what}`);
    if (seconds > 0) await sleepUntil(performance.now() + seconds * 1000, signal);
  }
  return !signal?.aborted;
}

/**
 * Run `input` `--repeat` times (see the module doc). An abort stops after the run in progress
 * (which records its in-flight requests as cancelled); an output that cannot be written (a full
 * disk) stops the repeats.
 *
 * @example
 * ```ts
 * import { runRepeats } from "@llmperf/llmperf";
 * const r = await runRepeats({ url: "http://127.0.0.1:8000/v1/chat/completions", model: "m",
 *   prompt: "Hi", number: 50, repeat: 5, sleepInterval: 2 });
 * console.log(r.summary.metrics["Mean TTFT (ms)"]); // { mean, stdev, ciLow, ciHigh, cv, ... }
 * ```
 */
export async function runRepeats(
  input: PerfConfigInput,
  options: RunOptions = {},
): Promise<RepeatResult> {
  const log = options.log ?? stderrLogger;
  const cfg = resolveConfig(input);
  const name = cfg.name ?? defaultRunName(cfg.model, new Date(), undefined, !cfg.noTimestamp);
  // --compat 2026 on its own: the repeat folder <outputs>/<ts>/<name>, each repeat beside it.
  const top2026 = cfg.compat === "2026" && options.group === undefined
    ? runFolder2026(cfg.outputsDir, cfg.name, cfg.model, new Date(), !cfg.noTimestamp)
    : undefined;
  const outputDir = top2026 !== undefined
    ? await createCompatDir(top2026)
    : await createRunDir(cfg.outputsDir, name);
  log(`${cfg.repeat} repeats, saving results to ${outputDir}`);
  const settings = toSnakeCase(redactConfig({ ...cfg, name }));
  await writeJson(`${outputDir}/repeat_args.json`, settings);
  const results: PerfResult[] = [];
  const errors: string[] = [];
  let interrupted = false;
  for (let k = 1; k <= cfg.repeat; k++) {
    if (!await beforeNext(k - 1, "repeat", cfg.sleepInterval, log, options.signal)) {
      interrupted = true;
      break;
    }
    log(`repeat ${k}/${cfg.repeat}`);
    let result: PerfResult;
    try {
      const from = k > 1 ? withoutStartAt(input) : input;
      result = await runPerfBenchmark(
        top2026 === undefined
          ? { ...from, name: `repeat_${k}`, outputsDir: outputDir }
          // An evalscope 2026 run of its own, in the repeat folder's parent (its timestamp's).
          : {
            ...from,
            name: `${basename(top2026)}_repeat_${k}`,
            outputsDir: dirname(top2026),
            noTimestamp: true,
          },
        top2026 === undefined ? { ...options, group: options.group ?? name } : options,
      );
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      interrupted = true;
      break;
    }
    results.push(result);
    errors.push(...result.errors);
    if (result.errors.length > 0) break; // a full disk: later runs could not be kept either
    if (result.interrupted) {
      interrupted = true;
      break;
    }
  }
  const summary = repeatSummary(results, top2026);
  await writeEach(errors, [
    () => writeJson(`${outputDir}/repeat_summary.json`, summary),
    () =>
      writeTextOrNothing(
        `${outputDir}/report.html`,
        renderRepeatReport({ name, createdAt: new Date(), settings, summary }),
      ),
  ]);
  return { outputDir, results, summary, interrupted, errors };
}

/**
 * `--repeat N`: the same point run N times, one after another, each a full run with fresh
 * connections in its own subfolder (`<outputs-dir>/<name>/repeat_1/`, ...), `--sleep-interval`
 * seconds apart (not after the last). At the end the repeat folder gets `repeat_summary.json`
 * (per metric: mean, standard deviation, 95% confidence interval, coefficient of variation) and
 * `report.html`.
 *
 * @module
 */
import { type PerfConfigInput, resolveConfig, toSnakeCase } from "../config.ts";
import { Interrupted } from "../errors.ts";
import { withoutStartAt } from "../load/start_at.ts";
import { stderrLogger } from "../log.ts";
import { runPerfBenchmark } from "../perf.ts";
import { redactConfig } from "../redact.ts";
import { renderRepeatReport } from "../report/html/repeat_page.ts";
import {
  createRunDir,
  defaultRunName,
  writeEach,
  writeJson,
  writeTextOrNothing,
} from "../report/files.ts";
import { type RepeatResult, repeatSummary } from "../results/repeat.ts";
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
  const outputDir = await createRunDir(cfg.outputsDir, name);
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
      result = await runPerfBenchmark(
        { ...(k > 1 ? withoutStartAt(input) : input), name: `repeat_${k}`, outputsDir: outputDir },
        { ...options, group: options.group ?? name },
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
  const summary = repeatSummary(results);
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

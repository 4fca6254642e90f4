/**
 * `llmperf merge <run folders or DBs...> --output <folder>`: the shards of one run (`--shard`)
 * into one run folder, or the shards of one sweep into one sweep folder, point by point (the
 * library's `mergeRuns`). Prints the merged tables as `llmperf perf` does, each warning on
 * stderr. Exit codes as a run's: 0, 1 when a file could not be written, 2 for inputs that are
 * not the shards of one run, 3 when an `--slo` goal of the run fails on the merged numbers.
 *
 * @module
 */
import { resolveConfig } from "../config.ts";
import { textToNumber } from "../config/schema.ts";
import { runExitCode } from "../exit_codes.ts";
import { stderrLogger } from "../log.ts";
import { mergeRuns } from "../merge/merge.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import { printJson } from "../report/json_output.ts";
import { formatSweepTable } from "../report/sweep_table.ts";
import { parseStrict, strictCommand } from "./commander.ts";
import { printResult } from "./print.ts";

/** Run `merge`. */
export async function mergeMain(args: string[]): Promise<number> {
  const cmd = strictCommand(
    "merge",
    "Merge the shards of one run (--shard) into one run folder, its numbers those of the union " +
      "of their rows",
  )
    .argument(
      "<inputs...>",
      "run folders or result DBs (or sweep folders; --compat 2026 run or point folders), or a " +
        "folder holding them",
    )
    .requiredOption("--output <folder>", "the merged run folder (must not exist)")
    .option("--force", "merge runs whose settings differ, or an incomplete set of shards")
    .option("--wait <s>", "wait up to this many seconds for shards missing or still running")
    .option("--json", "print the merged summary as JSON on stdout")
    .usage("<run folders or DBs...> --output <folder> [--force] [--wait <s>] [--json]");
  parseStrict(cmd, args);
  const o = cmd.opts<{ output: string; force?: boolean; wait?: string; json?: boolean }>();
  const waitS = o.wait === undefined ? 0 : textToNumber("--wait", o.wait);
  // An evalscope DB keeps no timings of token-carrying payloads: they are read from its pickled
  // OpenAI payloads, with the built-in plugin (as `llmperf report` does).
  const api = await loadApiPlugin("openai", resolveConfig({ model: "merge" }));
  const merged = await mergeRuns(cmd.args, o.output, {
    force: o.force,
    waitS: Math.max(0, waitS),
    api,
    log: stderrLogger,
  });
  const warnings = merged.kind === "run" ? merged.run.warnings : merged.sweep.warnings;
  for (const w of warnings) stderrLogger(`warning: ${w}`);
  if (merged.kind === "run") {
    const r = merged.run;
    if (o.json) {
      const { outputDir, summary, percentiles, requestSummary, requestPercentiles, failures } = r;
      printJson({
        outputDir,
        ...(r.layout ? { layout: r.layout } : {}),
        rows: r.rows,
        shards: r.inputs.length,
        warnings,
        summary,
        percentiles,
        requestSummary,
        requestPercentiles,
        failures,
        ...(r.slo ? { slo: r.slo } : {}),
        ...(r.endpoints ? { endpoints: r.endpoints } : {}),
      });
    } else {
      printResult(r);
      write(`Merged ${r.inputs.length} shards, ${r.rows} requests: ${r.outputDir}\n`);
    }
    for (const e of r.errors) stderrLogger(`error: ${e}`);
    return runExitCode({ errors: r.errors, interrupted: false, sloPassed: r.slo?.passed });
  }
  const s = merged.sweep;
  if (o.json) {
    printJson({
      outputDir: s.outputDir,
      ...(s.layout ? { layout: s.layout } : {}),
      warnings,
      points: s.rows,
    });
  } else {
    const compat = s.performanceSummary ? `\n${s.performanceSummary.trimEnd()}\n` : "";
    write(
      `${s.layout ? `\nLayout: ${s.layout}\n` : ""}${compat}\n${formatSweepTable(s.rows)}\n` +
        `Merged sweep and report.html: ${s.outputDir}\n`,
    );
  }
  for (const e of s.errors) stderrLogger(`error: ${e}`);
  return runExitCode({
    errors: s.errors,
    interrupted: false,
    sloPassed: !s.rows.some((r) => r.sloPassed === false),
  });
}

function write(text: string): void {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  } catch { /* nobody is reading */ }
}

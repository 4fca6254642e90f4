/**
 * `llmperf report <db file or run folder>`: recompute and print a run's tables from its result DB
 * alone (llmperf's, or evalscope's of late 2024 or of 2026: it says which layout it found; with
 * `--compat 2026`, evalscope 2026's summary and percentile rows). A run that did not finish (killed, crashed, its DB could not
 * be written) or was interrupted says so first, in a `Warning:` line (and in `--json`: `finished`,
 * `interrupted`, `warning`). For a `--multi-turn` run it writes `trace_summary.json` beside the DB
 * again, recomputed from the DB (the same as the run wrote).
 *
 * @module
 */
import { COMPAT_CHOICES, type CompatChoice, resolveConfig } from "../config.ts";
import { UsageError } from "../errors.ts";
import { EXIT_OK } from "../exit_codes.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import { reportFromDb } from "../report/from_db.ts";
import { findRuns } from "../report/run_folders.ts";
import { printJson } from "../report/json_output.ts";
import { DB_FILE } from "../store/run_meta.ts";
import { TRACE_SUMMARY_FILE, writeJson } from "../report/files.ts";
import { dirname } from "node:path";
import { parseStrict, strictCommand } from "./commander.ts";
import { printResult } from "./print.ts";

/** Run `report`. */
export async function reportMain(args: string[]): Promise<number> {
  const cmd = strictCommand("report", "Recompute and print a run's tables from its result DB")
    .argument(
      "<target>",
      `a ${DB_FILE} file or the run folder that holds it (a --compat 2026 point folder, or its ` +
        "run folder with one point)",
    )
    .option("--json", "print the report as JSON on stdout")
    .option(
      "--compat <year>",
      "2026: evalscope 2026's summary and nearest-rank percentile rows (default 2024: ours)",
    )
    .usage("<db file or run folder> [--json] [--compat 2024|2026]");
  parseStrict(cmd, args);
  const compat = cmd.opts().compat ?? "2024";
  if (!(COMPAT_CHOICES as readonly string[]).includes(compat)) {
    throw new UsageError(`--compat: expected one of ${COMPAT_CHOICES.join(", ")}, got '${compat}'`);
  }
  // A --compat 2026 run folder of one point stands for it.
  const found = await findRuns(cmd.args[0]);
  if (found.runs.length > 1) {
    throw new UsageError(
      `'${cmd.args[0]}' is a ${found.layout}: give one of its point folders`,
    );
  }
  // The DB named; in a folder, evalscope's where there is one (its layout is what is reported).
  const named = !(await Deno.stat(cmd.args[0])).isDirectory;
  const path = named ? cmd.args[0] : found.runs[0].evalscopeDb ?? found.runs[0].dbPath;
  // An evalscope DB keeps no timings of token-carrying payloads: they are read from its pickled
  // OpenAI payloads, with the built-in plugin.
  const openai = await loadApiPlugin("openai", resolveConfig({ model: "report" }));
  const report = await reportFromDb(path, openai, [], { compat: compat as CompatChoice });
  if (report.traceSummary) {
    // A --multi-turn run's per-conversation table, beside the DB, as the run wrote it.
    await writeJson(`${dirname(path)}/${TRACE_SUMMARY_FILE}`, report.traceSummary);
  }
  if (cmd.opts().json) {
    const { warning, finished, interrupted, rows, ...tables } = report;
    printJson({ db: path, finished, interrupted, warning, rows, ...tables });
    return EXIT_OK;
  }
  if (report.warning) {
    try {
      Deno.stdout.writeSync(new TextEncoder().encode(`\nWarning: ${report.warning}\n`));
    } catch { /* stdout is gone */ }
  }
  printResult(report);
  return EXIT_OK;
}

/**
 * `llmperf export <db file or run folder> [--csv] [--parquet] [--output FILE]`: a run's
 * per-request records and its summary as files for spreadsheets and pandas. `--csv` (the default)
 * writes `requests.csv` and `summary.csv` into the run folder; `--parquet` writes
 * `requests.parquet` (and `summary.csv`); `--output FILE` names the requests file (the summary
 * goes beside it as `<name>.summary.csv`), `--output -` writes the requests' CSV to stdout.
 * A `--compat 2026` run (evalscope 2026's folder layout) is read from our `llmperf_data.db` in
 * its point folder (it keeps what evalscope's DB drops: epoch times, failure kinds and
 * messages); its run folder stands for each of its points, each exported into its own folder.
 *
 * @module
 */
import { resolveConfig } from "../config.ts";
import { UsageError } from "../errors.ts";
import { EXIT_OK } from "../exit_codes.ts";
import { stderrLogger } from "../log.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import { readForExport, requestsCsv, requestsParquet, summaryCsv } from "../report/export.ts";
import { writeTextOrNothing } from "../report/files.ts";
import { RunError } from "../errors.ts";
import { parseStrict, strictCommand } from "./commander.ts";
import { findRuns, type FoundRun } from "../report/run_folders.ts";

function dirOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
}

/** `x/requests.csv` → `x/requests.summary.csv`. */
function summaryBeside(path: string): string {
  const dot = path.lastIndexOf(".");
  const slash = path.lastIndexOf("/");
  const stem = dot > slash + 1 ? path.slice(0, dot) : path;
  return `${stem}.summary.csv`;
}

async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await Deno.writeFile(path, bytes);
  } catch (e) {
    await Deno.remove(path).catch(() => {});
    throw new RunError(`cannot write '${path}': ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Run `export`. */
export async function exportMain(args: string[]): Promise<number> {
  const cmd = strictCommand(
    "export",
    "Write a run's per-request records and summary as CSV (or Parquet) for spreadsheets and pandas",
  )
    .argument(
      "<target>",
      "a benchmark_data.db file or the run folder that holds it (or a --compat 2026 run or " +
        "point folder)",
    )
    .option("--csv", "per-request records as CSV (RFC 4180, a header row) [the default]")
    .option("--parquet", "per-request records as Parquet")
    .option(
      "--output <file>",
      "the requests file ('-': CSV on stdout) [<run folder>/requests.csv or .parquet]; the " +
        "summary goes beside it",
    )
    .usage("<db file or run folder> [--csv] [--parquet] [--output FILE]");
  parseStrict(cmd, args);
  const o = cmd.opts();
  const parquet = o.parquet === true;
  const csv = o.csv === true || !parquet;
  const output: string | undefined = o.output;
  if (output !== undefined && csv && parquet) {
    throw new UsageError("--output names one file: give --csv or --parquet, not both");
  }
  if (output === "-" && parquet) throw new UsageError("--output -: only CSV goes to stdout");
  const found = await findRuns(cmd.args[0]);
  if (found.runs.length > 1 && output !== undefined) {
    throw new UsageError(
      `--output names one file, and '${cmd.args[0]}' is a ${found.layout}: give one of its ` +
        "point folders, or no --output (each point's files go into its folder)",
    );
  }
  stderrLogger(`layout: ${found.layout}`);
  const openai = await loadApiPlugin("openai", resolveConfig({ model: "export" }));
  for (const run of found.runs) await exportRun(run, { csv, parquet, output }, openai);
  return EXIT_OK;
}

/** Export one run's files (see the module doc). */
async function exportRun(
  run: FoundRun,
  o: { csv: boolean; parquet: boolean; output?: string },
  openai: Awaited<ReturnType<typeof loadApiPlugin>>,
): Promise<void> {
  const db = run.dbPath;
  const data = await readForExport(db, openai);
  const { output } = o;
  if (output === "-") {
    try {
      Deno.stdout.writeSync(new TextEncoder().encode(requestsCsv(data)));
    } catch { /* nobody is reading */ }
    return;
  }
  const dir = dirOf(db);
  const name = (data.report.run?.name as string | undefined) ?? dir.split("/").pop() ?? "";
  const written: string[] = [];
  if (o.csv) {
    const path = output ?? `${dir}/requests.csv`;
    await writeTextOrNothing(path, requestsCsv(data));
    written.push(path);
  }
  if (o.parquet) {
    const path = output ?? `${dir}/requests.parquet`;
    await writeBytes(path, await requestsParquet(data));
    written.push(path);
  }
  const summary = output === undefined ? `${dir}/summary.csv` : summaryBeside(output);
  await writeTextOrNothing(summary, summaryCsv(data, name));
  const from = db.slice(db.lastIndexOf("/") + 1);
  stderrLogger(
    `${data.rows.length} requests: ${written.join(", ")}; summary: ${summary} (read ${from})`,
  );
}

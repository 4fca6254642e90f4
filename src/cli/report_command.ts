/**
 * `llmperf report <db file or run folder>`: recompute and print a run's tables from its result DB
 * alone (llmperf's or evalscope's).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { reportFromDb } from "../report/from_db.ts";
import { DB_FILE } from "../store/run_meta.ts";
import { parseStrict, strictCommand } from "./commander.ts";
import { printResult } from "./print.ts";

/** Resolve a DB file or a run folder to the DB file's path. */
export async function resolveDbPath(target: string): Promise<string> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(target);
  } catch {
    throw new UsageError(`'${target}': no such file or folder`);
  }
  if (!st.isDirectory) return target;
  const path = `${target.replace(/\/+$/, "")}/${DB_FILE}`;
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`'${target}': the folder has no ${DB_FILE}`);
  }
  return path;
}

/** Run `report`. */
export async function reportMain(args: string[]): Promise<number> {
  const cmd = strictCommand("report", "Recompute and print a run's tables from its result DB")
    .argument("<target>", `a ${DB_FILE} file or the run folder that holds it`)
    .usage("<db file or run folder>");
  parseStrict(cmd, args);
  const path = await resolveDbPath(cmd.args[0]);
  printResult(await reportFromDb(path));
  return 0;
}

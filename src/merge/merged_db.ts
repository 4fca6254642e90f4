/**
 * The merged result DB: every row of every input, copied by SQLite as stored (pickles and all),
 * in the order a single run would have written them, by completion time (then start time, then
 * global request index); and one `run` row saying what was merged. Reading it back in row order
 * (`llmperf report`) gives the same tables, summed in the same order, as the merge's own files.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { RunError } from "../errors.ts";
import {
  createTable,
  insertInto,
  RESULT_COLUMNS,
  RUN_COLUMNS,
  type RunRow,
} from "../store/schema.ts";
import type { RunInput } from "./inputs.ts";

const NAMES: readonly string[] = RESULT_COLUMNS.map((c) => c.name);

/**
 * Write the merged DB at `path` (which must not exist): the rows of `inputs` and the `run` row
 * `run`. Resolves to the rows written. A column an input lacks (an older DB) is NULL.
 */
export function writeMergedDb(path: string, inputs: readonly RunInput[], run: RunRow): number {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (e) {
    throw new RunError(`cannot create the merged DB at '${path}': ${(e as Error).message}`);
  }
  try {
    db.exec(createTable("result", RESULT_COLUMNS));
    db.exec(createTable("run", RUN_COLUMNS));
    db.exec(`CREATE TEMP TABLE staging AS SELECT * FROM main.result WHERE 0`);
    for (const input of inputs) {
      // One at a time: SQLite attaches ten databases at most, and a run may have more shards.
      db.prepare("ATTACH DATABASE ? AS shard").run(input.dbPath);
      try {
        const have = new Set(
          (db.prepare("PRAGMA shard.table_info(result)").all() as Array<{ name: string }>)
            .map((c) => c.name),
        );
        const values = NAMES.map((n) => (have.has(n) ? `"${n}"` : "NULL")).join(", ");
        db.exec(
          `INSERT INTO temp.staging (${NAMES.join(", ")}) SELECT ${values} FROM shard.result`,
        );
      } finally {
        db.exec("DETACH DATABASE shard");
      }
    }
    db.exec("BEGIN");
    db.exec(
      `INSERT INTO main.result SELECT * FROM temp.staging ` +
        "ORDER BY completed_time, start_time, request_id",
    );
    const insertRun = db.prepare(insertInto("run", RUN_COLUMNS));
    insertRun.run(run as unknown as Record<string, string | number | null>);
    db.exec("COMMIT");
    db.exec("DROP TABLE temp.staging");
    return Number((db.prepare("SELECT COUNT(*) AS n FROM main.result").get() as { n: number }).n);
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot write the merged DB at '${path}': ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * What one result-DB row costs SQLite, by the writer's settings: CPU µs per row (process CPU,
 * the file closed and checkpointed included) for rows shaped as llmperf writes them (the
 * `result` table's columns; `response_messages` as long as a reply's base64 pickle), inserted in
 * transactions of 64 as the writer does. Compares the writer's settings (16 KiB pages, a rollback
 * journal without syncs, values bound by position) with the ones before (4 KiB pages, WAL with
 * `synchronous=NORMAL`, values bound by `:name` until 2026-12-01; 16 KiB pages, WAL without syncs
 * until 2026-12-02) and the steps between and beside.
 *
 *   deno run -A bench/db_row.ts [--rows 4096] [--kb 11,80] [--rounds 2]
 *
 * 11 KB is a 32-token reply of the bench's paced scenarios, 80 KB a 256-token one (unthrottled).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import {
  createTable,
  insertInOrder,
  insertInto,
  JOURNAL_PRAGMAS,
  RESULT_COLUMNS,
} from "../src/store/schema.ts";
import { procCpuTimes } from "../src/workers/loop_monitor.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "4096" },
    kb: { type: "string", default: "11,80" },
    rounds: { type: "string", default: "2" },
  },
});

interface Settings {
  name: string;
  pragmas: string[];
  positional: boolean;
}

const SETTINGS: Settings[] = [
  {
    name: "before: 4 KiB, WAL NORMAL, by name",
    pragmas: ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"],
    positional: false,
  },
  {
    name: "64 KiB pages, WAL NORMAL, by name",
    pragmas: ["PRAGMA page_size=65536", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"],
    positional: false,
  },
  {
    name: "64 KiB pages, WAL OFF, by name",
    pragmas: ["PRAGMA page_size=65536", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF"],
    positional: false,
  },
  {
    name: "64 KiB pages, WAL OFF, by position",
    pragmas: ["PRAGMA page_size=65536", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF"],
    positional: true,
  },
  {
    name: "4 KiB pages, WAL OFF, by position",
    pragmas: ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF"],
    positional: true,
  },
  {
    name: "16 KiB pages, WAL OFF, by position (until 2026-12-02)",
    pragmas: ["PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=OFF"],
    positional: true,
  },
  {
    name: "16 KiB pages, rollback journal kept (PERSIST), OFF, by position",
    pragmas: ["PRAGMA page_size=16384", "PRAGMA journal_mode=PERSIST", "PRAGMA synchronous=OFF"],
    positional: true,
  },
  {
    name: "now: 16 KiB pages, rollback journal (TRUNCATE), OFF, by position",
    pragmas: ["PRAGMA page_size=16384", ...JOURNAL_PRAGMAS],
    positional: true,
  },
];

function cpuSeconds(): number {
  const t = procCpuTimes("/proc/self/stat");
  return t === null ? NaN : t.user + t.sys;
}

/** A row's values in column order: the long text columns filled, numbers elsewhere. */
function rowValues(kb: number): SQLInputValue[] {
  const chunkTimes = `[${Array.from({ length: 34 }, (_, i) => 1796148685.010961 + i * 0.05)}]`;
  return RESULT_COLUMNS.map((c): SQLInputValue => {
    if (c.name === "response_messages") return "gASV".padEnd(kb * 1024, "A");
    if (c.name === "request") return "gAJ9".padEnd(400, "B");
    if (c.name === "chunk_times" || c.name === "inter_token_latencies") return chunkTimes;
    return c.type === "TEXT" ? null : 1.5;
  });
}

function trial(s: Settings, rows: number, kb: number): number {
  const dir = Deno.makeTempDirSync({ prefix: "llmperf-db-row-" });
  try {
    const db = new DatabaseSync(`${dir}/t.db`);
    for (const p of s.pragmas) db.exec(p);
    db.exec(createTable("result", RESULT_COLUMNS));
    const values = rowValues(kb);
    const named: Record<string, SQLInputValue> = {};
    RESULT_COLUMNS.forEach((c, i) => named[`:${c.name}`] = values[i]);
    const insert = db.prepare(
      s.positional ? insertInOrder("result", RESULT_COLUMNS) : insertInto("result", RESULT_COLUMNS),
    );
    if (!s.positional) insert.setAllowBareNamedParameters(false);
    const c0 = cpuSeconds();
    for (let i = 0; i < rows; i += 64) {
      db.exec("BEGIN");
      for (let j = 0; j < 64; j++) {
        if (s.positional) insert.run(...values);
        else insert.run({ ...named }); // the writer built one object per row
      }
      db.exec("COMMIT");
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    return ((cpuSeconds() - c0) / rows) * 1e6;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const rows = Number(values.rows);
const sizes = values.kb.split(",").map(Number);
const rounds = Number(values.rounds);
console.log(`| settings | ${sizes.map((kb) => `µs of CPU per ${kb} KB row`).join(" | ")} |`);
console.log(`| --- | ${sizes.map(() => "---:").join(" | ")} |`);
for (const s of SETTINGS) {
  const cells = sizes.map((kb) =>
    Array.from({ length: rounds }, () => trial(s, rows, kb).toFixed(0)).join(" / ")
  );
  console.log(`| ${s.name} | ${cells.join(" | ")} |`);
}

/**
 * `--compat 2026`: the run's `benchmark_data.db` in evalscope's 2026 layout
 * (`EVALSCOPE_2026_COLUMNS` in `store/schema.ts`), written from the run's own DB once the run has
 * ended, off the request path: every row read back (`rowMetrics`, the one definition), its body
 * unpickled and written as JSON text the way Python's `json.dumps(ensure_ascii=False)` writes it,
 * its payloads reduced to the parsed choices-bearing chunks and pickled, rows in completion order.
 * It also answers the {@link Sample}s of those rows, which the summary and percentiles are
 * computed from (evalscope computes its percentiles from the DB's rows too).
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { RunError } from "../../errors.ts";
import type { RequestMetrics } from "../../metrics/request_metrics.ts";
import { pickleBase64, unpickleBase64 } from "../../store/pickle.ts";
import {
  createTable,
  type Evalscope2026Row,
  EVALSCOPE_2026_COLUMNS,
  insertInto,
} from "../../store/schema.ts";
import { rowMetrics } from "../from_db.ts";
import { type Sample, sampleOf } from "./metrics.ts";

/**
 * A value as Python's `json.dumps(v, ensure_ascii=False)` writes it: `", "` between items and
 * `": "` after keys (numbers as JavaScript writes them: `0`, where Python would say `0.0` for a
 * float).
 *
 * @example
 * ```ts
 * pyJsonDumps({ a: [1, 2], b: "é" }); // '{"a": [1, 2], "b": "é"}'
 * ```
 */
export function pyJsonDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const items = Object.entries(v).filter(([, x]) => x !== undefined);
    return `{${items.map(([k, x]) => `${JSON.stringify(k)}: ${pyJsonDumps(x)}`).join(", ")}}`;
  }
  if (typeof v === "number" && !Number.isFinite(v)) {
    return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
  return JSON.stringify(v) ?? "null";
}

/** A list of seconds as Python writes a list of floats: `[0.0, 0.25]` (a whole one keeps `.0`). */
export function pyFloatList(xs: ArrayLike<number>): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    out.push(Number.isInteger(x) ? `${x}.0` : pyJsonDumps(x));
  }
  return `[${out.join(", ")}]`;
}

/** The chunks evalscope 2026 keeps: parsed payloads with non-empty `choices` (streams). */
function keptChunks(payloads: unknown, stream: boolean, success: boolean): unknown[] {
  if (!success || !Array.isArray(payloads)) return [];
  const parsed: unknown[] = [];
  for (const p of payloads) {
    if (typeof p !== "string") continue;
    try {
      parsed.push(JSON.parse(p));
    } catch { /* not JSON: evalscope would not have parsed it either */ }
  }
  if (!stream) return parsed.slice(0, 1);
  return parsed.filter((c) => {
    const choices = (c as { choices?: unknown })?.choices;
    return Array.isArray(choices) && choices.length > 0;
  });
}

function unpickled(v: unknown): unknown {
  if (typeof v !== "string") return undefined;
  try {
    return unpickleBase64(v);
  } catch {
    return undefined;
  }
}

/** The 2026 row of one of our rows and its metrics. */
function row2026(ours: Record<string, unknown>, m: RequestMetrics): Evalscope2026Row {
  const ok = m.success;
  const body = unpickled(ours.request);
  return {
    request: body === undefined ? null : pyJsonDumps(body),
    start_time: m.startEpochS,
    inter_token_latencies: ok && m.stream ? pyFloatList(m.itlS) : "[]",
    success: ok ? 1 : 0,
    response_messages: pickleBase64(keptChunks(unpickled(ours.response_messages), m.stream, ok)),
    completed_time: ok ? m.completedEpochS : 0,
    latency: ok ? m.latencyS : null,
    first_chunk_latency: ok ? m.ttftS : null,
    time_per_output_token: ok ? (m.stream && m.completionTokens > 1 ? m.tpotS ?? 0 : 0) : null,
    prompt_tokens: ok ? m.promptTokens : null,
    completion_tokens: ok ? m.completionTokens : null,
    max_gpu_memory_cost: ok ? 0 : null,
    request_id: null,
    is_stream: m.stream ? 1 : 0,
  };
}

/**
 * Write evalscope 2026's `benchmark_data.db` at `outPath` from our result DB at `ourPath`;
 * resolves to the samples of its rows, in its (completion) order. Throws a {@link RunError}
 * naming the file when it cannot be written.
 */
export async function writeDb2026(ourPath: string, outPath: string): Promise<Sample[]> {
  const rows: Array<{ row: Evalscope2026Row; m: RequestMetrics }> = [];
  // Read-write, so that closing it leaves no -wal / -shm files beside it (it is in WAL mode).
  const ours = new DatabaseSync(ourPath);
  try {
    let n = 0;
    const all = ours.prepare("SELECT * FROM result ORDER BY rowid").iterate();
    for (const r of all as Iterable<Record<string, unknown>>) {
      const m = await rowMetrics(r, n++);
      rows.push({ row: row2026(r, m), m });
    }
  } finally {
    ours.close();
  }
  // Completion order, as evalscope's consumer inserts them (a failure: when it failed).
  rows.sort((a, b) => a.m.completedEpochS - b.m.completedEpochS);
  try {
    const db = new DatabaseSync(outPath);
    try {
      db.exec(createTable("result", EVALSCOPE_2026_COLUMNS));
      const insert = db.prepare(insertInto("result", EVALSCOPE_2026_COLUMNS));
      db.exec("BEGIN");
      for (const { row } of rows) {
        const bound: Record<string, SQLInputValue> = {};
        for (const [k, v] of Object.entries(row)) bound[k] = v;
        insert.run(bound);
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  } catch (e) {
    await Deno.remove(outPath).catch(() => {});
    throw new RunError(`cannot write '${outPath}': ${(e as Error).message}`);
  }
  return rows.map(({ m }) => sampleOf(m));
}

/**
 * `--compat 2026`: one request as a row of evalscope 2026's `result` table, and a row of that
 * table as evalscope's readers take it ({@link sampleOfRow2026}). {@link row2026} applies
 * evalscope 2026's per-request definitions to a row that keeps every payload and its arrival time
 * (llmperf's DB, evalscope's late-2024 DB).
 *
 * @module
 */
import type { RequestMetrics } from "../../metrics/request_metrics.ts";
import { pickleBase64, unpickleBase64 } from "../../store/pickle.ts";
import type { Evalscope2026Row } from "../../store/schema.ts";
import { sqlNumber } from "../../util/sql_number.ts";
import { sqlNumberList, sqlSuccess } from "../../util/sql_cells.ts";
import type { Sample } from "./metrics.ts";

/** A row's payload arrival times (`chunk_times`), in ms after its `start_time`. */
function chunkTimesMs(row: Record<string, unknown>): number[] {
  const start = sqlNumber(row.start_time) ?? 0;
  return sqlNumberList(row.chunk_times).map((t) => (t - start) * 1000);
}

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

/** Payload strings parsed as JSON (`undefined` for one that is not). */
function parsedPayloads(payloads: unknown): unknown[] {
  if (!Array.isArray(payloads)) return [];
  return payloads.map((p) => {
    if (typeof p !== "string") return undefined;
    try {
      return JSON.parse(p);
    } catch {
      return undefined; // not JSON: evalscope would not have parsed it either
    }
  });
}

function hasChoices(c: unknown): boolean {
  const choices = (c as { choices?: unknown } | undefined)?.choices;
  return Array.isArray(choices) && choices.length > 0;
}

function unpickled(v: unknown): unknown {
  if (typeof v !== "string") return undefined;
  try {
    return unpickleBase64(v);
  } catch {
    return undefined;
  }
}

/**
 * The 2026 row of one of our rows and its metrics, by evalscope 2026's per-request definitions
 * (`plugin/api/default_api.py:120-186`, `utils/benchmark_util.py:108-111`) applied to the
 * payloads we recorded and their arrival times: TTFT to the first payload with a non-empty
 * `choices` (a role-only chunk counts), one gap per later such payload since the payload before
 * it (any payload), `completed_time` at the last payload, TPOT `(latency − TTFT)/(tokens − 1)`.
 * Not streamed: TTFT is the latency. Failures: `completed_time` 0.0 and NULL metrics.
 */
export function row2026(
  ours: Record<string, unknown>,
  m: RequestMetrics,
  _rowNo: number,
): Evalscope2026Row {
  const body = unpickled(ours.request);
  const failed = {
    request: body === undefined ? null : pyJsonDumps(body),
    start_time: m.startEpochS,
    inter_token_latencies: "[]",
    success: 0,
    response_messages: pickleBase64([]),
    completed_time: 0,
    latency: null,
    first_chunk_latency: null,
    time_per_output_token: null,
    prompt_tokens: null,
    completion_tokens: null,
    max_gpu_memory_cost: null,
    // A trace record's own id (ours: trace_request_id; `request_id` is our dispatch order).
    request_id: typeof ours.trace_request_id === "string" ? ours.trace_request_id : null,
    is_stream: m.stream ? 1 : 0,
  };
  if (!m.success) return failed;
  const parsed = parsedPayloads(unpickled(ours.response_messages));
  const times = chunkTimesMs(ours); // ms after the start, one per payload
  let latency = m.latencyS;
  let ttft = latency;
  let kept: unknown[] = parsed.slice(0, 1);
  const gaps: number[] = [];
  if (m.stream) {
    kept = [];
    let first = true;
    for (let i = 0; i < parsed.length && i < times.length; i++) {
      if (!hasChoices(parsed[i])) continue;
      kept.push(parsed[i]);
      if (first) ttft = times[i] / 1000;
      else gaps.push((times[i] - times[i - 1]) / 1000);
      first = false;
    }
    if (times.length > 0) latency = times[times.length - 1] / 1000;
    if (first) ttft = latency;
  }
  const tokens = m.completionTokens;
  return {
    ...failed,
    inter_token_latencies: pyFloatList(gaps),
    success: 1,
    response_messages: pickleBase64(kept),
    completed_time: m.startEpochS + latency,
    latency,
    first_chunk_latency: ttft,
    time_per_output_token: tokens > 1 ? (latency - ttft) / (tokens - 1) : 0,
    prompt_tokens: m.promptTokens,
    completion_tokens: tokens,
    max_gpu_memory_cost: 0,
  };
}

/**
 * A 2026-layout row (evalscope's, or `--compat 2026`'s) as evalscope 2026 reads it: TTFT is
 * `first_chunk_latency`, the gaps `inter_token_latencies`, a failure's `completed_time` 0.0.
 */
export function sampleOfRow2026(row: Record<string, unknown>): Sample {
  const ok = sqlSuccess(row.success);
  return {
    success: ok,
    stream: Boolean(sqlNumber(row.is_stream)),
    start: sqlNumber(row.start_time) ?? 0,
    completed: ok ? sqlNumber(row.completed_time) ?? 0 : 0,
    latency: ok ? sqlNumber(row.latency) ?? 0 : 0,
    ttft: ok ? sqlNumber(row.first_chunk_latency) ?? 0 : 0,
    tpot: ok ? sqlNumber(row.time_per_output_token) ?? 0 : 0,
    itl: ok ? sqlNumberList(row.inter_token_latencies) : [],
    prompt: ok ? sqlNumber(row.prompt_tokens) ?? 0 : 0,
    completion: ok ? sqlNumber(row.completion_tokens) ?? 0 : 0,
  };
}

/**
 * The results of one run as evalscope computes them today (`--compat 2026`, evalscope at
 * `fde259d2`; `../shared/reference/evalscope-perf-2026.md` §3): the `benchmark_summary.json`
 * keys, rows and rounding (`utils/benchmark_util.py:230-393`), the nearest-rank percentile rows
 * of `benchmark_percentile.json` (`utils/db_util.py:141-259`), and `workload_throughput.json` /
 * `workload_timeline.json` (`utils/workload_timeline.py:81-232`). Pure functions of one
 * {@link Sample} per request, read from a row of evalscope 2026's `result` table (`row.ts`): the
 * run's own 2026 DB, or any result DB's rows for `llmperf report --compat 2026`.
 *
 * @module
 */

/** One request as evalscope 2026 reads it from its DB row (seconds, one clock). */
export interface Sample {
  /** `success = 1`. */
  success: boolean;
  /** Whether the response was streamed (`is_stream`). */
  stream: boolean;
  /** `start_time`, seconds. */
  start: number;
  /** `completed_time`, seconds; 0 for a failure (it never extends the wall time). */
  completed: number;
  /** `latency`, seconds (successes). */
  latency: number;
  /** `first_chunk_latency`: TTFT, seconds (the latency when not streamed). */
  ttft: number;
  /** `time_per_output_token`, seconds: 0 unless 2+ output tokens. */
  tpot: number;
  /** `inter_token_latencies`, seconds. */
  itl: ArrayLike<number>;
  /** `prompt_tokens`. */
  prompt: number;
  /** `completion_tokens`. */
  completion: number;
}

/**
 * Python's `round(x, n)`: half to even on the double's exact decimal value (JavaScript's
 * `toFixed` rounds exact ties up: `(0.125).toFixed(2)` is `0.13`, Python says `0.12`).
 */
export function pyRound(x: number, n: number): number {
  if (!Number.isFinite(x)) return x;
  const fixed = Number(x.toFixed(n));
  const exact = Math.abs(x).toFixed(Math.min(100, n + 40));
  const tail = exact.slice(exact.indexOf(".") + 1 + n);
  if (!/^50*$/.test(tail)) return fixed;
  const scale = 10 ** n;
  const down = Math.trunc(Math.abs(x) * scale);
  const even = down % 2 === 0 ? down : down + 1;
  return Math.sign(x) * even / scale;
}

/** `a / b`, or −1 when `b` is 0 (evalscope's rule for an empty denominator). */
function div(a: number, b: number): number {
  return b === 0 ? -1 : a / b;
}

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** What a run's summary needs besides its samples. */
export interface SummaryContext {
  /** `--parallel` (−1 in open loop). */
  parallel: number;
  /** `--rate` (−1 = none). */
  rate: number;
}

/** The keys of `benchmark_summary.json`, in evalscope's order (all 18 always written). */
export const SUMMARY_2026_KEYS = [
  "Test Duration (s)",
  "Concurrency",
  "Request Rate (req/s)",
  "Total Requests",
  "Success Requests",
  "Failed Requests",
  "Stream Requests",
  "Non-Stream Requests",
  "Req Throughput (req/s)",
  "Avg Latency (s)",
  "Avg Input Tokens",
  "Output Throughput (tok/s)",
  "Total Throughput (tok/s)",
  "Avg TTFT (ms)",
  "Avg TPOT (ms)",
  "Avg ITL (ms)",
  "Avg Output Tokens",
  "Input Throughput (tok/s)",
] as const;

/** `benchmark_summary.json` as evalscope 2026 writes it. */
export type Summary2026 = Record<(typeof SUMMARY_2026_KEYS)[number], number>;

/** The stream-only rule: streamed successes, or every success when none streamed. */
function streamRule(ok: Sample[]): Sample[] {
  const streamed = ok.filter((s) => s.stream);
  return streamed.length > 0 ? streamed : ok;
}

/** The wall time T: earliest start (failures too) to the latest completion (0 never counts). */
function wallTime(samples: readonly Sample[]): number {
  if (samples.length === 0) return 0;
  let first = Infinity;
  let last = -Infinity;
  for (const s of samples) {
    if (s.start < first) first = s.start;
    if (s.completed > 0 && s.completed > last) last = s.completed;
  }
  return last === -Infinity ? 0 : Math.max(0, last - first);
}

/** `benchmark_summary.json` (see the module doc). */
export function summary2026(samples: readonly Sample[], ctx: SummaryContext): Summary2026 {
  const ok = samples.filter((s) => s.success);
  const n = ok.length;
  const t = wallTime(samples);
  const prompt = sum(ok.map((s) => s.prompt));
  const completion = sum(ok.map((s) => s.completion));
  const timed = streamRule(ok);
  const gaps: number[] = [];
  for (const s of ok) for (let i = 0; i < s.itl.length; i++) gaps.push(s.itl[i]);
  const stream = samples.filter((s) => s.stream).length;
  return {
    "Test Duration (s)": pyRound(t, 4),
    "Concurrency": ctx.parallel,
    "Request Rate (req/s)": ctx.rate,
    "Total Requests": samples.length,
    "Success Requests": n,
    "Failed Requests": samples.length - n,
    "Stream Requests": stream,
    "Non-Stream Requests": samples.length - stream,
    "Req Throughput (req/s)": pyRound(div(n, t), 4),
    "Avg Latency (s)": pyRound(div(sum(ok.map((s) => s.latency)), n), 4),
    "Avg Input Tokens": pyRound(div(prompt, n), 4),
    "Output Throughput (tok/s)": pyRound(div(completion, t), 4),
    "Total Throughput (tok/s)": pyRound(div(prompt + completion, t), 4),
    "Avg TTFT (ms)": pyRound(div(sum(timed.map((s) => s.ttft)), timed.length) * 1000, 2),
    "Avg TPOT (ms)": pyRound(div(sum(timed.map((s) => s.tpot)), timed.length) * 1000, 2),
    "Avg ITL (ms)": pyRound(div(sum(gaps), gaps.length) * 1000, 2),
    "Avg Output Tokens": pyRound(div(completion, n), 4),
    "Input Throughput (tok/s)": 0, // Σprompt/Σlatency is written for embedding/rerank only
  };
}

/** The percentile row labels and their p (`min` is p = 0, `max` the last value). */
export const PERCENTILE_2026_LABELS: ReadonlyArray<[string, number]> = [
  ["min", 0],
  ["1%", 1],
  ["5%", 5],
  ["10%", 10],
  ["25%", 25],
  ["50%", 50],
  ["75%", 75],
  ["90%", 90],
  ["95%", 95],
  ["99%", 99],
  ["max", 100],
];

/**
 * evalscope 2026's percentile of sorted values: `v[int(n·p/100)]` for p < 100 (nearest rank,
 * floored, no interpolation), the last value for `max`, rounded to 2 decimals; NaN when empty.
 */
export function nearestRank(sortedValues: ArrayLike<number>, p: number): number {
  const n = sortedValues.length;
  if (n === 0) return NaN;
  const v = p >= 100 ? sortedValues[n - 1] : sortedValues[Math.floor(n * p / 100)];
  return pyRound(v, 2);
}

/** One row of `benchmark_percentile.json`: `Percentiles` then one value per column. */
export type PercentileRow2026 = Record<string, string | number>;

/** `benchmark_percentile.json`: 11 rows, the LLM columns in evalscope's order. */
export function percentiles2026(samples: readonly Sample[]): PercentileRow2026[] {
  const ok = samples.filter((s) => s.success);
  const timed = streamRule(ok);
  const gaps: number[] = [];
  for (const s of ok) for (let i = 0; i < s.itl.length; i++) gaps.push(s.itl[i] * 1000);
  const columns: Array<[string, number[]]> = [
    ["Latency (s)", ok.map((s) => s.latency)],
    ["TTFT (ms)", timed.map((s) => s.ttft * 1000)],
    ["ITL (ms)", gaps],
    ["TPOT (ms)", timed.map((s) => s.tpot * 1000)],
    ["Input tokens", ok.map((s) => s.prompt)],
    ["Output tokens", ok.map((s) => s.completion)],
    ["Output (tok/s)", ok.map((s) => s.latency > 0 ? s.completion / s.latency : 0)],
    ["Total (tok/s)", ok.map((s) => s.latency > 0 ? (s.prompt + s.completion) / s.latency : 0)],
    // 1/TPOT; NaN where TPOT is 0, left out of the sorted list here (see docs/evalscope.md).
    ["Decode (tok/s)", timed.filter((s) => s.tpot > 0).map((s) => 1 / s.tpot)],
  ];
  const sortedColumns = columns.map(([k, v]) => [k, v.sort((a, b) => a - b)] as const);
  return PERCENTILE_2026_LABELS.map(([label, p]) => {
    const row: PercentileRow2026 = { Percentiles: label };
    for (const [k, v] of sortedColumns) row[k] = nearestRank(v, p);
    return row;
  });
}

/** One point of the workload timeline. */
export interface TimelinePoint {
  /** Seconds since the first success's start (6 decimals). */
  t: number;
  /** Cumulative completion tokens. */
  cum_completion: number;
  /** Cumulative new (uncached) prompt tokens. */
  cum_new_prompt: number;
  /** Cumulative cached prompt tokens (0: no cached counts are read). */
  cum_cached_prompt: number;
}

/** `workload_timeline.json`. */
export interface Timeline2026 {
  /** Start time of the first success consumed, seconds (our clock: epoch). */
  wall_start: number;
  /** One point per success, in completion order. */
  points: TimelinePoint[];
}

/** `workload_timeline.json`, or undefined without a success. */
export function timeline2026(samples: readonly Sample[]): Timeline2026 | undefined {
  const ok = samples.filter((s) => s.success).sort((a, b) => a.completed - b.completed);
  if (ok.length === 0) return undefined;
  const wallStart = ok[0].start;
  let completion = 0;
  let prompt = 0;
  const points = ok.map((s) => {
    completion += s.completion;
    prompt += s.prompt;
    return {
      t: pyRound(s.completed - wallStart, 6),
      cum_completion: completion,
      cum_new_prompt: prompt,
      cum_cached_prompt: 0,
    };
  });
  return { wall_start: wallStart, points };
}

/** `workload_throughput.json`. */
export interface Throughput2026 {
  /** Points (successes). */
  n_samples: number;
  /** The last point's t, 4 decimals. */
  wall_time_s: number;
  /** The last window's length. */
  last_window_s: number;
  /** The share dropped from the start for the steady state. */
  warmup_frac: number;
  /** Four rows of tok/s: overall, the last 30 s, the steady state. */
  rows: Array<{ metric: string; overall: number; last_window: number; steady_state: number }>;
}

const LAST_WINDOW_S = 30;
const WARMUP_FRAC = 0.2;

/** `workload_throughput.json` from the timeline's points (values unrounded, as evalscope). */
export function throughput2026(timeline: Timeline2026): Throughput2026 {
  const pts = timeline.points;
  const last = pts[pts.length - 1];
  // Unrounded times for the rates, as evalscope keeps them.
  const origin: TimelinePoint = {
    t: 0,
    cum_completion: 0,
    cum_new_prompt: 0,
    cum_cached_prompt: 0,
  };
  const wall = last.t;
  const latestAtOrBefore = (limit: number): TimelinePoint | undefined => {
    let found: TimelinePoint | undefined;
    for (const p of pts) if (p.t <= limit) found = p;
    return found;
  };
  const lastAnchor = wall <= LAST_WINDOW_S ? origin : latestAtOrBefore(wall - LAST_WINDOW_S)!;
  let steady = latestAtOrBefore(WARMUP_FRAC * wall) ?? pts[0];
  if (steady === last) steady = origin;
  const rate = (a: TimelinePoint, get: (p: TimelinePoint) => number) => {
    const dt = last.t - a.t;
    return dt > 0 ? (get(last) - get(a)) / dt : 0;
  };
  const metrics: Array<[string, (p: TimelinePoint) => number]> = [
    ["Total Prompt tok/s", (p) => p.cum_new_prompt + p.cum_cached_prompt],
    ["New Prompt tok/s", (p) => p.cum_new_prompt],
    ["Cached Prompt tok/s", (p) => p.cum_cached_prompt],
    ["Completion tok/s", (p) => p.cum_completion],
  ];
  return {
    n_samples: pts.length,
    wall_time_s: pyRound(wall, 4),
    last_window_s: LAST_WINDOW_S,
    warmup_frac: WARMUP_FRAC,
    rows: metrics.map(([metric, get]) => ({
      metric,
      overall: rate(origin, get),
      last_window: rate(lastAnchor, get),
      steady_state: rate(steady, get),
    })),
  };
}

/**
 * `--compat 2026` (issue 14 items 2, 3, 6): expectations come from
 * `../shared/reference/evalscope-perf-2026.md` (and `evalscope-perf.md` for late 2024), never
 * from our own output. A Python reader written from the reference's facts
 * (`helpers/evalscope2026_reader.py`) reads a run's results tree as evalscope's run loader,
 * percentile reader, summary model and notebook recipe would; a Python script
 * (`helpers/make_evalscope_dbs.py`) writes DBs in evalscope's 2026 and late-2024 layouts for
 * `llmperf report`.
 */
import { REF_DB_COLUMNS_2026 } from "./helpers/reference.ts";
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { resolveConfig } from "../src/config.ts";
import { outOfBounds } from "../src/load/requests.ts";
import { nearestRank, pyRound } from "../src/report/evalscope2026/metrics.ts";
import { row2026 } from "../src/report/evalscope2026/row.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";
import { pickleBase64, unpickleBase64 } from "../src/store/pickle.ts";

function assertMatch(text: string, re: RegExp): void {
  assert(re.test(text), `${JSON.stringify(text)} does not match ${re}`);
}

async function python(args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", { args, stdout: "piped", stderr: "piped" })
    .output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, err);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("--compat 2026: its defaults where a setting was not given, ours by default", () => {
  // Reference §1: --number 1000, --stream on, --temperature 0.0 sent, --log-every-n-query 100,
  // --total-timeout 21600 (no connect/read timeout: ours are 21600 too).
  const c = resolveConfig({ model: "m", compat: "2026" });
  assertEquals(
    [c.stream, c.temperature, c.number, c.logEveryNQuery, c.totalTimeout],
    [true, 0, 1000, 100, 21600],
  );
  assertEquals([c.connectTimeout, c.readTimeout], [21600, 21600]);
  // --seed: None in 2026 (no `seed` in the body unless given), 42 in late 2024.
  assertEquals([c.seed, resolveConfig({ model: "m", compat: "2026", seed: 7 }).seed], [
    undefined,
    7,
  ]);
  const given = resolveConfig({
    model: "m",
    compat: "2026",
    stream: false,
    number: 5,
    temperature: 0.7,
    logEveryNQuery: 3,
    connectTimeout: 9,
  });
  assertEquals(
    [given.stream, given.number, given.temperature, given.logEveryNQuery, given.connectTimeout],
    [false, 5, 0.7, 3, 9],
  );
  // The late-2024 defaults stay the default.
  const d = resolveConfig({ model: "m" });
  assertEquals(
    [d.compat, d.stream, d.temperature, d.number, d.logEveryNQuery, d.connectTimeout],
    ["2024", false, undefined, undefined, 10, 120],
  );
});

Deno.test("--compat 2026: prompt-length bounds are inclusive (base.py:355), strict for 2024", () => {
  const bounds = { minPromptLength: 10, maxPromptLength: 30 };
  // RUN bounds: prompts of exactly 10 and 30 characters were kept with --min 10 --max 30.
  for (const len of [10, 20, 30]) assert(!outOfBounds(len, { ...bounds, compat: "2026" }));
  for (const len of [9, 31]) assert(outOfBounds(len, { ...bounds, compat: "2026" }));
  // Late 2024: strict `>` min and `<` max.
  for (const len of [10, 30]) assert(outOfBounds(len, { ...bounds, compat: "2024" }));
  assert(!outOfBounds(20, { ...bounds, compat: "2024" }));
});

Deno.test("--compat 2026: nearest-rank percentiles v[int(n*p/100)] and Python's round", () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // n = 10: min v[0], 25% v[2], 50% v[5], 99% v[int(9.9)] = v[9], max the last.
  assertEquals([0, 25, 50, 99, 100].map((p) => nearestRank(v, p)), [1, 3, 6, 10, 10]);
  assert(Number.isNaN(nearestRank([], 50)));
  // Python: round(0.125, 2) == 0.12 (an exact tie, to even), round(2.675, 2) == 2.67 (below
  // the tie in binary), round(0.5) == 0, round(1.5) == 2, round(-0.125, 2) == -0.12.
  assertEquals(
    [pyRound(0.125, 2), pyRound(2.675, 2), pyRound(0.5, 0), pyRound(1.5, 0), pyRound(-0.125, 2)],
    [0.12, 2.67, 0, 2, -0.12],
  );
});

Deno.test("--compat 2026: evalscope's readers (per the reference) read the run's results", async () => {
  const ttftMs = 30;
  const itlMs = 3;
  const tokens = 12;
  const mock = startMockServer({
    port: 0,
    ttftMs,
    itlMs,
    outputTokens: tokens,
    faults: { faults: [{ mode: "http-500", amount: 3 }], skip: 1 },
  });
  try {
    // No --stream: on by default in 2026; no --name: the folder is named for the model's id.
    await using run = await perfRun({
      server: mock,
      flags: { model: "org/qwen", prompt: "hello", number: 20, parallel: 4 },
      args: ["--compat", "2026"],
    });
    assertEquals(run.code, 0, run.stderr);
    const read = JSON.parse(
      await python([
        `${ROOT_DIR}/tests/helpers/evalscope2026_reader.py`,
        run.outputs,
      ]),
    );
    // The run loader finds one run at <outputs>/<YYYYmmdd_HHMMSS>/<model_id>/parallel_4_number_20.
    assertEquals(read.runs.length, 1);
    const r = read.runs[0];
    assertMatch(r.folder.slice(run.outputs.length), /^\/\d{8}_\d{6}\/qwen\/parallel_4_number_20$/);
    // The DB schema of §4, in order; success an INTEGER 1 or 0.
    assertEquals(r.columns, REF_DB_COLUMNS_2026);
    assertEquals([r.success_types, r.success_values], [["int"], [0, 1]]);
    // The summary model: the 18 keys, in order; the values the DB's rows give.
    assert(r.summary_keys_ok, JSON.stringify(Object.keys(r.written_summary)));
    for (const [k, v] of Object.entries(r.summary as Record<string, number>)) {
      assertAlmostEquals(r.written_summary[k], v, 1e-9, k);
    }
    assertEquals(
      [r.written_summary["Total Requests"], r.written_summary["Failed Requests"]],
      [20, 3],
    );
    assertEquals(
      [r.written_summary["Concurrency"], r.written_summary["Request Rate (req/s)"]],
      [4, -1],
    );
    // The percentile reader's rows equal the written file (labels, columns, rounding).
    assert(r.percentiles_equal, JSON.stringify([r.percentiles[5], r.written_percentiles[5]]));
    assertEquals(
      r.written_percentiles.map((p: Record<string, unknown>) => p["Percentiles"]),
      ["min", "1%", "5%", "10%", "25%", "50%", "75%", "90%", "95%", "99%", "max"],
    );
    // Ground truth from the mock: every success has its 12 tokens; TTFT at least the mock's
    // 30 ms, TPOT about its 3 ms gap (generous bounds: a loaded machine).
    for (const p of r.written_percentiles) assertEquals(p["Output tokens"], tokens);
    const ttft = r.written_summary["Avg TTFT (ms)"];
    assert(ttft >= ttftMs && ttft < ttftMs + 2000, `TTFT ${ttft}`);
    const tpot = r.written_summary["Avg TPOT (ms)"];
    assert(tpot > 1 && tpot < 200, `TPOT ${tpot}`);
    // The notebook recipe: JSON request bodies with today's defaults, pickled chunks whose
    // content concatenates to the reply.
    for (const b of r.bodies) {
      assertEquals([b.stream, b.temperature, b.stream_options], [true, 0, { include_usage: true }]);
      assertEquals(b.seed, undefined);
    }
    assertEquals(r.texts.length, 17);
    for (const t of r.texts) assert(t.trim().length > 0);
    // Failures: completed_time 0.0, NULL metrics, '[]' gaps.
    assertEquals(r.failures.length, 3);
    for (const f of r.failures) {
      assertEquals([f.completed_time, f.latency, f.first_chunk_latency], [0, null, null]);
      assertEquals(f.inter_token_latencies, "[]");
    }
    // workload_throughput.json: overall completion tok/s is Σcompletion / wall of the timeline.
    assertEquals(r.n_samples, 17);
    const overall = r.throughput_rows.find((x: { metric: string }) =>
      x.metric === "Completion tok/s"
    ).overall;
    assertAlmostEquals(overall, r.completion_rate_overall, 1e-6);
    // performance_summary.txt beside the run folder; today's tables printed, not 2024's.
    const top = r.folder.slice(0, r.folder.lastIndexOf("/"));
    const text = await Deno.readTextFile(`${top}/performance_summary.txt`);
    assert(text.startsWith("Performance Test Summary Report"), text);
    for (const t of ["Benchmarking summary:", "Percentile results:", "Per-Request Metrics"]) {
      assert(run.stdout.includes(t), t);
    }
    assert(!run.stdout.includes("Per-request metrics summary:"));
    // llmperf report on the 2026 folder reads it back, and says which layout it found.
    const rep = JSON.parse(
      (await runCli(["report", r.folder, "--json", "--compat", "2026"])).stdout,
    );
    assertMatch(rep.layout, /^evalscope 2026/);
    assertEquals(JSON.stringify(rep.evalscope2026.percentiles), JSON.stringify(r.percentiles));
  } finally {
    await mock.close();
  }
});

/** Requests of the DBs `make_evalscope_dbs.py` writes: three successes and a failure. */
const REQUESTS = [
  { start: 100.0, ttft: 0.054, itl: [0.01, 0.02, 0.03], latency: 0.364, prompt: 10, completion: 4 },
  { start: 100.1, ttft: 0.06, itl: [0.02, 0.02], latency: 0.2, prompt: 12, completion: 3 },
  { start: 100.2, ttft: 0.048, itl: [0.01], latency: 0.15, prompt: 8, completion: 2 },
].map((r) => ({ ...r, success: true }));
const FAILED = {
  start: 100.25,
  ttft: 0,
  itl: [],
  latency: 0,
  prompt: 0,
  completion: 0,
  success: false,
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("report: evalscope's 2026 and late-2024 DBs, TTFT from first_chunk_latency", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(
    `${tmp.path}/rows.json`,
    JSON.stringify({ requests: [...REQUESTS, FAILED] }),
  );
  await python([
    `${ROOT_DIR}/tests/helpers/make_evalscope_dbs.py`,
    tmp.path,
    `${tmp.path}/rows.json`,
  ]);
  const ttfts = REQUESTS.map((r) => r.ttft);
  const report = async (dir: string, compat = "2024") => {
    const out = await runCli(["report", `${tmp.path}/${dir}`, "--json", "--compat", compat]);
    assertEquals(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  const es26 = await report("es2026");
  assertMatch(es26.layout, /^evalscope 2026/);
  // TTFT is first_chunk_latency (54, 60, 48 ms: mean 54), not the latency (mean 238 ms).
  assertAlmostEquals(es26.requestSummary["Mean TTFT (ms)"], mean(ttfts) * 1000, 1e-6);
  assertAlmostEquals(es26.summary["Average time to first token"], mean(ttfts), 1e-9);
  assertEquals([es26.summary["Succeed requests"], es26.summary["Failed requests"]], [3, 1]);
  // ITL: the stored gaps, pooled.
  const gaps = REQUESTS.flatMap((r) => r.itl);
  assertAlmostEquals(es26.requestSummary["Mean ITL (ms)"], mean(gaps) * 1000, 1e-6);
  // Packages from what the DB has: one chunk per gap plus the first (2024's n_chunks counts
  // chunk_times − 2, the last data event among them): gaps + 1 + 1 − 2.
  const packages = mean(REQUESTS.map((r) => r.itl.length));
  assertAlmostEquals(es26.summary["Average package per request"], packages, 1e-9);

  // With --compat 2026: today's rows, from the reference's definitions.
  const c26 = (await report("es2026", "2026")).evalscope2026;
  const s = c26.summary;
  const wall = 100.364 - 100.0; // earliest start (failures too) to the latest completion
  assertEquals(s["Test Duration (s)"], pyRound(wall, 4));
  assertEquals(s["Req Throughput (req/s)"], pyRound(3 / wall, 4));
  assertEquals(s["Avg TTFT (ms)"], pyRound(mean(ttfts) * 1000, 2));
  assertEquals(s["Avg Input Tokens"], pyRound(30 / 3, 4));
  assertEquals(s["Output Throughput (tok/s)"], pyRound(9 / wall, 4));
  const row = (label: string) =>
    c26.percentiles.find((p: Record<string, unknown>) => p["Percentiles"] === label);
  // TTFT sorted [48, 54, 60]: 50% is v[int(1.5)] = 54, 99% v[int(2.97)] = 60, min 48.
  assertEquals([row("min")["TTFT (ms)"], row("50%")["TTFT (ms)"], row("99%")["TTFT (ms)"]], [
    48,
    54,
    60,
  ]);
  // Latency sorted [0.15, 0.2, 0.364]: 50% 0.2, max 0.36 (2 decimals).
  assertEquals([row("50%")["Latency (s)"], row("max")["Latency (s)"]], [0.2, 0.36]);

  const es24 = await report("es2024");
  assertMatch(es24.layout, /^evalscope late-2024/);
  // Late 2024 (evalscope-perf.md §4): first_chunk_latency = chunk_times[0] − start, n_chunks =
  // len(chunk_times) − 2 (here the chunks plus the usage chunk).
  assertAlmostEquals(es24.summary["Average time to first token"], mean(ttfts), 1e-9);
  assertAlmostEquals(
    es24.summary["Average package per request"],
    mean(REQUESTS.map((r) => r.itl.length + 2 - 2)),
    1e-9,
  );
  assertAlmostEquals(es24.requestSummary["Mean TTFT (ms)"], mean(ttfts) * 1000, 1e-6);
  // The same requests give the same 2026 rows from either layout.
  const c24 = (await report("es2024", "2026")).evalscope2026;
  assertEquals(c24.summary["Avg TTFT (ms)"], s["Avg TTFT (ms)"]);
  assertEquals(row("50%")["TTFT (ms)"], 54);
});

Deno.test("report: the printed report names the layout it found", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/rows.json`, JSON.stringify({ requests: REQUESTS }));
  await python([
    `${ROOT_DIR}/tests/helpers/make_evalscope_dbs.py`,
    tmp.path,
    `${tmp.path}/rows.json`,
  ]);
  const out = await runCli(["report", `${tmp.path}/es2026`, "--compat", "2026"]);
  assertEquals(out.code, 0, out.stderr);
  assert(out.stdout.includes("Layout: evalscope 2026 result DB"), out.stdout);
  assert(out.stdout.includes("Percentile results:"));
  const bad = await runCli(["report", `${tmp.path}/es2026`, "--compat", "2025"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /--compat: expected one of 2024, 2026/);
});

Deno.test("--compat 2026: a request's row by evalscope 2026's definitions (default_api.py)", () => {
  const start = 1000;
  const chunk = (delta: Record<string, unknown>) =>
    JSON.stringify({ choices: [{ index: 0, delta }] });
  // A role-only first chunk at +10 ms, content at +50 and +60 ms, the usage-only chunk at +61.
  const payloads = [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "a" }),
    chunk({ content: "b" }),
    JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
  ];
  const ours = {
    request: pickleBase64({ model: "m", temperature: 0.5 }),
    start_time: start,
    chunk_times: JSON.stringify([0.010, 0.050, 0.060, 0.061].map((t) => start + t)),
    response_messages: pickleBase64(payloads),
  };
  const m = {
    success: true,
    stream: true,
    startEpochS: start,
    completedEpochS: start + 0.0615,
    latencyS: 0.0615, // ours ends at the stream's end, after the last payload
    promptTokens: 3,
    completionTokens: 2,
  } as RequestMetrics;
  const row = row2026(ours, m, 0);
  // TTFT: the first event with a non-empty `choices`, the role-only one (:153-163); ITL: each
  // later choices-bearing event since the event before it (:165-181); completed: the last data
  // event (:183-186); TPOT (latency − TTFT)/(tokens − 1) (benchmark_util.py:108-111).
  assertAlmostEquals(row.first_chunk_latency!, 0.010, 1e-9);
  const itl = JSON.parse(row.inter_token_latencies!);
  assertEquals(itl.length, 2);
  assertAlmostEquals(itl[0], 0.040, 1e-9);
  assertAlmostEquals(itl[1], 0.010, 1e-9);
  assertAlmostEquals(row.latency!, 0.061, 1e-9);
  assertAlmostEquals(row.completed_time!, start + 0.061, 1e-9);
  assertAlmostEquals(row.time_per_output_token!, (0.061 - 0.010) / 1, 1e-9);
  assertEquals([row.success, row.is_stream, row.prompt_tokens, row.completion_tokens], [
    1,
    1,
    3,
    2,
  ]);
  // The body as JSON text in Python's spacing; the usage-only chunk is not kept.
  assertEquals(row.request, '{"model": "m", "temperature": 0.5}');
  const kept = unpickleBase64(row.response_messages!) as unknown[];
  assertEquals(kept.length, 3);
  // A failure: completed_time 0.0, NULL metrics, no gaps.
  const failed = row2026(ours, { ...m, success: false }, 0);
  assertEquals(
    [failed.success, failed.completed_time, failed.latency, failed.inter_token_latencies],
    [0, 0, null, "[]"],
  );
});

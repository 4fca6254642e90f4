/**
 * `--compat 2026`'s folders (`src/report/evalscope2026/outputs.ts`), from the reference sheet's
 * §4 "Folder layout" (`../shared/reference/evalscope-perf-2026.md`): `rate_<R>_number_<N>/`
 * for an open-loop run, R printed as Python prints a float (`rate_5.0_number_100`); and
 * `--no-timestamp`, which drops the `<YYYYmmdd_HHMMSS>/` level, so that a second run into the
 * same run folder is refused because its DB exists (`utils/db_util.py:131-138`), before any
 * request is sent. The late-2024 layout keeps its own `--no-timestamp` (`<model>_benchmark`,
 * then `_2`).
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { perfArgs, perfRun, type PerfRunOptions } from "./helpers/perf_run.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { pointFolder2026, runFolder2026 } from "../src/report/evalscope2026/outputs.ts";

/** JSON as Python writes it (a bare `NaN` where the stub's one-token replies leave no ITL). */
function pyJson(text: string) {
  return JSON.parse(text.replaceAll(/\bNaN\b/g, "null"));
}

Deno.test("2026 folders: parallel_P_number_N, rate_R_number_N with R as Python's float", () => {
  assertEquals(pointFolder2026(4, 20), "parallel_4_number_20");
  assertEquals(
    [5, 2.5, 0.1, 100].map((r) => pointFolder2026(-1, 100, r)),
    [
      "rate_5.0_number_100",
      "rate_2.5_number_100",
      "rate_0.1_number_100",
      "rate_100.0_number_100",
    ],
  );
  const now = new Date(2026, 11, 1, 8, 19, 6); // local time, as evalscope stamps it
  assertEquals(runFolder2026("out/", undefined, "org/qwen", now), "out/20261201_081906/qwen");
  assertEquals(runFolder2026("out", "my run", "org/qwen", now, false), "out/my_run");
});

Deno.test("--compat 2026 --open-loop e2e: the run folder is rate_5.0_number_3; readers find it", async () => {
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { model: "org/qwen", number: 3, rate: 5, noTestConnection: true },
      args: ["--compat", "2026", "--open-loop"],
    });
    assertEquals(r.code, 0, r.stderr);
    const ts = r.dir.slice(r.outputs.length + 1);
    assert(/^\d{8}_\d{6}$/.test(ts), ts);
    assertEquals([...Deno.readDirSync(`${r.dir}/qwen`)].map((e) => e.name).sort(), [
      "performance_summary.txt",
      "rate_5.0_number_3",
    ]);
    const run = `${r.dir}/qwen/rate_5.0_number_3`;
    const summary = pyJson(await Deno.readTextFile(`${run}/benchmark_summary.json`));
    assertEquals(summary["Total Requests"], 3);
    // An open loop's parallel is forced to -1 in what evalscope writes (arguments.py:648-650).
    const args = JSON.parse(await Deno.readTextFile(`${run}/benchmark_args.json`));
    assertEquals([args.parallel, args.rate, args.number], [-1, 5, 3]);
    // The reader written from the reference (its run loader globs rate_*_number_* too) and
    // `llmperf report` read the folder.
    const py = await new Deno.Command("python3", {
      args: [`${ROOT_DIR}/tests/helpers/evalscope2026_reader.py`, r.outputs],
      stdout: "piped",
    }).output();
    const read = pyJson(new TextDecoder().decode(py.stdout));
    assertEquals(read.runs.map((x: { folder: string }) => x.folder), [run]);
    const rep = await runCli(["report", run, "--compat", "2026"]);
    assertEquals(rep.code, 0, rep.stderr);
    assert(rep.stdout.includes("Layout: evalscope 2026 result DB"), rep.stdout);
  } finally {
    await stub.close();
  }
});

Deno.test("--compat 2026 --open-loop sweep e2e: one rate_R_number_N folder per point", async () => {
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { model: "qwen", number: [2, 3], rate: [2.5, 100], noTestConnection: true },
      args: ["--compat", "2026", "--open-loop", "--sleep-interval", "0"],
    });
    assertEquals(r.code, 0, r.stderr);
    const points = [...Deno.readDirSync(`${r.dir}/qwen`)].filter((e) => e.isDirectory)
      .map((e) => e.name).sort();
    assertEquals(points, ["rate_100.0_number_3", "rate_2.5_number_2"]);
    assertEquals(stub.requests.length, 5);
  } finally {
    await stub.close();
  }
});

/** Run `perf` with `o` into the outputs folder `out` (not a fresh one). */
function perfInto(o: PerfRunOptions, out: string) {
  return runCli([...perfArgs(o), "--outputs-dir", out]);
}

Deno.test("--compat 2026 --no-timestamp e2e: <outputs>/<name>/parallel_P_number_N; a rerun is refused", async () => {
  const stub = chatStub();
  await using tmp = await tempDir();
  try {
    const o = {
      server: stub,
      flags: { model: "org/qwen", number: 2 },
      args: ["--compat", "2026", "--no-timestamp"],
    };
    const first = await perfInto(o, tmp.path);
    assertEquals(first.code, 0, first.stderr);
    const run = `${tmp.path}/qwen/parallel_1_number_2`;
    assert((await Deno.stat(`${run}/benchmark_data.db`)).isFile);
    assertEquals([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["qwen"]);
    const sent = stub.requests.length; // 2 and the endpoint check
    // The same command again: the run folder holds a DB. One line, exit 2, nothing sent (not
    // even the endpoint check, which is on here).
    const again = await perfInto(o, tmp.path);
    assertEquals(again.code, 2, again.stderr);
    const lines = again.stderr.trim().split("\n");
    assertEquals(
      lines[lines.length - 1],
      `llmperf perf: error: --no-timestamp: '${run}' already holds the results of a run ` +
        "(benchmark_data.db); remove it, or give another --name or --outputs-dir",
    );
    assert(!again.stderr.includes("    at "), again.stderr);
    assertEquals(stub.requests.length, sent);
    // A folder without a DB (a run removed by hand) is used as it is.
    await Deno.remove(`${run}/benchmark_data.db`);
    await Deno.remove(`${run}/llmperf_data.db`);
    const third = await perfInto(o, tmp.path);
    assertEquals(third.code, 0, third.stderr);
    assertEquals([...Deno.readDirSync(`${tmp.path}/qwen`)].filter((e) => e.isDirectory).length, 1);
  } finally {
    await stub.close();
  }
});

Deno.test("--compat 2026 --no-timestamp sweep e2e: a rerun is refused before its first point", async () => {
  const stub = chatStub();
  await using tmp = await tempDir();
  try {
    const o = {
      server: stub,
      flags: { model: "qwen", number: [1, 2], parallel: [1, 2], noTestConnection: true },
      args: ["--compat", "2026", "--no-timestamp", "--sleep-interval", "0"],
    };
    const first = await perfInto(o, tmp.path);
    assertEquals(first.code, 0, first.stderr);
    const points = [...Deno.readDirSync(`${tmp.path}/qwen`)].filter((e) => e.isDirectory)
      .map((e) => e.name).sort();
    assertEquals(points, ["parallel_1_number_1", "parallel_2_number_2"]);
    const sent = stub.requests.length;
    const again = await perfInto(o, tmp.path);
    assertEquals(again.code, 2, again.stderr);
    assert(again.stderr.includes(`'${tmp.path}/qwen/parallel_1_number_1' already holds`));
    assertEquals(stub.requests.length, sent);
  } finally {
    await stub.close();
  }
});

Deno.test("--no-timestamp without --compat 2026: <model>_benchmark, then <model>_benchmark_2", async () => {
  const stub = chatStub();
  await using tmp = await tempDir();
  try {
    const o = { server: stub, flags: { model: "qwen", number: 1 }, args: ["--no-timestamp"] };
    for (let i = 0; i < 2; i++) assertEquals((await perfInto(o, tmp.path)).code, 0);
    assertEquals([...Deno.readDirSync(tmp.path)].map((e) => e.name).sort(), [
      "qwen_benchmark",
      "qwen_benchmark_2",
    ]);
  } finally {
    await stub.close();
  }
});

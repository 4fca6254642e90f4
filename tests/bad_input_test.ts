/**
 * Bad input, table-driven: every invalid command line gives one line on stderr that names the
 * problem, exit code 2, and no stack trace, within a few seconds and (where /proc shows it) with
 * bounded memory: inputs that are huge or endless (`/dev/zero`, a 2 GB file with no newline, a
 * rate of one request in 30 years) hit a limit instead of loading or waiting for ever.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";

const URL = "http://127.0.0.1:9/v1/chat/completions"; // never contacted: input is checked first

const CASES: Array<[string, string[], string]> = [
  ["no --model", ["perf", URL, "--prompt", "x"], "--model"],
  ["zero --parallel", ["perf", URL, "--model", "m", "--parallel", "0"], "--parallel"],
  ["negative --parallel", ["perf", URL, "--model", "m", "--parallel", "-4"], "--parallel"],
  ["zero --number", ["perf", URL, "--model", "m", "-n", "0"], "--number"],
  ["negative --number", ["perf", URL, "--model", "m", "--number", "-1"], "--number"],
  ["--rate 0", ["perf", URL, "--model", "m", "--rate", "0"], "--rate"],
  ["negative --rate", ["perf", URL, "--model", "m", "--rate", "-3"], "--rate"],
  ["not a number", ["perf", URL, "--model", "m", "--temperature", "warm"], "--temperature"],
  ["zero --read-timeout", ["perf", URL, "--model", "m", "--read-timeout", "0"], "--read-timeout"],
  [
    "negative --connect-timeout",
    ["perf", URL, "--model", "m", "--connect-timeout", "-1"],
    "--connect-timeout",
  ],
  [
    "zero --total-timeout",
    ["perf", URL, "--model", "m", "--total-timeout", "0"],
    "--total-timeout",
  ],
  ["unknown --api", ["perf", URL, "--model", "m", "--api", "nosuchapi"], "nosuchapi"],
  ["unknown --dataset", ["perf", URL, "--model", "m", "--dataset", "nosuchset"], "nosuchset"],
  [
    "missing plugin file",
    ["perf", URL, "--model", "m", "--api", "./no/such/plugin.ts"],
    "plugin.ts",
  ],
  ["missing dataset file", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "line_by_line",
    "--dataset-path",
    "/no/such/file.txt",
  ], "/no/such/file.txt"],
  ["unreadable dataset (a folder)", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "line_by_line",
    "--dataset-path",
    "/tmp",
  ], "/tmp"],
  [
    "@file missing",
    ["perf", URL, "--model", "m", "--prompt", "@/no/such/prompt.txt"],
    "/no/such/prompt.txt",
  ],
  ["template not JSON", [
    "perf",
    URL,
    "--model",
    "m",
    "--prompt",
    "x",
    "--query-template",
    "{not json",
  ], "--query-template"],
  ["template @file missing", [
    "perf",
    URL,
    "--model",
    "m",
    "--prompt",
    "x",
    "--query-template",
    "@/no/such/t.json",
  ], "/no/such/t.json"],
  ["headers without =", ["perf", URL, "--model", "m", "--headers", "Authorization"], "--headers"],
  ["a non-http URL", ["perf", "ftp://example.com/x", "--model", "m"], "http"],
  ["not a URL", ["perf", "--url", "::::", "--model", "m"], "--url"],
  ["unknown flag", ["perf", URL, "--model", "m", "--parralel", "4"], "--parralel"],
  ["missing flag value", ["perf", URL, "--model", "m", "--parallel"], "--parallel"],
  ["min above max prompt length", [
    "perf",
    URL,
    "--model",
    "m",
    "--min-prompt-length",
    "9",
    "--max-prompt-length",
    "3",
  ], "--min-prompt-length"],
  ["unknown command", ["bench-me"], "bench-me"],
  ["mock: bad port", ["mock", "--port", "99999"], "--port"],
  ["mock: unknown fault", ["mock", "--fault", "gremlins=0.1"], "gremlins"],
  ["mock: bad fault amount", ["mock", "--fault", "http-500=2.5"], "http-500"],
  ["report: missing file", ["report", "/no/such/run"], "/no/such/run"],
  ["--rate far too low", ["perf", URL, "--model", "m", "--rate", "1e-9"], "--rate"],
  ["--parallel beyond 2^53", ["perf", URL, "--model", "m", "--parallel", "1e300"], "--parallel"],
  ["--number beyond 2^53", ["perf", URL, "--model", "m", "-n", "1e20"], "--number"],
  ["--workers beyond the cap", ["perf", URL, "--model", "m", "--workers", "1e9"], "--workers"],
  ["--prompt @/dev/zero", ["perf", URL, "--model", "m", "--prompt", "@/dev/zero"], "64 MiB"],
  [
    "--query-template @/dev/zero",
    ["perf", URL, "--model", "m", "--prompt", "x", "--query-template", "@/dev/zero"],
    "64 MiB",
  ],
  ["--ca-cert /dev/zero", [
    "perf",
    "https://127.0.0.1:9/v1/chat/completions",
    "--model",
    "m",
    "--prompt",
    "x",
    "--ca-cert",
    "/dev/zero",
  ], "64 MiB"],
  ["line_by_line dataset /dev/zero", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "line_by_line",
    "--dataset-path",
    "/dev/zero",
  ], "line 1 is longer than 64 Mi"],
  ["openqa dataset /dev/zero", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "openqa",
    "--dataset-path",
    "/dev/zero",
  ], "line 1 is longer than 64 Mi"],
  ["line_by_line: a 2 GB file with no newline", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "line_by_line",
    "--dataset-path",
    "$SPARSE_TEXT",
  ], "line 1 is longer than 64 Mi"],
  ["custom: a 2 GB file with no newline", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "custom",
    "--dataset-path",
    "$SPARSE_TEXT",
  ], "line 1 is longer than 64 Mi"],
  ["longalpaca: a 2 GB array element", [
    "perf",
    URL,
    "--model",
    "m",
    "--dataset",
    "longalpaca",
    "--dataset-path",
    "$SPARSE_ARRAY",
  ], "element 1 is longer than 64 Mi"],
];

/** Generous for a loaded CI machine; each bug these cases catch took minutes or for ever. */
const TIME_LIMIT_MS = 15_000;
/** Peak resident memory allowed (the bugs grew to gigabytes). */
const RSS_LIMIT_MB = 1024;

/** Peak resident set size of a live process in MB, from /proc (Linux); undefined elsewhere. */
function rssMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Run the CLI, timing it and sampling its memory every 50 ms. */
async function runMeasured(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}/main.ts`, ...args],
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const t0 = performance.now();
  let peakMb = 0;
  const sampler = setInterval(() => peakMb = Math.max(peakMb, rssMb(child.pid) ?? 0), 50);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000); // a hang fails, not stalls CI
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      ms: performance.now() - t0,
      peakMb,
    };
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
  }
}

/** Sparse files (no disk used): 2 GB with no newline, and a JSON array whose string never ends. */
async function hugeFiles(dir: string): Promise<Record<string, string>> {
  const text = `${dir}/no_newline.txt`;
  await Deno.writeTextFile(text, "");
  await Deno.truncate(text, 2 * 1024 ** 3);
  const array = `${dir}/huge_element.json`;
  await Deno.writeTextFile(array, '["');
  await Deno.truncate(array, 2 * 1024 ** 3);
  return { $SPARSE_TEXT: text, $SPARSE_ARRAY: array };
}

for (const [name, args, needle] of CASES) {
  Deno.test(`bad input: ${name} → one line naming it, exit 2`, async () => {
    await using tmp = await tempDir();
    await using files = await tempDir();
    const paths = args.some((a) => a.startsWith("$")) ? await hugeFiles(files.path) : {};
    const outputs = `${tmp.path}/outputs`;
    const r = await runMeasured([
      ...args.map((a) => paths[a] ?? a),
      ...(args[0] === "perf" ? ["--outputs-dir", outputs] : []),
    ]);
    assertEquals(r.code, 2, `exit code; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert(lines[0].includes(needle), `'${needle}' not named in: ${lines[0]}`);
    assert(!/\n\s+at /.test(r.stderr), "no stack trace");
    assert(r.ms < TIME_LIMIT_MS, `took ${Math.round(r.ms)} ms`);
    assert(r.peakMb < RSS_LIMIT_MB, `peak memory ${Math.round(r.peakMb)} MB`);
    let runFolders = 0;
    try {
      runFolders = [...Deno.readDirSync(outputs)].length;
    } catch { /* not created */ }
    assertEquals(runFolders, 0, "no run folder");
  });
}

Deno.test("bad input: --parallel 1e9 -n 5 simply runs the 5 requests, quickly, in little memory", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  await using tmp = await tempDir();
  try {
    const r = await runMeasured([
      "perf",
      `${mock.url}/v1/chat/completions`,
      "--model",
      "m",
      "--prompt",
      "hi",
      "--parallel",
      "1e9",
      "-n",
      "5",
      "--outputs-dir",
      tmp.path,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(/\| Succeed requests +\| 5 /.test(r.stdout), r.stdout);
    assertEquals(mock.stats.requests, 5 + 1, "the 5 requests and the start-up check");
    assert(r.ms < TIME_LIMIT_MS, `took ${Math.round(r.ms)} ms`);
    assert(r.peakMb < RSS_LIMIT_MB, `peak memory ${Math.round(r.peakMb)} MB`);
  } finally {
    await mock.close();
  }
});

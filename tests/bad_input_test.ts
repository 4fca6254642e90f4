/**
 * Bad input, table-driven: every invalid command line gives one line on stderr that names the
 * problem, exit code 2, and no stack trace, within a few seconds and (where /proc shows it) with
 * bounded memory: inputs that are huge or endless (`/dev/zero`, a 2 GB file with no newline, a
 * rate of one request in 30 years) hit a limit instead of loading or waiting for ever.
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";

const URL = "http://127.0.0.1:9/v1/chat/completions"; // never contacted: input is checked first

/** `perf URL --model m ...args`. */
function perf(...args: string[]): string[] {
  return ["perf", URL, "--model", "m", ...args];
}

/** `perf URL --model m --dataset name --dataset-path path`. */
function dataset(name: string, path: string): string[] {
  return perf("--dataset", name, "--dataset-path", path);
}

const LONG_LINE = "line 1 is longer than 64 Mi";

const CASES: Array<[string, string[], string]> = [
  ["no --model", ["perf", URL, "--prompt", "x"], "--model"],
  ["zero --parallel", perf("--parallel", "0"), "--parallel"],
  ["negative --parallel", perf("--parallel", "-4"), "--parallel"],
  ["zero --number", perf("-n", "0"), "--number"],
  ["negative --number", perf("--number", "-1"), "--number"],
  ["--rate 0", perf("--rate", "0"), "--rate"],
  ["negative --rate", perf("--rate", "-3"), "--rate"],
  ["not a number", perf("--temperature", "warm"), "--temperature"],
  ["zero --read-timeout", perf("--read-timeout", "0"), "--read-timeout"],
  ["negative --connect-timeout", perf("--connect-timeout", "-1"), "--connect-timeout"],
  ["zero --total-timeout", perf("--total-timeout", "0"), "--total-timeout"],
  ["unknown --api", perf("--api", "nosuchapi"), "nosuchapi"],
  ["unknown --dataset", perf("--dataset", "nosuchset"), "nosuchset"],
  ["missing plugin file", perf("--api", "./no/such/plugin.ts"), "plugin.ts"],
  ["missing dataset file", dataset("line_by_line", "/no/such/file.txt"), "/no/such/file.txt"],
  ["unreadable dataset (a folder)", dataset("line_by_line", "/tmp"), "/tmp"],
  ["@file missing", perf("--prompt", "@/no/such/prompt.txt"), "/no/such/prompt.txt"],
  ["template not JSON", perf("--prompt", "x", "--query-template", "{not json"), "--query-template"],
  [
    "template @file missing",
    perf("--prompt", "x", "--query-template", "@/no/such/t.json"),
    "/no/such/t.json",
  ],
  ["headers without =", perf("--headers", "Authorization"), "--headers"],
  ["a non-http URL", ["perf", "ftp://example.com/x", "--model", "m"], "http"],
  ["not a URL", ["perf", "--url", "::::", "--model", "m"], "--url"],
  ["unknown flag", perf("--parralel", "4"), "--parralel"],
  ["missing flag value", perf("--parallel"), "--parallel"],
  [
    "min above max prompt length",
    perf("--min-prompt-length", "9", "--max-prompt-length", "3"),
    "--min-prompt-length",
  ],
  ["unknown command", ["bench-me"], "bench-me"],
  ["mock: bad port", ["mock", "--port", "99999"], "--port"],
  ["mock: unknown fault", ["mock", "--fault", "gremlins=0.1"], "gremlins"],
  ["mock: bad fault amount", ["mock", "--fault", "http-500=2.5"], "http-500"],
  ["report: missing file", ["report", "/no/such/run"], "/no/such/run"],
  ["--rate far too low", perf("--rate", "1e-9"), "--rate"],
  ["--parallel beyond 2^53", perf("--parallel", "1e300"), "--parallel"],
  ["--number beyond 2^53", perf("-n", "1e20"), "--number"],
  ["--workers beyond the cap", perf("--workers", "1e9"), "--workers"],
  ["--prompt @/dev/zero", perf("--prompt", "@/dev/zero"), "64 MiB"],
  [
    "--query-template @/dev/zero",
    perf("--prompt", "x", "--query-template", "@/dev/zero"),
    "64 MiB",
  ],
  [
    "--ca-cert /dev/zero",
    ["perf", `https${URL.slice(4)}`, "--model", "m", "--prompt", "x", "--ca-cert", "/dev/zero"],
    "64 MiB",
  ],
  ["line_by_line dataset /dev/zero", dataset("line_by_line", "/dev/zero"), LONG_LINE],
  ["openqa dataset /dev/zero", dataset("openqa", "/dev/zero"), LONG_LINE],
  ["line_by_line: a 2 GB file with no newline", dataset("line_by_line", "$SPARSE_TEXT"), LONG_LINE],
  ["custom: a 2 GB file with no newline", dataset("custom", "$SPARSE_TEXT"), LONG_LINE],
  [
    "longalpaca: a 2 GB array element",
    dataset("longalpaca", "$SPARSE_ARRAY"),
    "element 1 is longer than 64 Mi",
  ],
];

/** Generous for a loaded CI machine; each bug these cases catch took minutes or for ever. */
const TIME_LIMIT_MS = 15_000;
/** Peak resident memory allowed (the bugs grew to gigabytes). */
const RSS_LIMIT_MB = 1024;

/** Run the CLI, timing it and sampling its memory; a hang is killed, failing, not stalling CI. */
function runMeasured(args: string[]) {
  return runCli(args, { sampleMemory: true, killAfterMs: 60_000 });
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
    assert(r.seconds * 1000 < TIME_LIMIT_MS, `took ${Math.round(r.seconds * 1000)} ms`);
    assert(r.peakMb! < RSS_LIMIT_MB, `peak memory ${Math.round(r.peakMb!)} MB`);
    let runFolders = 0;
    try {
      runFolders = [...Deno.readDirSync(outputs)].length;
    } catch { /* not created */ }
    assertEquals(runFolders, 0, "no run folder");
  });
}

Deno.test("bad input: --parallel 1e9 -n 5 simply runs the 5 requests, quickly, in little memory", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { parallel: 1e9, number: 5 },
      sampleMemory: true,
      killAfterMs: 60_000,
    });
    assertEquals(r.code, 0, r.stderr);
    assert(/\| Succeed requests +\| 5 /.test(r.stdout), r.stdout);
    assertEquals(mock.stats.requests, 5 + 1, "the 5 requests and the start-up check");
    assert(r.seconds * 1000 < TIME_LIMIT_MS, `took ${Math.round(r.seconds * 1000)} ms`);
    assert(r.peakMb! < RSS_LIMIT_MB, `peak memory ${Math.round(r.peakMb!)} MB`);
  } finally {
    await mock.close();
  }
});

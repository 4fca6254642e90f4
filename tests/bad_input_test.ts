/**
 * Bad input, table-driven: every invalid command line gives one line on stderr that names the
 * problem, exit code 2, and no stack trace.
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";

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
];

for (const [name, args, needle] of CASES) {
  Deno.test(`bad input: ${name} → one line naming it, exit 2`, async () => {
    await using tmp = await tempDir();
    const r = await runCli([...args, ...(args[0] === "perf" ? ["--outputs-dir", tmp.path] : [])]);
    assertEquals(r.code, 2, `exit code; stderr: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert(lines[0].includes(needle), `'${needle}' not named in: ${lines[0]}`);
    assert(!/\n\s+at /.test(r.stderr), "no stack trace");
    assertEquals([...Deno.readDirSync(tmp.path)].length, 0, "no run folder");
  });
}

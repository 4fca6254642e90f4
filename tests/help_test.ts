/**
 * Help that teaches: `llmperf --help` lists every command with one line and three examples;
 * `llmperf perf --help` ends with examples of the common cases, and every example is a command
 * line the parser accepts; an unknown flag or command gets the closest one ("did you mean").
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli } from "./helpers/cli.ts";
import { COMMANDS } from "../src/cli/help.ts";
import { parsePerfArgs } from "../src/cli/perf_flags.ts";
import { closest, didYouMean, editDistance } from "../src/util/closest.ts";

/** The commands of an "Examples:" section: continuation lines joined, comments dropped. */
function examples(text: string): string[] {
  const section = text.slice(text.lastIndexOf("Examples:") + "Examples:".length);
  return section.replace(/\\\n\s*/g, "").split("\n").map((l) => l.trim())
    .filter((l) => l.startsWith("llmperf "));
}

/** Shell words of one command line (double quotes only, as the examples use). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

Deno.test("help: llmperf --help lists each command with one line, and three examples", async () => {
  const r = await runCli(["--help"]);
  assertEquals(r.code, 0, r.stderr);
  const commands = r.stdout.slice(
    r.stdout.indexOf("Commands:"),
    r.stdout.indexOf("\n\n", r.stdout.indexOf("Commands:")),
  );
  const lines = commands.split("\n");
  assertEquals(lines.length, 1 + COMMANDS.length, commands);
  for (const [name, , help] of COMMANDS) {
    const line = lines.filter((l) => l.startsWith(`  llmperf ${name}`));
    assertEquals(line.length, 1, name);
    assert(line[0].trimEnd().endsWith(help), line[0]);
  }
  assertEquals(COMMANDS.map(([n]) => n), [
    "perf",
    "doctor",
    "mock",
    "report",
    "merge",
    "export",
    "demo",
  ]);
  const ex = examples(r.stdout);
  assertEquals(ex.length, 3, ex.join("\n"));
  for (const e of ex) {
    const [, command, ...args] = words(e);
    assert(COMMANDS.some(([n]) => n === command), e);
    if (command === "perf") parsePerfArgs(args); // throws on a flag that does not exist
  }
  // No arguments at all: the same help, and exit 2 (nothing was asked).
  const none = await runCli([]);
  assertEquals([none.code, none.stdout], [2, r.stdout]);
});

Deno.test("help: perf --help ends with the common cases, each a command that parses", async () => {
  const r = await runCli(["perf", "--help"]);
  assertEquals(r.code, 0, r.stderr);
  const tail = r.stdout.slice(r.stdout.lastIndexOf("Examples:"));
  assert(r.stdout.trimEnd().endsWith(tail.trimEnd()), "the examples come last");
  const ex = examples(r.stdout);
  const has = (re: RegExp) => ex.some((e) => re.test(e));
  assert(has(/v1\/chat\/completions .*--stream/), "vLLM chat streaming");
  assert(has(/--rate 1 2 4 8/), "a rate sweep");
  assert(has(/--slo "ttft_p99<500ms/), "an SLO gate");
  assert(has(/--api https:\/\/\S+\.ts/), "a plugin by URL");
  for (const e of ex) {
    const [, command, ...args] = words(e);
    assertEquals(command, "perf", e);
    const parsed = parsePerfArgs(args); // every flag exists and every value is of its kind
    if (e.includes("--rate 1 2 4 8")) assertEquals(parsed.sweep.rate, [1, 2, 4, 8]);
  }
});

Deno.test("suggest: edit distance counts insertions, deletions, substitutions and swaps", () => {
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("stream", "stream"), 0);
  assertEquals(editDistance("paralel", "parallel"), 1);
  assertEquals(editDistance("strema", "stream"), 1); // a swap of neighbours
  assertEquals(closest("--max-token", ["--max-tokens", "--min-tokens", "--model"]), [
    "--max-tokens",
  ]);
  assertEquals(closest("--Max_Tokens", ["--max-tokens"]), ["--max-tokens"]); // case, _ and -
  assertEquals(closest("--mx-tokens", ["--max-tokens", "--min-tokens"]), ["--max-tokens"]);
  assertEquals(closest("--frobnicate", ["--max-tokens", "--parallel"]), []);
  assertEquals(closest("-x", ["-n"]), []); // too short to guess
  assertEquals(closest("--itl", ["--ttft-ms", "--itl-ms"]), ["--itl-ms"]); // cut short
  assertEquals(didYouMean("pref", ["perf", "mock"]), " (did you mean perf?)");
  assertEquals(
    didYouMean("--top-q", ["--top-p", "--top-k"]),
    " (did you mean --top-p or --top-k?)",
  );
});

Deno.test("suggest: an unknown flag or command names the closest, in one line, exit 2", async () => {
  const cases: Array<[string[], string]> = [
    [
      ["perf", "--model", "m", "--max-token", "5"],
      "unknown option '--max-token' (did you mean --max-tokens?)",
    ],
    [["perf", "--model", "m", "--max_tokens", "5"], "(did you mean --max-tokens?)"],
    [
      ["perf", "--model", "m", "--paralel=4"],
      "unknown option '--paralel=4' (did you mean --parallel?)",
    ],
    [["perf", "--model", "m", "--no-test-conection"], "(did you mean --no-test-connection?)"],
    [["mock", "--itl", "5"], "(did you mean --itl-ms?)"],
    [["pref"], "unknown command 'pref' (did you mean perf?)"],
    [["doctr", "http://h"], "unknown command 'doctr' (did you mean doctor?)"],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert(r.stderr.includes(want), `${r.stderr} (want ${want})`);
  }
  const far = await runCli(["perf", "--model", "m", "--frobnicate"]);
  assertEquals(far.code, 2);
  assert(!far.stderr.includes("did you mean"), far.stderr);
});

import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  addFlags,
  type FlagTable,
  parsePerfArgs,
  PERF_FLAGS,
  readFlags,
} from "../src/cli/perf_flags.ts";
import { parseStrict, strictCommand } from "../src/cli/commander.ts";
import { flagTableCells, readmeTableCells } from "../src/cli/flag_table.ts";
import { UsageError } from "../src/errors.ts";
import { runCli } from "./helpers/cli.ts";

Deno.test("flags: both value forms, -n, multi-value flags, boolean, positional URL", () => {
  const { config } = parsePerfArgs([
    "http://h:1/v1/chat/completions",
    "--model=qwen",
    "-n",
    "20",
    "--parallel=4",
    "--headers",
    "X-A=1",
    "X-B=a=b",
    "--stop",
    "</s>",
    "END",
    "--stop-token-ids",
    "1",
    "2",
    "--stream",
    "--temperature",
    "0.7",
    "--top-p=0.9",
    "--max-tokens",
    "64",
    "--api-key",
    "sk-1",
  ]);
  assertEquals(config, {
    url: "http://h:1/v1/chat/completions",
    model: "qwen",
    number: 20,
    parallel: 4,
    headers: { "X-A": "1", "X-B": "a=b" },
    stop: ["</s>", "END"],
    stopTokenIds: [1, 2],
    stream: true,
    temperature: 0.7,
    topP: 0.9,
    maxTokens: 64,
    apiKey: "sk-1",
  });
});

Deno.test("flags: --rate -1 and a negative value after a flag", () => {
  const { config } = parsePerfArgs(["--model", "m", "--rate", "-1"]);
  assertEquals(config.rate, -1);
});

Deno.test("flags: several values make a sweep list", () => {
  const { config, sweep } = parsePerfArgs([
    "--model",
    "m",
    "--parallel",
    "1",
    "8",
    "--number",
    "10",
    "80",
  ]);
  assertEquals(sweep.parallel, [1, 8]);
  assertEquals(sweep.number, [10, 80]);
  assertEquals(config.parallel, 1);
});

Deno.test("flags: every flag of the reference's section 1 is accepted", () => {
  const names = new Set(
    PERF_FLAGS.flatMap((f) => f.flags.split(/[ ,]+/).filter((s) => s.startsWith("-"))),
  );
  for (
    const f of [
      "--model",
      "--url",
      "--name",
      "--api",
      "--api-key",
      "--debug",
      "--connect-timeout",
      "--read-timeout",
      "--headers",
      "-n",
      "--number",
      "--parallel",
      "--rate",
      "--log-every-n-query",
      "--max-prompt-length",
      "--min-prompt-length",
      "--prompt",
      "--query-template",
      "--dataset",
      "--dataset-path",
      "--tokenizer-path",
      "--frequency-penalty",
      "--logprobs",
      "--max-tokens",
      "--min-tokens",
      "--n-choices",
      "--seed",
      "--stop",
      "--stop-token-ids",
      "--stream",
      "--temperature",
      "--top-p",
      "--wandb-api-key",
      "--outputs-dir",
    ]
  ) assert(names.has(f), `missing ${f}`);
});

for (
  const [args, needle] of [
    [["--model", "m", "--bogus"], "unknown option '--bogus'"],
    [["--model", "m", "--parallel", "x"], "--parallel: expected an integer, got 'x'"],
    [["--model", "m", "--temperature", "hot"], "--temperature: expected a number, got 'hot'"],
    [["--model", "m", "--headers", "novalue"], "--headers: expected key=value, got 'novalue'"],
    [["--model", "m", "--parallel"], "--parallel"],
    [["http://a", "--url", "http://b", "--model", "m"], "the URL is given twice"],
    [["http://a", "http://b", "--model", "m"], "too many arguments"],
  ] as const
) {
  Deno.test(`flags: bad input '${args.join(" ")}' is one UsageError naming it`, () => {
    const e = assertThrows(() => parsePerfArgs([...args]), UsageError, needle);
    assertEquals(e.message.includes("\n"), false);
  });
}

Deno.test("cli: an unknown flag prints one line on stderr and exits 2", async () => {
  const r = await runCli(["perf", "--model", "m", "--nope"]);
  assertEquals(r.code, 2);
  assertEquals(r.stderr.trim().split("\n").length, 1);
  assert(r.stderr.includes("--nope"), r.stderr);
  assertEquals(r.stdout, "");
});

Deno.test("cli: perf --help lists the flags under the reference's groups", async () => {
  const r = await runCli(["perf", "--help"]);
  assertEquals(r.code, 0);
  const groups = ["Basic:", "Network:", "Load:", "Prompt:", "Dataset:", "Model", "Storage:"];
  let last = -1;
  for (const g of groups) {
    const at = r.stdout.indexOf(g);
    assert(at > last, `group ${g} missing or out of order`);
    last = at;
  }
  for (const f of PERF_FLAGS) assert(r.stdout.includes(f.flags.split(" ")[0]), f.flags);
});

Deno.test("cli: perf --help prints every flag with its help and default, in table order", async () => {
  const r = await runCli(["perf", "--help"]);
  assertEquals(r.code, 0);
  const text = r.stdout.replace(/\s+/g, " "); // commander wraps lines at 80 columns
  let last = -1;
  for (const f of PERF_FLAGS) {
    const at = text.indexOf(`${f.flags} ${f.help}`.replace(/\s+/g, " "));
    assert(at > last, `${f.flags}: missing or out of order`);
    last = at;
  }
  // Defaults appear in brackets, taken from the table (not retyped in the help text).
  for (
    const s of [
      "--max-tokens <n...> max_tokens;",
      "inclusive) [2048]",
      "--rate <r...>",
      "[./outputs]",
    ]
  ) {
    assert(text.includes(s), s);
  }
  assert(/--model <name> model name sent in the request body[^[]*\(required\)/.test(text));
});

Deno.test("readme: the flag table is the one the settings table generates", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assertEquals(
    readmeTableCells(readme),
    flagTableCells(),
    "README.md's flag table differs from src/config/settings.ts: run `deno task flag-table`",
  );
  // Every flag is in it, once.
  const text = readmeTableCells(readme).map((row) => row[1]).join(" ");
  for (const f of PERF_FLAGS) {
    const long = f.flags.split(/[ ,]+/).find((w) => w.startsWith("--"))!;
    assertEquals(text.match(new RegExp("`" + long + "[ `]", "g"))?.length, 1, long);
  }
});

// The value forms issues 14 and 18 need, on a table made for the test: the builder handles them
// without any flag of them existing yet.
const FORMS: FlagTable = {
  stream: { kind: "bool", group: "model", help: "stream", negatable: "do not stream" },
  noTimestamp: { kind: "bool", group: "storage", help: "no timestamp level" },
  maxTokens: { kind: "ints", group: "model", help: "one value, or MIN MAX", arity: [1, 2] },
  stop: { kind: "strings", group: "model", help: "stop words", arity: [0, Infinity] },
  number: { kind: "int", group: "load", help: "total", aliases: ["-n", "--num"], sweep: true },
  datasetArgs: { kind: "json", group: "dataset", help: "JSON for the dataset" },
  topK: { kind: "int", group: "model", help: "top_k", aliases: ["--top_k"] },
};

function parseForms(args: string[]) {
  const cmd = strictCommand("t", "test");
  const options = addFlags(cmd, FORMS);
  parseStrict(cmd, args);
  return readFlags(cmd, FORMS, options);
}

Deno.test("flags: negatable, optional-value, ranged, aliased, JSON and sweep forms from a table", () => {
  assertEquals(parseForms([]).values, {});
  assertEquals(parseForms(["--stream"]).values, { stream: true });
  assertEquals(parseForms(["--no-stream"]).values, { stream: false });
  assertEquals(parseForms(["--no-timestamp"]).values, { noTimestamp: true });
  assertEquals(parseForms(["--max-tokens", "10"]).values, { maxTokens: [10] });
  assertEquals(parseForms(["--max-tokens", "10", "20"]).values, { maxTokens: [10, 20] });
  assertEquals(parseForms(["--stop"]).values, { stop: [] });
  assertEquals(parseForms(["--stop", "a", "b"]).values, { stop: ["a", "b"] });
  const sweep = parseForms(["-n", "1", "2"]);
  assertEquals([sweep.values, sweep.sweep], [{ number: 1 }, { number: [1, 2] }]);
  assertEquals(parseForms(["--num", "5"]).values, { number: 5 });
  assertEquals(parseForms(["--top_k", "3"]).values, { topK: 3 });
  assertEquals(parseForms(["--dataset-args", '{"speed": 2}']).values, {
    datasetArgs: { speed: 2 },
  });
  for (
    const [args, needle] of [
      [["--max-tokens", "1", "2", "3"], "--max-tokens: expected 1 to 2 values, got 3"],
      [["--dataset-args", "[]"], "--dataset-args: must be a JSON object, got an array"],
      [["--top_k", "x"], "--top-k: expected an integer, got 'x'"],
    ] as const
  ) {
    assertThrows(() => parseForms([...args]), UsageError, needle);
  }
  // Help: the --no- form is listed, a long alias is not, the optional value is in brackets.
  const cmd = strictCommand("t", "test");
  addFlags(cmd, FORMS);
  const help = cmd.helpInformation();
  for (const s of ["--no-stream", "do not stream", "--stop [s...]", "-n, --number <n...>"]) {
    assert(help.includes(s), s);
  }
  assert(!help.includes("--top_k") && !help.includes("--num "), help);
});

Deno.test("perf flags: --url given several times is every endpoint, in order", () => {
  const a = "http://a/v1/chat/completions";
  const b = "http://b/v1/chat/completions";
  const p = parsePerfArgs([
    "--model",
    "m",
    "--url",
    a,
    "--url",
    b,
    "--url-strategy",
    "least-in-flight",
  ]);
  assertEquals([p.config.url, p.config.urls, p.config.urlStrategy], [a, [a, b], "least-in-flight"]);
  assertEquals(parsePerfArgs(["--model", "m", "--url", a]).config.urls, undefined);
  assertThrows(
    () => parsePerfArgs([a, "--model", "m", "--url", a, "--url", b]),
    UsageError,
    "given twice",
  );
});

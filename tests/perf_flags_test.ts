import { assert, assertEquals, assertThrows } from "./assert.ts";
import { parsePerfArgs, PERF_FLAGS } from "../src/cli/perf_flags.ts";
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

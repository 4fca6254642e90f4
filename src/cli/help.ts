/**
 * The help texts that teach: `llmperf --help` (the commands, one line each, and three examples)
 * and the examples that end `llmperf perf --help` (the common cases: vLLM chat streaming, a rate
 * sweep, an SLO gate in CI, a plugin by URL). Every example is a command that parses: a test runs
 * each through the flag parser.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/** The commands, each with one line of help, in the order `llmperf --help` lists them. */
export const COMMANDS: ReadonlyArray<readonly [name: string, args: string, help: string]> = [
  ["perf", "[url] --model NAME [options]", "run a benchmark (evalscope perf's flags)"],
  ["doctor", "<url> [--model NAME]", "check an endpoint: what llmperf can measure there"],
  ["mock", "[options]", "run the OpenAI-compatible mock server"],
  ["report", "<db file or run folder>", "recompute the tables from a result DB"],
  ["merge", "<shards...> --output DIR", "merge the shards of one run (--shard) into one"],
  ["export", "<db file or run folder>", "per-request records and summary as CSV/Parquet"],
  ["demo", "", "benchmark a built-in mock server (no GPU needed)"],
];

/** The command names, for "did you mean". */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map(([name]) => name);

/** `llmperf --help`. */
export function usageText(): string {
  const left = COMMANDS.map(([name, args]) => `llmperf ${name}${args ? " " + args : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = COMMANDS.map(([, , help], i) => `  ${left[i].padEnd(width)}${help}`);
  return `llmperf ${VERSION}: load testing and benchmarking for LLM inference services

Commands:
${lines.join("\n")}

  llmperf <command> --help   the command's options and examples
  llmperf --version          llmperf's, Deno's and V8's versions

Examples:
  # try it, with no server
  llmperf demo
  # check a vLLM server before benchmarking it
  llmperf doctor http://gpu-box:8000/v1/chat/completions
  # 8 requests in flight, 200 in all, streamed
  llmperf perf http://gpu-box:8000/v1/chat/completions --model Qwen/Qwen2.5-7B-Instruct \\
    --stream --parallel 8 --number 200
`;
}

/** The examples at the end of `llmperf perf --help`. */
export const PERF_EXAMPLES = `
Examples:
  # vLLM (or SGLang, TGI, any OpenAI-compatible server): chat, streamed, TTFT/TPOT/ITL
  llmperf perf http://gpu-box:8000/v1/chat/completions --model Qwen/Qwen2.5-7B-Instruct \\
    --stream --parallel 8 --number 200 --dataset openqa --dataset-path open_qa.jsonl

  # a rate sweep: 1, 2, 4 and 8 requests/s (Poisson arrivals), at most 64 in flight
  llmperf perf http://gpu-box:8000/v1/chat/completions --model my-model --stream \\
    --prompt "Write a story about a robot" --max-tokens 256 --rate 1 2 4 8 --parallel 64 -n 200

  # an SLO gate in CI: exit code 3 when a goal is missed
  llmperf perf http://gpu-box:8000/v1/chat/completions --model my-model --stream -n 100 \\
    --slo "ttft_p99<500ms,tpot_mean<50ms,error_rate<1%"

  # a plugin by URL, the other settings from a file
  llmperf perf --config run.yaml --api https://plugins.example.com/my_api.ts

  # the settings a command resolves to, as a file --config reads
  llmperf perf --config run.yaml --parallel 16 --print-config
`;

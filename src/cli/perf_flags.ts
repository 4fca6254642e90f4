/**
 * The `perf` command's flags: `evalscope perf`'s names, defaults and value forms, grouped as its
 * documentation groups them. One table drives both the parser (commander) and the help text; the
 * parsed values become a {@link PerfConfigInput} with only the flags that were given.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { parseStrict, strictCommand } from "./commander.ts";
import { camelKey, DEFAULTS, type PerfConfig, type PerfConfigInput } from "../config.ts";
import { UsageError } from "../errors.ts";

type Kind =
  | "string"
  | "int"
  | "number"
  | "bool"
  | "strings"
  | "ints"
  | "kv"
  | "sweep-int"
  | "sweep-number";

/** One flag of `llmperf perf`. */
export interface FlagDef {
  /** Config key it sets. */
  key: keyof PerfConfig;
  /** Commander flag spec, e.g. `-n, --number <n...>`. */
  flags: string;
  /** How its value is read. */
  kind: Kind;
  /** Help group. */
  group: string;
  /** One-line help. */
  help: string;
}

const G = {
  basic: "Basic:",
  network: "Network:",
  load: "Load:",
  prompt: "Prompt:",
  dataset: "Dataset:",
  model: "Model (copied into the request body when given):",
  storage: "Storage:",
  results: "Results:",
} as const;

/** Every flag of `llmperf perf`, in help order. */
export const PERF_FLAGS: readonly FlagDef[] = [
  {
    key: "model",
    flags: "--model <name>",
    kind: "string",
    group: G.basic,
    help: "model name sent in the request body (required)",
  },
  {
    key: "url",
    flags: "--url <url>",
    kind: "string",
    group: G.basic,
    help: `endpoint; may also be the first argument [${DEFAULTS.url}]`,
  },
  {
    key: "name",
    flags: "--name <name>",
    kind: "string",
    group: G.basic,
    help: "run name, names the result folder [<model>_benchmark_<YYYYMMDD_HHMMSS>]",
  },
  {
    key: "api",
    flags: "--api <api>",
    kind: "string",
    group: G.basic,
    help: "API plugin: openai, completions, dashscope, zhipu, custom, or a .ts/.js file or " +
      "http(s) URL [openai]",
  },
  {
    key: "apiKey",
    flags: "--api-key <key>",
    kind: "string",
    group: G.basic,
    help: "sent as 'Authorization: Bearer <key>' (never written to disk); unset: " +
      "$LLMPERF_API_KEY, else $OPENAI_API_KEY (keeps the key out of ps)",
  },
  {
    key: "debug",
    flags: "--debug",
    kind: "bool",
    group: G.basic,
    help: "log every request and response",
  },
  {
    key: "connectTimeout",
    flags: "--connect-timeout <s>",
    kind: "number",
    group: G.network,
    help: `seconds to connect [${DEFAULTS.connectTimeout}]`,
  },
  {
    key: "readTimeout",
    flags: "--read-timeout <s>",
    kind: "number",
    group: G.network,
    help: `longest silence between response bytes, seconds [${DEFAULTS.readTimeout}]`,
  },
  {
    key: "headers",
    flags: "--headers <k=v...>",
    kind: "kv",
    group: G.network,
    help: "extra headers on every request: --headers k1=v1 k2=v2",
  },
  {
    key: "transport",
    flags: "--transport <kind>",
    kind: "string",
    group: G.network,
    help: "socket (HTTP/1.1 over raw sockets), fetch, or auto: socket unless a proxy is set " +
      "in the environment [auto]",
  },
  {
    key: "caCert",
    flags: "--ca-cert <path>",
    kind: "string",
    group: G.network,
    help: "PEM file of CA certificates to trust besides the default roots (https)",
  },
  {
    key: "totalTimeout",
    flags: "--total-timeout <s>",
    kind: "number",
    group: G.network,
    help: "longest time for a whole request, seconds [no limit]",
  },
  {
    key: "noTestConnection",
    flags: "--no-test-connection",
    kind: "bool",
    group: G.network,
    help: "skip the test request that checks the endpoint before the run",
  },
  {
    key: "number",
    flags: "-n, --number <n...>",
    kind: "sweep-int",
    group: G.load,
    help: "total requests; several values run a sweep, paired in order with --parallel/--rate " +
      "[one pass over the dataset; 1 with --prompt]",
  },
  {
    key: "parallel",
    flags: "--parallel <n...>",
    kind: "sweep-int",
    group: G.load,
    help: "requests in flight (closed loop), or their cap with --rate; several values run a " +
      `sweep (--parallel 1 8 32 --number 10 80 320) [${DEFAULTS.parallel}]`,
  },
  {
    key: "rate",
    flags: "--rate <r...>",
    kind: "sweep-number",
    group: G.load,
    help: "requests per second, Poisson arrivals (seeded by --seed); -1 sends all at once; " +
      "several values run a sweep [-1]",
  },
  {
    key: "logEveryNQuery",
    flags: "--log-every-n-query <n>",
    kind: "int",
    group: G.load,
    help: `progress log period, in requests [${DEFAULTS.logEveryNQuery}]`,
  },
  {
    key: "workers",
    flags: "--workers <n>",
    kind: "int",
    group: G.load,
    help: "threads that send requests, each with its own event loop; 0 sends from the main " +
      "thread [one per core, at most --parallel]",
  },
  {
    key: "maxPromptLength",
    flags: "--max-prompt-length <n>",
    kind: "int",
    group: G.prompt,
    help: "drop dataset prompts this long or longer: tokens with --tokenizer-path, else " +
      "characters; random: the longest prompt [no limit; random: 1024]",
  },
  {
    key: "minPromptLength",
    flags: "--min-prompt-length <n>",
    kind: "int",
    group: G.prompt,
    help: "drop dataset prompts this long or shorter: tokens with --tokenizer-path, else " +
      "characters; random: the shortest prompt [0]",
  },
  {
    key: "prompt",
    flags: "--prompt <text>",
    kind: "string",
    group: G.prompt,
    help: "a fixed prompt, or @path to read it from a file; overrides --dataset",
  },
  {
    key: "queryTemplate",
    flags: "--query-template <json>",
    kind: "string",
    group: G.prompt,
    help: "JSON request body template, or @path of a JSON file; %m = model, %p = prompt; " +
      "given flags override its fields, its stream switches streaming",
  },
  {
    key: "dataset",
    flags: "--dataset <name>",
    kind: "string",
    group: G.dataset,
    help: "openqa, longalpaca, line_by_line, custom, speed_benchmark, random, or a .ts/.js " +
      "file or http(s) URL [openqa]",
  },
  {
    key: "datasetPath",
    flags: "--dataset-path <path>",
    kind: "string",
    group: G.dataset,
    help: "the dataset's data file; openqa, longalpaca: downloaded from ModelScope when " +
      "absent; custom: FILE or FILE#field",
  },
  {
    key: "tokenizerPath",
    flags: "--tokenizer-path <dir>",
    kind: "string",
    group: G.model,
    help: "Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json): counts " +
      "tokens when a response has no usage, and prompt lengths",
  },
  {
    key: "applyChatTemplate",
    flags: "--apply-chat-template",
    kind: "bool",
    group: G.prompt,
    help: "count prompts as the tokenizer's chat template renders them (what a chat server " +
      "tokenizes); needs --tokenizer-path",
  },
  {
    key: "prefixLength",
    flags: "--prefix-length <n>",
    kind: "int",
    group: G.dataset,
    help: "random: length of the prefix all prompts share (tokens, or characters) [0]",
  },
  {
    key: "frequencyPenalty",
    flags: "--frequency-penalty <x>",
    kind: "number",
    group: G.model,
    help: "frequency_penalty",
  },
  { key: "logprobs", flags: "--logprobs", kind: "bool", group: G.model, help: "logprobs" },
  {
    key: "maxTokens",
    flags: "--max-tokens <n>",
    kind: "int",
    group: G.model,
    help: `max_tokens [${DEFAULTS.maxTokens}]`,
  },
  { key: "minTokens", flags: "--min-tokens <n>", kind: "int", group: G.model, help: "min_tokens" },
  {
    key: "nChoices",
    flags: "--n-choices <n>",
    kind: "int",
    group: G.model,
    help: "n (choices per request)",
  },
  {
    key: "seed",
    flags: "--seed <n>",
    kind: "int",
    group: G.model,
    help: `seed, also of the arrival schedule [${DEFAULTS.seed}]`,
  },
  {
    key: "stop",
    flags: "--stop <s...>",
    kind: "strings",
    group: G.model,
    help: "stop sequences: --stop a b",
  },
  {
    key: "stopTokenIds",
    flags: "--stop-token-ids <id...>",
    kind: "ints",
    group: G.model,
    help: "stop_token_ids",
  },
  {
    key: "stream",
    flags: "--stream",
    kind: "bool",
    group: G.model,
    help: "stream the response (SSE), with stream_options.include_usage",
  },
  {
    key: "temperature",
    flags: "--temperature <x>",
    kind: "number",
    group: G.model,
    help: "temperature",
  },
  { key: "topP", flags: "--top-p <x>", kind: "number", group: G.model, help: "top_p" },
  {
    key: "extraArgs",
    flags: "--extra-args <json>",
    kind: "string",
    group: G.model,
    help: "JSON object merged into every request body, over everything else: " +
      `--extra-args '{"ignore_eos": true}'`,
  },
  {
    key: "wandbApiKey",
    flags: "--wandb-api-key <key>",
    kind: "string",
    group: G.storage,
    help: "log the run to Weights & Biases",
  },
  {
    key: "outputsDir",
    flags: "--outputs-dir <dir>",
    kind: "string",
    group: G.storage,
    help: `folder for results [${DEFAULTS.outputsDir}]`,
  },
  {
    key: "slo",
    flags: "--slo <goals>",
    kind: "string",
    group: G.results,
    help: "service-level goals, e.g. 'ttft_p99<500ms,tpot_mean<50ms,error_rate<1%': pass/fail " +
      "per goal, goodput in the summary, exit code 3 when a goal fails",
  },
];

/** The commander definition of `perf` (parsing only; errors are thrown, not printed). */
export function perfCommand(): Command {
  const cmd = strictCommand("perf", "Benchmark an LLM inference endpoint")
    .usage("[url] --model NAME [options]")
    .argument("[url]", "endpoint (same as --url)");
  for (const f of PERF_FLAGS) cmd.addOption(new Option(f.flags, f.help).helpGroup(f.group));
  cmd.addOption(
    new Option("--json", "print only the summary, as JSON, on stdout (logs stay on stderr)")
      .helpGroup(G.results),
  );
  return cmd;
}

function flagOf(def: FlagDef): string {
  return def.flags.split(",").pop()!.trim().split(" ")[0];
}

function toInt(flag: string, s: string): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isInteger(v)) {
    throw new UsageError(`${flag}: expected an integer, got '${s}'`);
  }
  return v;
}

function toNumber(flag: string, s: string): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v)) {
    throw new UsageError(`${flag}: expected a number, got '${s}'`);
  }
  return v;
}

/** Parse `k=v` pairs (split at the first `=`). */
export function parseKeyValues(flag: string, items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: expected key=value, got '${item}'`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

/** The parsed command line: one config, plus any sweep values (several --parallel/--number/--rate). */
export interface ParsedPerfArgs {
  /** Flags given, as config input. Sweep flags hold their first value. */
  config: PerfConfigInput;
  /** Every value of the flags that take several (for sweeps). */
  sweep: { parallel?: number[]; number?: number[]; rate?: number[] };
  /** `--json`: print only the summary, as JSON, on stdout. */
  json: boolean;
}

/** Parse `perf`'s arguments. Throws {@link UsageError} (one line, naming the flag) on bad input. */
export function parsePerfArgs(args: string[]): ParsedPerfArgs {
  const cmd = perfCommand();
  parseStrict(cmd, args);
  const opts = cmd.opts() as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  const sweep: ParsedPerfArgs["sweep"] = {};
  for (const def of PERF_FLAGS) {
    // Commander stores `--no-x` as `x: false` (and `x: true` when absent).
    const negated = def.flags.startsWith("--no-");
    const raw = negated
      ? (opts[camelKey(def.flags.slice(5).split(" ")[0])] === false ? true : undefined)
      : opts[def.key];
    if (raw === undefined) continue;
    const flag = flagOf(def);
    switch (def.kind) {
      case "string":
      case "bool":
        config[def.key] = raw;
        break;
      case "int":
        config[def.key] = toInt(flag, raw as string);
        break;
      case "number":
        config[def.key] = toNumber(flag, raw as string);
        break;
      case "strings":
        config[def.key] = raw;
        break;
      case "ints":
        config[def.key] = (raw as string[]).map((s) => toInt(flag, s));
        break;
      case "kv":
        config[def.key] = parseKeyValues(flag, raw as string[]);
        break;
      case "sweep-int":
      case "sweep-number": {
        const values = (raw as string[]).map((s) =>
          def.kind === "sweep-int" ? toInt(flag, s) : toNumber(flag, s)
        );
        config[def.key] = values[0];
        (sweep as Record<string, number[]>)[def.key] = values;
        break;
      }
    }
  }
  const [url] = cmd.args;
  if (url !== undefined) {
    if (config.url !== undefined && config.url !== url) {
      throw new UsageError(`the URL is given twice ('${url}' and --url '${config.url}')`);
    }
    config.url = url;
  }
  return { config: config as PerfConfigInput, sweep, json: opts.json === true };
}

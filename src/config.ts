/**
 * The run's typed configuration: one place for defaults, key normalisation (camelCase or
 * snake_case) and validation. The CLI and {@link resolveConfig} callers share it, so
 * `runPerfBenchmark(config)` and `llmperf perf` accept exactly the same settings.
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { parseSlo } from "./config/slo_goals.ts";
import { parseExtraArgs } from "./load/template.ts";
import { TRANSPORT_CHOICES, type TransportChoice } from "./transport/create.ts";
import { headerProblem } from "./util/http_header.ts";

/** Every setting of one benchmark run. Names follow `evalscope perf` flags in camelCase. */
export interface PerfConfig {
  /** Model name sent in the request body (required). */
  model: string;
  /** Endpoint URL. Chat or plain completions is chosen from the path (see README). */
  url: string;
  /** Run name; names the result folder. Default `<model>_benchmark_<YYYYMMDD_HHMMSS>`. */
  name?: string;
  /** API plugin: a built-in name, a `.ts`/`.js` file path or an http(s) URL. */
  api: string;
  /**
   * Sent as `Authorization: Bearer <key>`. Unset: `$LLMPERF_API_KEY`, else `$OPENAI_API_KEY`
   * (so the key need not be on the command line, where `ps` shows it).
   */
  apiKey?: string;
  /** Log every request body and response event. */
  debug: boolean;
  /** Seconds to wait for a connection (and, with `fetch`, for response headers). */
  connectTimeout: number;
  /** Longest silence between bytes of a response, in seconds. */
  readTimeout: number;
  /** Extra headers on every request. */
  headers: Record<string, string>;
  /**
   * How requests are sent: `socket` (HTTP/1.1 over raw sockets, the cheapest per token), `fetch`,
   * or `auto`: socket, unless the environment sets a proxy for the URL.
   */
  transport: TransportChoice;
  /** Transport worker threads; unset: one per core, at most the requests in flight; 0: none. */
  workers?: number;
  /** A PEM file of CA certificates to trust besides the default roots (https). */
  caCert?: string;
  /** Longest time for a whole request, send to last byte, in seconds (unset: no limit). */
  totalTimeout?: number;
  /** Skip the one test request that checks the endpoint before the run. */
  noTestConnection: boolean;
  /** Total requests; unset = one pass over the dataset (or 1 with `prompt`). */
  number?: number;
  /** Requests kept in flight (closed loop), or the cap on in-flight requests with `rate`. */
  parallel: number;
  /** Requests per second on a Poisson process; -1 sends every request at once. */
  rate: number;
  /** Progress log period, in finished requests. */
  logEveryNQuery: number;
  /**
   * Prompts at least this long are dropped (strictly shorter ones are kept). Tokens with
   * `tokenizerPath`, characters without. The `random` dataset's longest prompt.
   */
  maxPromptLength: number;
  /**
   * Prompts at most this long are dropped (strictly longer ones are kept). Tokens with
   * `tokenizerPath`, characters without. The `random` dataset's shortest prompt.
   */
  minPromptLength: number;
  /** A fixed prompt, or `@path` to read one from a file. Overrides `dataset`. */
  prompt?: string;
  /**
   * JSON request body template: JSON text, `@path` of a JSON file, or an object; `%m` → model,
   * `%p` → prompt; given flags override its fields (see `src/load/template.ts`).
   */
  queryTemplate?: string | Record<string, unknown>;
  /** Dataset plugin: a built-in name, a file path or an http(s) URL. */
  dataset: string;
  /** The dataset's data file. */
  datasetPath?: string;
  /** Local Hugging Face tokenizer folder. */
  tokenizerPath?: string;
  /** Count prompts as the tokenizer's chat template renders them (needs `tokenizerPath`). */
  applyChatTemplate: boolean;
  /** `random` dataset: length of the prefix every prompt shares (tokens, or characters). */
  prefixLength: number;
  /** Copied into the body as `frequency_penalty`. */
  frequencyPenalty?: number;
  /** Copied into the body as `logprobs`. */
  logprobs?: boolean;
  /** Copied into the body as `max_tokens`. */
  maxTokens?: number;
  /** Copied into the body as `min_tokens`. */
  minTokens?: number;
  /** Copied into the body as `n`. */
  nChoices?: number;
  /** Copied into the body as `seed`; also seeds the Poisson arrivals. */
  seed?: number;
  /** Copied into the body as `stop`. */
  stop?: string[];
  /** Copied into the body as `stop_token_ids`. */
  stopTokenIds?: number[];
  /** Request a streamed (SSE) response. */
  stream: boolean;
  /** Copied into the body as `temperature`. */
  temperature?: number;
  /** Copied into the body as `top_p`. */
  topP?: number;
  /** A JSON object (or its JSON text) merged into every request body, over everything else. */
  extraArgs?: Record<string, unknown>;
  /** Weights & Biases API key. */
  wandbApiKey?: string;
  /** Folder under which each run gets its own sub-folder. */
  outputsDir: string;
  /** Service-level goals, e.g. `ttft_p99<500ms,error_rate<1%` (grammar in `src/config/slo_goals.ts`). */
  slo?: string;
}

/** Default values, as `evalscope perf` has them (plus `outputsDir`). */
export const DEFAULTS: Readonly<Omit<PerfConfig, "model">> = Object.freeze({
  url: "http://127.0.0.1:8877/v1/chat/completions",
  api: "openai",
  debug: false,
  connectTimeout: 120,
  readTimeout: 120,
  headers: {},
  transport: "auto",
  noTestConnection: false,
  parallel: 1,
  rate: -1,
  logEveryNQuery: 10,
  maxPromptLength: Number.MAX_SAFE_INTEGER,
  minPromptLength: 0,
  dataset: "openqa",
  applyChatTemplate: false,
  prefixLength: 0,
  maxTokens: 2048,
  seed: 42,
  stream: false,
  outputsDir: "./outputs",
});

/**
 * The lowest `--rate`: one request an hour on average. Slower is not a load test, and a gap of
 * years would leave the run waiting for ever.
 */
export const MIN_RATE = 1 / 3600;

/** The most `--workers`: each is a thread with its own JavaScript heap (tens of MB). */
export const MAX_WORKERS = 1024;

/** What {@link resolveConfig} accepts: any subset of the keys, camelCase or snake_case. */
export type PerfConfigInput = Partial<PerfConfig> & Record<string, unknown>;

const KEYS: ReadonlySet<string> = new Set<keyof PerfConfig>([
  "model",
  "url",
  "name",
  "api",
  "apiKey",
  "debug",
  "connectTimeout",
  "readTimeout",
  "headers",
  "transport",
  "workers",
  "caCert",
  "totalTimeout",
  "noTestConnection",
  "number",
  "parallel",
  "rate",
  "logEveryNQuery",
  "maxPromptLength",
  "minPromptLength",
  "prompt",
  "queryTemplate",
  "dataset",
  "datasetPath",
  "tokenizerPath",
  "applyChatTemplate",
  "prefixLength",
  "frequencyPenalty",
  "logprobs",
  "maxTokens",
  "minTokens",
  "nChoices",
  "seed",
  "stop",
  "stopTokenIds",
  "stream",
  "temperature",
  "topP",
  "extraArgs",
  "wandbApiKey",
  "outputsDir",
  "slo",
]);

/** `log_every_n_query` → `logEveryNQuery`; camelCase keys pass through unchanged. */
export function camelKey(key: string): string {
  return key.replace(/[_-]([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/** The camelCase keys set (not `undefined`) in a config input: the flags that were given. */
export function givenKeys(input: PerfConfigInput): Set<string> {
  const keys = new Set<string>();
  for (const [k, v] of Object.entries(input)) if (v !== undefined) keys.add(camelKey(k));
  return keys;
}

/** `logEveryNQuery` → `log_every_n_query`, as evalscope names its arguments. */
export function snakeKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The config with evalscope's snake_case keys, for `benchmark_args.json`. */
export function toSnakeCase(cfg: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [snakeKey(k), v]));
}

/**
 * Turn user input (camelCase or snake_case keys, defaults missing) into a validated
 * {@link PerfConfig}. Throws {@link UsageError} naming the first bad key.
 */
export function resolveConfig(input: PerfConfigInput): PerfConfig {
  const given: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const key = camelKey(rawKey);
    if (!KEYS.has(key)) throw new UsageError(`unknown config key '${rawKey}'`);
    given[key] = value;
  }
  const cfg = { ...DEFAULTS, headers: {}, ...given } as PerfConfig;
  cfg.apiKey ??= apiKeyFromEnv();
  if (cfg.extraArgs !== undefined) cfg.extraArgs = parseExtraArgs(cfg.extraArgs);
  validate(cfg);
  return cfg;
}

/** The environment variables read for the API key when none is given, in order. */
export const API_KEY_ENV = ["LLMPERF_API_KEY", "OPENAI_API_KEY"] as const;

/** The API key from the environment ({@link API_KEY_ENV}), or undefined. */
export function apiKeyFromEnv(): string | undefined {
  for (const name of API_KEY_ENV) {
    try {
      // Asked first, so that a run without --allow-env is never prompted for it.
      if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
      const v = Deno.env.get(name)?.trim();
      if (v) return v;
    } catch {
      return undefined; // no permission API (another runtime)
    }
  }
  return undefined;
}

function fail(key: string, why: string): never {
  throw new UsageError(`${flagName(key)}: ${why}`);
}

/** `logEveryNQuery` → `--log-every-n-query`, for messages that name the flag. */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function int(cfg: PerfConfig, key: keyof PerfConfig, min: number, optional = false): void {
  const v = cfg[key];
  if (v === undefined && optional) return;
  if (typeof v !== "number" || !Number.isInteger(v)) fail(key, `expected an integer, got ${v}`);
  if (v < min) fail(key, `must be at least ${min}, got ${v}`);
  if (v > Number.MAX_SAFE_INTEGER) fail(key, `must be at most 2^53-1, got ${v}`);
}

function num(cfg: PerfConfig, key: keyof PerfConfig, optional = true): void {
  const v = cfg[key];
  if (v === undefined && optional) return;
  if (typeof v !== "number" || !Number.isFinite(v)) fail(key, `expected a number, got ${v}`);
}

function validate(cfg: PerfConfig): void {
  if (typeof cfg.model !== "string" || cfg.model.trim() === "") {
    throw new UsageError("--model is required");
  }
  let url: URL;
  try {
    url = new URL(cfg.url);
  } catch {
    fail("url", `not a valid URL: '${cfg.url}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail("url", `must be an http:// or https:// URL, got '${cfg.url}'`);
  }
  int(cfg, "parallel", 1);
  int(cfg, "number", 1, true);
  int(cfg, "logEveryNQuery", 1);
  int(cfg, "maxTokens", 1, true);
  int(cfg, "minTokens", 0, true);
  int(cfg, "nChoices", 1, true);
  int(cfg, "seed", Number.MIN_SAFE_INTEGER, true);
  int(cfg, "maxPromptLength", 0);
  int(cfg, "minPromptLength", 0);
  int(cfg, "prefixLength", 0);
  int(cfg, "workers", 0, true);
  if (cfg.workers !== undefined && cfg.workers > MAX_WORKERS) {
    fail(
      "workers",
      `must be at most ${MAX_WORKERS} (each is a thread with its own heap), got ${cfg.workers}`,
    );
  }
  if (!TRANSPORT_CHOICES.includes(cfg.transport)) {
    fail("transport", `expected one of ${TRANSPORT_CHOICES.join(", ")}, got '${cfg.transport}'`);
  }
  if (cfg.caCert !== undefined && (typeof cfg.caCert !== "string" || cfg.caCert === "")) {
    fail("caCert", "expected a file path");
  }
  for (const k of ["connectTimeout", "readTimeout"] as const) {
    num(cfg, k, false);
    if (cfg[k] <= 0) fail(k, `must be greater than 0, got ${cfg[k]}`);
  }
  if (cfg.totalTimeout !== undefined) {
    num(cfg, "totalTimeout", false);
    if (cfg.totalTimeout <= 0) {
      fail("totalTimeout", `must be greater than 0, got ${cfg.totalTimeout}`);
    }
  }
  if (typeof cfg.noTestConnection !== "boolean") {
    fail("noTestConnection", `expected true or false, got ${cfg.noTestConnection}`);
  }
  num(cfg, "rate", false);
  if (cfg.rate !== -1 && !(cfg.rate >= MIN_RATE)) {
    fail(
      "rate",
      `must be at least 1/3600 requests per second (one an hour on average), or -1 for no ` +
        `pacing; got ${cfg.rate}`,
    );
  }
  for (const k of ["frequencyPenalty", "temperature", "topP"] as const) num(cfg, k);
  if (typeof cfg.headers !== "object" || cfg.headers === null || Array.isArray(cfg.headers)) {
    fail("headers", "expected an object of header names to values");
  }
  for (const [k, v] of Object.entries(cfg.headers)) {
    if (typeof v !== "string") fail("headers", `header '${k}' must be a string`);
    const problem = headerProblem(k, v);
    if (problem !== undefined) fail("headers", problem);
  }
  if (typeof cfg.apiKey === "string") {
    const problem = headerProblem("authorization", cfg.apiKey);
    if (problem !== undefined) {
      fail("apiKey", problem.replace("the value of header 'authorization'", "the key"));
    }
  }
  if (cfg.stop !== undefined && !Array.isArray(cfg.stop)) fail("stop", "expected a list");
  if (cfg.stopTokenIds !== undefined) {
    if (!Array.isArray(cfg.stopTokenIds) || cfg.stopTokenIds.some((x) => !Number.isInteger(x))) {
      fail("stopTokenIds", "expected a list of integers");
    }
  }
  for (const k of ["debug", "stream", "applyChatTemplate"] as const) {
    if (typeof cfg[k] !== "boolean") fail(k, `expected true or false, got ${cfg[k]}`);
  }
  if (cfg.minPromptLength > cfg.maxPromptLength) {
    fail("minPromptLength", "must not be more than --max-prompt-length");
  }
  if (cfg.applyChatTemplate && !cfg.tokenizerPath) {
    fail("applyChatTemplate", "needs --tokenizer-path (the chat template comes from it)");
  }
  if (cfg.slo !== undefined) parseSlo(cfg.slo);
}

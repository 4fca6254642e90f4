/**
 * Every setting of a benchmark run, declared once. From this table come the `PerfConfig` type,
 * the defaults, the accepted key spellings (camelCase, snake_case, flag), validation with one-line
 * errors naming the flag, the `llmperf perf` flags and `--help` (groups and order as here), the
 * request-body fields copied from flags (templates and built-in API plugins), which settings are
 * secrets (redaction), the environment variables read for unset ones, and the README's flag
 * table. Names and defaults follow `evalscope perf`.
 *
 * ## Adding a setting
 *
 * 1. Add one entry below, in the group (and at the place in it) where `--help` should list it:
 *    the key is the camelCase config name; `kind`, `group` and `help` are required, every other
 *    field is optional and documented on {@link SettingDef} (`default`, `defaultHelp`, `arg`,
 *    `aliases`, `body`, `env`, `secret`, `sweep`, `negatable`, `arity`, `choices`, `min`,
 *    `above`, `validate`). A JSDoc comment on the key documents the `PerfConfig` field.
 * 2. Write its behaviour where it acts (the load loop, a plugin, an output) and read it there as
 *    `cfg.theKey`: the config is validated, so the value is of its kind.
 * 3. Run `deno task flag-table` to regenerate the README's flag table (a test fails until the
 *    README matches this table).
 *
 * Nothing else needs editing: the type, defaults, flag, help, validation, key spellings and
 * README entry all follow from the entry. A body setting (`body: "top_k"`) is copied into every
 * request by the `openai` plugin (and by a plugin that lists it in `bodyFields`) and yields to a
 * `--query-template` field when not given. A kind that no entry has yet (a range such as
 * `--max-tokens MIN MAX` with its own value type, say) is one entry in `KINDS` (`schema.ts`).
 *
 * This module imports only the config layer's own pure modules: it is the bottom of the import
 * graph, and features import from it, never the other way round.
 *
 * @module
 */
import type { ConfigOf, SettingDef } from "./schema.ts";
import { parseSlo } from "./slo_goals.ts";
import { parseSlaParams } from "./sla_params.ts";
import { headerProblem } from "../util/http_header.ts";
import type { Shard } from "./shard.ts";

/** The help groups, in the order `--help` lists them: key → title. */
export const GROUPS = {
  basic: "Basic:",
  network: "Network:",
  load: "Load:",
  shard: "Shards (one run split over several client machines):",
  prompt: "Prompt:",
  dataset: "Dataset:",
  model: "Model (copied into the request body when given):",
  storage: "Storage:",
  telemetry: "Repeats, error-rate stop, server metrics and GPU telemetry:",
  results: "Results:",
  sla: "SLA auto-tune (the largest --parallel or --rate meeting the criteria, as evalscope):",
} as const;

/** A help group. */
export type GroupId = keyof typeof GROUPS;

/** What `--compat` accepts: the evalscope release to behave like. */
export const COMPAT_CHOICES = ["2024", "2026"] as const;

/** What `--compat` accepts. */
export type CompatChoice = typeof COMPAT_CHOICES[number];

/**
 * The defaults of `--compat 2026` where they differ from ours (evalscope at `fde259d2`,
 * `../shared/reference/evalscope-perf-2026.md` §1): a setting that was given keeps its value;
 * `null` leaves it unset (`seed`: no `seed` in the body; the arrivals and `random` still use 42).
 * evalscope has no connect or read timeout by default, only `--total-timeout 21600`: the two are
 * 21600 s here too, so the total is the limit that acts.
 */
export const COMPAT_DEFAULTS: Readonly<Record<"2026", Readonly<Record<string, unknown>>>> = {
  "2026": {
    stream: true,
    temperature: 0,
    number: 1000,
    logEveryNQuery: 100,
    connectTimeout: 21600,
    readTimeout: 21600,
    totalTimeout: 21600,
    seed: null,
  },
};

/** What `--transport` accepts (the transport module builds them). */
export const TRANSPORT_CHOICES = ["auto", "socket", "fetch"] as const;

/** What `--transport` accepts. */
export type TransportChoice = typeof TRANSPORT_CHOICES[number];

/** What `--url-strategy` accepts: how requests are spread over several `--url`. */
export const URL_STRATEGIES = ["round-robin", "least-in-flight"] as const;

/** How requests are spread over several endpoints. */
export type UrlStrategy = typeof URL_STRATEGIES[number];

/** The colour modes `--image-format` accepts (PIL's names, as evalscope takes them). */
export const IMAGE_MODES = ["RGB", "RGBA", "L", "LA"] as const;

/**
 * The lowest `--rate`: one request an hour on average. Slower is not a load test, and a gap of
 * years would leave the run waiting for ever.
 */
export const MIN_RATE = 1 / 3600;

/** The most `--workers`: each is a thread with its own JavaScript heap (tens of MB). */
export const MAX_WORKERS = 1024;

/** The environment variables read for the API key when none is given, in order. */
export const API_KEY_ENV = ["LLMPERF_API_KEY", "OPENAI_API_KEY"] as const;

const DEFAULT_URL = "http://127.0.0.1:8877/v1/chat/completions";

function urlProblem(v: string): string | undefined {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `not a valid URL: '${v}'`;
  }
  return url.protocol === "http:" || url.protocol === "https:"
    ? undefined
    : `must be an http:// or https:// URL, got '${v}'`;
}

/**
 * Built-in datasets that carry their own arrival schedule (each request says when it goes):
 * `--open-loop` with them needs no `--rate` and no `--number` (evalscope's `workload_trace`;
 * `mooncake` is ours, evalscope has none).
 */
export const SCHEDULED_DATASETS: readonly string[] = ["workload_trace", "mooncake"];

/**
 * Built-in datasets that need no `--model` (evalscope's `requires_model=False`, only
 * `workload_trace`: its bodies name their model): without one, the run's model is the dataset's
 * name (evalscope's `model_id`), which names the result folder.
 */
export const MODEL_OPTIONAL_DATASETS: readonly string[] = ["workload_trace"];

/** Every setting, grouped and ordered as `--help` lists them. */
export const SETTINGS = {
  // ---- basic
  /**
   * Model name sent in the request body. Required, except with `workload_trace` (see
   * {@link MODEL_OPTIONAL_DATASETS}).
   */
  model: {
    kind: "string",
    group: "basic",
    arg: "name",
    required: true,
    help: "model name sent in the request body; workload_trace: optional (its bodies' own; " +
      "unset, the run is named for the dataset, as evalscope's model_id)",
  },
  /**
   * Endpoint URL. Chat or plain completions is chosen from the path (see README). Given several
   * times (or as a list), the first; every one is in `urls`.
   */
  url: {
    kind: "string",
    group: "basic",
    arg: "url",
    default: DEFAULT_URL,
    help: "endpoint; may also be the first argument; give it several times for several " +
      "replicas without a load balancer (see --url-strategy)",
    validate: (v: string, cfg: { urls?: string[] }): string | undefined =>
      urlProblem(v) ?? cfg.urls?.map(urlProblem).find((p) => p !== undefined),
    listInto: "urls",
  },
  /**
   * Several endpoints (replicas behind no load balancer), in order: set by `--url` given several
   * times; `url` is the first. Unset: one endpoint, `url`.
   */
  urls: {
    kind: "strings",
    group: "basic",
    arg: "url",
    help: "several endpoints at once, the same as --url given once for each",
    validate: (v: string[], cfg: { url: string }): string | undefined => {
      if (v.length === 0) return "expected at least one URL";
      return v[0] === cfg.url ? undefined : `the first must be --url '${cfg.url}', got '${v[0]}'`;
    },
  },
  /**
   * How requests are spread over several endpoints: `round-robin` (in dispatch order) or
   * `least-in-flight` (the endpoint with the fewest requests in flight, decided on the main
   * thread). Unset: round-robin.
   */
  urlStrategy: {
    kind: "choice",
    group: "basic",
    arg: "name",
    choices: URL_STRATEGIES,
    defaultHelp: "round-robin",
    help: "with several --url: round-robin (in dispatch order) or least-in-flight (the one " +
      "with the fewest requests in flight)",
  },
  /** Run name; names the result folder. Default `<model>_benchmark_<YYYYMMDD_HHMMSS>`. */
  name: {
    kind: "string",
    group: "basic",
    arg: "name",
    defaultHelp: "<model>_benchmark_<YYYYMMDD_HHMMSS>",
    help: "run name, names the result folder",
  },
  /** API plugin: a built-in name, a `.ts`/`.js` file path or an http(s) URL. */
  api: {
    kind: "string",
    group: "basic",
    arg: "api",
    default: "openai",
    help: "API plugin: openai, completions, openai_responses, openai_embedding, " +
      "openai_rerank, dashscope, zhipu, custom, or a .ts/.js file or http(s) URL",
  },
  /**
   * Sent as `Authorization: Bearer <key>`. Unset: `$LLMPERF_API_KEY`, else `$OPENAI_API_KEY`
   * (so the key need not be on the command line, where `ps` shows it).
   */
  apiKey: {
    kind: "string",
    group: "basic",
    arg: "key",
    env: API_KEY_ENV,
    secret: true,
    help: "sent as 'Authorization: Bearer <key>' (never written to disk); unset: " +
      "$LLMPERF_API_KEY, else $OPENAI_API_KEY (keeps the key out of ps)",
    validate: (v: string): string | undefined =>
      headerProblem("authorization", v)?.replace("the value of header 'authorization'", "the key"),
  },
  /** Log every request body and response event. */
  debug: {
    kind: "bool",
    group: "basic",
    default: false,
    help: "log every request and response",
  },

  // ---- network
  /** Seconds to wait for a connection (and, with `fetch`, for response headers). */
  connectTimeout: {
    kind: "number",
    group: "network",
    arg: "s",
    default: 120,
    above: 0,
    help: "seconds to connect",
  },
  /** Longest silence between bytes of a response, in seconds. */
  readTimeout: {
    kind: "number",
    group: "network",
    arg: "s",
    default: 120,
    above: 0,
    help: "longest silence between response bytes, seconds",
  },
  /** Extra headers on every request. */
  headers: {
    kind: "kv",
    group: "network",
    default: {},
    help: "extra headers on every request: --headers k1=v1 k2=v2",
    validate: (v: Record<string, string>): string | undefined => {
      for (const [k, x] of Object.entries(v)) {
        const problem = headerProblem(k, x);
        if (problem !== undefined) return problem;
      }
      return undefined;
    },
  },
  /**
   * How requests are sent: `socket` (HTTP/1.1 over raw sockets, the cheapest per token), `fetch`,
   * or `auto`: socket, unless the environment sets a proxy for the URL.
   */
  transport: {
    kind: "choice",
    group: "network",
    arg: "kind",
    choices: TRANSPORT_CHOICES,
    default: "auto",
    help: "socket (HTTP/1.1 over raw sockets), fetch, or auto: socket unless a proxy is set " +
      "in the environment",
  },
  /** A PEM file of CA certificates to trust besides the default roots (https). */
  caCert: {
    kind: "string",
    group: "network",
    arg: "path",
    help: "PEM file of CA certificates to trust besides the default roots (https)",
    validate: (v: string): string | undefined => v === "" ? "expected a file path" : undefined,
  },
  /** Longest time for a whole request, send to last byte, in seconds (unset: no limit). */
  totalTimeout: {
    kind: "number",
    group: "network",
    arg: "s",
    above: 0,
    defaultHelp: "no limit",
    help: "longest time for a whole request, seconds",
  },
  /** Skip the one test request that checks the endpoint before the run. */
  noTestConnection: {
    kind: "bool",
    group: "network",
    default: false,
    help: "skip the test request that checks the endpoint before the run",
  },

  // ---- load
  /** Total requests; unset = one pass over the dataset (or 1 with `prompt`). */
  number: {
    kind: "int",
    group: "load",
    aliases: ["-n"],
    min: 1,
    sweep: true,
    defaultHelp: "one pass over the dataset; 1 with --prompt",
    help: "total requests; several values run a sweep, paired in order with --parallel/--rate",
  },
  /** Requests kept in flight (closed loop), or the cap on in-flight requests with `rate`. */
  parallel: {
    kind: "int",
    group: "load",
    min: 1,
    sweep: true,
    default: 1,
    help: "requests in flight (closed loop), or their cap with --rate; several values run a " +
      "sweep (--parallel 1 8 32 --number 10 80 320)",
  },
  /**
   * Requests per second on a Poisson process; -1 sends every request at once. With
   * `--compat 2026` (or `--open-loop`) evalscope 2026's schedule: the `number` gaps rescaled so
   * the last request is due at exactly number/rate s, and in closed loop a sweep uses the first
   * rate at every point.
   */
  rate: {
    kind: "number",
    group: "load",
    arg: "r",
    sweep: true,
    default: -1,
    help: "requests per second, Poisson arrivals (seeded by --seed), at least 1/3600; -1 sends " +
      "all at once; several values run a sweep (--compat 2026: the schedule rescaled to " +
      "number/rate s; a closed loop uses the first value at every point)",
    validate: (v: number): string | undefined =>
      v === -1 || v >= MIN_RATE ? undefined : "must be at least 1/3600 requests per second " +
        `(one an hour on average), or -1 for no pacing; got ${v}`,
  },
  // -- arrival shapes (issue 15 item 2; see src/load/arrivals.ts)
  /**
   * Gamma shape of the gaps between `--rate` arrivals (vLLM's `--burstiness`): 1 Poisson, below 1
   * burstier, above 1 more regular (the gaps' CV is 1/√B); `"inf"` constant gaps of 1/rate.
   */
  burstiness: {
    kind: "number-or-inf",
    group: "load",
    arg: "B",
    above: 0,
    default: 1,
    help: "shape of the gaps between --rate arrivals, gamma with the same mean: 1 Poisson, <1 " +
      "burstier, >1 more regular (CV 1/sqrt(B)); inf: constant rate",
  },
  /** Ramp the arrival rate from `rampUpStartRps` to `rampUpEndRps` over the run's requests. */
  rampUpStrategy: {
    kind: "choice",
    group: "load",
    arg: "strategy",
    choices: ["linear", "exponential"],
    help: "linear or exponential: ramp the rate over the run's requests from " +
      "--ramp-up-start-rps to --ramp-up-end-rps (instead of --rate); needs --number",
    validate: (
      v: string,
      cfg: { rampUpStartRps?: number; rampUpEndRps?: number; number?: number },
    ): string | undefined => {
      if (cfg.rampUpStartRps === undefined || cfg.rampUpEndRps === undefined) {
        return "needs --ramp-up-start-rps and --ramp-up-end-rps";
      }
      if (cfg.number === undefined) return "needs --number (the ramp spans the run's requests)";
      if (v === "exponential" && cfg.rampUpStartRps <= 0) {
        return "exponential needs --ramp-up-start-rps above 0";
      }
      return undefined;
    },
  },
  /** The ramp's first rate, requests per second. */
  rampUpStartRps: {
    kind: "number",
    group: "load",
    arg: "r",
    min: 0,
    help: "the ramp's rate at the first request, req/s",
    validate: (_v: number, cfg: { rampUpStrategy?: string }): string | undefined =>
      cfg.rampUpStrategy === undefined ? "needs --ramp-up-strategy" : undefined,
  },
  /** The ramp's last rate, requests per second. */
  rampUpEndRps: {
    kind: "number",
    group: "load",
    arg: "r",
    min: MIN_RATE,
    help: "the ramp's rate at the last request, req/s",
    validate: (_v: number, cfg: { rampUpStrategy?: string }): string | undefined =>
      cfg.rampUpStrategy === undefined ? "needs --ramp-up-strategy" : undefined,
  },
  /** Progress log period, in finished requests. */
  logEveryNQuery: {
    kind: "int",
    group: "load",
    min: 1,
    default: 10,
    help: "progress log period, in requests",
  },
  /**
   * Transport worker threads; unset: one per core, at most the requests in flight (none on one
   * core with kernel-stamped reads); 0: none.
   */
  workers: {
    kind: "int",
    group: "load",
    min: 0,
    defaultHelp: "one per core, at most --parallel; 0 on one core with kernel-stamped reads",
    help: "threads that send requests, each with its own event loop; 0 sends from the main " +
      `thread; at most ${MAX_WORKERS}`,
    validate: (v: number): string | undefined =>
      v > MAX_WORKERS
        ? `must be at most ${MAX_WORKERS} (each is a thread with its own heap), got ${v}`
        : undefined,
  },

  // ---- issue 14: evalscope 2026 load flags
  /**
   * Requests sent before the benchmark, on top of `number`, and left out of every statistic and
   * of the result DB: a count (≥1, floored), or a ratio of `number` (0 < x < 1: at least 1).
   */
  warmupNum: {
    kind: "number",
    group: "load",
    min: 0,
    default: 0,
    help: "warmup requests before the benchmark, on top of --number, in no statistic and not in " +
      "the DB: a count, or below 1 a ratio of --number (at least 1); a trace's (workload_trace, " +
      "mooncake): its first records",
  },
  /**
   * Wall-clock budget of the benchmark, in seconds: a soft stop (no request is sent after it;
   * requests in flight finish and are recorded). `number` still caps the run.
   */
  duration: {
    kind: "number",
    group: "load",
    arg: "s",
    above: 0,
    defaultHelp: "no limit",
    help: "stop sending after this many seconds of benchmark (warmup not counted); requests " +
      "in flight finish and are recorded",
  },
  /**
   * Open loop (evalscope 2026): `--rate` arrivals on an absolute schedule (exponential gaps
   * rescaled so the last request is due at exactly number/rate s), with no cap on requests in
   * flight (`parallel` is ignored). Needs `number` and a rate > 0, unless the dataset carries
   * its own schedule ({@link SCHEDULED_DATASETS}).
   */
  openLoop: {
    kind: "bool",
    group: "load",
    default: false,
    help: "send on the --rate schedule (rescaled so request n is due at n/rate s) whatever is " +
      "in flight: no --parallel cap; needs --number and --rate > 0 (workload_trace, mooncake: " +
      "neither, the trace's times)",
    validate: (
      v: boolean,
      cfg: { rate: number; number?: number; dataset: string },
    ): string | undefined =>
      !v || SCHEDULED_DATASETS.includes(cfg.dataset)
        ? undefined
        : cfg.rate <= 0
        ? "needs --rate greater than 0 (the schedule is number/rate seconds long)"
        : cfg.number === undefined
        ? "needs --number (the schedule is rescaled to number/rate seconds)"
        : undefined,
  },
  /**
   * evalscope's result-queue size (`parallel × m`). Accepted for its scripts; nothing to tune
   * here: records go straight from the sending threads to the sinks, with no bounded queue.
   */
  queueSizeMultiplier: {
    kind: "int",
    group: "load",
    default: 5,
    help: "accepted for evalscope scripts; no effect (no bounded result queue here)",
  },
  /**
   * evalscope's cap on request tasks created ahead of the semaphore (`parallel × m`, 0 or less
   * raised to 1). It acts where evalscope's does: `--compat 2026` with a `--rate` in closed loop
   * (a request is created when it is due, at most `parallel × m` created and unfinished; what
   * was created before `--duration`'s deadline is still sent). Otherwise no effect: a request is
   * built only when its slot is free.
   */
  inFlightTaskMultiplier: {
    kind: "int",
    group: "load",
    default: 2,
    help: "--compat 2026 with --rate, closed loop: at most parallel × N requests created ahead " +
      "of their slot (with --duration, those created are still sent); else no effect",
  },
  /**
   * Workers that make `random`'s prompts up front (evalscope's process pool, 0 = auto): 1 serial,
   * N > 1 `min(N, count)`, 0 auto (with a tokenizer, one per 128 Ki expected tokens). Other
   * datasets build their prompts lazily and are not affected.
   */
  numWorkers: {
    kind: "int",
    group: "load",
    min: 0,
    default: 0,
    help: "random: make the prompts on N workers (1 = this thread; 0 = auto: with " +
      "--tokenizer-path, one worker per 128 Ki expected tokens, at most the CPUs and 32; " +
      "without, one); same prompts whatever N; other datasets: no effect",
  },
  /** Port of the server `--api local_vllm` starts (`vllm serve --port`). */
  port: {
    kind: "int",
    group: "load",
    min: 1,
    default: 8877,
    help: "--api local_vllm: the port of the vllm server it starts (the URL then points there)",
  },
  /** evalscope's `--api local` attention setting: accepted, `--api local` is not supported. */
  attnImplementation: {
    kind: "string",
    group: "load",
    arg: "name",
    help: "accepted for evalscope scripts (--api local only, which is not supported here)",
  },

  // ---- shard
  /**
   * Run shard I of N (`src/config/shard.ts`): global requests `i` with `i mod N = I` (of the
   * dataset and of `--number`), its share of `--parallel`, its part of the `--rate` schedule.
   */
  shard: {
    kind: "shard",
    group: "shard",
    help: "run shard I of N (from 0): every N-th request, a share of --parallel, its times on " +
      "the --rate schedule; auto/N: I from $JOB_COMPLETION_INDEX",
    validate: (v: Shard, cfg: { parallel: number; number?: number }): string | undefined => {
      // Refused on every shard alike, so that all of a Job's pods fail the same way.
      if (cfg.parallel < v.count) {
        return `--parallel ${cfg.parallel} cannot be split over ${v.count} shards: each needs ` +
          `at least one request in flight (give --parallel ${v.count} or more)`;
      }
      if (cfg.number !== undefined && cfg.number < v.count) {
        return `--number ${cfg.number} cannot be split over ${v.count} shards: each needs at ` +
          "least one request";
      }
      return undefined;
    },
  },
  /**
   * Wall-clock time (epoch seconds) at which the load starts: the run waits until then, so that
   * every shard starts its schedule at the same instant. More than a second in the past is an
   * error (see `src/load/start_at.ts`).
   */
  startAt: {
    kind: "number",
    group: "shard",
    arg: "epoch-s",
    min: 0,
    help: "start the load at this epoch time (seconds), after preparing: the same on every " +
      "shard starts them together; over 1 s past is an error",
    validate: (v: number): string | undefined =>
      v > 1e11
        ? `must be epoch seconds; ${v} looks like milliseconds (${Math.floor(v / 1000)} s?)`
        : undefined,
  },

  // ---- prompt
  /**
   * Prompts at least this long are dropped (strictly shorter ones are kept). Tokens with
   * `tokenizerPath`, characters without. The `random` dataset's longest prompt.
   */
  maxPromptLength: {
    kind: "int",
    group: "prompt",
    min: 0,
    default: Number.MAX_SAFE_INTEGER,
    defaultHelp: "no limit; random: 1024",
    help: "drop dataset prompts this long or longer: tokens with --tokenizer-path, else " +
      "characters; random: the longest prompt",
  },
  /**
   * Prompts at most this long are dropped (strictly longer ones are kept). Tokens with
   * `tokenizerPath`, characters without. The `random` dataset's shortest prompt.
   */
  minPromptLength: {
    kind: "int",
    group: "prompt",
    min: 0,
    default: 0,
    help: "drop dataset prompts this long or shorter: tokens with --tokenizer-path, else " +
      "characters; random: the shortest prompt",
    validate: (v: number, cfg: { maxPromptLength: number }): string | undefined =>
      v > cfg.maxPromptLength ? "must not be more than --max-prompt-length" : undefined,
  },
  /** A fixed prompt, or `@path` to read one from a file. Overrides `dataset`. */
  prompt: {
    kind: "string",
    group: "prompt",
    arg: "text",
    help: "a fixed prompt, or @path to read it from a file (at most 64 MiB); overrides --dataset",
  },
  /**
   * JSON request body template: JSON text, `@path` of a JSON file, or an object; `%m` → model,
   * `%p` → prompt; given flags override its fields (see `src/load/template.ts`).
   */
  queryTemplate: {
    kind: "json-source",
    group: "prompt",
    help: "JSON request body template, or @path of a JSON file; %m = model, %p = prompt; " +
      "given flags override its fields, its stream switches streaming",
  },
  /**
   * Chat or not, as evalscope 2026's tri-state `--[no-]apply-chat-template`: true sends chat
   * messages (and, with `tokenizerPath`, counts prompts through its chat template); false sends a
   * prompt string; unset decides by the URL (`.../chat/completions`: messages, `.../completions`:
   * a prompt string), prompts counted as plain text.
   */
  applyChatTemplate: {
    kind: "bool",
    group: "prompt",
    defaultHelp: "by the URL",
    negatable: "send a prompt string, not chat messages",
    help: "send chat messages (with --tokenizer-path: count prompts through its chat " +
      "template); unset: messages for .../chat/completions, a prompt string for .../completions",
  },

  // ---- dataset
  /** Dataset plugin: a built-in name, a file path or an http(s) URL. */
  dataset: {
    kind: "string",
    group: "dataset",
    arg: "name",
    default: "openqa",
    help: "openqa, longalpaca, line_by_line, custom, speed_benchmark, random, workload_trace, " +
      "mooncake, random_vl, images, flickr8k, kontext_bench, share_gpt_zh, share_gpt_en, " +
      "embedding, embedding_batch, " +
      "random_embedding, rerank, random_rerank, --multi-turn: random_multi_turn, " +
      "custom_multi_turn, share_gpt_zh/en_multi_turn, agentic_trace; or a .ts/.js file or " +
      "http(s) URL",
  },
  /** The dataset's data file. */
  datasetPath: {
    kind: "string",
    group: "dataset",
    arg: "path",
    help: "the dataset's data file; openqa, longalpaca, flickr8k, kontext_bench: downloaded " +
      "from --data-source when absent (flickr8k: a .tar shard or a folder of them; " +
      "kontext_bench: a .parquet or metadata.jsonl file, or a folder); custom: FILE or FILE#field",
  },
  /** `random` dataset: length of the prefix every prompt shares (tokens, or characters). */
  prefixLength: {
    kind: "int",
    group: "dataset",
    min: 0,
    default: 0,
    help: "random: length of the prefix all prompts share (tokens, or characters)",
  },
  /**
   * Multi-turn conversations: `number` counts conversations, `parallel` the conversations in
   * flight; each turn sends the whole history, the previous replies appended as assistant
   * messages.
   */
  multiTurn: {
    kind: "bool",
    group: "dataset",
    default: false,
    help: "multi-turn conversations (datasets random_multi_turn, custom_multi_turn, " +
      "share_gpt_zh/en_multi_turn, agentic_trace): -n counts conversations, --parallel the " +
      "conversations in flight; each turn sends the whole history with the replies; --rate R " +
      "waits an exponential gap (mean 1/R s) before every turn",
    // A turn needs the previous reply: conversations run closed loop, --rate paces their turns.
    validate: (
      v: boolean,
      cfg: { openLoop?: boolean; rampUpStrategy?: string; burstiness?: number },
    ): string | undefined =>
      !v
        ? undefined
        : cfg.openLoop
        ? "--open-loop is not supported with --multi-turn (a turn waits for the previous reply; " +
          "--rate paces the turns)"
        : cfg.rampUpStrategy !== undefined
        ? "--ramp-up-strategy is not supported with --multi-turn (--rate paces each turn)"
        : cfg.burstiness !== undefined && cfg.burstiness !== 1
        ? "--burstiness is not supported with --multi-turn (each turn waits an exponential gap)"
        : undefined,
  },
  /** `multiTurn`: the fewest turns a generated conversation has (`random_multi_turn`). */
  minTurns: {
    kind: "int",
    group: "dataset",
    min: 1,
    default: 1,
    help: "--multi-turn: fewest turns of a random_multi_turn conversation",
  },
  /** `multiTurn`: the most turns a conversation has (longer ones are cut). */
  maxTurns: {
    kind: "int",
    group: "dataset",
    min: 1,
    defaultHelp: "no limit; random_multi_turn: 5",
    help: "--multi-turn: most turns per conversation (longer ones are cut; random_multi_turn " +
      "draws its turn counts from --min-turns to this)",
    validate: (v: number, cfg: { minTurns: number }): string | undefined =>
      v < cfg.minTurns ? `must be at least --min-turns (${cfg.minTurns})` : undefined,
  },
  // (issue 15: vision) random_vl images and the image tokens counted when there is no usage
  /** `random_vl`: width of each synthetic image, pixels. */
  imageWidth: {
    kind: "int",
    group: "dataset",
    min: 1,
    default: 224,
    help: "random_vl: image width (pixels)",
  },
  /** `random_vl`: height of each synthetic image, pixels. */
  imageHeight: {
    kind: "int",
    group: "dataset",
    min: 1,
    default: 224,
    help: "random_vl: image height (pixels)",
  },
  /** `random_vl`: the image's colour mode, as PIL names it (`RGB`, `RGBA`, `L`, `LA`). */
  imageFormat: {
    kind: "choice",
    group: "dataset",
    arg: "mode",
    default: "RGB",
    choices: IMAGE_MODES,
    help: "random_vl: colour mode of the PNG images (a PIL mode, as evalscope)",
  },
  /** `random_vl`: images per request. */
  imageNum: {
    kind: "int",
    group: "dataset",
    min: 0,
    default: 1,
    help: "random_vl: images per request",
  },
  /** Pixels per image token side, for counting image tokens when a response has no usage. */
  imagePatchSize: {
    kind: "int",
    group: "dataset",
    min: 1,
    default: 28,
    help: "an image counts ceil(h/p)·ceil(w/p) prompt tokens when a response has no usage",
  },

  // -- shared-prefix workloads and trace replay (issue 15 items 3, 4)
  /**
   * `random` dataset: the number of distinct `prefixLength` prefixes (SGLang's
   * generated-shared-prefix groups, vLLM's `prefix_repetition` prefixes); each request takes one,
   * so each group holds about `number / prefixGroups` questions.
   */
  prefixGroups: {
    kind: "int",
    group: "dataset",
    min: 1,
    default: 1,
    help: "random: distinct shared prefixes of --prefix-length, the requests spread evenly " +
      "over them (seeded order)",
  },
  /**
   * The dataset's own settings, a JSON object: `workload_trace` `{speed, model_override,
   * model_mapping, match_output_length}`, `mooncake` `{speed, block_size}`; evalscope's
   * `TextDatasetArgs` (openqa, longalpaca, share_gpt_zh/en, line_by_line) and
   * `MultiTurnDatasetArgs` (random_multi_turn, share_gpt_*_multi_turn).
   */
  datasetArgs: {
    kind: "json",
    group: "dataset",
    help: `JSON object of dataset arguments, checked against the keys the dataset takes: ` +
      `openqa, longalpaca, share_gpt_zh/en, line_by_line {"target_input_len": 1024, ` +
      `"input_len_mode", "prefix_file", "prefix_role"}, random_multi_turn ` +
      `{"first_turn_length": 900, "subsequent_turn_length"}, workload_trace {"speed": 2}, ...`,
  },
  /**
   * evalscope's deprecated `--multi-turn-args`: a JSON object of `MultiTurnDatasetArgs` keys,
   * merged into {@link datasetArgs} as evalscope merges it (`setdefault`: `datasetArgs` wins
   * where both give a key).
   */
  multiTurnArgs: {
    kind: "json",
    group: "dataset",
    help: "deprecated (as in evalscope): JSON object merged into --dataset-args, which wins " +
      "where both give a key: --multi-turn-args '{\"first_turn_length\": 2000}'",
  },

  // ---- issue 14: evalscope 2026 dataset flags
  /** Where remote datasets come from: `modelscope` (default), `huggingface`, or `local`. */
  dataSource: {
    kind: "choice",
    group: "dataset",
    arg: "hub",
    choices: ["modelscope", "huggingface", "local"],
    defaultHelp: "modelscope",
    help: "hub of downloaded datasets: modelscope, huggingface ($HF_ENDPOINT), local (no " +
      "download); an existing --dataset-path is always local",
  },
  /**
   * `random`: start at this position of its seeded prompt stream (evalscope shifts its token
   * choice by it); grows by each sweep point's `number` after that point (and by each SLA
   * auto-tune run's), so that points send new prompts (no prefix-cache hits from the one before).
   */
  datasetOffset: {
    kind: "int",
    group: "dataset",
    min: 0,
    default: 0,
    help: "random: start at prompt index N (prompt i depends only on --seed and i); grows by " +
      "--number after each sweep point (and SLA auto-tune run)",
  },

  // ---- model
  /** Local Hugging Face tokenizer folder. */
  tokenizerPath: {
    kind: "string",
    group: "model",
    arg: "dir",
    help: "Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json): counts " +
      "tokens when a response has no usage, and prompt lengths",
  },
  /** Copied into the body as `frequency_penalty`. */
  frequencyPenalty: {
    kind: "number",
    group: "model",
    body: "frequency_penalty",
    help: "frequency_penalty",
  },
  /** Copied into the body as `logprobs`. */
  logprobs: { kind: "bool", group: "model", body: "logprobs", help: "logprobs" },
  /**
   * Copied into the body as `max_tokens`; `[min, max]` (`--max-tokens MIN MAX`, as evalscope
   * 2026) draws each request's value uniformly from min to max, both included, from `seed` and
   * the request's index (the same values in every run with the same seed, on any `--workers`
   * or `--shard`).
   */
  maxTokens: {
    kind: "int-range",
    group: "model",
    arity: [1, 2],
    min: 1,
    default: 2048,
    body: "max_tokens",
    help: "max_tokens; --max-tokens MIN MAX draws each request's from MIN to MAX (seeded by " +
      "--seed and the request's index; inclusive)",
  },
  /** Copied into the body as `min_tokens`. */
  minTokens: { kind: "int", group: "model", min: 0, body: "min_tokens", help: "min_tokens" },
  /** Copied into the body as `n`. */
  nChoices: { kind: "int", group: "model", min: 1, body: "n", help: "n (choices per request)" },
  /** Copied into the body as `seed`; also seeds the Poisson arrivals. */
  seed: {
    kind: "int",
    group: "model",
    default: 42,
    body: "seed",
    help: "seed, also of the arrival schedule",
  },
  /** Copied into the body as `stop`. */
  stop: {
    kind: "strings",
    group: "model",
    body: "stop",
    arity: [0, Infinity],
    help: "stop sequences: --stop a b (--stop alone sends none)",
  },
  /** Copied into the body as `stop_token_ids`. */
  stopTokenIds: {
    kind: "ints",
    group: "model",
    arg: "id",
    body: "stop_token_ids",
    help: "stop_token_ids",
  },
  /**
   * Request a streamed (SSE) response. Not a `body` field: each API plugin says how it asks for
   * a stream (`stream: true` and `stream_options`, a header, a URL).
   */
  stream: {
    kind: "bool",
    group: "model",
    default: false,
    negatable: "do not stream (the default here; evalscope 2026 streams by default)",
    help: "stream the response (SSE), with stream_options.include_usage",
  },
  /** Copied into the body as `temperature`. */
  temperature: { kind: "number", group: "model", body: "temperature", help: "temperature" },
  /** Copied into the body as `top_p`. */
  topP: { kind: "number", group: "model", body: "top_p", help: "top_p" },
  // ---- issue 14: evalscope 2026 body flags
  /** Copied into the body as `top_k`. */
  topK: { kind: "int", group: "model", body: "top_k", help: "top_k" },
  /** Copied into the body as `repetition_penalty`. */
  repetitionPenalty: {
    kind: "number",
    group: "model",
    body: "repetition_penalty",
    help: "repetition_penalty",
  },
  /**
   * Send the prompt as token ids to `/v1/completions` (`{"prompt": [ids]}`; chat messages through
   * the tokenizer's chat template), as evalscope 2026's `--tokenize-prompt`. Needs
   * `tokenizerPath`; a `.../chat/completions` URL becomes `.../completions`.
   */
  tokenizePrompt: {
    kind: "bool",
    group: "model",
    default: false,
    help: "send prompts as token ids to .../completions (prompt: a list of ids; messages " +
      "through the chat template); needs --tokenizer-path",
    validate: (v: boolean, cfg: { tokenizerPath?: string }): string | undefined =>
      v && !cfg.tokenizerPath ? "needs --tokenizer-path (the token ids come from it)" : undefined,
  },
  /** A JSON object (or its JSON text) merged into every request body, over everything else. */
  extraArgs: {
    kind: "json",
    group: "model",
    help: "JSON object merged into every request body, over everything else: " +
      `--extra-args '{"ignore_eos": true}'`,
  },

  // ---- storage
  /** Weights & Biases API key. */
  wandbApiKey: {
    kind: "string",
    group: "storage",
    arg: "key",
    secret: true,
    help: "log the run to Weights & Biases (deprecated: --visualizer wandb with $WANDB_API_KEY)",
  },
  // ---- visualizers (issue 14 item 5: src/visualizer/, as evalscope's --visualizer)
  /**
   * Log the run to an experiment tracker: `wandb` (key `--wandb-api-key` or `$WANDB_API_KEY`),
   * `swanlab` (`--swanlab-api-key` or `$SWANLAB_API_KEY`), `clearml` (`$CLEARML_API_ACCESS_KEY`
   * and `$CLEARML_API_SECRET_KEY`). Unset: the backend whose deprecated key flag is given.
   */
  visualizer: {
    kind: "choice",
    group: "storage",
    arg: "name",
    choices: ["wandb", "swanlab", "clearml"],
    defaultHelp: "the one whose key flag is given",
    help: "log the run to wandb, swanlab or clearml (keys: the flags below, or $WANDB_API_KEY, " +
      "$SWANLAB_API_KEY, $CLEARML_API_ACCESS_KEY/$CLEARML_API_SECRET_KEY)",
  },
  /** SwanLab API key (deprecated in evalscope: prefer `$SWANLAB_API_KEY`). */
  swanlabApiKey: {
    kind: "string",
    group: "storage",
    arg: "key",
    secret: true,
    help: "log the run to SwanLab (deprecated: --visualizer swanlab with $SWANLAB_API_KEY)",
  },
  /** SwanLab host (web), for a self-hosted SwanLab; its API is `<host>/api`. */
  swanlabHost: {
    kind: "string",
    group: "storage",
    arg: "url",
    env: ["SWANLAB_HOST"],
    defaultHelp: "$SWANLAB_HOST, else https://swanlab.cn",
    help: "SwanLab host (self-hosted: its API is <host>/api)",
    validate: urlProblem,
  },
  /** Folder under which each run gets its own sub-folder. */
  outputsDir: {
    kind: "string",
    group: "storage",
    arg: "dir",
    default: "./outputs",
    help: "folder for results",
  },

  // ---- issue 14: evalscope 2026 output flags
  /**
   * Leave the timestamp out of the default run name (`<model>_benchmark`; a folder that exists
   * gets `_2`, ...). With `--compat 2026`, the `<YYYYmmdd_HHMMSS>/` level is dropped and the run
   * folder reused, unless it already holds a run's result DB: then the run is refused before
   * anything is sent, as evalscope's.
   */
  noTimestamp: {
    kind: "bool",
    group: "storage",
    default: false,
    help: "leave the timestamp out of the result folder's name (--compat 2026: no " +
      "<YYYYmmdd_HHMMSS>/ level; a run folder that holds a result DB is refused)",
  },
  /** Write `<run folder>/progress.json` (status, counts, percent) as the run goes, at most 1/s. */
  enableProgressTracker: {
    kind: "bool",
    group: "storage",
    default: false,
    help: "write progress.json in the result folder (status, processed_count, percent), at " +
      "most once a second",
  },
  /**
   * Result DB: rows per transaction at most. The writer commits every batch of rows it receives
   * (a few ms worth), so this only splits a bigger batch; below 1 means 1.
   */
  dbCommitInterval: {
    kind: "int",
    group: "storage",
    default: 1000,
    help: "result DB: at most this many rows per commit (each batch of finished requests is " +
      "committed as it arrives); below 1 means 1",
  },

  // ---- telemetry (issue 16: repeats, --max-error-rate, server /metrics, GPU telemetry)
  /** Runs of the same point; 2 or more give each metric's mean, spread and 95% CI. */
  repeat: {
    kind: "int",
    group: "telemetry",
    min: 1,
    default: 1,
    help: "run the same point N times (fresh connections each time): per metric the mean, " +
      "standard deviation, 95% confidence interval (Student t) and coefficient of variation",
  },
  /** Seconds between sweep points and between repeats (not after the last), as evalscope. */
  sleepInterval: {
    kind: "number",
    group: "telemetry",
    arg: "s",
    min: 0,
    default: 5,
    help: "seconds to wait between sweep points and between repeats (not after the last)",
  },
  /**
   * Stop the run when more than this fraction of the last 30 finished requests failed (exit
   * code 3, the reason in the summary).
   */
  maxErrorRate: {
    kind: "fraction",
    group: "telemetry",
    defaultHelp: "never stop",
    help: "stop early when the failure rate of the last 30 finished requests exceeds this " +
      "(0.1 or 10%): the reason in the summary, exit code 3",
  },
  /** The server's Prometheus endpoint; default: the URL's origin + `/metrics`. */
  serverMetrics: {
    kind: "string",
    group: "telemetry",
    arg: "url",
    defaultHelp: "the URL's origin + /metrics",
    help: "the server's Prometheus /metrics, scraped once a second into the result DB and " +
      "report (vLLM, SGLang, TGI names known)",
    validate: urlProblem,
  },
  /** Metric families to keep besides the known ones (`*` ends a prefix; `*` alone: all). */
  serverMetricsNames: {
    kind: "strings",
    group: "telemetry",
    arg: "name",
    help: "more /metrics families to store besides the known ones: names, or prefixes " +
      "ending in * ('*' alone: every family, at most 5,000 series)",
  },
  /** Do not scrape the server's metrics. */
  noServerMetrics: {
    kind: "bool",
    group: "telemetry",
    default: false,
    help: "do not scrape the server's /metrics",
  },
  /** Do not record GPU telemetry (nvidia-smi, amd-smi or rocm-smi on PATH). */
  noGpuTelemetry: {
    kind: "bool",
    group: "telemetry",
    default: false,
    help: "do not record this host's GPUs (nvidia-smi, amd-smi or rocm-smi, when on PATH)",
  },

  // ---- results
  /**
   * Service-level goals, e.g. `ttft_p99<500ms,error_rate<1%` (grammar in
   * `src/config/slo_goals.ts`).
   */
  slo: {
    kind: "string",
    group: "results",
    arg: "goals",
    help: "service-level goals, e.g. 'ttft_p99<500ms,tpot_mean<50ms,error_rate<1%': pass/fail " +
      "per goal, goodput in the summary, exit code 3 when a goal fails",
    validate: (v: string): undefined => {
      parseSlo(v); // throws a UsageError that names the goal
      return undefined;
    },
  },
  // ---- issue 14 item 2: which evalscope to behave like (defaults in COMPAT_DEFAULTS below)
  /**
   * Which `evalscope perf` to behave like: `2024` (the default: the late-2024 release's tables,
   * `benchmark_*` files and keys, its DB with `success='True'` and pickled requests) or `2026`
   * (today's: its defaults where a flag was not given, its folder layout, DB schema, files and
   * tables; `docs/evalscope.md`).
   */
  compat: {
    kind: "choice",
    group: "results",
    arg: "year",
    choices: COMPAT_CHOICES,
    default: "2024",
    help: "behave like evalscope of 2024 (its tables, files and DB) or 2026 (its defaults, " +
      "folder layout, DB schema, JSON keys, percentiles and tables): see docs/evalscope.md",
  },
  // ---- sla (issue 14 item 4: SLA auto-tune, src/run/sla_tune.ts)
  /** Search for the largest `--parallel` (or `--rate`) that meets `--sla-params` / `--slo`. */
  slaAutoTune: {
    kind: "bool",
    group: "sla",
    default: false,
    help: "search for the largest --sla-variable value meeting --sla-params (or --slo): " +
      "doubling, then binary search; each value --sla-num-runs runs, averaged",
    validate: (v: boolean, cfg: { slaParams?: string; slo?: string }): string | undefined =>
      v && cfg.slaParams === undefined && cfg.slo === undefined
        ? "needs the criteria: --sla-params (or --slo)"
        : undefined,
  },
  /** What the search varies: `parallel` (closed loop) or `rate` (at `--sla-fixed-parallel`). */
  slaVariable: {
    kind: "choice",
    group: "sla",
    arg: "var",
    choices: ["parallel", "rate"],
    default: "parallel",
    help: "what the search varies: parallel, or rate (with --sla-fixed-parallel in flight)",
  },
  /**
   * The criteria: a JSON object (its criteria ANDed) or a list of them (each searched on its
   * own), e.g. `{"p99_ttft": "<=500", "avg_tpot": "<=50"}` or `{"tps": "max"}` (grammar in
   * `src/results/sla.ts`).
   */
  slaParams: {
    kind: "string",
    group: "sla",
    arg: "json",
    help: `criteria: '{"p99_ttft": "<=500"}' (ms; latency in s), a list of such groups, or ` +
      `'{"tps": "max"}'; metrics avg_/p50_/p90_/p99_ ttft, tpot, latency, rps, tps`,
    validate: (v: string): undefined => {
      parseSlaParams(v); // throws a UsageError that names the criterion
      return undefined;
    },
  },
  /** Runs per value tried; their results are averaged. */
  slaNumRuns: {
    kind: "int",
    group: "sla",
    min: 1,
    default: 3,
    help: "runs per value tried (averaged), --sleep-interval apart",
  },
  /** The largest value the search tries. */
  slaUpperBound: {
    kind: "int",
    group: "sla",
    min: 1,
    default: 65536,
    help: "the largest value tried",
  },
  /** The smallest value the search tries. */
  slaLowerBound: {
    kind: "int",
    group: "sla",
    min: 1,
    default: 1,
    help: "the smallest value tried",
    validate: (v: number, cfg: { slaUpperBound: number }): string | undefined =>
      v > cfg.slaUpperBound ? "must not be more than --sla-upper-bound" : undefined,
  },
  /** `--parallel` of every run when the search varies the rate; default the upper bound. */
  slaFixedParallel: {
    kind: "int",
    group: "sla",
    min: 1,
    defaultHelp: "--sla-upper-bound",
    help: "requests in flight at most while --sla-variable rate is searched",
  },
  /** Requests per run: `max(1, round(value × this))`. */
  slaNumberMultiplier: {
    kind: "number",
    group: "sla",
    above: 0,
    defaultHelp: "2",
    help: "requests per run: max(1, round(value × this))",
  },
} as const satisfies Readonly<Record<string, SettingDef & { group: GroupId }>>;

/** The config type the table declares (`PerfConfig` in `src/config.ts`). */
export type SettingsConfig = ConfigOf<typeof SETTINGS>;

/** A config key (camelCase). */
export type SettingKey = keyof typeof SETTINGS;

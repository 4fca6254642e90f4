/**
 * `perfRun({...})`: one `llmperf perf` run of the real CLI for an end-to-end test. Flags are a
 * typed object (turned into argv by {@link perfArgs}); the run writes into a fresh outputs folder
 * that lives until the result is disposed (`await using r = await perfRun(...)`); the result
 * reads the run folder's JSON files and result DB on demand.
 *
 * @example
 * ```ts
 * await using r = await perfRun({ server: mock, flags: { number: 4, stream: true } });
 * assertEquals(r.code, 0, r.stderr);
 * assertEquals(r.summary["Succeed requests"], 4);
 * const rows = r.sql<{ success: string }>("SELECT success FROM result");
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { type CliOptions, type CliResult, runCli, tempDir } from "./cli.ts";

/**
 * `perf`'s flags as the tests use them, in camelCase (`logEveryNQuery` is
 * `--log-every-n-query`). `true` gives the bare flag; `false`, `null` and `undefined` leave it
 * out; a list gives the flag its values in order (`parallel: [1, 4]` is `--parallel 1 4`, a
 * sweep); an object is given as JSON text. A flag not listed here goes in `args`.
 */
export interface PerfFlags {
  /** `--model` (default `m`; `null` leaves it out). */
  model?: string | null;
  /** `--prompt` (default `hi` unless `dataset` is given; `null` leaves it out). */
  prompt?: string | null;
  /** `--name`. */
  name?: string;
  /** `--api`. */
  api?: string;
  /** `--api-key`. */
  apiKey?: string;
  /** `--debug`. */
  debug?: boolean;
  /** `--connect-timeout` (s). */
  connectTimeout?: number;
  /** `--read-timeout` (s). */
  readTimeout?: number;
  /** `--total-timeout` (s). */
  totalTimeout?: number;
  /** `--headers k=v ...`. */
  headers?: readonly string[];
  /** `--transport`. */
  transport?: "auto" | "socket" | "fetch";
  /** `--workers`. */
  workers?: number;
  /** `--ca-cert`. */
  caCert?: string;
  /** `--no-test-connection`. */
  noTestConnection?: boolean;
  /** `--number` (several values: a sweep). */
  number?: number | readonly number[];
  /** `--parallel` (several values: a sweep). */
  parallel?: number | readonly number[];
  /** `--rate` (several values: a sweep). */
  rate?: number | readonly number[];
  /** `--shard I/N`. */
  shard?: string;
  /** `--start-at` (epoch seconds). */
  startAt?: number;
  /** `--log-every-n-query`. */
  logEveryNQuery?: number;
  /** `--max-prompt-length`. */
  maxPromptLength?: number;
  /** `--min-prompt-length`. */
  minPromptLength?: number;
  /** `--query-template` (JSON text or `@file`; an object is given as JSON). */
  queryTemplate?: string | Record<string, unknown>;
  /** `--dataset`. */
  dataset?: string;
  /** `--dataset-path`. */
  datasetPath?: string;
  /** `--tokenizer-path`. */
  tokenizerPath?: string;
  /** `--apply-chat-template`. */
  applyChatTemplate?: boolean;
  /** `--prefix-length`. */
  prefixLength?: number;
  /** `--max-tokens`. */
  maxTokens?: number;
  /** `--seed`. */
  seed?: number;
  /** `--stream`. */
  stream?: boolean;
  /** `--temperature`. */
  temperature?: number;
  /** `--extra-args` (JSON text; an object is given as JSON). */
  extraArgs?: string | Record<string, unknown>;
  /** `--wandb-api-key`. */
  wandbApiKey?: string;
  /** `--slo`. */
  slo?: string;
  /** `--json`. */
  json?: boolean;
  /** `--repeat`. */
  repeat?: number;
  /** `--sleep-interval` (s). */
  sleepInterval?: number;
  /** `--max-error-rate` (a fraction, or text such as `10%`). */
  maxErrorRate?: number | string;
  /** `--server-metrics` URL. */
  serverMetrics?: string;
  /** `--server-metrics-names`. */
  serverMetricsNames?: readonly string[];
  /** `--no-server-metrics`. */
  noServerMetrics?: boolean;
  /** `--no-gpu-telemetry`. */
  noGpuTelemetry?: boolean;
}

/** What to run: the target, the flags, and how to start the process. */
export interface PerfRunOptions
  extends Pick<CliOptions, "env" | "cwd" | "killAfterMs" | "sampleMemory"> {
  /** The endpoint URL, given as is (the positional argument). */
  url?: string;
  /** A server (the mock, a stub) whose `url` + `path` is the endpoint, when `url` is not given. */
  server?: { url: string };
  /** Path after `server.url` (default `/v1/chat/completions`). */
  path?: string;
  /** The flags. */
  flags?: PerfFlags;
  /** More arguments, as they are, after the flags (the escape hatch). */
  args?: readonly string[];
  /**
   * Let the run read telemetry (the server's `/metrics` once a second, this host's GPU tool).
   * Off by default (`--no-server-metrics --no-gpu-telemetry`): stubs count every request they
   * get, and a scrape is one more. Tests of telemetry turn it on.
   */
  telemetry?: boolean;
}

/** The JSON of a run's summary file (`benchmark_summary.json`). */
export type Summary = Record<string, unknown>;

/** What a `perf` run printed and left; disposing it removes its outputs folder. */
export interface PerfRunResult extends CliResult, AsyncDisposable {
  /** The fresh outputs folder the run was given (`--outputs-dir`). */
  readonly outputs: string;
  /** Names of what the run left in `outputs` (empty: no run folder was made). */
  readonly entries: string[];
  /** The run folder (the only folder in `outputs`); throws when there is not exactly one. */
  readonly dir: string;
  /** `benchmark_summary.json`; throws (with the exit code and stderr) when there is none. */
  readonly summary: Summary;
  /** `benchmark_percentile.json`; throws when there is none. */
  readonly percentiles: Array<Record<string, unknown>>;
  /** `benchmark_args.json`; throws when there is none. */
  readonly args: Record<string, unknown>;
  /** Rows of `query` on the run's result DB (opened read-only). */
  sql<T = Record<string, unknown>>(query: string): T[];
  /** A file of the run folder as text. */
  text(name: string): Promise<string>;
}

const DEFAULT_PATH = "/v1/chat/completions";

function kebab(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * The argv of `perf` after the executable and `main.ts`: `perf`, the URL, `--model` and
 * `--prompt` (defaults `m` and `hi`; no prompt when a dataset is given), the other flags in
 * order, telemetry off unless asked for, then `args`. No `--outputs-dir`: {@link perfRun} adds a fresh one.
 */
export function perfArgs(o: PerfRunOptions): string[] {
  const flags: PerfFlags = {
    model: "m",
    ...(o.flags?.dataset === undefined ? { prompt: "hi" } : {}),
    ...o.flags,
  };
  const url = o.url ?? (o.server ? `${o.server.url}${o.path ?? DEFAULT_PATH}` : undefined);
  const argv = ["perf", ...(url === undefined ? [] : [url])];
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined || value === null || value === false) continue;
    const flag = kebab(key);
    if (value === true) argv.push(flag);
    else if (Array.isArray(value)) argv.push(flag, ...value.map(String));
    else if (typeof value === "object") argv.push(flag, JSON.stringify(value));
    else argv.push(flag, String(value));
  }
  if (!o.telemetry) {
    if (!argv.includes("--no-server-metrics")) argv.push("--no-server-metrics");
    if (!argv.includes("--no-gpu-telemetry")) argv.push("--no-gpu-telemetry");
  }
  return [...argv, ...(o.args ?? [])];
}

async function readJsonIfThere<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Run `llmperf perf` (argv from {@link perfArgs}) with a fresh `--outputs-dir`, and read what it
 * left. The folder is removed when the result is disposed; use `await using`.
 */
export async function perfRun(o: PerfRunOptions): Promise<PerfRunResult> {
  const tmp = await tempDir();
  try {
    const r = await runCli([...perfArgs(o), "--outputs-dir", tmp.path], {
      env: o.env,
      cwd: o.cwd,
      killAfterMs: o.killAfterMs,
      sampleMemory: o.sampleMemory,
    });
    const entries = [...Deno.readDirSync(tmp.path)];
    const folders = entries.filter((e) => e.isDirectory).map((e) => `${tmp.path}/${e.name}`);
    const dir = folders.length === 1 ? folders[0] : undefined;
    const why = () =>
      `(exit ${r.code}; left: ${entries.map((e) => e.name).join(", ")})\n${r.stderr}`;
    const runDir = () => {
      if (dir === undefined) throw new Error(`not exactly one run folder ${why()}`);
      return dir;
    };
    const file = <T>(name: string) =>
      dir === undefined ? Promise.resolve(undefined) : readJsonIfThere<T>(`${dir}/${name}`);
    const [summary, percentiles, args] = await Promise.all([
      file<Summary>("benchmark_summary.json"),
      file<Array<Record<string, unknown>>>("benchmark_percentile.json"),
      file<Record<string, unknown>>("benchmark_args.json"),
    ]);
    const need = <T>(value: T | undefined, name: string): T => {
      if (value === undefined) throw new Error(`the run left no ${name} ${why()}`);
      return value;
    };
    return {
      ...r,
      outputs: tmp.path,
      entries: entries.map((e) => e.name),
      get dir() {
        return runDir();
      },
      get summary() {
        return need(summary, "benchmark_summary.json");
      },
      get percentiles() {
        return need(percentiles, "benchmark_percentile.json");
      },
      get args() {
        return need(args, "benchmark_args.json");
      },
      sql<T>(query: string): T[] {
        const db = new DatabaseSync(`${runDir()}/benchmark_data.db`, { readOnly: true });
        try {
          return db.prepare(query).all() as T[];
        } finally {
          db.close();
        }
      },
      text: (name) => Deno.readTextFile(`${runDir()}/${name}`),
      [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
    };
  } catch (e) {
    await tmp[Symbol.asyncDispose]();
    throw e;
  }
}

/**
 * Run the real CLI (`deno run -A main.ts ...`) in a subprocess, for end-to-end tests.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

const ROOT = new URL("../../", import.meta.url);

/** Absolute path of the repository root. */
export const ROOT_DIR = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");

/** What a CLI run printed and returned. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Run `llmperf <args>` and collect its output. */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}/main.ts`, ...args],
    cwd: opts.cwd ?? ROOT_DIR,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "llmperf-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The only sub-folder of `dir` (a run folder), or an error. */
export async function onlyRunDir(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
  if (names.length !== 1) {
    throw new Error(`expected one run folder in ${dir}, found ${names.join(", ")}`);
  }
  return `${dir}/${names[0]}`;
}

/** Read a JSON file. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

/** What `llmperf perf` printed and left in its run folder. */
export interface PerfRun extends CliResult {
  /** `benchmark_summary.json`, when the run wrote one. */
  summary?: Record<string, unknown>;
  /** The rows `query` selected from the result DB, when asked and the run wrote one. */
  rows?: Record<string, unknown>[];
}

/**
 * Run `llmperf perf URL --model m --prompt hi ...extra` into a fresh outputs folder (removed
 * after), and read its summary and, with `query`, rows of its result DB.
 */
export async function runPerf(
  url: string,
  extra: string[],
  opts: { env?: Record<string, string>; query?: string } = {},
): Promise<PerfRun> {
  await using tmp = await tempDir();
  const r = await runCli(
    ["perf", url, "--model", "m", "--prompt", "hi", ...extra, "--outputs-dir", tmp.path],
    { env: opts.env },
  );
  const run: PerfRun = r;
  let dir: string;
  try {
    dir = await onlyRunDir(tmp.path);
  } catch {
    return run; // the run stopped before its folder was made
  }
  run.summary = await readJson(`${dir}/benchmark_summary.json`).catch(() => undefined);
  if (opts.query !== undefined) {
    const db = new DatabaseSync(`${dir}/benchmark_data.db`, { readOnly: true });
    try {
      run.rows = db.prepare(opts.query).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  return run;
}

/** A local port nothing listens on (it was free a moment ago). */
export function unusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

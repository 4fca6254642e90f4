/**
 * Run the real CLI (`deno run -A main.ts ...`) in a subprocess, for end-to-end tests.
 *
 * @module
 */
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
  /** Wall-clock seconds from start to exit. */
  seconds: number;
  /** Peak resident memory in MB, sampled every 50 ms from /proc (with `sampleMemory`, on Linux). */
  peakMb?: number;
}

/** How {@link runCli} starts the CLI. */
export interface CliOptions {
  /** Working folder (the repository root by default). */
  cwd?: string;
  /** Environment variables added to `NO_COLOR=1`. */
  env?: Record<string, string>;
  /** Kill the process (SIGKILL) after this many ms, so a hang fails the test instead of CI. */
  killAfterMs?: number;
  /** Sample the process's resident memory every 50 ms (Linux `/proc`), into `peakMb`. */
  sampleMemory?: boolean;
}

/** Resident set size of a live process in MB, from /proc (Linux); undefined elsewhere. */
function rssMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Run `llmperf <args>` and collect its output. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}/main.ts`, ...args],
    cwd: opts.cwd ?? ROOT_DIR,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peakMb = 0;
  const sampler = opts.sampleMemory
    ? setInterval(() => peakMb = Math.max(peakMb, rssMb(child.pid) ?? 0), 50)
    : undefined;
  const killer = opts.killAfterMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      seconds: (performance.now() - t0) / 1000,
      ...(opts.sampleMemory ? { peakMb } : {}),
    };
  } finally {
    clearInterval(sampler);
    clearTimeout(killer);
  }
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

/**
 * The block of `text` that starts at the line holding `title`, up to the next blank line (one
 * table of the CLI's output), without trailing spaces. Throws when `title` is not there.
 */
export function block(text: string, title: string): string {
  const at = text.indexOf(title);
  if (at < 0) throw new Error(`no '${title}' in output:\n${text}`);
  const end = text.indexOf("\n\n", at);
  return text.slice(at, end < 0 ? undefined : end).trimEnd();
}

/** A local port nothing listens on (it was free a moment ago). */
export function unusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

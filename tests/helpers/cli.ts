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

/**
 * A CLI run long enough to interrupt or kill half-way (100 streamed requests, 4 in flight; with
 * the mock at 100 ms TTFT and 50 ms ITL over 20 tokens, about 25 s), and waiting for its first
 * committed rows, for the interrupt, hang-up and `kill -9` tests.
 *
 * @module
 */
import { openForReading } from "../../src/store/open_read.ts";
import { onlyRunDir, ROOT_DIR } from "./cli.ts";
import { perfArgs } from "./perf_run.ts";

/** The mock's timing for {@link longRunArgs}: each request takes 0.1 + 19 × 0.05 = 1.05 s. */
export const LONG_RUN_MOCK = { ttftMs: 100, itlMs: 50, outputTokens: 20 } as const;

/**
 * `deno run -A main.ts perf ...` arguments (after the Deno executable) of the long run: `number`
 * streamed requests (100 by default), 4 in flight, results under `outputs`.
 */
export function longRunArgs(mockUrl: string, outputs: string, number = 100): string[] {
  return [
    "run",
    "-A",
    `${ROOT_DIR}/main.ts`,
    ...perfArgs({
      server: { url: mockUrl },
      flags: { prompt: "hello", parallel: 4, number, stream: true },
      args: ["--outputs-dir", outputs],
    }),
  ];
}

/** Start the long run against the mock at `mockUrl`, results under `outputs`. */
export function spawnLongRun(mockUrl: string, outputs: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: longRunArgs(mockUrl, outputs),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Rows in the `result` table of a DB file (opened read-only, as another process writes it). */
export function countRows(path: string, where = "1=1"): number {
  const db = openForReading(path);
  try {
    return (db.prepare(`SELECT COUNT(*) AS c FROM result WHERE ${where}`).get() as { c: number })
      .c;
  } finally {
    db.close();
  }
}

/** Wait until the only run folder under `outputs` has a DB with at least `n` committed rows. */
export async function waitForRows(outputs: string, n: number, timeoutMs = 20000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      if (countRows(`${await onlyRunDir(outputs)}/benchmark_data.db`) >= n) return;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} rows after ${timeoutMs} ms`);
}

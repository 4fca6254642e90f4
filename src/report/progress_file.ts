/**
 * `--enable-progress-tracker`: `<run folder>/progress.json` as evalscope 2026 writes it
 * (`{status, pipeline: "perf", total_count, processed_count, percent, updated_at}`), rewritten
 * at most once a second from the result pipeline (never from the request hot path), atomically
 * (a temporary file renamed over it), and a last time with `completed` or `error` when the run
 * ends. Warmup requests never reach the pipeline, so they are not counted.
 *
 * @module
 */
import type { FinishedRequest, ResultSink } from "../records/finished.ts";

/** What `progress.json` holds. */
export interface ProgressFileContent {
  /** `running`, then `completed` or `error`. */
  status: "running" | "completed" | "error";
  /** Always `perf`. */
  pipeline: "perf";
  /** Requests the run will send (0 when not known). */
  total_count: number;
  /** Requests finished so far. */
  processed_count: number;
  /** processed / total × 100, rounded to 2 decimals (0 when the total is not known). */
  percent: number;
  /** When it was written, ISO 8601. */
  updated_at: string;
}

/** A pipeline sink that keeps `progress.json` current; see the module doc. */
export class ProgressFile implements ResultSink {
  #path: string;
  #total: number;
  #done = 0;
  #last = -Infinity;
  #writing: Promise<void> = Promise.resolve();

  /**
   * @param path where to write (`<run folder>/progress.json`)
   * @param total requests the run will send, when known
   */
  constructor(path: string, total: number | undefined) {
    this.#path = path;
    this.#total = total ?? 0;
  }

  /** Write the first `running` state. */
  start(): Promise<void> {
    this.#last = performance.now();
    return this.#write("running");
  }

  /** Count a batch; rewrite the file when a second has passed since the last write. */
  write(batch: FinishedRequest[]): void {
    this.#done += batch.length;
    const now = performance.now();
    if (now - this.#last < 1000) return;
    this.#last = now;
    this.#writing = this.#writing.then(() => this.#write("running"));
  }

  /** The last state: `completed`, or `error` when the run did not finish (interrupted). */
  async finish(failed: boolean): Promise<void> {
    await this.#writing;
    await this.#write(failed ? "error" : "completed");
  }

  /** The content for a status. */
  content(status: ProgressFileContent["status"]): ProgressFileContent {
    const t = this.#total;
    return {
      status,
      pipeline: "perf",
      total_count: t,
      processed_count: this.#done,
      percent: t > 0 ? Math.round((this.#done / t) * 10000) / 100 : 0,
      updated_at: new Date().toISOString(),
    };
  }

  async #write(status: ProgressFileContent["status"]): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    try {
      await Deno.writeTextFile(tmp, JSON.stringify(this.content(status), null, 2) + "\n");
      await Deno.rename(tmp, this.#path);
    } catch {
      // Progress is a convenience: a full disk must not fail the run (the results say so).
    }
  }
}

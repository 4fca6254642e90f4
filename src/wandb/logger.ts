/**
 * `--wandb-api-key` (and `--visualizer`): a run's settings and running metrics logged to a
 * Weights & Biases run, or to another tracker's (`src/visualizer/`). A pipeline sink placed after the {@link ProgressTracker}: every `--log-every-n-query` finished
 * requests it queues a history row (requests done and failed, rate, mean TTFT, output tokens/s),
 * and a timer sends the queued rows every few seconds. At the end the run's summary tables and SLO
 * outcome become the W&B run summary. W&B being unreachable never fails the benchmark: one warning
 * line, and logging stops.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ResultSink } from "../records/finished.ts";
import type { ProgressSnapshot, ProgressTracker } from "../report/progress.ts";
import type { TrackedRun } from "../visualizer/tracked_run.ts";
import { WandbRun, type WandbRunInit, type WandbSettings } from "./http_api.ts";

/** Options of {@link WandbLogger}. */
export interface WandbLoggerOptions extends WandbRunInit {
  /** Where and as whom to log (W&B). */
  settings?: WandbSettings;
  /**
   * Another service's run instead of W&B's (`--visualizer swanlab|clearml`): how to open it,
   * and its name in warnings.
   */
  tracker?: { service: string; open: (init: WandbRunInit) => Promise<TrackedRun> };
  /** A history row every this many finished requests. */
  every: number;
  /** Warnings and the run's link go here. */
  log: Logger;
  /** Send period, ms (default 5,000). */
  flushMs?: number;
}

/** A history row from the running numbers. */
export function historyRow(p: ProgressSnapshot): Record<string, number | null> {
  return {
    requests_done: p.done,
    requests_failed: p.failed,
    elapsed_s: p.elapsedS,
    request_rate: p.rate,
    mean_ttft_ms: p.meanTtftMs,
    output_tokens_per_s: p.outputTokensPerS,
  };
}

/** Logs a run to W&B; see the module doc. */
export class WandbLogger implements ResultSink {
  #tracker: ProgressTracker;
  #opts: WandbLoggerOptions;
  #run: TrackedRun | undefined;
  #next: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sending: Promise<void> = Promise.resolve();
  #failed = false;

  /**
   * @param tracker the running numbers
   * @param opts settings, run name, config, period and logger
   */
  constructor(tracker: ProgressTracker, opts: WandbLoggerOptions) {
    this.#tracker = tracker;
    this.#opts = opts;
    this.#next = opts.every;
  }

  /** The run, once started. */
  get run(): TrackedRun | undefined {
    return this.#run;
  }

  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#run = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const service = this.#opts.tracker?.service ?? "wandb";
    const name = this.#opts.tracker ? service : "W&B";
    this.#opts.log(`warning: ${service}: ${errorMessage(e)}; not logging to ${name} any more`);
  }

  /** Create the W&B run and start the send timer. */
  async start(): Promise<void> {
    try {
      const t = this.#opts.tracker;
      this.#run = t
        ? await t.open(this.#opts)
        : await WandbRun.start(this.#opts.settings!, this.#opts);
      this.#opts.log(`${t?.service ?? "wandb"}: logging to ${this.#run.url}`);
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#timer = setInterval(() => this.#send(), this.#opts.flushMs ?? 5000);
    Deno.unrefTimer(this.#timer);
  }

  #send(): Promise<void> {
    const run = this.#run;
    if (!run) return this.#sending;
    this.#sending = this.#sending.then(() => run.flush()).catch((e) => this.#fail(e));
    return this.#sending;
  }

  /** A batch arrived: queue a history row for each `every` requests passed. */
  write(): void {
    if (!this.#run) return;
    const p = this.#tracker.snapshot();
    if (p.done < this.#next) return;
    while (this.#next <= p.done) this.#next += this.#opts.every;
    this.#run.log(historyRow(p));
  }

  /** Stop the send timer (the run is finished by {@link finish}). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Log the last row and the summary, then mark the W&B run finished. */
  async finish(summary: Record<string, unknown>, exitcode = 0): Promise<void> {
    this.close();
    await this.#sending;
    const run = this.#run;
    if (!run) return;
    try {
      run.log(historyRow(this.#tracker.snapshot()));
      run.summarize(summary);
      await run.finish(exitcode);
    } catch (e) {
      this.#fail(e);
    }
  }
}

/**
 * What a run shows and leaves besides its tables, wired into the result pipeline as sinks: live
 * progress, the chart data of `report.html`, and W&B logging. The run opens it around the load;
 * once the results are known, {@link RunOutputs.finish} writes `report.html` and closes the W&B
 * run with them. It reads the results and never changes them.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import { runExitCode } from "../exit_codes.ts";
import type { Logger } from "../log.ts";
import type { ResultSink } from "../records/finished.ts";
import type { RunResults } from "../results/run.ts";
import { SUMMARY_KEYS } from "../metrics/collector.ts";
import { type WandbSettings, wandbSettings } from "../wandb/http_api.ts";
import { WandbLogger } from "../wandb/logger.ts";
import { visualizerOf } from "../visualizer/choose.ts";
import { ReportDataSink } from "./html/data.ts";
import { renderRunReport } from "./html/page.ts";
import { writeTextOrNothing } from "./files.ts";
import {
  autoProgressMode,
  ProgressDisplay,
  type ProgressMode,
  ProgressTracker,
} from "./progress.ts";

/** How a run shows and leaves its results (the `RunOptions` that concern them). */
export interface OutputOptions {
  /** `auto` (default): a live line when stderr is a terminal, else log lines; or a mode. */
  progress?: "auto" | ProgressMode;
  /** Write `report.html` into the run folder (default true). */
  htmlReport?: boolean;
  /** The sweep a run belongs to: its W&B group, and the prefix of its W&B run name. */
  group?: string;
  /** W&B settings overriding the `WANDB_*` environment variables (base URL, project, entity). */
  wandb?: Partial<Omit<WandbSettings, "apiKey">>;
}

/** What {@link RunOutputs} needs to know about the run. */
export interface RunOutputsInit extends OutputOptions {
  /** The resolved config. */
  cfg: PerfConfig;
  /** Run name. */
  name: string;
  /** Run folder. */
  outputDir: string;
  /** The settings as written to `benchmark_args.json` (secrets redacted). */
  settings: Record<string, unknown>;
  /** Requests the run will send, when known. */
  expected?: number;
  /** The run's logger. */
  log: Logger;
  /** Whether `log` is the default stderr logger (the live line needs the terminal to itself). */
  defaultLogger: boolean;
}

/** The sinks and end-of-run steps of a run's progress, HTML report and W&B logging. */
export class RunOutputs implements Disposable {
  /** Sinks to add to the pipeline, in this order. */
  readonly sinks: ResultSink[];
  /** The run's logger, made safe to use while the live line shows. */
  readonly log: Logger;
  #init: RunOutputsInit;
  #tracker: ProgressTracker;
  #display: ProgressDisplay;
  #report: ReportDataSink | undefined;
  #wandb: WandbLogger | undefined;

  /** @param init the run */
  constructor(init: RunOutputsInit) {
    this.#init = init;
    const { cfg } = init;
    const mode = !init.progress || init.progress === "auto"
      ? autoProgressMode(init.defaultLogger)
      : init.progress;
    this.#tracker = new ProgressTracker({ total: init.expected });
    this.#display = new ProgressDisplay(this.#tracker, {
      mode,
      every: cfg.logEveryNQuery,
      log: init.log,
    });
    this.log = this.#display.wrapLogger(init.log);
    const sinks: ResultSink[] = [this.#tracker, this.#display];
    if (init.htmlReport !== false) {
      this.#report = new ReportDataSink();
      sinks.push(this.#report);
    }
    const viz = visualizerOf(cfg, this.log);
    if (viz) {
      const wandb = viz.service === "wandb"
        ? { ...wandbSettings(viz.wandbKey), ...init.wandb }
        : undefined;
      this.#wandb = new WandbLogger(this.#tracker, {
        settings: wandb,
        tracker: viz.service === "wandb" ? undefined : viz,
        name: init.group ? `${init.group}/${init.name}` : init.name,
        group: init.group,
        config: init.settings,
        // evalscope logs swanlab and clearml after every request: here after every batch.
        every: viz.service === "wandb" ? cfg.logEveryNQuery : 1,
        log: this.log,
      });
      sinks.push(this.#wandb);
    }
    this.sinks = sinks;
  }

  /** Start the clocks, the live line and the W&B run: call just before the load starts. */
  async start(): Promise<void> {
    await this.#wandb?.start();
    this.#tracker.start();
    this.#report?.start();
    this.#display.start();
  }

  /** Stop timers (also when the run failed); the pipeline closes the sinks too. */
  stop(): void {
    this.#display.close();
    this.#wandb?.close();
  }

  /** See {@link RunOutputs.stop}. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /**
   * Once the results are known: write `report.html` and finish the W&B run (its summary, the SLO
   * outcome, and the exit code of how the run itself ended). Resolves to the outputs that could
   * not be written, one line each (a `report.html` on a full disk); the W&B run still finishes.
   */
  async finish(result: RunResults): Promise<string[]> {
    this.stop();
    const errors: string[] = [];
    if (this.#report) {
      const html = renderRunReport({
        name: this.#init.name,
        createdAt: new Date(),
        settings: this.#init.settings,
        summary: result.summary,
        requestSummary: result.requestSummary,
        requestPercentiles: result.requestPercentiles,
        failures: result.failures,
        slo: result.slo,
        interrupted: result.interrupted,
        charts: this.#report.charts(),
        serverSummary: result.serverSummary,
        telemetry: result.telemetry,
        stoppedEarly: result.stoppedEarly,
      });
      try {
        await writeTextOrNothing(`${result.outputDir}/report.html`, html);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (this.#wandb) {
      const summary: Record<string, unknown> = { ...result.summary, ...result.requestSummary };
      delete summary[SUMMARY_KEYS.dbPath];
      if (result.slo) {
        summary["SLO passed"] = result.slo.passed;
        for (const g of result.slo.goals) summary[`SLO ${g.goal}`] = g.passed;
      }
      // How the run itself ended: the outputs' own errors are not all known yet.
      const code = runExitCode({ ...result, errors: [], sloPassed: result.slo?.passed });
      if (result.serverSummary) Object.assign(summary, result.serverSummary);
      await this.#wandb.finish(summary, code);
    }
    return errors;
  }
}

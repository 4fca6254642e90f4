/**
 * The client's verdict on itself: from what each thread measured ({@link ThreadLoad}), could the
 * client's own delays have made its timings wrong by more than a millisecond, or kept fewer
 * requests in flight than asked? If so the run ends with a warning, and the measurements go into
 * the result (and the result DB's run metadata).
 *
 * Which threads count: all of them. The ones that stamp responses (the workers, or the main
 * thread when there are none) add their delays to every timing; the main thread, with workers,
 * schedules, refills the closed loop's slots and aggregates, so its delays lower the concurrency
 * actually reached and delay `--rate` dispatches. Both are judged on the same limits.
 *
 * Thresholds: a thread that used 90% of a core in any second was queueing work; a timer that
 * fired more than 1.5 ms late on average (Deno's timers alone are up to 1 ms late, about 0.5 ms
 * on average, when idle) or more than 10 ms late at the 99th percentile (over at least 5 s of
 * samples, so that start-up compilation alone does not count) means reads were stamped that late
 * too; a request sent more than 1 ms after its scheduled time on average, or 10 ms at the 99th
 * percentile, broke the arrival schedule; a closed loop whose time-weighted mean of requests in
 * flight ({@link Concurrency}) was below 95% of `--parallel` refilled its slots late.
 *
 * @module
 */
import type { ThreadLoad } from "./loop_monitor.ts";
import type { SendingReport } from "./transport_threads.ts";

/** How many requests a run kept in flight. */
export interface Concurrency {
  /** What it asked for: `--parallel` (a closed loop: its slots, at most the requests). */
  target: number;
  /**
   * The time-weighted mean of requests in flight: for a closed loop, over each slot's life
   * from its first send to its last end (ramp-up and tail left out), summed over the slots; for
   * `--rate`, over the run.
   */
  achieved: number;
  /** Whether the run was a closed loop (the only kind judged on it). */
  closedLoop: boolean;
}

/** The client's self-check of one run. */
export interface ClientCheck extends SendingReport {
  /** The concurrency reached. */
  concurrency?: Concurrency;
  /** Whether the client's own delays could exceed 1 ms, or lowered the concurrency. */
  saturated: boolean;
  /** The warning printed at the end of a saturated run (with the threads at fault). */
  warning?: string;
}

/** Limits beyond which a thread counts as saturated. */
export const SATURATION_LIMITS = {
  /** Highest share of one core in a one-second window. */
  cpuBusyPeak: 0.9,
  /** Mean event-loop lag, ms. */
  lagMeanMs: 1.5,
  /** 99th-percentile event-loop lag, ms (judged from this many samples on). */
  lagP99Ms: 10,
  /** Lag samples needed before the 99th percentile is judged (5 s). */
  lagP99Samples: 500,
  /** Mean dispatch lag, ms. */
  dispatchMeanMs: 1,
  /** 99th-percentile dispatch lag, ms. */
  dispatchP99Ms: 10,
  /** Lowest share of `--parallel` a closed loop keeps in flight on average. */
  concurrencyShare: 0.95,
} as const;

/** The first words of the saturation warning. */
export const SATURATION_WARNING = "the client was saturated: add --workers or machines";

/** Why a thread counts as saturated, or `undefined` when it does not. */
export function saturation(t: ThreadLoad): string | undefined {
  const why: string[] = [];
  const L = SATURATION_LIMITS;
  if (t.cpuBusyPeak !== null && t.cpuBusyPeak >= L.cpuBusyPeak) {
    why.push(`${Math.round(t.cpuBusyPeak * 100)}% of a core`);
  }
  if (t.lagMeanMs > L.lagMeanMs || (t.lagSamples >= L.lagP99Samples && t.lagP99Ms > L.lagP99Ms)) {
    why.push(
      `event-loop lag mean ${t.lagMeanMs.toFixed(1)} ms, p99 ${t.lagP99Ms.toFixed(1)} ms`,
    );
  }
  return why.length > 0 ? `${t.thread}: ${why.join(", ")}` : undefined;
}

/**
 * Judge a run from what its threads measured (`threads[0]` the main thread), its dispatch and
 * refill lag, and the concurrency it reached.
 */
export function clientCheck(report: SendingReport, concurrency?: Concurrency): ClientCheck {
  const faults = report.threads.map(saturation).filter((s): s is string => s !== undefined);
  const L = SATURATION_LIMITS;
  const dispatchLag = report.dispatchLag;
  if (
    dispatchLag && dispatchLag.count > 0 &&
    (dispatchLag.meanMs > L.dispatchMeanMs || dispatchLag.p99Ms > L.dispatchP99Ms)
  ) {
    faults.push(
      `requests sent late: mean ${dispatchLag.meanMs.toFixed(1)} ms, ` +
        `p99 ${dispatchLag.p99Ms.toFixed(1)} ms after they could go (due, and a slot free)`,
    );
  }
  const c = concurrency;
  if (c && c.closedLoop && c.target > 0 && c.achieved < L.concurrencyShare * c.target) {
    const refill = report.refillLag;
    faults.push(
      `${c.achieved.toFixed(1)} requests in flight on average, ` +
        `${Math.round((c.achieved / c.target) * 100)}% of --parallel ${c.target}` +
        (refill && refill.count > 0
          ? ` (slots refilled ${refill.meanMs.toFixed(1)} ms late on average, p99 ` +
            `${refill.p99Ms.toFixed(1)} ms)`
          : ""),
    );
  }
  const check: ClientCheck = { ...report, saturated: faults.length > 0 };
  if (c) check.concurrency = c;
  if (check.saturated) check.warning = `${SATURATION_WARNING} (${faults.join("; ")})`;
  return check;
}

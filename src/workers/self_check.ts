/**
 * The client's verdict on itself: from what each thread measured ({@link ThreadLoad}), could the
 * client's own delays have made its timings wrong by more than a millisecond? If so the run ends
 * with a warning, and the measurements go into the result (and the result DB's run metadata).
 *
 * Which threads count: the ones that stamp responses (the workers, or the main thread when there
 * are none). With workers, the main thread only schedules and aggregates; its delays show in the
 * dispatch lag of `--rate` runs (scheduled time to send, measured per request), judged on its own.
 *
 * Thresholds: a thread that used 90% of a core in any second was queueing work; a timer that
 * fired more than 1.5 ms late on average (Deno's timers alone are up to 1 ms late, about 0.5 ms
 * on average, when idle) or more than 10 ms late at the 99th percentile (over at least 5 s of
 * samples, so that start-up compilation alone does not count) means reads were stamped that late
 * too; a request sent more than 1 ms after its scheduled time on average, or 10 ms at the 99th
 * percentile, broke the arrival schedule.
 *
 * @module
 */
import type { TransportKind } from "../transport/create.ts";
import type { LagSummary } from "./lag_histogram.ts";
import type { ThreadLoad } from "./loop_monitor.ts";

/** The client's self-check of one run. */
export interface ClientCheck {
  /** The transport used. */
  transport: TransportKind;
  /** Transport workers (0: requests were sent from the main thread). */
  workers: number;
  /** Each thread's measurements: the main thread first, then the workers. */
  threads: ThreadLoad[];
  /** `--rate` runs: how late requests were sent after their scheduled time. */
  dispatchLag?: LagSummary;
  /** Whether the client's own delays could exceed 1 ms. */
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
 * Judge a run from its threads' measurements (`threads[0]` the main thread) and, for `--rate`
 * runs, its dispatch lag.
 */
export function clientCheck(
  transport: TransportKind,
  workers: number,
  threads: ThreadLoad[],
  dispatchLag?: LagSummary,
): ClientCheck {
  const senders = workers > 0 ? threads.slice(1) : threads.slice(0, 1);
  const faults = senders.map(saturation).filter((s): s is string => s !== undefined);
  const L = SATURATION_LIMITS;
  if (
    dispatchLag && dispatchLag.count > 0 &&
    (dispatchLag.meanMs > L.dispatchMeanMs || dispatchLag.p99Ms > L.dispatchP99Ms)
  ) {
    faults.push(
      `requests sent late: mean ${dispatchLag.meanMs.toFixed(1)} ms, ` +
        `p99 ${dispatchLag.p99Ms.toFixed(1)} ms after their scheduled time`,
    );
  }
  const check: ClientCheck = { transport, workers, threads, saturated: faults.length > 0 };
  if (dispatchLag && dispatchLag.count > 0) check.dispatchLag = dispatchLag;
  if (check.saturated) check.warning = `${SATURATION_WARNING} (${faults.join("; ")})`;
  return check;
}

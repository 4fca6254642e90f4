/**
 * A thread watching itself: how late its event loop runs a timer (event-loop lag) and how much
 * of a CPU core the thread uses. A timestamp taken when a read completes is late by about as much
 * as a timer is, so the lag bounds the timing error the thread adds; a thread near 100% of a core
 * cannot keep up and its lag grows without bound.
 *
 * Measuring starts {@link WARMUP_MS} ms after the thread starts (compilation and connection
 * set-up make any thread briefly late and busy). Lag: a timer every {@link LAG_INTERVAL_MS} ms
 * records how late it fired, into a {@link LagHistogram} (bounded memory however long the run).
 * CPU: the thread's own user + system time from `/proc/thread-self/stat` (Linux), read once a
 * second; where it cannot be read (another OS, no read permission) CPU figures are `null` and the
 * lag still works.
 *
 * @module
 */
import { LagHistogram, type LagSummary } from "../util/lag_histogram.ts";
import { readLag, resetReadLag } from "../transport/epoll.ts";

/** What one thread measured about itself. Plain data: it crosses from workers to the main thread. */
export interface ThreadLoad {
  /** `main`, or `worker N`. */
  thread: string;
  /** Seconds measured (the thread's life after {@link WARMUP_MS}; 0 for a shorter one). */
  seconds: number;
  /** Lag samples taken. */
  lagSamples: number;
  /** Mean lag, ms. */
  lagMeanMs: number;
  /** 99th percentile of the lag, ms (bucket upper edge). */
  lagP99Ms: number;
  /** Largest lag, ms. */
  lagMaxMs: number;
  /** Share of one core the thread used over the run (0–1), or `null` if unknown. */
  cpuBusy: number | null;
  /** The highest share of one core in any one-second window, or `null` if unknown. */
  cpuBusyPeak: number | null;
  /** Requests this thread sent (transport workers). */
  requests?: number;
  /** Payloads (SSE events or bodies) it received (transport workers). */
  events?: number;
  /**
   * How long after their arrival (the kernel's receive stamps) this thread read its sockets'
   * bytes, when it read epoll sockets (`src/transport/epoll.ts`), after its warm-up (the whole
   * run when shorter): its own lateness, kept out of the timings but for events that queued up
   * together behind it.
   */
  readLag?: LagSummary;
}

/** Period of the lag timer, ms. */
export const LAG_INTERVAL_MS = 10;
/**
 * The first part of a thread's life that is not measured, ms: compiling the code and opening
 * connections make every thread late and busy for a moment, whatever its load.
 */
export const WARMUP_MS = 500;
const CPU_WINDOW_MS = 1000;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * User and system CPU seconds from a Linux `stat` file (`/proc/thread-self/stat`,
 * `/proc/<pid>/stat`, ...), with the task's name; `null` when it cannot be read.
 */
export function procCpuTimes(path: string): { name: string; user: number; sys: number } | null {
  try {
    // Without read permission, say "unknown" rather than make Deno prompt for it.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
    const stat = Deno.readTextFileSync(path);
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return {
      name: stat.slice(stat.indexOf("(") + 1, close),
      user: Number(fields[11]) / TICKS_PER_SECOND,
      sys: Number(fields[12]) / TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

/** This thread's CPU seconds (user + system), or `null` when unreadable. */
export function threadCpuSeconds(): number | null {
  const t = procCpuTimes("/proc/thread-self/stat");
  return t === null ? null : t.user + t.sys;
}

/**
 * Watches the calling thread's event loop and CPU until {@link LoopMonitor.stop} (which must be
 * called: the timer keeps the thread alive).
 */
export class LoopMonitor {
  #thread: string;
  #lag = new LagHistogram();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #started = 0;
  #warm = false;
  #measuring = 0;
  #cpu0: number | null = null;
  #windowStart = 0;
  #windowCpu: number | null = null;
  #peak: number | null = null;

  /** @param thread the name reported for this thread */
  constructor(thread: string) {
    this.#thread = thread;
  }

  /** Start watching (measurements begin after {@link WARMUP_MS}). */
  start(): void {
    resetReadLag();
    this.#started = performance.now();
    this.#arm(this.#started);
  }

  #arm(now: number): void {
    this.#due = now + LAG_INTERVAL_MS;
    this.#timer = setTimeout(this.#tick, LAG_INTERVAL_MS);
  }

  #tick = (): void => {
    const now = performance.now();
    if (!this.#warm) {
      if (now - this.#started >= WARMUP_MS) {
        this.#warm = true;
        resetReadLag(); // like the loop's lag, measured after the warm-up
        this.#measuring = this.#windowStart = now;
        this.#cpu0 = this.#windowCpu = threadCpuSeconds();
      }
      this.#arm(now);
      return;
    }
    this.#lag.record(now - this.#due);
    if (this.#windowCpu !== null && now - this.#windowStart >= CPU_WINDOW_MS) {
      const cpu = threadCpuSeconds();
      if (cpu !== null) {
        const share = (cpu - this.#windowCpu) / ((now - this.#windowStart) / 1000);
        this.#peak = Math.max(this.#peak ?? 0, share);
        this.#windowCpu = cpu;
        this.#windowStart = now;
      }
    }
    this.#arm(now);
  };

  /** Stop watching and report. */
  stop(): ThreadLoad {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = performance.now();
    const seconds = this.#warm ? (now - this.#measuring) / 1000 : 0;
    const cpu = this.#warm ? threadCpuSeconds() : null;
    let cpuBusy: number | null = null;
    if (cpu !== null && this.#cpu0 !== null && seconds > 0) {
      cpuBusy = (cpu - this.#cpu0) / seconds;
      // A run shorter than a window still has a peak: the whole run.
      if (this.#peak === null) this.#peak = cpuBusy;
    }
    const lag = this.#lag.summary();
    const reads = readLag();
    return {
      thread: this.#thread,
      seconds,
      lagSamples: lag.count,
      lagMeanMs: lag.meanMs,
      lagP99Ms: lag.p99Ms,
      lagMaxMs: lag.maxMs,
      cpuBusy,
      cpuBusyPeak: cpuBusy === null ? null : this.#peak,
      ...(reads === undefined ? {} : { readLag: reads }),
    };
  }
}

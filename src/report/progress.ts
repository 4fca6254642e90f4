/**
 * Progress of a run, driven by finished requests arriving in batches through the result pipeline
 * (never by the request hot path) and by a timer. {@link ProgressTracker} keeps the running numbers;
 * {@link ProgressDisplay} shows them: a live line on a terminal (redrawn by a timer, so elapsed time
 * moves even while nothing finishes), or a plain log line every `--log-every-n-query` requests.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { FinishedRequest, ResultSink } from "../records/finished.ts";

/** The running numbers of a run. */
export interface ProgressSnapshot {
  /** Requests finished (succeeded or failed). */
  done: number;
  /** Requests that failed. */
  failed: number;
  /** Requests the run will send, when known. */
  total?: number;
  /** Seconds since the run started. */
  elapsedS: number;
  /** Estimated seconds left (from the current rate); null when unknown. */
  remainingS: number | null;
  /** Requests finished per second over the last few seconds. */
  rate: number;
  /** Mean time to first token of successful requests, ms; null before the first success. */
  meanTtftMs: number | null;
  /** Output tokens per second since the start. */
  outputTokensPerS: number;
}

/** Options of {@link ProgressTracker}. */
export interface TrackerOptions {
  /** Requests the run will send, when known. */
  total?: number;
  /** Window of the current rate, seconds (default 10). */
  windowS?: number;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

/** A pipeline sink that keeps a run's running numbers. */
export class ProgressTracker implements ResultSink {
  #total: number | undefined;
  #windowMs: number;
  #now: () => number;
  #t0: number;
  #done = 0;
  #failed = 0;
  #succeeded = 0;
  #sumTtft = 0;
  #sumOutput = 0;
  #recent: Array<[number, number]> = [];

  /** @param opts total requests, rate window and clock */
  constructor(opts: TrackerOptions = {}) {
    this.#total = opts.total;
    this.#windowMs = (opts.windowS ?? 10) * 1000;
    this.#now = opts.now ?? (() => performance.now());
    this.#t0 = this.#now();
  }

  /** Restart the clock (call when the load starts). */
  start(): void {
    this.#t0 = this.#now();
  }

  /** Take one batch of finished requests. */
  write(batch: FinishedRequest[]): void {
    for (const { metrics: m } of batch) {
      this.#done++;
      if (!m.success) {
        this.#failed++;
        continue;
      }
      this.#succeeded++;
      this.#sumTtft += m.ttftS;
      this.#sumOutput += m.completionTokens;
    }
    if (batch.length > 0) this.#recent.push([this.#now(), batch.length]);
  }

  /** The numbers now. */
  snapshot(): ProgressSnapshot {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#t0);
    while (this.#recent.length > 0 && this.#recent[0][0] < now - this.#windowMs) {
      this.#recent.shift();
    }
    let recent = 0;
    for (const [, n] of this.#recent) recent += n;
    const span = Math.min(this.#windowMs, elapsedMs) / 1000;
    const rate = span > 0 ? recent / span : 0;
    const total = this.#total;
    let remainingS: number | null = null;
    if (total !== undefined) {
      const left = Math.max(0, total - this.#done);
      remainingS = left === 0 ? 0 : rate > 0 ? left / rate : null;
    }
    const elapsedS = elapsedMs / 1000;
    return {
      done: this.#done,
      failed: this.#failed,
      total,
      elapsedS,
      remainingS,
      rate,
      meanTtftMs: this.#succeeded > 0 ? (this.#sumTtft / this.#succeeded) * 1000 : null,
      outputTokensPerS: elapsedS > 0 ? this.#sumOutput / elapsedS : 0,
    };
  }
}

/** `75` → `1:15`, `3725` → `1:02:05`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function ttftText(p: ProgressSnapshot): string {
  return p.meanTtftMs === null ? "n/a" : `${p.meanTtftMs.toFixed(1)} ms`;
}

/** The plain log line: `40/100 requests done (40%), 0 failed, 0:12 elapsed, ~0:18 left, ...`. */
export function formatProgressLine(p: ProgressSnapshot): string {
  const of = p.total !== undefined ? `/${p.total}` : "";
  const pct = p.total ? ` (${Math.floor((p.done / p.total) * 100)}%)` : "";
  const left = p.remainingS !== null ? `, ~${formatDuration(p.remainingS)} left` : "";
  return `${p.done}${of} requests done${pct}, ${p.failed} failed, ` +
    `${formatDuration(p.elapsedS)} elapsed${left}, ${p.rate.toFixed(1)} req/s, ` +
    `mean TTFT ${ttftText(p)}, ${p.outputTokensPerS.toFixed(1)} output tok/s`;
}

/** The live terminal line, at most `columns` characters: a bar when the total is known. */
export function formatProgressBar(p: ProgressSnapshot, columns: number): string {
  const left = p.remainingS !== null ? `, ${formatDuration(p.remainingS)} left` : "";
  const stats = ` ${formatDuration(p.elapsedS)}${left} | ${p.rate.toFixed(1)} req/s | ` +
    `TTFT ${ttftText(p)} | ${p.outputTokensPerS.toFixed(0)} tok/s | ${p.failed} failed`;
  let head: string;
  if (p.total) {
    const frac = Math.min(1, p.done / p.total);
    const count = `${p.done}/${p.total} `;
    const pct = ` ${String(Math.floor(frac * 100)).padStart(3)}%`;
    const width = Math.max(0, Math.min(30, columns - count.length - pct.length - stats.length - 2));
    const bar = width >= 5
      ? "[" + "#".repeat(Math.round(frac * width)).padEnd(width, "-") + "]"
      : "";
    head = count + bar + pct;
  } else {
    head = `${p.done} done`;
  }
  const line = head + " |" + stats;
  return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** How progress is shown. */
export type ProgressMode = "bar" | "log" | "off";

/** Options of {@link ProgressDisplay}. */
export interface DisplayOptions {
  /** `bar`: a live line (terminal); `log`: a log line every `every` requests; `off`. */
  mode: ProgressMode;
  /** Log period in requests (`--log-every-n-query`). */
  every: number;
  /** Where log lines go. */
  log: Logger;
  /** Writes raw terminal text (default: standard error). */
  write?: (text: string) => void;
  /** Terminal width (default: the console's, or 100). */
  columns?: () => number;
  /** Redraw period of the live line, ms (default 250). */
  intervalMs?: number;
}

const enc = new TextEncoder();
const CLEAR = "\r\x1b[2K";

function consoleColumns(): number {
  try {
    const columns = Deno.consoleSize().columns;
    return columns >= 20 ? columns : 100; // a pty without a size reports 0
  } catch {
    return 100;
  }
}

/** Shows a tracker's numbers; a pipeline sink placed after the tracker. */
export class ProgressDisplay implements ResultSink {
  #tracker: ProgressTracker;
  #opts: Required<DisplayOptions>;
  #next: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #drawn = false;
  #closed = false;

  /**
   * @param tracker the numbers to show
   * @param opts mode, log period, log and terminal output
   */
  constructor(tracker: ProgressTracker, opts: DisplayOptions) {
    this.#tracker = tracker;
    this.#opts = {
      write: (t) => {
        try {
          Deno.stderr.writeSync(enc.encode(t));
        } catch { /* the terminal hung up: the run goes on without its live line */ }
      },
      columns: consoleColumns,
      intervalMs: 250,
      ...opts,
    };
    this.#next = opts.every;
  }

  /** Start the live line's timer (bar mode). */
  start(): void {
    if (this.#opts.mode !== "bar" || this.#timer !== undefined || this.#closed) return;
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), this.#opts.intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  #draw(): void {
    const line = formatProgressBar(this.#tracker.snapshot(), this.#opts.columns());
    this.#opts.write(CLEAR + line);
    this.#drawn = true;
  }

  /** A batch arrived: log lines for each `every` requests passed (log mode). */
  write(): void {
    if (this.#opts.mode !== "log") return;
    const p = this.#tracker.snapshot();
    if (p.done < this.#next) return;
    while (this.#next <= p.done) this.#next += this.#opts.every;
    this.#opts.log(formatProgressLine(p));
  }

  /** Stop the timer; the live line is drawn a last time and ended with a newline. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#opts.mode === "bar" && this.#drawn) {
      this.#draw();
      this.#opts.write("\n");
      this.#drawn = false;
    }
  }

  /** A logger whose lines do not tangle with the live line (clear it, log, redraw). */
  wrapLogger(log: Logger): Logger {
    if (this.#opts.mode !== "bar") return log;
    return (line) => {
      if (this.#drawn) this.#opts.write(CLEAR);
      log(line);
      if (this.#drawn && !this.#closed) this.#draw();
    };
  }
}

/** The mode for a run: `bar` on a terminal with the default logger, else `log`. */
export function autoProgressMode(defaultLogger: boolean): ProgressMode {
  return defaultLogger && Deno.stderr.isTerminal() ? "bar" : "log";
}

/**
 * The run's handle on the telemetry thread (`telemetry_worker.ts`): starts it once the result DB
 * exists, says in one line per source what it reads (or why not), and at the end of the load
 * takes a last scrape and returns what was measured ({@link TelemetryData}). Disposing it stops
 * the thread whatever happened.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { TelemetryIn, TelemetryOut, TelemetryStart } from "./telemetry_worker.ts";
import type { TelemetryData } from "./types.ts";

/** What to read. */
export interface TelemetryOptions {
  /** The `/metrics` endpoint, with the headers to send and extra families to store. */
  server?: TelemetryStart["server"];
  /** Read this host's GPU tool. */
  gpu: boolean;
  /** The result DB's path (none: nothing is written). */
  dbPath?: string;
  /** Time between readings, ms (default 1000). */
  intervalMs?: number;
}

/** The `/metrics` URL a benchmark URL implies: its origin + `/metrics`. */
export function defaultMetricsUrl(url: string): string {
  return `${new URL(url).origin}/metrics`;
}

/** The telemetry thread of one run. */
export class Telemetry implements AsyncDisposable {
  #worker: Worker;
  #replies: Array<(m: TelemetryOut) => void> = [];
  #data: Promise<TelemetryData> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (ev: MessageEvent<TelemetryOut>) => this.#replies.shift()?.(ev.data);
    worker.onerror = (ev) => {
      ev.preventDefault();
      for (const r of this.#replies.splice(0)) {
        r({ type: "stopped", data: { rows: { server: 0, gpu: 0 }, dbFailure: ev.message } });
      }
    };
  }

  #ask(m: TelemetryIn): Promise<TelemetryOut> {
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.#worker.postMessage(m);
    });
  }

  /**
   * Start reading; logs one line per source. Resolves to undefined when nothing is read (no
   * endpoint answered, no GPU tool): there is then no thread left running.
   */
  static async start(opts: TelemetryOptions, log: Logger): Promise<Telemetry | undefined> {
    if (!opts.server && !opts.gpu) return undefined;
    const worker = new Worker(new URL("./telemetry_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const t = new Telemetry(worker);
    const started = await t.#ask({
      type: "start",
      start: {
        server: opts.server,
        gpu: opts.gpu,
        dbPath: opts.dbPath,
        intervalMs: opts.intervalMs ?? 1000,
      },
    });
    if (started.type === "started") { for (const line of started.lines) log(line); }
    if (started.type !== "started" || (!started.server && !started.gpu)) {
      await t.stop();
      return undefined;
    }
    return t;
  }

  /** Take a last scrape, stop every reader, and return what was measured (once). */
  stop(): Promise<TelemetryData> {
    return this.#data ??= this.#ask({ type: "stop" }).then((m) => {
      this.#worker.terminate();
      return m.type === "stopped" ? m.data : { rows: { server: 0, gpu: 0 } };
    });
  }

  /** See {@link Telemetry.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * The run's handle on the telemetry service (`telemetry_service.ts`): starts it once the result DB
 * exists — on the DB's writer thread when there is one ({@link TelemetryHost}), else on a worker of
 * its own (`telemetry_worker.ts`) — says in one line per source what it reads (or why not), and at
 * the end of the load takes a last scrape and returns what was measured ({@link TelemetryData}).
 * Disposing it stops the service whatever happened.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { TelemetryIn, TelemetryOut, TelemetryStart } from "./telemetry_service.ts";
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
  /** A thread to run the service on (the result DB's writer); none: a worker of its own. */
  host?: () => TelemetryHost;
}

/** A thread that hosts the telemetry service on a port of its own (the result DB's writer). */
export interface TelemetryHost {
  /** The port the service answers on. */
  port: MessagePort;
  /** Calls `fn` with the reason if the hosting thread dies. */
  onLost(fn: (why: string) => void): void;
}

/** The `/metrics` URL a benchmark URL implies: its origin + `/metrics`. */
export function defaultMetricsUrl(url: string): string {
  return `${new URL(url).origin}/metrics`;
}

/** The telemetry service of one run. */
export class Telemetry implements AsyncDisposable {
  #post: (m: TelemetryIn) => void;
  #end: () => void;
  #replies: Array<(m: TelemetryOut) => void> = [];
  #data: Promise<TelemetryData> | undefined;
  /** The answer to every question once the thread has died. */
  #dead: TelemetryOut | undefined;

  private constructor(opts: TelemetryOptions) {
    const reply = (ev: MessageEvent<TelemetryOut>) => this.#replies.shift()?.(ev.data);
    if (opts.host) {
      const { port, onLost } = opts.host();
      port.onmessage = reply;
      onLost((why) => this.#lost(why));
      this.#post = (m) => port.postMessage(m);
      this.#end = () => port.close();
    } else {
      const worker = new Worker(new URL("./telemetry_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = reply;
      worker.onerror = (ev) => {
        ev.preventDefault();
        this.#lost(ev.message);
      };
      this.#post = (m) => worker.postMessage(m);
      this.#end = () => worker.terminate();
    }
  }

  /** The thread died: every question, waiting or to come, is answered with nothing measured. */
  #lost(why: string): void {
    this.#dead = { type: "stopped", data: { rows: { server: 0, gpu: 0 }, dbFailure: why } };
    for (const r of this.#replies.splice(0)) r(this.#dead);
  }

  #ask(m: TelemetryIn): Promise<TelemetryOut> {
    if (this.#dead) return Promise.resolve(this.#dead);
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.#post(m);
    });
  }

  /**
   * Start reading; logs one line per source. Resolves to undefined when nothing is read (no
   * endpoint answered, no GPU tool): there is then no thread left running.
   */
  static async start(opts: TelemetryOptions, log: Logger): Promise<Telemetry | undefined> {
    if (!opts.server && !opts.gpu) return undefined;
    const t = new Telemetry(opts);
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
      this.#end();
      return m.type === "stopped" ? m.data : { rows: { server: 0, gpu: 0 } };
    });
  }

  /** See {@link Telemetry.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

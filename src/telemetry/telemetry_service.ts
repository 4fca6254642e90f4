/**
 * The telemetry service: scrapes the server's `/metrics` once a second and reads this host's GPU
 * tool, writes both into the result DB's telemetry tables (its own connection,
 * `store/telemetry_db.ts`), and keeps what the report and the summary need. It answers on one
 * port ({@link serveTelemetry}) on a thread beside the sending threads, so that no scrape, parse
 * or write ever runs on a thread that times requests: the result DB's writer thread when the run
 * has a DB (one thread and one isolate fewer), else a worker of its own (`telemetry_worker.ts`).
 *
 * Messages in: `start` (what to read, where to write), `stop` (a last scrape, then everything
 * closes). Messages out: `started` (one line per source saying what is read, or why not),
 * `stopped` (the {@link TelemetryData}).
 *
 * @example
 * ```ts
 * import { serveTelemetry } from "./telemetry_service.ts";
 * const { port1, port2 } = new MessageChannel();
 * serveTelemetry(port2);
 * port1.onmessage = (ev) => {
 *   console.log(ev.data); // { type: "started", lines: [], server: false, gpu: false }
 *   port1.close();
 *   port2.close();
 * };
 * port1.postMessage({ type: "start", start: { gpu: false, intervalMs: 1000 } });
 * ```
 *
 * @module
 */
import { TelemetryDb } from "../store/telemetry_db.ts";
import type { LockWaits } from "../store/schema.ts";
import { findGpuTool, type GpuReader, GpuSeriesSet, startGpuReader } from "./gpu.ts";
import { ServerScraper } from "./server_scraper.ts";
import type { TelemetryData } from "./types.ts";

/** What the telemetry thread reads and where it writes. */
export interface TelemetryStart {
  /** Scrape this `/metrics` endpoint. */
  server?: { url: string; headers: Record<string, string>; extra: readonly string[] };
  /** Read this host's GPU tool, if one is on PATH. */
  gpu: boolean;
  /** The result DB to write the telemetry tables into (none: keep in memory only). */
  dbPath?: string;
  /** Time between readings, ms (1000). */
  intervalMs: number;
}

/** Messages the thread accepts. */
export type TelemetryIn = { type: "start"; start: TelemetryStart } | { type: "stop" };

/** Messages the thread sends. */
export type TelemetryOut =
  | { type: "started"; lines: string[]; server: boolean; gpu: boolean }
  | { type: "stopped"; data: TelemetryData };

/** Where the service answers: a `MessagePort`, or a worker's own scope. */
export interface TelemetryPort {
  postMessage(m: TelemetryOut): void;
  onmessage: ((ev: MessageEvent<TelemetryIn>) => void) | null;
}

/**
 * Answer `start` and `stop` on `port` (one run's telemetry). `locks: "yield"` on a thread that
 * also sends requests: its writes never wait in SQLite's busy loop (see `TelemetryDb`).
 */
export function serveTelemetry(
  port: TelemetryPort,
  opts: { locks?: LockWaits } = {},
): void {
  let db: TelemetryDb | undefined;
  let scraper: ServerScraper | undefined;
  let gpus: GpuSeriesSet | undefined;
  let reader: GpuReader | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopping = false;

  async function scrapeAndStore(): Promise<void> {
    if (!scraper) return;
    const r = await scraper.scrape();
    if (r.ok) db?.writeServer(r.rows);
  }

  function schedule(intervalMs: number, origin: number): void {
    const now = performance.now();
    const next = origin + Math.ceil((now - origin + 1) / intervalMs) * intervalMs;
    timer = setTimeout(() => {
      if (stopping) return;
      // Never rejects: the service shares a thread (the result DB's writer) that an unhandled
      // rejection would end. A scrape that throws counts as one that failed.
      inFlight = scrapeAndStore().catch(() => {}).finally(() => {
        if (!stopping) schedule(intervalMs, origin);
      });
    }, next - now);
  }

  async function start(s: TelemetryStart): Promise<TelemetryOut> {
    const lines: string[] = [];
    if (s.dbPath !== undefined) {
      try {
        db = new TelemetryDb(s.dbPath, opts);
      } catch (e) {
        lines.push(`telemetry: the result DB's telemetry tables cannot be made: ${e}`);
      }
    }
    let serverOn = false;
    if (s.server) {
      scraper = new ServerScraper(s.server.url, s.server.headers, s.server.extra);
      const origin = performance.now();
      const first = await scraper.scrape();
      if (first.ok) {
        db?.writeServer(first.rows);
        serverOn = true;
        lines.push(
          `server metrics: scraping ${s.server.url} once a second (${scraper.data().server} names)`,
        );
        schedule(s.intervalMs, origin);
      } else {
        lines.push(
          `server metrics: none at ${s.server.url} (${first.why}); choose the endpoint with ` +
            "--server-metrics URL, or turn this off with --no-server-metrics",
        );
        scraper = undefined;
      }
    }
    let gpuOn = false;
    if (s.gpu) {
      const found = findGpuTool();
      if (!found) {
        lines.push("GPU telemetry: no nvidia-smi, amd-smi or rocm-smi on PATH (off)");
      } else {
        const set = new GpuSeriesSet(found.tool);
        const r = await startGpuReader(found, (time, samples) => {
          set.add(time, samples);
          db?.writeGpu(samples.map((g) => ({
            time,
            gpu: g.index,
            utilization_pct: g.utilizationPct,
            memory_used_mib: g.memoryUsedMiB,
            memory_total_mib: g.memoryTotalMiB,
            power_w: g.powerW,
            sm_clock_mhz: g.smClockMHz,
            tool: found.tool,
          })));
        }, s.intervalMs);
        if (typeof r === "string") lines.push(`GPU telemetry: ${r} (off)`);
        else {
          reader = r;
          gpus = set;
          gpuOn = true;
          const n = set.data().gpus.length;
          lines.push(`GPU telemetry: reading ${found.tool}${n > 0 ? ` (${n} GPUs)` : ""}`);
        }
      }
    }
    return { type: "started", lines, server: serverOn, gpu: gpuOn };
  }

  async function stop(): Promise<TelemetryOut> {
    stopping = true;
    clearTimeout(timer);
    await inFlight;
    await scrapeAndStore(); // the last scrape: after the load, so deltas cover all of it
    await reader?.stop();
    await db?.flush(); // rows a lock kept back (on the sending thread: never waited out in SQLite)
    const data: TelemetryData = {
      ...(scraper && scraper.scrapes > 0 ? { server: scraper.data() } : {}),
      ...(gpus ? { gpu: gpus.data() } : {}),
      rows: db ? { ...db.written } : { server: 0, gpu: 0 },
      ...(db?.failure ? { dbFailure: db.failure } : {}),
    };
    db?.close();
    return { type: "stopped", data };
  }

  port.onmessage = (ev: MessageEvent<TelemetryIn>) => {
    const m = ev.data;
    const reply = m.type === "start" ? start(m.start) : stop();
    // An answer whatever happens (nothing read, the reason said), and no unhandled rejection.
    reply.then((out) => port.postMessage(out), (e) => {
      const why = `telemetry: ${e instanceof Error ? e.message : String(e)}`;
      port.postMessage(
        m.type === "start"
          ? { type: "started", lines: [why], server: false, gpu: false }
          : { type: "stopped", data: { rows: { server: 0, gpu: 0 }, dbFailure: why } },
      );
    });
  };
}

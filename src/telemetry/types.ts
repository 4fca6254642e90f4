/**
 * What the telemetry thread measured over a run, as plain data for the results and the report:
 * the server's role series (running and waiting requests, KV-cache use, prefix-cache hit rate),
 * its histograms at the first and last scrape, and each GPU's series. Times are epoch seconds.
 *
 * @module
 */
import type { HistogramSnapshot } from "./histogram.ts";

/** The server's role series, one value per scrape (null: the server does not export it). */
export interface ServerSeries {
  /** When each scrape was taken, epoch seconds. */
  t: number[];
  /** Requests running (summed over label sets). */
  running: Array<number | null>;
  /** Requests waiting. */
  waiting: Array<number | null>;
  /** KV-cache use, 0–1 (the mean over label sets). */
  kvUsage: Array<number | null>;
  /** Prefix-cache hit rate since the previous scrape (hits / queries), or the server's gauge. */
  prefixHitRate: Array<number | null>;
}

/** A histogram at the run's first and last scrape. */
export interface HistogramPair {
  /** Its name (`vllm:time_to_first_token_seconds`). */
  name: string;
  /** At the first scrape (before the load). */
  first?: HistogramSnapshot;
  /** At the last scrape (after the load). */
  last: HistogramSnapshot;
}

/** A counter at the first and last scrape. */
export interface CounterPair {
  /** Its family name. */
  name: string;
  /** At the first scrape. */
  first: number;
  /** At the last scrape. */
  last: number;
}

/** The server's side of a run. */
export interface ServerTelemetry {
  /** The endpoint scraped. */
  url: string;
  /** Which server its names say it is. */
  server: "vLLM" | "SGLang" | "TGI" | "unknown";
  /** Scrapes that succeeded. */
  scrapes: number;
  /** Scrapes that failed (after the first succeeded). */
  failedScrapes: number;
  /** The role series (at most a few thousand points: thinned evenly on long runs). */
  series: ServerSeries;
  /** Time to first token, queue time, end-to-end latency, when exported. */
  histograms: { ttft?: HistogramPair; queueTime?: HistogramPair; e2e?: HistogramPair };
  /** Prefix-cache hits and queries, when exported. */
  prefixCache?: { hits: CounterPair; queries: CounterPair };
}

/** One GPU's series. */
export interface GpuSeries {
  /** Its index, as the tool numbers it. */
  index: number;
  /** Sample times, epoch seconds. */
  t: number[];
  /** Utilisation, %. */
  utilizationPct: Array<number | null>;
  /** Memory used, MiB. */
  memoryUsedMiB: Array<number | null>;
  /** Memory in all, MiB. */
  memoryTotalMiB: Array<number | null>;
  /** Power draw, W. */
  powerW: Array<number | null>;
  /** SM (graphics) clock, MHz. */
  smClockMHz: Array<number | null>;
}

/** This host's GPUs over the run. */
export interface GpuTelemetry {
  /** The tool read (`nvidia-smi`, `amd-smi`, `rocm-smi`). */
  tool: string;
  /** Each GPU, by index. */
  gpus: GpuSeries[];
}

/** Everything the telemetry thread measured. */
export interface TelemetryData {
  /** The server's metrics, when scraped. */
  server?: ServerTelemetry;
  /** This host's GPUs, when a tool was found. */
  gpu?: GpuTelemetry;
  /** Rows written to the result DB (`server_metrics`, `gpu_metrics`). */
  rows: { server: number; gpu: number };
  /** Why the result DB's telemetry tables could not be written, when they could not. */
  dbFailure?: string;
}

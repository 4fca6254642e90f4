/**
 * The chart data of the server's `/metrics` and this host's GPUs in `report.html`: times turned
 * into seconds since the run started (the time zero of the other series), and the client's
 * requests in flight looked up at each scrape, so the server's running and waiting requests are
 * drawn beside it on one axis.
 *
 * @module
 */
import type { TelemetryData } from "../../telemetry/types.ts";
import type { TimeSeries } from "./timeseries.ts";

/** The server's series as the page draws them. */
export interface ServerChart {
  /** Seconds since the run started. */
  t: number[];
  /** Requests running at the server. */
  running: Array<number | null>;
  /** Requests waiting at the server. */
  waiting: Array<number | null>;
  /** The client's requests in flight then (the mean of its time bucket). */
  clientInFlight: Array<number | null>;
  /** KV-cache use, %. */
  kvUsagePct: Array<number | null>;
  /** Prefix-cache hit rate since the previous scrape, %. */
  prefixHitPct: Array<number | null>;
}

/** The GPUs' series as the page draws them (one x axis: the first GPU's sample times). */
export interface GpuChart {
  /** The tool read. */
  tool: string;
  /** Seconds since the run started. */
  t: number[];
  /** Per GPU: index and its series (cut to the length of `t`). */
  gpus: Array<{
    index: number;
    utilizationPct: Array<number | null>;
    memoryUsedGiB: Array<number | null>;
    powerW: Array<number | null>;
    smClockMHz: Array<number | null>;
  }>;
}

/** The telemetry charts of a run. */
export interface TelemetryCharts {
  /** The server's, when scraped. */
  server?: ServerChart;
  /** The GPUs', when read. */
  gpu?: GpuChart;
}

const pct = (v: number | null) => (v === null ? null : v * 100);

/** The telemetry charts, relative to `originEpochS` (the run's time zero). */
export function telemetryCharts(
  t: TelemetryData | undefined,
  originEpochS: number | undefined,
  client: TimeSeries,
): TelemetryCharts {
  if (!t) return {};
  const out: TelemetryCharts = {};
  const s = t.server?.series;
  const origin = originEpochS ?? s?.t[0] ?? t.gpu?.gpus[0]?.t[0] ?? 0;
  const rel = (x: number) => Math.round((x - origin) * 1000) / 1000;
  if (s && s.t.length > 0) {
    const inFlight = (x: number) => {
      if (client.t.length === 0 || x < 0) return null;
      const b = Math.min(client.t.length - 1, Math.floor(x / client.bucketS));
      return Math.round(client.inFlight[b] * 100) / 100;
    };
    const t0 = s.t.map(rel);
    out.server = {
      t: t0,
      running: s.running,
      waiting: s.waiting,
      clientInFlight: t0.map(inFlight),
      kvUsagePct: s.kvUsage.map(pct),
      prefixHitPct: s.prefixHitRate.map(pct),
    };
  }
  const g = t.gpu;
  if (g && g.gpus.length > 0 && g.gpus[0].t.length > 0) {
    const n = Math.min(...g.gpus.map((x) => x.t.length));
    out.gpu = {
      tool: g.tool,
      t: g.gpus[0].t.slice(0, n).map(rel),
      gpus: g.gpus.map((x) => ({
        index: x.index,
        utilizationPct: x.utilizationPct.slice(0, n),
        memoryUsedGiB: x.memoryUsedMiB.slice(0, n).map((v) =>
          v === null ? null : Math.round((v / 1024) * 1000) / 1000
        ),
        powerW: x.powerW.slice(0, n),
        smClockMHz: x.smClockMHz.slice(0, n),
      })),
    };
  }
  return out;
}

/**
 * The server's side of a run's summary, from its `/metrics` over the run (the histograms' and
 * counters' change from the first scrape, before the load, to the last, after it): its time to
 * first token (mean from `_sum / _count`, p50 and p99 from the buckets), beside the client's and
 * the difference (network, HTTP and the client's own overhead), its queue time and end-to-end
 * latency, the peaks of its running and waiting requests, its KV-cache use and prefix-cache hit
 * rate.
 *
 * @module
 */
import type { Summary } from "../metrics/collector.ts";
import {
  histogramDelta,
  histogramMean,
  histogramQuantile,
  type HistogramSnapshot,
} from "./histogram.ts";
import type { HistogramPair, ServerTelemetry } from "./types.ts";

/** The server summary's row names (`benchmark_summary.json` holds them too). */
export const SERVER_KEYS = {
  server: "Server metrics from",
  requests: "Server requests observed",
  meanTtft: "Server mean TTFT (ms)",
  p50Ttft: "Server p50 TTFT (ms)",
  p99Ttft: "Server p99 TTFT (ms)",
  diffMeanTtft: "TTFT client - server, mean (ms)",
  diffP50Ttft: "TTFT client - server, p50 (ms)",
  diffP99Ttft: "TTFT client - server, p99 (ms)",
  meanQueue: "Server mean queue time (ms)",
  p99Queue: "Server p99 queue time (ms)",
  meanE2e: "Server mean E2E latency (s)",
  peakRunning: "Server peak running requests",
  peakWaiting: "Server peak waiting requests",
  meanKv: "Server mean KV-cache use (%)",
  peakKv: "Server peak KV-cache use (%)",
  prefixHitRate: "Server prefix-cache hit rate (%)",
} as const;

/** The client's TTFT figures the server's are set beside, ms. */
export interface ClientTtft {
  /** Mean. */
  mean: number | null;
  /** Median. */
  p50: number | null;
  /** 99th percentile. */
  p99: number | null;
}

/** What a histogram saw over the run (last scrape − first). */
export function overRun(pair: HistogramPair | undefined): HistogramSnapshot | undefined {
  return pair ? histogramDelta(pair.first, pair.last) : undefined;
}

const ms = (s: number | null | undefined) => (typeof s === "number" ? s * 1000 : null);
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

function peak(values: ReadonlyArray<number | null>): number | null {
  let p: number | null = null;
  for (const v of values) if (v !== null && (p === null || v > p)) p = v;
  return p;
}

function meanOf(values: ReadonlyArray<number | null>): number | null {
  const xs = values.filter((v): v is number => v !== null);
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/**
 * The server rows of the summary. Rows the server gives no data for are left out (a TGI has no
 * TTFT histogram, a server without a prefix cache no hit rate).
 */
export function serverSummary(s: ServerTelemetry, client: ClientTtft): Summary {
  const out: Summary = { [SERVER_KEYS.server]: `${s.server} (${s.url})` };
  const set = (k: string, v: number | null) => {
    if (v !== null && Number.isFinite(v)) out[k] = v;
  };
  const ttft = overRun(s.histograms.ttft);
  if (ttft && ttft.count > 0) {
    const mean = ms(histogramMean(ttft));
    const p50 = ms(histogramQuantile(0.5, ttft));
    const p99 = ms(histogramQuantile(0.99, ttft));
    set(SERVER_KEYS.requests, ttft.count);
    set(SERVER_KEYS.meanTtft, mean);
    set(SERVER_KEYS.p50Ttft, p50);
    set(SERVER_KEYS.p99Ttft, p99);
    set(SERVER_KEYS.diffMeanTtft, diff(client.mean, mean));
    set(SERVER_KEYS.diffP50Ttft, diff(client.p50, p50));
    set(SERVER_KEYS.diffP99Ttft, diff(client.p99, p99));
  }
  const queue = overRun(s.histograms.queueTime);
  if (queue && queue.count > 0) {
    set(SERVER_KEYS.meanQueue, ms(histogramMean(queue)));
    set(SERVER_KEYS.p99Queue, ms(histogramQuantile(0.99, queue)));
  }
  const e2e = overRun(s.histograms.e2e);
  if (e2e && e2e.count > 0) set(SERVER_KEYS.meanE2e, histogramMean(e2e));
  set(SERVER_KEYS.peakRunning, peak(s.series.running));
  set(SERVER_KEYS.peakWaiting, peak(s.series.waiting));
  const kvMean = meanOf(s.series.kvUsage);
  const kvPeak = peak(s.series.kvUsage);
  set(SERVER_KEYS.meanKv, kvMean === null ? null : kvMean * 100);
  set(SERVER_KEYS.peakKv, kvPeak === null ? null : kvPeak * 100);
  const p = s.prefixCache;
  if (p) {
    const q = p.queries.last - p.queries.first;
    if (q > 0) set(SERVER_KEYS.prefixHitRate, ((p.hits.last - p.hits.first) / q) * 100);
  } else {
    const rate = meanOf(s.series.prefixHitRate);
    set(SERVER_KEYS.prefixHitRate, rate === null ? null : rate * 100);
  }
  return out;
}

/**
 * What the HTML report draws, collected from finished requests as they arrive in batches (a
 * result-pipeline sink), in memory bounded whatever the run's length: reservoir samples for the
 * distributions, doubling time buckets for the series, and an evenly thinned sample of requests
 * for the timeline.
 *
 * @module
 */
import type { Measured, MetricsSink } from "../../metrics/metrics_sink.ts";
import { type Distribution, distribution, Reservoir } from "./distribution.ts";
import { TimeBuckets, type TimeSeries } from "./timeseries.ts";

/** Requests drawn on the timeline, sorted by start; times in seconds since the run started. */
export interface Timeline {
  /** When each was sent. */
  start: number[];
  /** When its first token arrived (its end when not streamed). */
  firstToken: number[];
  /** When it finished. */
  end: number[];
  /** 1 when it succeeded, 0 when it failed. */
  ok: number[];
  /** Requests finished in all (the timeline holds a sample when more than it keeps). */
  total: number;
}

/** The charts' data of one run. */
export interface RunCharts {
  /** TTFT (ms), TPOT (ms), ITL (ms) and latency (s) distributions. */
  distributions: {
    ttft: Distribution;
    tpot: Distribution;
    itl: Distribution;
    latency: Distribution;
  };
  /** Throughput and in-flight requests over time. */
  series: TimeSeries;
  /** The per-request timeline. */
  timeline: Timeline;
  /** Epoch seconds of time zero of the series and the timeline (when known). */
  originEpochS?: number;
}

/** Limits of {@link ReportDataSink}. */
export interface ReportDataOptions {
  /** Values kept per distribution (default 20,000). */
  sample?: number;
  /** Requests kept for the timeline (default 2,000). */
  timelineRows?: number;
  /** Time buckets (default 512). */
  buckets?: number;
  /** Epoch seconds the run started at (default: when {@link ReportDataSink.start} is called). */
  origin?: number;
}

/** Keeps every `stride`-th request, doubling the stride whenever the sample fills up. */
class ThinnedRows {
  #cap: number;
  #rows: Float64Array;
  #size = 0;
  #stride = 1;
  #seen = 0;

  constructor(cap: number) {
    this.#cap = Math.max(2, cap - (cap % 2));
    this.#rows = new Float64Array(this.#cap * 4);
  }

  add(start: number, firstToken: number, end: number, ok: boolean): void {
    const keep = this.#seen++ % this.#stride === 0;
    if (!keep) return;
    if (this.#size === this.#cap) {
      for (let i = 0; i < this.#cap / 2; i++) {
        this.#rows.copyWithin(i * 4, i * 8, i * 8 + 4);
      }
      this.#size = this.#cap / 2;
      this.#stride *= 2;
      if ((this.#seen - 1) % this.#stride !== 0) return;
    }
    const o = this.#size++ * 4;
    this.#rows[o] = start;
    this.#rows[o + 1] = firstToken;
    this.#rows[o + 2] = end;
    this.#rows[o + 3] = ok ? 1 : 0;
  }

  timeline(): Timeline {
    const order = Array.from({ length: this.#size }, (_, i) => i);
    order.sort((a, b) => this.#rows[a * 4] - this.#rows[b * 4]);
    const pick = (k: number) => order.map((i) => this.#rows[i * 4 + k]);
    return { start: pick(0), firstToken: pick(1), end: pick(2), ok: pick(3), total: this.#seen };
  }
}

/** A pipeline sink collecting the report's chart data. */
export class ReportDataSink implements MetricsSink {
  #origin: number | undefined;
  #ttft: Reservoir;
  #tpot: Reservoir;
  #itl: Reservoir;
  #latency: Reservoir;
  #buckets: TimeBuckets;
  #rows: ThinnedRows;

  /** @param opts limits and the run's start time */
  constructor(opts: ReportDataOptions = {}) {
    const n = opts.sample ?? 20_000;
    this.#ttft = new Reservoir(n, 1);
    this.#tpot = new Reservoir(n, 2);
    this.#itl = new Reservoir(n, 3);
    this.#latency = new Reservoir(n, 4);
    this.#buckets = new TimeBuckets(opts.buckets ?? 512);
    this.#rows = new ThinnedRows(opts.timelineRows ?? 2_000);
    this.#origin = opts.origin;
  }

  /** Mark the run's start (time zero of the series and the timeline), unless given already. */
  start(epochSeconds = Date.now() / 1000): void {
    this.#origin ??= epochSeconds;
  }

  /** Take one batch. */
  write(batch: readonly Measured[]): void {
    for (const { metrics: m } of batch) {
      this.#origin ??= m.startEpochS;
      const s = m.startEpochS - this.#origin;
      const e = m.completedEpochS - this.#origin;
      const f = m.success ? s + m.ttftS : e;
      this.#buckets.add(s, f, e, m.success ? m.completionTokens : 0, m.success);
      this.#rows.add(Math.max(0, s), Math.max(0, f), Math.max(0, e), m.success);
      if (!m.success) continue;
      this.#ttft.add(m.ttftS);
      if (m.tpotS !== undefined) this.#tpot.add(m.tpotS);
      this.#itl.addAll(m.itlS);
      this.#latency.add(m.latencyS);
    }
  }

  /** The chart data so far. */
  charts(): RunCharts {
    return {
      distributions: {
        ttft: distribution(this.#ttft, 1000),
        tpot: distribution(this.#tpot, 1000),
        itl: distribution(this.#itl, 1000),
        latency: distribution(this.#latency),
      },
      series: this.#buckets.series(),
      timeline: this.#rows.timeline(),
      ...(this.#origin !== undefined ? { originEpochS: this.#origin } : {}),
    };
  }
}

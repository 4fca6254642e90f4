/**
 * The numbers of a run broken down by the endpoint that served each request (`--url` given
 * several times): requests, failures, output throughput, TTFT and latency (mean and p99, the
 * per-request table's percentile rule). Fed the same way live (each finished request's
 * `record.endpoint`) and from a result DB (its `endpoint` column), so the summary, `llmperf
 * report` and `llmperf merge` print the same rows.
 *
 * Throughput is over the whole run's duration (first start to last end, every endpoint's
 * requests): each row is the endpoint's share, and the rows add up to the run's throughput.
 *
 * @module
 */
import { QuantileColumn } from "./quantile_column.ts";
import type { RequestMetrics } from "./request_metrics.ts";

/** The columns of the per-endpoint table, as printed and as the JSON outputs name them. */
export const ENDPOINT_COLUMNS = {
  endpoint: "Endpoint",
  requests: "Requests",
  failed: "Failed",
  requestThroughput: "Request throughput (req/s)",
  outputThroughput: "Output token throughput (tok/s)",
  meanTtft: "Mean TTFT (ms)",
  p99Ttft: "P99 TTFT (ms)",
  meanLatency: "Mean latency (s)",
  p99Latency: "P99 latency (s)",
} as const;

/** One endpoint's row (keys: {@link ENDPOINT_COLUMNS}); a statistic of no request is null. */
export type EndpointRow = Record<string, string | number | null>;

interface Acc {
  requests: number;
  succeed: number;
  completion: number;
  ttftMs: QuantileColumn;
  latencyS: QuantileColumn;
}

/** Collects each endpoint's numbers. */
export class EndpointBreakdown {
  #by = new Map<string, Acc>();
  #order: readonly string[];
  #firstStart = Infinity;
  #lastEnd = -Infinity;

  /** @param order endpoint names to list first, in this order (`--url` order); others follow */
  constructor(order: readonly string[] = []) {
    this.#order = order;
  }

  /** Add one finished request, served by `endpoint` (undefined: not recorded, `unknown`). */
  add(endpoint: string | undefined, m: RequestMetrics): void {
    const name = endpoint ?? "unknown";
    let a = this.#by.get(name);
    if (a === undefined) {
      a = {
        requests: 0,
        succeed: 0,
        completion: 0,
        ttftMs: new QuantileColumn(),
        latencyS: new QuantileColumn(),
      };
      this.#by.set(name, a);
    }
    if (m.startEpochS < this.#firstStart) this.#firstStart = m.startEpochS;
    if (m.completedEpochS > this.#lastEnd) this.#lastEnd = m.completedEpochS;
    a.requests++;
    if (!m.success) return;
    a.succeed++;
    a.completion += m.completionTokens;
    a.ttftMs.push(m.ttftS * 1000);
    a.latencyS.push(m.latencyS);
  }

  /** How many endpoints served requests. */
  get size(): number {
    return this.#by.size;
  }

  /** Each endpoint's row: those of `order` first (when they served any), then by name. */
  rows(): EndpointRow[] {
    const C = ENDPOINT_COLUMNS;
    const t = this.#lastEnd - this.#firstStart;
    const rate = (x: number) => (t > 0 ? x / t : null);
    const stat = (c: QuantileColumn, f: (c: QuantileColumn) => number) =>
      c.length > 0 ? f(c) : null;
    const names = [
      ...this.#order.filter((n) => this.#by.has(n)),
      ...[...this.#by.keys()].filter((n) => !this.#order.includes(n)).sort(),
    ];
    return names.map((name) => {
      const a = this.#by.get(name)!;
      return {
        [C.endpoint]: name,
        [C.requests]: a.requests,
        [C.failed]: a.requests - a.succeed,
        [C.requestThroughput]: rate(a.succeed),
        [C.outputThroughput]: rate(a.completion),
        [C.meanTtft]: stat(a.ttftMs, (c) => c.mean()),
        [C.p99Ttft]: stat(a.ttftMs, (c) => c.percentileLinear(99)),
        [C.meanLatency]: stat(a.latencyS, (c) => c.mean()),
        [C.p99Latency]: stat(a.latencyS, (c) => c.percentileLinear(99)),
      };
    });
  }
}

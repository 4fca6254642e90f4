/**
 * Run totals from per-request metrics: evalscope's summary rows and percentile table (exactly as
 * its late-2024 release computes them) and the modern per-request table and throughputs. It keeps
 * running sums plus compact arrays of the per-request values the percentiles need.
 *
 * @module
 */
import type { RequestMetrics } from "./request_metrics.ts";
import { PERCENTILES } from "./percentiles.ts";
import { QuantileColumn } from "./quantile_column.ts";
import { ConversationMetrics, type TraceSummary } from "./conversations.ts";

/** Summary values keyed by the printed row names (numbers, or null when there is no data). */
export type Summary = Record<string, number | string | null>;

/** One row of a percentile table: `Percentile` ("10%") plus one value per column. */
export type PercentileRow = Record<string, number | string | null>;

/** evalscope's summary row names, in print order. */
export const SUMMARY_KEYS = {
  time: "Time taken for tests (senconds)",
  concurrency: "Number of concurrency",
  total: "Total requests",
  succeed: "Succeed requests",
  failed: "Failed requests",
  qps: "Average QPS",
  latency: "Average latency",
  ttft: "Average time to first token",
  throughput: "Throughput(average output tokens per second)",
  timePerToken: "Average time per output token",
  packages: "Average package per request",
  packageLatency: "Average package latency",
  inputTokens: "Average input tokens per request",
  outputTokens: "Average output tokens per request",
  expected: "Expected number of requests",
  dbPath: "Result DB path",
} as const;

/** The modern summary rows (our names; `benchmark_summary.json` holds them too). */
export const MODERN_KEYS = {
  duration: "Benchmark duration (s)",
  requestThroughput: "Request throughput (req/s)",
  outputThroughput: "Output token throughput (tok/s)",
  totalThroughput: "Total token throughput (tok/s)",
  meanTtft: "Mean TTFT (ms)",
  meanTtfo: "Mean TTFO (ms)",
  meanTpot: "Mean TPOT (ms)",
  meanItl: "Mean ITL (ms)",
  meanLatency: "Mean E2E latency (s)",
  meanLatencyWithQueue: "Mean E2E latency incl. client queue (s)",
  meanQueue: "Mean client queue (ms)",
  meanHeaders: "Mean time to headers (ms)",
  connectionsOpened: "Connections opened",
  meanConnect: "Mean TCP connect (ms)",
  meanTls: "Mean TLS handshake (ms)",
  meanReasoning: "Mean reasoning tokens",
  tokenSource: "Token counts from",
  retried: "Retried requests",
  achievedConcurrency: "Achieved concurrency (mean in flight)",
} as const;

/**
 * The input rows of runs that generate nothing (embeddings, rerank: no successful request had
 * completion tokens, and some had prompt tokens), added to the modern summary.
 */
export const INPUT_KEYS = {
  /** Σ input tokens / duration: the server's input throughput. */
  inputThroughput: "Input token throughput (tok/s)",
  /** Σ input tokens / Σ latency: evalscope's `Input Throughput (tok/s)`. */
  inputRate: "Per-request input rate (tok/s)",
  /** Mean input tokens per request. */
  meanInput: "Mean input tokens",
} as const;

/** The percentile column of such runs: each request's input tokens / latency. */
export const INPUT_RATE_COLUMN = "Input (tok/s)";

/** Column names of the modern percentile table (units in the names). */
export const REQUEST_COLUMNS = {
  ttft: "TTFT (ms)",
  ttfo: "TTFO (ms)",
  tpot: "TPOT (ms)",
  itl: "ITL (ms)",
  latency: "Latency (s)",
  latencyWithQueue: "Latency incl. queue (s)",
  outputRate: "Output (tok/s)",
  input: "Input tokens",
  output: "Output tokens",
  reasoning: "Reasoning tokens",
} as const;

/**
 * Columns of the "where the time went" percentile table (the same percentile rows as
 * {@link REQUEST_COLUMNS}; printed as their own table beside TTFT and the two latencies).
 */
export const TIME_COLUMNS = {
  queue: "Client queue (ms)",
  connect: "TCP connect (ms)",
  tls: "TLS handshake (ms)",
  headers: "Headers (ms)",
} as const;

/**
 * Token sources that are estimates (no usage, no tokenizer). `none` is not one: it is also what a
 * plugin that names no source gets (an evalscope-style `[prompt, completion]` pair, say).
 */
const ESTIMATES: ReadonlySet<string> = new Set(["chunks", "text-length"]);

/** The reason a failed request is counted under: its kind, with the status for HTTP errors. */
export function failureReason(m: RequestMetrics): string {
  const kind = m.failure?.kind ?? "unknown";
  return kind === "http" && m.status ? `http ${m.status}` : kind;
}

/** Context the summary needs beyond the records. */
export interface SummaryContext {
  /** `--parallel` (null when unknown). */
  concurrency: number | null;
  /** Requests dispatched. */
  expected: number;
  /** Where the result DB is (or the run folder). */
  dbPath: string;
}

/** Accumulates per-request metrics and computes the run's tables. */
export class MetricsCollector {
  total = 0;
  succeed = 0;
  #firstStart = Infinity;
  #lastEnd = -Infinity;
  #sumLatency = 0;
  #sumFirstChunk = 0;
  #sumPrompt = 0;
  #sumCompletion = 0;
  #sumChunks = 0;
  #sumChunkTime = 0;
  #sources = new Map<string, number>();
  #failures = new Map<string, number>();
  #retries = 0;
  #retriesKnown = false;
  #latency = new QuantileColumn();
  #firstChunk = new QuantileColumn();
  #ttft = new QuantileColumn();
  #ttfo = new QuantileColumn();
  #tpot = new QuantileColumn();
  #itl = new QuantileColumn(2_000_000); // one value per token: up to 16 MB exact
  #outputRate = new QuantileColumn();
  #inputRate = new QuantileColumn();
  #input = new QuantileColumn();
  #output = new QuantileColumn();
  #reasoning = new QuantileColumn();
  #conversations = new ConversationMetrics();
  #queue = new QuantileColumn();
  #latencyWithQueue = new QuantileColumn();
  #headers = new QuantileColumn();
  #connect = new QuantileColumn();
  #tls = new QuantileColumn();

  /** Add one finished request. */
  add(m: RequestMetrics): void {
    this.total++;
    this.#conversations.add(m);
    if (m.startEpochS < this.#firstStart) this.#firstStart = m.startEpochS;
    if (m.completedEpochS > this.#lastEnd) this.#lastEnd = m.completedEpochS;
    if (m.retries !== undefined) {
      this.#retries += m.retries;
      this.#retriesKnown = true;
    }
    if (!m.success) {
      const reason = failureReason(m);
      this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
      return;
    }
    this.succeed++;
    this.#sumLatency += m.latencyS;
    this.#sumFirstChunk += m.firstChunkLatencyS;
    this.#sumPrompt += m.promptTokens;
    this.#sumCompletion += m.completionTokens;
    this.#sumChunks += m.nChunks;
    this.#sumChunkTime += m.chunkTimeS;
    this.#sources.set(m.tokenSource, (this.#sources.get(m.tokenSource) ?? 0) + 1);
    this.#latency.push(m.latencyS);
    this.#firstChunk.push(m.firstChunkLatencyS);
    this.#ttft.push(m.ttftS * 1000);
    if (m.ttfoS !== undefined) this.#ttfo.push(m.ttfoS * 1000);
    if (m.tpotS !== undefined) this.#tpot.push(m.tpotS * 1000);
    this.#itl.pushAll(m.itlS, 1000);
    if (m.latencyS > 0) {
      this.#outputRate.push(m.completionTokens / m.latencyS);
      this.#inputRate.push(m.promptTokens / m.latencyS);
    }
    this.#input.push(m.promptTokens);
    this.#output.push(m.completionTokens);
    if (m.reasoningTokens !== undefined) this.#reasoning.push(m.reasoningTokens);
    if (m.clientQueueS !== undefined) this.#queue.push(m.clientQueueS * 1000);
    if (m.latencyWithQueueS !== undefined) this.#latencyWithQueue.push(m.latencyWithQueueS);
    if (m.headersS !== undefined) this.#headers.push(m.headersS * 1000);
    if (m.connectS !== undefined) this.#connect.push(m.connectS * 1000);
    if (m.tlsS !== undefined) this.#tls.push(m.tlsS * 1000);
  }

  /**
   * Whether the run only read input (embeddings, rerank): requests succeeded, none generated a
   * token, and some had input tokens. Its summary then has the {@link INPUT_KEYS} rows.
   */
  get inputOnly(): boolean {
    return this.succeed > 0 && this.#sumCompletion === 0 && this.#sumPrompt > 0;
  }

  /** Seconds from the first request's start to the last one's end. */
  get duration(): number {
    return this.total === 0 ? 0 : this.#lastEnd - this.#firstStart;
  }

  /** Count of failed requests by reason (the failure kind; `http 500` etc. for HTTP errors). */
  get failureKinds(): ReadonlyMap<string, number> {
    return this.#failures;
  }

  /** Running values for progress lines. */
  progress(): { done: number; failed: number; meanTtftMs: number; outputRate: number } {
    const d = this.duration;
    return {
      done: this.total,
      failed: this.total - this.succeed,
      meanTtftMs: this.#ttft.mean(),
      outputRate: d > 0 ? this.#sumCompletion / d : 0,
    };
  }

  /** evalscope's summary, unrounded. Averages are null when no request succeeded. */
  summary(ctx: SummaryContext): Summary {
    const K = SUMMARY_KEYS;
    const t = this.duration;
    const n = this.succeed;
    const per = (x: number) => (n > 0 ? x / n : null);
    return {
      [K.time]: t,
      [K.concurrency]: ctx.concurrency,
      [K.total]: this.total,
      [K.succeed]: n,
      [K.failed]: this.total - n,
      [K.qps]: t > 0 ? n / t : null,
      [K.latency]: per(this.#sumLatency),
      [K.ttft]: per(this.#sumFirstChunk),
      [K.throughput]: t > 0 ? this.#sumCompletion / t : null,
      [K.timePerToken]: this.#sumCompletion > 0 ? t / this.#sumCompletion : null,
      [K.packages]: per(this.#sumChunks),
      [K.packageLatency]: this.#sumChunks > 0 ? this.#sumChunkTime / this.#sumChunks : null,
      [K.inputTokens]: per(this.#sumPrompt),
      [K.outputTokens]: per(this.#sumCompletion),
      [K.expected]: ctx.expected,
      [K.dbPath]: ctx.dbPath,
    };
  }

  /**
   * Throughputs and means of the per-request metrics, unrounded; `achievedConcurrency` is the
   * run's time-weighted mean of requests in flight (measured by the load, not from the records;
   * null when unknown).
   */
  modernSummary(achievedConcurrency: number | null = null): Summary {
    const K = MODERN_KEYS;
    const t = this.duration;
    const rate = (x: number) => (t > 0 ? x / t : null);
    const m = (c: QuantileColumn) => (c.length > 0 ? c.mean() : null);
    const input: Summary = !this.inputOnly ? {} : {
      [INPUT_KEYS.inputThroughput]: rate(this.#sumPrompt),
      [INPUT_KEYS.inputRate]: this.#sumLatency > 0 ? this.#sumPrompt / this.#sumLatency : null,
      [INPUT_KEYS.meanInput]: this.#sumPrompt / this.succeed,
    };
    return {
      [K.duration]: t,
      [K.requestThroughput]: rate(this.succeed),
      [K.outputThroughput]: rate(this.#sumCompletion),
      [K.totalThroughput]: rate(this.#sumCompletion + this.#sumPrompt),
      [K.meanTtft]: m(this.#ttft),
      [K.meanTtfo]: m(this.#ttfo),
      [K.meanTpot]: m(this.#tpot),
      [K.meanItl]: m(this.#itl),
      [K.meanLatency]: m(this.#latency),
      // Where the time went: the client's queueing (with it, latency as a user waited for it),
      // the response headers, and the set-up of the connections requests opened.
      [K.meanLatencyWithQueue]: m(this.#latencyWithQueue),
      [K.meanQueue]: m(this.#queue),
      [K.meanHeaders]: m(this.#headers),
      [K.connectionsOpened]: this.#connect.length,
      [K.meanConnect]: m(this.#connect),
      [K.meanTls]: m(this.#tls),
      [K.meanReasoning]: m(this.#reasoning),
      [K.tokenSource]: this.tokenSource(),
      // Re-sends on a fresh connection (the server may have received each); null when the
      // transport cannot tell (fetch).
      [K.retried]: this.#retriesKnown || this.total === 0 ? this.#retries : null,
      // Beside --parallel ("Number of concurrency"): how many requests were really in flight.
      [K.achievedConcurrency]: achievedConcurrency,
      // Prefix cache (servers that report cached_tokens) and --multi-turn rows, when present.
      ...this.#conversations.summary(),
      ...input,
    };
  }

  /** `trace_summary.json` (per-conversation metrics), or undefined without `--multi-turn`. */
  traceSummary(): TraceSummary | undefined {
    return this.#conversations.traceSummary();
  }

  /**
   * Where token counts came from: `usage`, `tokenizer`, an estimate (`chunks`, `text-length`),
   * `none` (not said), or a mix such as `usage (98), chunks (2)`; estimates are marked
   * (`chunks (estimated: no usage)`).
   */
  tokenSource(): string {
    if (this.#sources.size === 0) return "none";
    const names = this.#sources.size === 1
      ? [...this.#sources.keys()][0]
      : [...this.#sources].map(([k, v]) => `${k} (${v})`).join(", ");
    return this.estimatedCounts() > 0 ? `${names} (estimated: no usage)` : names;
  }

  /** Successful requests whose token counts are estimates (no usage and no tokenizer). */
  estimatedCounts(): number {
    let n = 0;
    for (const [k, v] of this.#sources) if (ESTIMATES.has(k)) n += v;
    return n;
  }

  /**
   * evalscope's percentile rows (first-chunk latency and latency, seconds), or an empty list when
   * there are no more successful requests than percentiles ("Too little data").
   */
  percentiles(): PercentileRow[] {
    if (this.succeed <= PERCENTILES.length) return [];
    return PERCENTILES.map((p) => ({
      "Percentile": `${p}%`,
      "First Chunk Latency": this.#firstChunk.percentileIndexed(p),
      "Latency": this.#latency.percentileIndexed(p),
    }));
  }

  /** The per-request percentile rows (linear interpolation); empty when nothing succeeded. */
  requestPercentiles(): PercentileRow[] {
    if (this.succeed === 0) return [];
    const C = REQUEST_COLUMNS;
    const cols: Array<[string, QuantileColumn]> = [
      [C.ttft, this.#ttft],
      [C.ttfo, this.#ttfo],
      [C.tpot, this.#tpot],
      [C.itl, this.#itl],
      [C.latency, this.#latency],
      [C.latencyWithQueue, this.#latencyWithQueue],
      [C.outputRate, this.#outputRate],
      [C.input, this.#input],
      [C.output, this.#output],
      [C.reasoning, this.#reasoning],
      [TIME_COLUMNS.queue, this.#queue],
      [TIME_COLUMNS.connect, this.#connect],
      [TIME_COLUMNS.tls, this.#tls],
      [TIME_COLUMNS.headers, this.#headers],
    ];
    if (this.inputOnly) cols.push([INPUT_RATE_COLUMN, this.#inputRate]);
    return PERCENTILES.map((p) => {
      const row: PercentileRow = { "Percentile": `${p}%` };
      for (const [name, col] of cols) {
        row[name] = col.length > 0 ? col.percentileLinear(p) : null;
      }
      return row;
    });
  }
}

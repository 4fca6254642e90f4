/**
 * Prefix-cache and multi-turn metrics, as today's evalscope reports them: the KV-cache hit rate
 * from the servers' `cached_tokens` (single requests too), the TTFT of first turns against later
 * ones, the "eligible" hit rate (cached tokens against what a perfect prefix cache could have
 * reused: the previous turn's prompt and reply), and the per-conversation table of
 * `trace_summary.json` (latency, first-turn TTFT, time to the final answer, decode speed, hit
 * rates). Definitions in `docs/metrics.md`.
 *
 * Turns of one conversation must be added in order (the worker that runs a conversation sends
 * its turns one after another and posts their records in that order).
 *
 * @module
 */
import { percentileLinear } from "./percentiles.ts";
import type { RequestMetrics } from "./request_metrics.ts";

/** The rows these metrics add to the modern summary (only those with data are present). */
export const CACHE_KEYS = {
  cachedTokens: "Cached prompt tokens",
  hitRate: "KV cache hit rate (%)",
  conversations: "Conversations",
  meanTurns: "Mean turns per conversation",
  firstTurnTtft: "Mean first-turn TTFT (ms)",
  laterTurnTtft: "Mean later-turn TTFT (ms)",
  eligibleHitRate: "Eligible cache hit rate (%)",
} as const;

/** The metrics of `trace_summary.json`, in order. */
export const TRACE_METRICS = [
  "Latency (s)",
  "First-Turn TTFT (s)",
  "TTFAT (s)",
  "Decode TPS",
  "Cache Hit Rate (%)",
  "Eligible Cache Hit Rate (%)",
] as const;

/** One row of `trace_summary.json`: a metric across conversations. */
export interface TraceRow {
  /** The metric's name ({@link TRACE_METRICS}). */
  metric: string;
  /** Mean across conversations (null when none had it). */
  mean: number | null;
  /** Smallest. */
  min: number | null;
  /** Percentiles, linear interpolation. */
  p50: number | null;
  /** 90th percentile. */
  p90: number | null;
  /** 95th percentile. */
  p95: number | null;
  /** 99th percentile. */
  p99: number | null;
  /** Largest. */
  max: number | null;
}

/** `trace_summary.json`: how many conversations, and one row per metric. */
export interface TraceSummary {
  /** Conversations with at least one successful turn. */
  n_traces: number;
  /** One row per {@link TRACE_METRICS} entry. */
  rows: TraceRow[];
}

interface Conversation {
  start: number; // first successful turn's start, epoch s
  end: number; // last successful turn's end
  firstTtft?: number; // s, when turn 0 succeeded
  finalStart: number; // last successful turn's start + TTFT
  turns: number;
  decode: number[]; // per turn (completion − 1) / (latency − ttft)
  cached: number;
  prompt: number;
  eligibleCached: number;
  eligibleBase: number;
  previous?: number; // previous successful turn's prompt + completion
  hasCached: boolean;
}

/** Accumulates the cache and conversation metrics of a run. */
export class ConversationMetrics {
  #cached = 0;
  #cachedPrompt = 0;
  #hasCached = false;
  #firstTtft: number[] = [];
  #laterTtft: number[] = [];
  #eligibleCached = 0;
  #eligibleBase = 0;
  #conversations = new Map<number, Conversation>();

  /** Add one finished request (failures are skipped). */
  add(m: RequestMetrics): void {
    if (!m.success) return;
    if (m.cachedTokens !== undefined && m.promptTokens > 0) {
      this.#hasCached = true;
      this.#cached += m.cachedTokens;
      this.#cachedPrompt += m.promptTokens;
    }
    if (m.conversation === undefined) return;
    const turn = m.turn ?? 0;
    (turn === 0 ? this.#firstTtft : this.#laterTtft).push(m.ttftS * 1000);
    let c = this.#conversations.get(m.conversation);
    if (c === undefined) {
      c = {
        start: m.startEpochS,
        end: m.completedEpochS,
        finalStart: m.startEpochS + m.ttftS,
        turns: 0,
        decode: [],
        cached: 0,
        prompt: 0,
        eligibleCached: 0,
        eligibleBase: 0,
        hasCached: false,
      };
      this.#conversations.set(m.conversation, c);
    }
    c.turns++;
    if (turn === 0) c.firstTtft = m.ttftS;
    c.end = m.completedEpochS;
    c.finalStart = m.startEpochS + m.ttftS;
    if (m.completionTokens > 1 && m.latencyS > m.ttftS) {
      c.decode.push((m.completionTokens - 1) / (m.latencyS - m.ttftS));
    }
    if (m.cachedTokens !== undefined) {
      c.hasCached = true;
      c.cached += m.cachedTokens;
      c.prompt += m.promptTokens;
      if (turn > 0 && c.previous !== undefined) {
        c.eligibleCached += m.cachedTokens;
        c.eligibleBase += c.previous;
        this.#eligibleCached += m.cachedTokens;
        this.#eligibleBase += c.previous;
      }
    }
    c.previous = m.promptTokens + m.completionTokens;
  }

  /** The summary rows with data ({@link CACHE_KEYS}); empty for a run without either. */
  summary(): Record<string, number | null> {
    const K = CACHE_KEYS;
    const out: Record<string, number | null> = {};
    if (this.#hasCached) {
      out[K.cachedTokens] = this.#cached;
      out[K.hitRate] = this.#cachedPrompt > 0 ? 100 * this.#cached / this.#cachedPrompt : null;
    }
    if (this.#conversations.size > 0) {
      const n = this.#conversations.size;
      let turns = 0;
      for (const c of this.#conversations.values()) turns += c.turns;
      out[K.conversations] = n;
      out[K.meanTurns] = turns / n;
      out[K.firstTurnTtft] = mean(this.#firstTtft);
      out[K.laterTurnTtft] = mean(this.#laterTtft);
      if (this.#hasCached) {
        out[K.eligibleHitRate] = this.#eligibleBase > 0
          ? 100 * this.#eligibleCached / this.#eligibleBase
          : null;
      }
    }
    return out;
  }

  /** `trace_summary.json`'s content, or undefined when the run had no conversation. */
  traceSummary(): TraceSummary | undefined {
    if (this.#conversations.size === 0) return undefined;
    const cols: number[][] = TRACE_METRICS.map(() => []);
    for (const c of this.#conversations.values()) {
      cols[0].push(c.end - c.start);
      if (c.firstTtft !== undefined) cols[1].push(c.firstTtft);
      cols[2].push(c.finalStart - c.start);
      if (c.decode.length > 0) cols[3].push(mean(c.decode)!);
      if (c.hasCached && c.prompt > 0) cols[4].push(100 * c.cached / c.prompt);
      if (c.eligibleBase > 0) cols[5].push(100 * c.eligibleCached / c.eligibleBase);
    }
    return {
      n_traces: this.#conversations.size,
      rows: TRACE_METRICS.map((metric, i) => traceRow(metric, cols[i])),
    };
  }
}

function mean(v: number[]): number | null {
  if (v.length === 0) return null;
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

function traceRow(metric: string, values: number[]): TraceRow {
  if (values.length === 0) {
    return { metric, mean: null, min: null, p50: null, p90: null, p95: null, p99: null, max: null };
  }
  const v = values.slice().sort((a, b) => a - b);
  return {
    metric,
    mean: mean(v),
    min: v[0],
    p50: percentileLinear(v, 50),
    p90: percentileLinear(v, 90),
    p95: percentileLinear(v, 95),
    p99: percentileLinear(v, 99),
    max: v[v.length - 1],
  };
}

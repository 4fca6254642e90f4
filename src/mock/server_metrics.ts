/**
 * The mock's `/metrics`: Prometheus text in vLLM's names, with values that follow what the mock
 * really did: requests running (in flight now) and waiting (none: the mock schedules every
 * request at once), KV-cache use (the prompt and reply tokens of the requests running, against a
 * capacity), its prefix cache (prompts hashed in blocks of 16 tokens, as vLLM's is: hits are the
 * leading blocks seen before), and histograms of each request's time to first token (when its
 * first token was written), queue time (0) and end-to-end time (arrival to the end of the reply),
 * in vLLM's buckets. llmperf's tests read them back to check its own server-side numbers.
 *
 * @module
 */

/** vLLM's buckets of `vllm:time_to_first_token_seconds`. */
export const TTFT_BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.02,
  0.04,
  0.06,
  0.08,
  0.1,
  0.25,
  0.5,
  0.75,
  1.0,
  2.5,
  5.0,
  7.5,
  10.0,
  20.0,
  40.0,
  80.0,
  160.0,
  640.0,
  2560.0,
];

/** vLLM's buckets of its request-time histograms (queue, end to end). */
export const REQUEST_BUCKETS: readonly number[] = [
  0.3,
  0.5,
  0.8,
  1.0,
  1.5,
  2.0,
  2.5,
  5.0,
  10.0,
  15.0,
  20.0,
  30.0,
  40.0,
  50.0,
  60.0,
  120.0,
  240.0,
  480.0,
  960.0,
  1920.0,
  7680.0,
];

/** The KV cache's size in mock tokens (4 characters each). */
export const KV_CACHE_TOKENS = 262_144;

/** Tokens per prefix-cache block, as vLLM's default. */
export const BLOCK_TOKENS = 16;

/** Block hashes the prefix cache keeps by default (least recently used evicted first). */
export const PREFIX_CACHE_BLOCKS = 1 << 20;

/** What scheduling a request did: the KV-cache tokens it holds, the prompt tokens it found cached. */
export interface Scheduled {
  /** KV-cache tokens held until it ends. */
  held: number;
  /** Prompt tokens the prefix cache held: leading blocks seen before. */
  cached: number;
}

/** A cumulative histogram over fixed buckets. */
class Histogram {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
  }

  text(name: string, labels: string): string {
    let out = `# TYPE ${name} histogram\n`;
    let cum = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cum += this.counts[i];
      out += `${name}_bucket{${labels},le="${this.bounds[i].toFixed(3).replace(/\.?0+$/, "")}"} ` +
        `${cum}\n`;
    }
    out += `${name}_bucket{${labels},le="+Inf"} ${this.count}\n`;
    out += `${name}_count{${labels}} ${this.count}\n${name}_sum{${labels}} ${this.sum}\n`;
    return out;
  }
}

/** FNV-1a over `text[from, to)`, chained from `seed`. */
function blockHash(text: string, from: number, to: number, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The mock's engine-level counters, as vLLM's `/metrics` names them. */
export class MockServerMetrics {
  /** Time to first token, s. */
  readonly ttft = new Histogram(TTFT_BUCKETS);
  /** Time before scheduling, s (the mock schedules at once: 0). */
  readonly queue = new Histogram(REQUEST_BUCKETS);
  /** Arrival to end of reply, s. */
  readonly e2e = new Histogram(REQUEST_BUCKETS);
  /** Prompt tokens of the requests answered. */
  promptTokens = 0;
  /** Tokens planned for the replies. */
  generationTokens = 0;
  /** Prefix-cache queries, tokens. */
  prefixQueries = 0;
  /** Prefix-cache hits, tokens. */
  prefixHits = 0;
  /** KV-cache tokens held by the requests running. */
  kvTokens = 0;
  /** The most KV-cache tokens held at once. */
  peakKvTokens = 0;
  /** The prefix cache: chained block hashes, in least-recently-used-first order. */
  #blocks = new Map<number, true>();
  #capacity: number;

  /** @param capacity blocks the prefix cache keeps (default {@link PREFIX_CACHE_BLOCKS}) */
  constructor(capacity: number = PREFIX_CACHE_BLOCKS) {
    this.#capacity = Math.max(1, capacity);
  }

  /**
   * A request was scheduled with `promptTokens` prompt tokens and a reply of `replyTokens`:
   * look its prompt up in the prefix cache (the leading full blocks of 16 tokens seen before are
   * cached, as vLLM's are; never the prompt's last token, which the server always computes),
   * store its blocks, and hold its tokens in the KV cache. Returns the tokens held (to give back
   * with {@link release}) and the prompt tokens found cached.
   */
  schedule(prompt: string, promptTokens: number, replyTokens: number): Scheduled {
    this.promptTokens += promptTokens;
    this.generationTokens += replyTokens;
    this.prefixQueries += promptTokens;
    const chars = BLOCK_TOKENS * 4;
    const hittable = (promptTokens - 1) * 4; // chars of all the prompt's tokens but the last
    const blocks = this.#blocks;
    let h = 0;
    let leading = true;
    let cached = 0;
    for (let end = chars; end <= prompt.length; end += chars) {
      h = blockHash(prompt, end - chars, end, h);
      const seen = blocks.delete(h); // re-inserted below: now the most recently used
      if (leading && seen && end <= hittable) cached += BLOCK_TOKENS;
      else leading = false;
      if (blocks.size >= this.#capacity) blocks.delete(blocks.keys().next().value!);
      blocks.set(h, true);
    }
    this.prefixHits += cached;
    const held = promptTokens + replyTokens;
    this.kvTokens += held;
    if (this.kvTokens > this.peakKvTokens) this.peakKvTokens = this.kvTokens;
    this.queue.observe(0);
    return { held, cached };
  }

  /** A request ended: give back the KV-cache tokens it held. */
  release(held: number): void {
    this.kvTokens -= held;
  }

  /**
   * The exposition text: vLLM's names with `model_name="mock"`, `running` and `waiting` the
   * requests in flight and queued now.
   */
  text(running: number, waiting: number): string {
    const l = 'model_name="mock",engine="0"';
    const g = (name: string, v: number) => `# TYPE ${name} gauge\n${name}{${l}} ${v}\n`;
    const c = (name: string, v: number) =>
      `# TYPE ${name} counter\n${name}_total{${l}} ${v}\n${name}_created{${l}} 1.7e9\n`;
    return g("vllm:num_requests_running", running) +
      g("vllm:num_requests_waiting", waiting) +
      g("vllm:kv_cache_usage_perc", Math.min(1, this.kvTokens / KV_CACHE_TOKENS)) +
      c("vllm:prefix_cache_queries", this.prefixQueries) +
      c("vllm:prefix_cache_hits", this.prefixHits) +
      c("vllm:prompt_tokens", this.promptTokens) +
      c("vllm:generation_tokens", this.generationTokens) +
      this.ttft.text("vllm:time_to_first_token_seconds", l) +
      this.queue.text("vllm:request_queue_time_seconds", l) +
      this.e2e.text("vllm:e2e_request_latency_seconds", l);
  }
}

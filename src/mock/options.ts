/**
 * The mock server's settings (`startMockServer(options)`, `llmperf mock` flags) and their
 * defaults: plain data, imported by the server, the engine and the CLI.
 *
 * @module
 */
import type { FaultOptions } from "./faults.ts";
import type { MockProtocolName } from "./protocol_registry.ts";

/** The fields the mock can stream OpenAI reasoning in. */
export const REASONING_FIELDS = ["reasoning", "reasoning_content"] as const;

/** A field the mock can stream reasoning in. */
export type ReasoningField = typeof REASONING_FIELDS[number];

/** Settings of the mock server. */
export interface MockOptions {
  /** Interface to listen on. */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Delay before the first token, ms. */
  ttftMs: number;
  /** Delay between tokens, ms. */
  itlMs: number;
  /** Tokens per reply (the minimum, when `outputTokensMax` is larger). */
  outputTokens: number;
  /** Maximum tokens per reply; lengths are uniform between the two. */
  outputTokensMax?: number;
  /** Send `usage` (in the last chunk when `stream_options.include_usage`). */
  usage: boolean;
  /**
   * Reasoning tokens per chat reply, sent before the answer tokens on the same schedule (token
   * `k` of reasoning and answer together is due at `arrival + ttft + k · itl`) and reported in
   * `usage.completion_tokens_details.reasoning_tokens`. Default 0 (no reasoning).
   */
  reasoningTokens?: number;
  /**
   * The field reasoning comes in: `reasoning` (current vLLM, OpenRouter; the default) or
   * `reasoning_content` (DeepSeek, SGLang, older vLLM). Protocols other than OpenAI's use
   * their own.
   */
  reasoningField?: ReasoningField;
  /**
   * Latency that grows with load: each other request in flight when a request arrives adds this
   * many ms to its time to first token and to each of its inter-token gaps (fixed at arrival).
   * With `n` requests in flight, TTFT is `ttftMs + latencyPerInflightMs · (n − 1)`. Default 0.
   */
  latencyPerInflightMs?: number;
  /** Seeds reply lengths and words. */
  seed: number;
  /**
   * The wire protocol: `openai` (default), or `dashscope`, `zhipu`, `triton` (see
   * `src/mock/protocol_registry.ts`); each serves its own endpoint paths with the same timing.
   */
  protocol?: MockProtocolName;
  /**
   * Ground truth for timing checks: add `mock_received_ms` (when the request arrived) and
   * `mock_sent_ms` (when this chunk or body was written) to every chunk and reply, in every
   * protocol, as wall-clock epoch milliseconds with microsecond precision
   * (`performance.timeOrigin + performance.now()`). Off by default.
   */
  stampTimes?: boolean;
  /** PEM certificate chain and key: serve https instead of http. */
  tls?: { cert: string; key: string };
  /** Faults to inject (see `faults.ts`). */
  faults?: FaultOptions;
  /**
   * Prefill time per prompt token that the prefix cache did not hold, ms: a reply's first token
   * is due at `arrival + ttftMs + prefillMsPerToken × (prompt tokens − cached tokens)`, so a turn
   * whose history is cached starts sooner by the known amount. Default 0.
   */
  prefillMsPerToken?: number;
  /**
   * Report the prefix cache's hit in `usage.prompt_tokens_details.cached_tokens` (as vLLM with
   * `--enable-prompt-tokens-details`, SGLang and OpenAI do). Off by default.
   */
  reportCachedTokens?: boolean;
  /**
   * Blocks (of 16 mock tokens) the prefix cache keeps, least recently used evicted first.
   * Default 1 048 576.
   */
  prefixCacheBlocks?: number;
}

/** Defaults of `llmperf mock`. */
export const MOCK_DEFAULTS: MockOptions = {
  host: "127.0.0.1",
  port: 8877,
  ttftMs: 0,
  itlMs: 0,
  outputTokens: 128,
  usage: true,
  seed: 42,
};

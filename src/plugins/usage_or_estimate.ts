/**
 * Helpers for API plugins: token counts from a response's usage when it has one, else an
 * estimate from what the response carried (token-carrying chunks of a stream, the text length of
 * a whole reply), labelled with its source.
 *
 * @module
 */
import type { TokenCounts } from "./types.ts";

/** What a response carried, payload by payload, for {@link tokenCounts}. */
export interface OutputChunks {
  /** Payloads that carried generated tokens of any kind (see `TokenCounts.contentChunks`). */
  contentChunks: number[];
  /** Of those, the payloads that carried answer tokens (default: all of them). */
  answerChunks?: number[];
  /** Of those, the payloads that carried reasoning tokens (default: none). */
  reasoningChunks?: number[];
  /**
   * A whole (non-streamed) reply's generated text: without usage its tokens are estimated from
   * the text's length ({@link estimateTokens}) instead of counting one per payload.
   */
  text?: { answer: string; reasoning?: string };
}

/** Counts a server reported (`usage`), in the plugin's own field names mapped to these. */
export interface UsageCounts {
  /** Prompt tokens. */
  prompt?: number;
  /** Completion tokens (reasoning included). */
  completion?: number;
  /** Reasoning tokens, when the server reports them. */
  reasoning?: number;
  /** Prompt tokens the server's prefix cache held, when it reports them. */
  cached?: number;
}

function isWide(code: number): boolean {
  // CJK radicals to Hangul syllables (ideographs, kana, hangul), CJK compatibility ideographs,
  // full-width forms: about one token per character in today's tokenizers.
  return (code >= 0x2e80 && code <= 0xd7ff) || (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xff00 && code <= 0xffef);
}

/**
 * A rough token count of a text, for replies that came without usage and without a tokenizer:
 * one token per CJK character (ideographs, kana, hangul, full-width forms) plus one per four
 * other characters (the usual rule of thumb for English), at least 1 for a non-empty text. An
 * estimate, reported as such (source `text-length`); `--tokenizer-path` counts exactly.
 *
 * @example
 * ```ts
 * import { estimateTokens } from "@llmperf/llmperf/plugin";
 * estimateTokens("The quick brown fox"); // 5
 * estimateTokens("推理延迟");             // 4
 * ```
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) if (isWide(text.charCodeAt(i))) wide++;
  return Math.max(1, wide + Math.ceil((text.length - wide) / 4));
}

/**
 * Token counts of one response: `usage` wins when the server sent one; otherwise an estimate:
 * for a whole reply given as `text`, {@link estimateTokens} of it (source `text-length`); for a
 * stream, one token per token-carrying chunk (source `chunks`). Prompt tokens are then 0 (a
 * `--tokenizer-path` counts both properly).
 *
 * `chunks` is either the list of token-carrying payloads (as before reasoning models: no
 * reasoning count is known then unless usage gives one), or an {@link OutputChunks} saying which
 * payloads carried answer and which reasoning tokens: then `answerChunks` and `reasoningTokens`
 * are filled in (reasoning from usage, else counted like the completion tokens; 0 when no
 * reasoning came; absent when usage has a completion count but not a reasoning one).
 *
 * @example A stream: the role chunk (0) and the usage chunk (3) carry no tokens
 * ```ts
 * import { tokenCounts } from "@llmperf/llmperf/plugin";
 * const u = last.usage; // { prompt_tokens, completion_tokens } or undefined
 * return tokenCounts(
 *   { contentChunks: [1, 2], answerChunks: [2], reasoningChunks: [1] },
 *   u && { prompt: u.prompt_tokens, completion: u.completion_tokens },
 * );
 * ```
 */
export function tokenCounts(
  chunks: number[] | OutputChunks,
  usage?: UsageCounts,
): TokenCounts & { contentChunks: number[] } {
  const kinds = !Array.isArray(chunks);
  const o: OutputChunks = kinds ? chunks : { contentChunks: chunks };
  let out: TokenCounts & { contentChunks: number[] };
  let reasoning: number | undefined;
  const reasoningText = o.text?.reasoning ?? "";
  if (usage) {
    out = {
      promptTokens: usage.prompt ?? 0,
      completionTokens: usage.completion ?? 0,
      source: "usage",
      contentChunks: o.contentChunks,
    };
    const seen = (o.reasoningChunks?.length ?? 0) > 0 || reasoningText.length > 0;
    reasoning = usage.reasoning ?? (kinds && !seen ? 0 : undefined);
    if (typeof usage.cached === "number") out.cachedTokens = usage.cached;
  } else if (o.text) {
    const r = estimateTokens(reasoningText);
    out = {
      promptTokens: 0,
      completionTokens: estimateTokens(o.text.answer) + r,
      source: "text-length",
      contentChunks: o.contentChunks,
    };
    if (kinds) reasoning = r;
  } else {
    const n = o.contentChunks.length;
    out = {
      promptTokens: 0,
      completionTokens: n,
      source: "chunks",
      contentChunks: o.contentChunks,
    };
    if (kinds) reasoning = Math.min(n, o.reasoningChunks?.length ?? 0);
  }
  if (o.answerChunks) out.answerChunks = o.answerChunks;
  if (reasoning !== undefined) out.reasoningTokens = reasoning;
  return out;
}

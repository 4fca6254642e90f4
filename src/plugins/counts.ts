/**
 * A helper for API plugins: token counts from a response's usage when it has one, else from the
 * chunks that carried generated text.
 *
 * @module
 */
import type { TokenCounts } from "./types.ts";

/**
 * Token counts of one response: `usage` wins when the server sent one; otherwise completion
 * tokens are the number of token-carrying chunks (`contentChunks`) and prompt tokens are 0 (a
 * `--tokenizer-path` then counts both properly).
 *
 * @example
 * ```ts
 * import { tokenCounts } from "@llmperf/llmperf/plugin";
 * const u = last.usage; // { prompt_tokens, completion_tokens } or undefined
 * return tokenCounts(contentChunks, u && { prompt: u.prompt_tokens, completion: u.completion_tokens });
 * ```
 */
export function tokenCounts(
  contentChunks: number[],
  usage?: { prompt?: number; completion?: number },
): TokenCounts & { contentChunks: number[] } {
  if (usage) {
    return {
      promptTokens: usage.prompt ?? 0,
      completionTokens: usage.completion ?? 0,
      source: "usage",
      contentChunks,
    };
  }
  return {
    promptTokens: 0,
    completionTokens: contentChunks.length,
    source: "chunks",
    contentChunks,
  };
}

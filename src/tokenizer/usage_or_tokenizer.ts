/**
 * The rule that decides between the server's `usage` and the tokenizer: `usage` always wins; when
 * a response carries none, the tokenizer's counts replace the API plugin's estimate (chunks
 * counted, a text length, or nothing). A plugin that returns a bare `[prompt, completion]` pair
 * with non-zero values is trusted as it is (it counted in its own way). Reasoning tokens: from
 * `usage` when it reports them, else the tokenizer counts the plugin's `reasoningTexts`, also
 * for a response whose usage gave only the totals.
 *
 * It runs where the request is finished (a transport worker, or the main thread): the plugin
 * reads the texts there, and only the texts go to the counting worker.
 *
 * @module
 */
import type { ApiPluginLike, RequestBody, TokenCounts } from "../plugins/types.ts";
import type { TokenCounter } from "./token_counters.ts";

/** Whether the tokenizer should count anything of a request the plugin reported `counts` for. */
export function wantsCounting(api: ApiPluginLike, counts: TokenCounts): boolean {
  return wantsTokenizer(counts) || wantsReasoningCount(api, counts);
}

/** Whether the tokenizer should count a request the plugin reported `counts` for. */
export function wantsTokenizer(counts: TokenCounts): boolean {
  if (counts.source === "usage" || counts.source === "tokenizer") return false;
  if (counts.source !== undefined) return true;
  return counts.promptTokens === 0 && counts.completionTokens === 0;
}

/**
 * Whether the tokenizer should count only the reasoning tokens of a request: its usage gave the
 * totals but not the reasoning tokens, and the plugin can give the reasoning text.
 */
export function wantsReasoningCount(api: ApiPluginLike, counts: TokenCounts): boolean {
  return counts.source === "usage" && counts.reasoningTokens === undefined &&
    typeof api.reasoningTexts === "function";
}

function texts(
  api: ApiPluginLike,
  method: "generatedTexts" | "reasoningTexts",
  payloads: string[],
): string[] | undefined {
  const fn = api[method];
  if (typeof fn !== "function") return undefined;
  try {
    const texts = fn.call(api, payloads);
    return Array.isArray(texts) ? texts.filter((t) => typeof t === "string") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The counts of a successful request after the tokenizer had its say: prompt tokens from the
 * request body, completion tokens from the plugin's `generatedTexts` and reasoning tokens from
 * its `reasoningTexts` (source `tokenizer`). A plugin without `generatedTexts` keeps its
 * completion count and source; only an unknown prompt count (0) is filled in then. A response
 * with usage but no reasoning count gets only its reasoning tokens counted (source `usage`).
 */
export async function fillCounts(
  api: ApiPluginLike,
  payloads: string[],
  body: RequestBody,
  counts: TokenCounts,
  counter: TokenCounter,
): Promise<TokenCounts> {
  if (wantsReasoningCount(api, counts)) {
    const reasoning = texts(api, "reasoningTexts", payloads);
    if (reasoning === undefined) return counts;
    if (reasoning.every((t) => t === "")) return { ...counts, reasoningTokens: 0 };
    const t = await counter.count(undefined, [], reasoning);
    return t?.reasoningTokens === undefined
      ? counts
      : { ...counts, reasoningTokens: t.reasoningTokens };
  }
  if (!wantsTokenizer(counts)) return counts;
  const generated = texts(api, "generatedTexts", payloads);
  const reasoning = generated && texts(api, "reasoningTexts", payloads);
  const t = await counter.count(body, generated ?? [], reasoning);
  if (t === undefined) return counts;
  const images = counts.imageTokens ?? 0; // the tokenizer counts the prompt's text only
  if (generated === undefined) {
    return counts.promptTokens === images
      ? { ...counts, promptTokens: t.promptTokens + images }
      : counts;
  }
  const out: TokenCounts = {
    ...counts,
    promptTokens: t.promptTokens + images,
    completionTokens: t.completionTokens,
    source: "tokenizer",
  };
  // Without the reasoning text, a reasoning count of the plugin's estimate no longer fits.
  if (t.reasoningTokens !== undefined) out.reasoningTokens = t.reasoningTokens;
  else if (out.reasoningTokens !== 0) delete out.reasoningTokens;
  return out;
}

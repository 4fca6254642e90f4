/**
 * The rule that decides between the server's `usage` and the tokenizer: `usage` always wins; when
 * a response carries none, the tokenizer's counts replace the API plugin's estimate (chunks
 * counted, or nothing). A plugin that returns a bare `[prompt, completion]` pair with non-zero
 * values is trusted as it is (it counted in its own way).
 *
 * @module
 */
import { requestMetrics } from "../metrics/request_metrics.ts";
import type { ApiPluginLike, TokenCounts } from "../plugins/types.ts";
import type { FinishedRequest } from "../records/pipeline.ts";
import type { RequestRecord } from "../records/record.ts";
import type { TokenCounter } from "./counter.ts";

/** Longest stretch of main-thread work (reading generated texts) before the event loop runs, ms. */
const SLICE_MS = 2;

/** Whether the tokenizer should count a request the plugin reported `counts` for. */
export function wantsTokenizer(counts: TokenCounts): boolean {
  if (counts.source === "usage" || counts.source === "tokenizer") return false;
  if (counts.source !== undefined) return true;
  return counts.promptTokens === 0 && counts.completionTokens === 0;
}

function generatedTexts(api: ApiPluginLike, payloads: string[]): string[] | undefined {
  if (typeof api.generatedTexts !== "function") return undefined;
  try {
    const texts = api.generatedTexts(payloads);
    return Array.isArray(texts) ? texts.filter((t) => typeof t === "string") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The counts of a successful request after the tokenizer had its say: prompt tokens from the
 * request body and completion tokens from the plugin's `generatedTexts` (source `tokenizer`).
 * A plugin without `generatedTexts` keeps its completion count and source; only an unknown
 * prompt count (0) is filled in then.
 */
export async function fillCounts(
  api: ApiPluginLike,
  rec: RequestRecord,
  counts: TokenCounts,
  counter: TokenCounter,
): Promise<TokenCounts> {
  if (!wantsTokenizer(counts)) return counts;
  const texts = generatedTexts(api, rec.payloads);
  const t = await counter.count(rec.body, texts ?? []);
  if (t === undefined) return counts;
  if (texts === undefined) {
    return counts.promptTokens === 0 ? { ...counts, promptTokens: t.promptTokens } : counts;
  }
  return {
    ...counts,
    promptTokens: t.promptTokens,
    completionTokens: t.completionTokens,
    source: "tokenizer",
  };
}

/**
 * Count a processed batch with the tokenizer where `usage` is missing: counts and metrics of
 * those requests are replaced in place. The texts are read here (the plugin's `generatedTexts`,
 * in slices that let the event loop run); the tokenizing happens in the counter's worker, the
 * whole batch in one message.
 */
export async function countTokens(
  api: ApiPluginLike,
  batch: FinishedRequest[],
  counter: TokenCounter,
): Promise<void> {
  const pending: Promise<void>[] = [];
  let slice = performance.now();
  for (const f of batch) {
    const counts = f.counts;
    if (!f.record.success || counts === undefined || !wantsTokenizer(counts)) continue;
    pending.push(
      fillCounts(api, f.record, counts, counter).then((c) => {
        if (c === counts) return;
        f.counts = c;
        f.metrics = requestMetrics(f.record, c);
      }),
    );
    if (performance.now() - slice > SLICE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      slice = performance.now();
    }
  }
  await Promise.all(pending);
}

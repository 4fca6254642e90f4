/**
 * The cache and multi-turn metrics (`src/metrics/conversations.ts`) on hand-made records: the
 * hit rate, the eligible hit rate, first- against later-turn TTFT and the per-conversation rows.
 */
import { assertAlmostEquals, assertEquals } from "./assert.ts";
import { CACHE_KEYS, ConversationMetrics } from "../src/metrics/conversations.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";

function turn(
  conversation: number | undefined,
  turn: number,
  o: { start: number; ttft: number; end: number; prompt: number; out: number; cached?: number },
  success = true,
): RequestMetrics {
  return {
    index: 0,
    success,
    stream: true,
    startEpochS: o.start,
    completedEpochS: o.end,
    latencyS: o.end - o.start,
    firstChunkLatencyS: o.ttft,
    nChunks: 1,
    chunkTimeS: 0,
    ttftS: o.ttft,
    tpotS: undefined,
    itlS: [],
    promptTokens: o.prompt,
    completionTokens: o.out,
    tokenSource: "usage",
    status: success ? 200 : 500,
    cachedTokens: o.cached,
    conversation,
    turn,
  };
}

Deno.test("conversation metrics: hit rates, first vs later TTFT, per-conversation rows", () => {
  const c = new ConversationMetrics();
  c.add(turn(0, 0, { start: 10, ttft: 0.5, end: 11, prompt: 100, out: 21, cached: 0 }));
  c.add(turn(0, 1, { start: 12, ttft: 0.1, end: 13, prompt: 150, out: 11, cached: 112 }));
  c.add(turn(1, 0, { start: 10, ttft: 0.3, end: 10.5, prompt: 50, out: 1, cached: 0 }));
  c.add(turn(1, 1, { start: 11, ttft: 0.2, end: 12, prompt: 0, out: 0 }, false)); // failed: skipped
  const s = c.summary();
  assertEquals(s[CACHE_KEYS.cachedTokens], 112);
  assertAlmostEquals(s[CACHE_KEYS.hitRate]!, 100 * 112 / 300, 1e-9);
  assertEquals(s[CACHE_KEYS.conversations], 2);
  assertEquals(s[CACHE_KEYS.meanTurns], 1.5);
  assertAlmostEquals(s[CACHE_KEYS.firstTurnTtft]!, 400, 1e-9);
  assertAlmostEquals(s[CACHE_KEYS.laterTurnTtft]!, 100, 1e-9);
  assertAlmostEquals(s[CACHE_KEYS.eligibleHitRate]!, 100 * 112 / 121, 1e-9);
  const t = c.traceSummary()!;
  assertEquals(t.n_traces, 2);
  const row = (name: string) => t.rows.find((r) => r.metric === name)!;
  assertEquals([row("Latency (s)").min, row("Latency (s)").max], [0.5, 3]);
  assertAlmostEquals(row("TTFAT (s)").min!, 0.3, 1e-9); // last turn's start + TTFT − first start
  assertAlmostEquals(row("TTFAT (s)").max!, 2.1, 1e-9);
  assertEquals(row("Eligible Cache Hit Rate (%)").p50, 100 * 112 / 121);
  // Mean over its turns of (completion − 1) / (latency − TTFT); one-token replies have none.
  assertAlmostEquals(row("Decode TPS").max!, (20 / 0.5 + 10 / 0.9) / 2, 1e-9);
  assertEquals(row("Decode TPS").min, row("Decode TPS").max, "conversation 1 has none");
});

Deno.test("conversation metrics: single requests add only the hit rate; none without cached_tokens", () => {
  const c = new ConversationMetrics();
  c.add(turn(undefined, 0, { start: 0, ttft: 0.1, end: 1, prompt: 64, out: 1, cached: 48 }));
  assertEquals(c.summary(), { [CACHE_KEYS.cachedTokens]: 48, [CACHE_KEYS.hitRate]: 75 });
  assertEquals(c.traceSummary(), undefined);
  const none = new ConversationMetrics();
  none.add(turn(undefined, 0, { start: 0, ttft: 0.1, end: 1, prompt: 64, out: 1 }));
  assertEquals(none.summary(), {});
});

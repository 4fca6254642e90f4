/**
 * The mock's prefix cache (`server_metrics.ts`): leading 16-token blocks seen before are hits,
 * never the prompt's last token, least recently used blocks evicted first; `cached_tokens` in
 * usage and a first token due after the uncached part's prefill.
 */
import { assert, assertEquals } from "./assert.ts";
import { BLOCK_TOKENS, MockServerMetrics } from "../src/mock/server_metrics.ts";
import { startMockServer } from "../src/mock/server.ts";
import { parseMockArgs } from "../src/cli/mock_command.ts";

const BLOCK_CHARS = BLOCK_TOKENS * 4; // the mock counts 4 characters a token

function text(blocks: string[]): string {
  return blocks.map((c) => c.repeat(BLOCK_CHARS)).join("");
}

Deno.test("mock prefix cache: hits are the leading blocks seen before", () => {
  const m = new MockServerMetrics();
  const a = text(["a", "b", "c"]) + "tail";
  const tokens = (s: string) => Math.ceil(s.length / 4);
  assertEquals(m.schedule(a, tokens(a), 1).cached, 0, "nothing seen yet");
  const b = text(["a", "b", "x"]) + "more";
  assertEquals(m.schedule(b, tokens(b), 1).cached, 2 * BLOCK_TOKENS, "a, b; x differs");
  const c = text(["z", "b"]);
  assertEquals(m.schedule(c, tokens(c), 1).cached, 0, "b is not leading");
  assertEquals(m.prefixHits, 2 * BLOCK_TOKENS);
});

Deno.test("mock prefix cache: the prompt's last token is always computed", () => {
  const m = new MockServerMetrics();
  const exact = text(["a", "b"]); // exactly two blocks
  m.schedule(exact, 2 * BLOCK_TOKENS, 1);
  assertEquals(m.schedule(exact, 2 * BLOCK_TOKENS, 1).cached, BLOCK_TOKENS);
});

Deno.test("mock prefix cache: the least recently used blocks are evicted first", () => {
  const m = new MockServerMetrics(2); // two blocks
  const a = text(["a"]) + "!";
  const b = text(["b"]) + "!";
  const c = text(["c"]) + "!";
  const n = BLOCK_TOKENS + 1;
  m.schedule(a, n, 1);
  m.schedule(b, n, 1);
  assertEquals(m.schedule(a, n, 1).cached, BLOCK_TOKENS, "a used again: now the newest");
  m.schedule(c, n, 1); // evicts b, the least recently used
  assertEquals(m.schedule(a, n, 1).cached, BLOCK_TOKENS, "a kept");
  assertEquals(m.schedule(b, n, 1).cached, 0, "b evicted");
});

Deno.test("mock: cached_tokens in usage, and the first token after the uncached prefill", async () => {
  const mock = startMockServer({
    port: 0,
    outputTokens: 2,
    reportCachedTokens: true,
    prefillMsPerToken: 2,
  });
  try {
    const prompt = "p".repeat(BLOCK_CHARS * 4) + "?"; // 65 tokens: 4 full blocks, then 1
    const ask = async () => {
      const t0 = performance.now();
      const res = await fetch(`${mock.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }] }),
      });
      const body = await res.json();
      return { ms: performance.now() - t0, usage: body.usage };
    };
    const cold = await ask();
    assertEquals(cold.usage.prompt_tokens, 65);
    assertEquals(cold.usage.prompt_tokens_details, { cached_tokens: 0 });
    assert(cold.ms >= 2 * 65 - 1, `cold: ${cold.ms} ms for 65 uncached tokens at 2 ms`);
    const warm = await ask();
    assertEquals(warm.usage.prompt_tokens_details, { cached_tokens: 4 * BLOCK_TOKENS });
    assert(warm.ms >= 2 * 1 - 1, "one uncached token");
    assert(warm.ms < cold.ms, `warm ${warm.ms} ms faster than cold ${cold.ms} ms`);
  } finally {
    await mock.close();
  }
});

Deno.test("llmperf mock: prefix-cache flags parsed and checked", () => {
  const o = parseMockArgs([
    "--prefill-ms-per-token",
    "0.5",
    "--report-cached-tokens",
    "--prefix-cache-blocks",
    "8",
  ]);
  assertEquals([o.prefillMsPerToken, o.reportCachedTokens, o.prefixCacheBlocks], [0.5, true, 8]);
  const plain = parseMockArgs([]);
  assertEquals([plain.prefillMsPerToken, plain.reportCachedTokens], [undefined, undefined]);
});

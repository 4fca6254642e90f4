import { assertEquals, assertThrows } from "./assert.ts";
import { DEFAULTS, resolveConfig, toSnakeCase } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";

Deno.test("config: defaults are evalscope's", () => {
  const c = resolveConfig({ model: "m" });
  assertEquals(c.url, "http://127.0.0.1:8877/v1/chat/completions");
  assertEquals([c.parallel, c.rate, c.connectTimeout, c.readTimeout], [1, -1, 120, 120]);
  assertEquals([c.maxTokens, c.seed, c.logEveryNQuery, c.dataset, c.api], [
    2048,
    42,
    10,
    "openqa",
    "openai",
  ]);
  assertEquals(c.number, undefined);
  assertEquals(c.outputsDir, DEFAULTS.outputsDir);
});

Deno.test("config: snake_case keys (pasted from Python) and camelCase are the same", () => {
  const a = resolveConfig({
    model: "m",
    log_every_n_query: 5,
    max_tokens: 9,
    api_key: "k",
    top_p: 0.5,
  });
  const b = resolveConfig({ model: "m", logEveryNQuery: 5, maxTokens: 9, apiKey: "k", topP: 0.5 });
  assertEquals(a, b);
});

Deno.test("config: snake_case output for benchmark_args.json", () => {
  assertEquals(toSnakeCase({ logEveryNQuery: 1, model: "m" }), {
    log_every_n_query: 1,
    model: "m",
  });
});

for (
  const [input, needle] of [
    [{}, "--model is required"],
    [{ model: "m", parallel: 0 }, "--parallel: must be at least 1"],
    [{ model: "m", parallel: 1.5 }, "--parallel: expected an integer"],
    [{ model: "m", number: -3 }, "--number: must be at least 1"],
    [{ model: "m", rate: 0 }, "--rate: must be at least 1/3600"],
    [{ model: "m", rate: 1e-9 }, "--rate: must be at least 1/3600"],
    [{ model: "m", parallel: 2 ** 53 }, "--parallel: must be at most 2^53-1"],
    [{ model: "m", rate: -2 }, "--rate"],
    [{ model: "m", url: "ftp://x" }, "--url: must be an http:// or https:// URL"],
    [{ model: "m", url: "not a url" }, "--url: not a valid URL"],
    [{ model: "m", readTimeout: 0 }, "--read-timeout: must be greater than 0"],
    [{ model: "m", bogus: 1 }, "unknown config key 'bogus'"],
    [{ model: "m", minPromptLength: 10, maxPromptLength: 5 }, "--min-prompt-length"],
  ] as const
) {
  Deno.test(`config: rejects ${JSON.stringify(input)}`, () => {
    assertThrows(() => resolveConfig(input as Record<string, unknown>), UsageError, needle);
  });
}

/**
 * The output rule (`src/plugins/message_text.ts`): which fields of a delta or message carry
 * generated tokens, and of which kind; the plugin helpers `tokenCounts` and `estimateTokens`
 * (`src/plugins/usage_or_estimate.ts`); how the built-in API plugins apply them to chunks and
 * bodies; and what the metrics make of it (TTFT, TTFO, reasoning tokens, the estimate warning).
 */
import { assert, assertEquals } from "./assert.ts";
import { estimateTokens, messageText, tokenCounts } from "../plugin.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import ZhipuApi from "../plugins/api/zhipu.ts";
import DashScopeApi from "../plugins/api/dashscope.ts";
import { resolveConfig } from "../src/config.ts";
import { requestMetrics } from "../src/metrics/request_metrics.ts";
import { MetricsCollector, MODERN_KEYS, REQUEST_COLUMNS } from "../src/metrics/collector.ts";
import { finishRequest, toCounts } from "../src/records/finish_request.ts";
import type { ApiPluginLike } from "../src/plugins/types.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import { countWarning } from "../src/report/count_warning.ts";

Deno.test("output rule: role-only and metadata-only deltas carry no tokens", () => {
  const none = { answer: "", reasoning: "" };
  for (
    const d of [
      undefined,
      null,
      {},
      { role: "assistant" },
      { role: "assistant", content: "" },
      { role: "assistant", content: null, refusal: null },
      { role: "assistant", content: null, reasoning_content: "" },
      { content: "", reasoning: null, tool_calls: [] },
      { role: null, content: null, reasoning_content: null, tool_calls: null },
      // a tool call's id, type and index are the server's, not the model's
      { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { arguments: "" } }] },
    ]
  ) {
    assertEquals(messageText(d), none, JSON.stringify(d));
  }
});

Deno.test("output rule: answer fields and reasoning fields", () => {
  assertEquals(messageText({ content: "Hi" }), { answer: "Hi", reasoning: "" });
  assertEquals(messageText({ refusal: "No." }), { answer: "No.", reasoning: "" });
  assertEquals(
    messageText({ content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }),
    {
      answer: "ab",
      reasoning: "",
    },
  );
  // vLLM since late 2025 and OpenRouter
  assertEquals(messageText({ reasoning: "Hmm" }), { answer: "", reasoning: "Hmm" });
  // DeepSeek, SGLang, older vLLM, DashScope, Zhipu
  assertEquals(messageText({ content: null, reasoning_content: "Hmm" }), {
    answer: "",
    reasoning: "Hmm",
  });
  // vLLM's compatibility copy sends both with the same text: counted once
  assertEquals(messageText({ reasoning: "Hmm", reasoning_content: "Hmm" }).reasoning, "Hmm");
  // a tool call's name is generated; so are its arguments (a string, or an object in bodies)
  assertEquals(
    messageText({
      tool_calls: [{ index: 0, id: "c", type: "function", function: { name: "f", arguments: "" } }],
    }),
    { answer: "f", reasoning: "" },
  );
  assertEquals(
    messageText({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }).answer,
    '{"a"',
  );
  assertEquals(
    messageText({ tool_calls: [{ function: { name: "f", arguments: { a: 1 } } }] }).answer,
    'f{"a":1}',
  );
  assertEquals(messageText({ function_call: { name: "f", arguments: "{}" } }).answer, "f{}");
});

Deno.test("estimateTokens: a quarter token per character, one per CJK character", () => {
  assertEquals(estimateTokens(""), 0);
  assertEquals(estimateTokens("a"), 1);
  assertEquals(estimateTokens("abcd"), 1);
  assertEquals(estimateTokens("abcde"), 2);
  assertEquals(estimateTokens("The quick brown fox"), 5); // 19 characters
  assertEquals(estimateTokens("推理延迟"), 4);
  assertEquals(estimateTokens("模型 ok"), 3); // 2 + ⌈3 / 4⌉
});

Deno.test("tokenCounts: the old call (a list of chunks) is unchanged", () => {
  assertEquals(tokenCounts([1, 2]), {
    promptTokens: 0,
    completionTokens: 2,
    source: "chunks",
    contentChunks: [1, 2],
  });
  assertEquals(tokenCounts([1, 2], { prompt: 5, completion: 9 }), {
    promptTokens: 5,
    completionTokens: 9,
    source: "usage",
    contentChunks: [1, 2],
  });
  assertEquals(tokenCounts([1], { prompt: 5, completion: 9, reasoning: 4 }).reasoningTokens, 4);
});

Deno.test("tokenCounts: kinds of chunks, usage, and the text-length estimate", () => {
  const stream = { contentChunks: [1, 2, 3], answerChunks: [3], reasoningChunks: [1, 2] };
  assertEquals(tokenCounts(stream), {
    promptTokens: 0,
    completionTokens: 3,
    source: "chunks",
    contentChunks: [1, 2, 3],
    answerChunks: [3],
    reasoningTokens: 2,
  });
  // usage without a reasoning count: unknown, since reasoning was seen
  assertEquals(tokenCounts(stream, { prompt: 4, completion: 30 }).reasoningTokens, undefined);
  assertEquals(tokenCounts(stream, { completion: 30, reasoning: 20 }).reasoningTokens, 20);
  // no reasoning seen: none
  const plain = { contentChunks: [1], answerChunks: [1], reasoningChunks: [] };
  assertEquals(tokenCounts(plain, { prompt: 4, completion: 30 }).reasoningTokens, 0);
  // a whole reply without usage: its text, not 1 per body
  assertEquals(
    tokenCounts({ contentChunks: [0], text: { answer: "abcdefgh", reasoning: "abcd" } }),
    {
      promptTokens: 0,
      completionTokens: 3,
      source: "text-length",
      contentChunks: [0],
      reasoningTokens: 1,
    },
  );
});

const cfg = resolveConfig({ model: "m", stream: true });
const openai = new OpenAIApi(cfg);
const STREAMED = { stream: true };

function ev(delta: unknown, finish: string | null = null): string {
  return JSON.stringify({
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
}

Deno.test("openai plugin: reasoning, answer, tool-call chunks and their texts", () => {
  const stream = [
    ev({ role: "assistant", content: "" }),
    ev({ reasoning: "Let" }),
    ev({ reasoning: " me" }),
    ev({ content: "Sure" }),
    ev({ tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "f" } }] }),
    ev({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
    ev({ content: "" }, "tool_calls"),
  ];
  assertEquals(openai.parseResponses(stream, STREAMED), {
    promptTokens: 0,
    completionTokens: 5,
    source: "chunks",
    contentChunks: [1, 2, 3, 4, 5],
    answerChunks: [3, 4, 5],
    reasoningTokens: 2,
  });
  assertEquals(openai.generatedTexts(stream), ["Let meSuref{}"]);
  assertEquals(openai.reasoningTexts(stream), ["Let me"]);
  const usage = JSON.stringify({
    object: "chat.completion.chunk",
    choices: [],
    usage: {
      prompt_tokens: 3,
      completion_tokens: 9,
      completion_tokens_details: { reasoning_tokens: 4 },
    },
  });
  const counted = openai.parseResponses([...stream, usage], STREAMED);
  assertEquals([counted.completionTokens, counted.reasoningTokens], [9, 4]);
});

Deno.test("openai plugin: a body without usage is estimated from its text, not counted as 1", () => {
  const body = JSON.stringify({
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "abcdefgh", reasoning_content: "abcdefghijkl" },
      finish_reason: "stop",
    }],
  });
  const c = openai.parseResponses([body], { stream: false });
  assertEquals([c.completionTokens, c.reasoningTokens, c.source], [2 + 3, 3, "text-length"]);
  // plain completions: a streamed `text` chunk is a chunk, not a body (no `.chunk` object)
  const text = (t: string, f: string | null = null) =>
    JSON.stringify({
      object: "text_completion",
      choices: [{ index: 0, text: t, finish_reason: f }],
    });
  const s = openai.parseResponses([text("Paris"), text(" is", "length")], STREAMED);
  assertEquals([s.completionTokens, s.source], [2, "chunks"]);
  const whole = openai.parseResponses([text("Paris is nice", "length")], { stream: false });
  assertEquals([whole.completionTokens, whole.source], [4, "text-length"]);
});

Deno.test("zhipu and dashscope plugins: reasoning_content is output, apart from the answer", () => {
  const zhipu = new ZhipuApi(cfg);
  const z = (delta: unknown) => JSON.stringify({ choices: [{ index: 0, delta }] });
  const zs = [
    z({ role: "assistant", reasoning_content: "Hm" }),
    z({ role: "assistant", content: "Hi" }),
  ];
  const zc = zhipu.parseResponses(zs, STREAMED);
  assertEquals([zc.contentChunks, zc.answerChunks, zc.reasoningTokens], [[0, 1], [1], 1]);
  assertEquals(zhipu.reasoningTexts(zs), ["Hm"]);

  const dashscope = new DashScopeApi(cfg);
  const d = (message: unknown, usage?: unknown) =>
    JSON.stringify({ output: { choices: [{ message, finish_reason: "null" }] }, usage });
  const ds = [
    d({ role: "assistant", content: "", reasoning_content: "Hm" }),
    d({ role: "assistant", content: "Hi", reasoning_content: "" }, {
      input_tokens: 3,
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 5 },
    }),
  ];
  const dc = dashscope.parseResponses(ds);
  assertEquals([dc.answerChunks, dc.completionTokens, dc.reasoningTokens], [[1], 7, 5]);
  assertEquals(dashscope.generatedTexts(ds), ["HmHi"]);
});

/** A streamed request finished as a sending thread finishes it. */
const finish = (api: ApiPluginLike, rec: RequestRecord) =>
  finishRequest({ api, needs: {} }, rec, JSON.stringify({ stream: true }));

function record(times: number[], payloads: string[]) {
  const rec = newRecord(0, true);
  rec.startMs = 100;
  rec.chunkTimesMs = times;
  rec.payloads = payloads;
  rec.endMs = times[times.length - 1];
  rec.success = true;
  rec.status = 200;
  return rec;
}

Deno.test("metrics: TTFT at the first token of any kind, TTFO at the first answer token", async () => {
  // role at +5 ms, reasoning at +60, +75, answer at +90, +105, then the usage-less end
  const rec = record([105, 160, 175, 190, 205], [
    ev({ role: "assistant", content: "" }),
    ev({ reasoning: "a" }),
    ev({ reasoning: "b" }),
    ev({ content: "c" }),
    ev({ content: "d" }, "stop"),
  ]);
  const f = await finish(openai, rec);
  assertEquals(f.metrics.ttftS, 0.06);
  assertEquals(f.metrics.ttfoS, 0.09);
  assertEquals(f.metrics.completionTokens, 4);
  assertEquals(f.metrics.reasoningTokens, 2);
  assert(Math.abs(f.metrics.tpotS! - (0.105 - 0.06) / 3) < 1e-12);
  // a reply that was all reasoning (cut by max_tokens) has no TTFO
  const thinking = await finish(
    openai,
    record([105, 160], [ev({ role: "assistant", content: "" }), ev({ reasoning: "a" }, "length")]),
  );
  assertEquals([thinking.metrics.ttftS, thinking.metrics.ttfoS], [0.06, undefined]);
  // a user plugin's counts without the new fields: TTFO = TTFT, reasoning unknown
  const old = requestMetrics(rec, toCounts([3, 4]));
  assertEquals([old.ttfoS, old.reasoningTokens], [old.ttftS, undefined]);
  const oldObj = requestMetrics(rec, { promptTokens: 1, completionTokens: 2, contentChunks: [3] });
  assertEquals([oldObj.ttftS, oldObj.ttfoS], [0.09, 0.09]);
});

Deno.test("collector: TTFO and reasoning rows and columns; estimates are named", async () => {
  const c = new MetricsCollector();
  const rec = record([105, 160, 190], [
    ev({ reasoning: "a" }),
    ev({ content: "b" }),
    ev({ content: "c" }, "stop"),
  ]);
  c.add((await finish(openai, rec)).metrics);
  const s = c.modernSummary();
  assertEquals(s[MODERN_KEYS.meanTtft], 5);
  assertEquals(s[MODERN_KEYS.meanTtfo], 60);
  assertEquals(s[MODERN_KEYS.meanReasoning], 1);
  assertEquals(s[MODERN_KEYS.tokenSource], "chunks (estimated: no usage)");
  assertEquals(c.estimatedCounts(), 1);
  const p50 = c.requestPercentiles().find((r) => r.Percentile === "50%")!;
  assertEquals([p50[REQUEST_COLUMNS.ttfo], p50[REQUEST_COLUMNS.reasoning]], [60, 1]);
  const withUsage = new MetricsCollector();
  withUsage.add(
    requestMetrics(rec, { promptTokens: 1, completionTokens: 3, source: "usage" }),
  );
  assertEquals(withUsage.modernSummary()[MODERN_KEYS.tokenSource], "usage");
  assertEquals(withUsage.modernSummary()[MODERN_KEYS.meanReasoning], null);
  assertEquals(withUsage.estimatedCounts(), 0);
  // a plugin's bare [prompt, completion] pair says no source: not taken for an estimate
  const pair = new MetricsCollector();
  pair.add(requestMetrics(rec, toCounts([3, 4])));
  assertEquals([pair.tokenSource(), pair.estimatedCounts()], ["none", 0]);
});

Deno.test("count warning: once, naming --tokenizer-path; none when counts are real", () => {
  assertEquals(countWarning(0, 10, false), undefined);
  const w = countWarning(3, 10, false)!;
  assert(w.startsWith("3 of 10 successful requests had no usage"), w);
  assert(w.includes("--tokenizer-path"), w);
  assert(!w.includes("\n"), "one line");
  assert(countWarning(3, 10, true)!.includes("generatedTexts"));
});

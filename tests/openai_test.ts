import { assertEquals } from "./assert.ts";
import OpenAIApi, { isCompletionsUrl } from "../plugins/api/openai.ts";
import CompletionsApi from "../plugins/api/completions.ts";
import { resolveConfig } from "../src/config.ts";

const msgs = [{ role: "user", content: "Hello" }];

Deno.test("openai: chat body carries the messages and every model flag given", () => {
  const cfg = resolveConfig({
    model: "qwen",
    stream: true,
    maxTokens: 10,
    minTokens: 2,
    frequencyPenalty: 0.1,
    logprobs: true,
    nChoices: 2,
    seed: 1,
    stop: ["x"],
    stopTokenIds: [7],
    temperature: 0.5,
    topP: 0.9,
  });
  assertEquals(new OpenAIApi(cfg).buildRequest(msgs, cfg), {
    messages: msgs,
    model: "qwen",
    max_tokens: 10,
    min_tokens: 2,
    frequency_penalty: 0.1,
    logprobs: true,
    n: 2,
    seed: 1,
    stop: ["x"],
    stop_token_ids: [7],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.5,
    top_p: 0.9,
  });
});

Deno.test("openai: not streaming means no stream fields", () => {
  const cfg = resolveConfig({ model: "m" });
  assertEquals(new OpenAIApi(cfg).buildRequest(msgs, cfg), {
    messages: msgs,
    model: "m",
    max_tokens: 2048,
    seed: 42,
  });
});

Deno.test("openai: plain completions chosen by the URL, or by --api completions", () => {
  assertEquals(isCompletionsUrl("http://h/v1/completions"), true);
  assertEquals(isCompletionsUrl("http://h/v1/completions/?x=1"), true);
  assertEquals(isCompletionsUrl("http://h/v1/chat/completions"), false);
  const cfg = resolveConfig({ model: "m", url: "http://h/v1/completions" });
  assertEquals(new OpenAIApi(cfg).buildRequest(msgs, cfg).prompt, "Hello");
  const chatCfg = resolveConfig({ model: "m" });
  assertEquals(new CompletionsApi(chatCfg).buildRequest(msgs, chatCfg).prompt, "Hello");
});

const STREAM = [
  '{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  '{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}',
  '{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}',
  '{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}',
];

Deno.test("openai: usage wins; content chunks are the ones with text", () => {
  const cfg = resolveConfig({ model: "m" });
  assertEquals(new OpenAIApi(cfg).parseResponses(STREAM), {
    promptTokens: 5,
    completionTokens: 2,
    source: "usage",
    contentChunks: [1, 2],
    answerChunks: [1, 2],
    reasoningTokens: 0,
  });
});

Deno.test("openai: without usage, completion tokens = content chunks", () => {
  const cfg = resolveConfig({ model: "m" });
  const r = new OpenAIApi(cfg).parseResponses(STREAM.slice(0, 3));
  assertEquals([r.promptTokens, r.completionTokens, r.source], [0, 2, "chunks"]);
});

Deno.test("openai: generated text is reassembled per choice; errors in payloads are recognised", () => {
  const cfg = resolveConfig({ model: "m" });
  const api = new OpenAIApi(cfg);
  assertEquals(api.generatedTexts(STREAM), ["Hello"]);
  assertEquals(api.errorInPayload('{"error":{"message":"overloaded"}}'), "overloaded");
  assertEquals(api.errorInPayload(STREAM[1]), undefined);
});

Deno.test("openai: a payload that is not JSON, or a stream that never finishes, is an error", () => {
  const cfg = resolveConfig({ model: "m" });
  const api = new OpenAIApi(cfg);
  let msg = "";
  try {
    api.parseResponses([STREAM[0], '{"choices": [', STREAM[2]]);
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg.startsWith("payload 1 is not a JSON object"), true);
  msg = "";
  try {
    api.parseResponses(STREAM.slice(0, 2));
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "the stream ended before any choice finished (no finish_reason)");
});

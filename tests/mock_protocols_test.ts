/**
 * The mock server's protocols other than OpenAI's: each one's wire format, streamed and whole,
 * its errors and routes, and the same timing truth as the OpenAI mock.
 */
import { assert, assertEquals } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount, planReply } from "../src/mock/generator.ts";
import { parseSseText } from "../src/transport/sse.ts";
import { DASHSCOPE_PATH } from "../src/mock/dashscope.ts";
import { ZHIPU_PATH } from "../src/mock/zhipu.ts";
import { parseMockArgs } from "../src/cli/mock_command.ts";
import { UsageError } from "../src/errors.ts";
import { assertThrows } from "./assert.ts";

const PROMPT = "a prompt for the protocol mocks";

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}

/** The words the mock says for PROMPT (the same plan as the OpenAI mock's). */
function expectedTokens(n: number): string[] {
  const plan = planReply(PROMPT, undefined, { outputTokens: n, seed: 42 });
  return Array.from({ length: plan.tokens }, (_, i) => plan.token(i, 0));
}

Deno.test("mock dashscope: SSE events with cumulative usage, incremental text, no [DONE]", async () => {
  const m = startMockServer({ port: 0, outputTokens: 4, protocol: "dashscope" });
  try {
    const body = {
      model: "qwen-turbo",
      input: { messages: [{ role: "user", content: PROMPT }] },
      parameters: { result_format: "message", incremental_output: true },
    };
    const r = await post(`${m.url}${DASHSCOPE_PATH}`, body, { "X-DashScope-SSE": "enable" });
    assertEquals(r.status, 200);
    assert(r.type.startsWith("text/event-stream"));
    assert(r.text.startsWith("id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"), r.text.slice(0, 80));
    const events = parseSseText(r.text);
    assertEquals(events.length, 4);
    assert(events.every((e) => e.type === "result"));
    const payloads = events.map((e) => JSON.parse(e.data));
    const words = expectedTokens(4);
    payloads.forEach((p, i) => {
      assertEquals(p.output.choices[0].message, { role: "assistant", content: words[i] });
      assertEquals(p.output.choices[0].finish_reason, i === 3 ? "length" : "null");
      assertEquals(p.usage, {
        input_tokens: mockTokenCount(PROMPT),
        output_tokens: i + 1,
        total_tokens: mockTokenCount(PROMPT) + i + 1,
      });
    });
    // Without incremental_output each event repeats the whole text so far; text format.
    const cumulative = await post(`${m.url}${DASHSCOPE_PATH}`, {
      ...body,
      parameters: {},
    }, { accept: "text/event-stream" });
    const texts = parseSseText(cumulative.text).map((e) => JSON.parse(e.data).output.text);
    assertEquals(texts, words.map((_, i) => words.slice(0, i + 1).join("")));
  } finally {
    await m.close();
  }
});

Deno.test("mock dashscope: whole reply, max_tokens, and errors in DashScope's shape", async () => {
  const m = startMockServer({ port: 0, outputTokens: 6, protocol: "dashscope" });
  try {
    const r = await post(`${m.url}${DASHSCOPE_PATH}`, {
      model: "q",
      input: { prompt: PROMPT },
      parameters: { max_tokens: 3, result_format: "message" },
    });
    assertEquals(r.status, 200);
    const js = JSON.parse(r.text);
    assertEquals(js.output.choices[0].message.content, expectedTokens(6).slice(0, 3).join(""));
    assertEquals(js.usage.output_tokens, 3);
    assertEquals(typeof js.request_id, "string");
    const bad = await post(`${m.url}${DASHSCOPE_PATH}`, { model: "q", input: {} });
    assertEquals(bad.status, 400);
    assertEquals(JSON.parse(bad.text).code, "InvalidParameter");
    const other = await post(`${m.url}/v1/chat/completions`, { model: "q", messages: [] });
    assertEquals(other.status, 404);
  } finally {
    await m.close();
  }
});

Deno.test("mock zhipu: chunks carry the role, usage rides on the last token, then [DONE]", async () => {
  const m = startMockServer({ port: 0, outputTokens: 3, protocol: "zhipu" });
  try {
    const r = await post(`${m.url}${ZHIPU_PATH}`, {
      model: "glm-4",
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
    });
    const events = parseSseText(r.text).map((e) => e.data);
    assertEquals(events.length, 3 + 1);
    assertEquals(events.at(-1), "[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assertEquals(chunks.map((c) => c.choices[0].delta.role), [
      "assistant",
      "assistant",
      "assistant",
    ]);
    assertEquals(chunks.map((c) => c.choices[0].delta.content), expectedTokens(3));
    assertEquals(chunks[0].object, undefined);
    assertEquals(chunks[0].usage, undefined);
    assertEquals(chunks[2].choices[0].finish_reason, "length");
    assertEquals(chunks[2].usage.completion_tokens, 3);
    const whole = JSON.parse(
      (await post(`${m.url}${ZHIPU_PATH}`, { model: "glm-4", messages: [{ content: PROMPT }] }))
        .text,
    );
    assertEquals(whole.choices[0].message.content, expectedTokens(3).join(""));
    assertEquals(whole.usage.prompt_tokens, mockTokenCount(PROMPT));
    const bad = await post(`${m.url}${ZHIPU_PATH}`, "{not json");
    assertEquals(bad.status, 400);
    assertEquals(JSON.parse(bad.text).error.code, "1214");
  } finally {
    await m.close();
  }
});

Deno.test("mock triton: generate and generate_stream, text_output per token, no usage", async () => {
  const m = startMockServer({ port: 0, outputTokens: 3, protocol: "triton" });
  try {
    const req = { text_input: PROMPT, max_tokens: 10, bad_words: "", stop_words: "" };
    const whole = JSON.parse((await post(`${m.url}/v2/models/ensemble/generate`, req)).text);
    assertEquals(whole.model_name, "ensemble");
    assertEquals(whole.text_output, expectedTokens(3).join(""));
    const r = await post(`${m.url}/v2/models/ensemble/generate_stream`, { ...req, stream: true });
    assert(r.type.startsWith("text/event-stream"));
    const outs = parseSseText(r.text).map((e) => JSON.parse(e.data).text_output);
    assertEquals(outs, expectedTokens(3));
    assert(!r.text.includes("[DONE]") && !r.text.includes("usage"));
    const bad = await post(`${m.url}/v2/models/ensemble/generate`, { prompt: "x" });
    assertEquals(bad.status, 400);
    assertEquals(typeof JSON.parse(bad.text).error, "string");
  } finally {
    await m.close();
  }
});

Deno.test("mock protocols keep the OpenAI mock's timing: token k at ttft + k·itl", async () => {
  const m = startMockServer({ port: 0, outputTokens: 5, ttftMs: 60, itlMs: 30, protocol: "zhipu" });
  try {
    const t0 = performance.now();
    const res = await fetch(`${m.url}${ZHIPU_PATH}`, {
      method: "POST",
      body: JSON.stringify({ model: "g", messages: [{ content: PROMPT }], stream: true }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const arrivals: number[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const n = (value.match(/"delta"/g) ?? []).length;
      for (let i = 0; i < n; i++) arrivals.push(performance.now() - t0);
    }
    assertEquals(arrivals.length, 5);
    // Never early; late only by scheduling noise (loose bound for a loaded CI machine).
    arrivals.forEach((t, k) => assert(t >= 60 + 30 * k - 2, `token ${k} at ${t} ms`));
    assert(arrivals[4] < 60 + 30 * 4 + 250, `last token at ${arrivals[4]} ms`);
  } finally {
    await m.close();
  }
});

Deno.test("llmperf mock --protocol: parsed and checked", () => {
  assertEquals(parseMockArgs(["--protocol", "dashscope"]).protocol, "dashscope");
  assertEquals(parseMockArgs([]).protocol, undefined);
  assertThrows(() => parseMockArgs(["--protocol", "grpc"]), UsageError, "unknown protocol 'grpc'");
});

Deno.test("mock zhipu and dashscope: reasoning_content before the answer", async () => {
  const z = startMockServer({ port: 0, outputTokens: 2, reasoningTokens: 3, protocol: "zhipu" });
  const d = startMockServer({
    port: 0,
    outputTokens: 2,
    reasoningTokens: 3,
    protocol: "dashscope",
  });
  try {
    const zr = await post(`${z.url}${ZHIPU_PATH}`, {
      model: "g",
      messages: [{ content: PROMPT }],
      stream: true,
    });
    const zc = parseSseText(zr.text).map((e) => e.data).slice(0, -1).map((e) => JSON.parse(e));
    assertEquals(zc.map((c) => Object.keys(c.choices[0].delta)[1]), [
      "reasoning_content",
      "reasoning_content",
      "reasoning_content",
      "content",
      "content",
    ]);
    assertEquals(zc.at(-1).usage.completion_tokens, 5);
    const dr = await post(
      `${d.url}${DASHSCOPE_PATH}`,
      {
        model: "q",
        input: { messages: [{ content: PROMPT }] },
        parameters: { result_format: "message", incremental_output: true },
      },
      { "x-dashscope-sse": "enable" },
    );
    const dc = parseSseText(dr.text).map((e) => JSON.parse(e.data));
    const messages = dc.map((e) => e.output.choices[0].message);
    assertEquals(messages.map((m) => m.reasoning_content !== ""), [true, true, true, false, false]);
    assertEquals(messages.map((m) => m.content !== ""), [false, false, false, true, true]);
    assertEquals(dc.at(-1).usage.output_tokens_details, { reasoning_tokens: 3 });
    // The text result format has no reasoning field: no reasoning then.
    const text = JSON.parse(
      (await post(`${d.url}${DASHSCOPE_PATH}`, {
        model: "q",
        input: { prompt: PROMPT },
        parameters: {},
      })).text,
    );
    assertEquals(text.usage.output_tokens, 2);
  } finally {
    await z.close();
    await d.close();
  }
});

Deno.test("llmperf mock --reasoning-tokens / --reasoning-field: parsed and checked", () => {
  const o = parseMockArgs(["--reasoning-tokens", "8", "--reasoning-field", "reasoning_content"]);
  assertEquals([o.reasoningTokens, o.reasoningField], [8, "reasoning_content"]);
  assertThrows(() => parseMockArgs(["--reasoning-tokens", "-1"]), UsageError, "--reasoning-tokens");
  assertThrows(
    () => parseMockArgs(["--reasoning-field", "thinking"]),
    UsageError,
    "--reasoning-field: expected one of reasoning, reasoning_content, got 'thinking'",
  );
});

/**
 * The built-in API plugins `dashscope`, `zhipu` and `custom`: their bodies, hooks and parsing,
 * and each one end to end with the real CLI against the mock server speaking its protocol.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import DashScopeApi from "../plugins/api/dashscope.ts";
import ZhipuApi from "../plugins/api/zhipu.ts";
import CustomApi from "../plugins/api/custom.ts";
import { resolveConfig } from "../src/config.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { MockProtocolName } from "../src/mock/protocol_registry.ts";
import { mockTokenCount } from "../src/mock/generator.ts";
import { DASHSCOPE_PATH } from "../src/mock/dashscope.ts";
import { ZHIPU_PATH } from "../src/mock/zhipu.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import { silentLogger } from "../src/log.ts";

const msgs = [{ role: "user", content: "Hello" }];

Deno.test("dashscope: native body, SSE switched by header, counts from usage, errors", () => {
  const cfg = resolveConfig({ model: "qwen-turbo", stream: true, temperature: 0.3, stop: ["x"] });
  const api = new DashScopeApi(cfg);
  assertEquals(api.buildRequest(msgs, cfg), {
    model: "qwen-turbo",
    input: { messages: msgs },
    parameters: {
      result_format: "message",
      max_tokens: 2048,
      seed: 42,
      stop: ["x"],
      temperature: 0.3,
      incremental_output: true,
    },
  });
  assertEquals(api.requestHeaders(cfg), {
    "x-dashscope-sse": "enable",
    accept: "text/event-stream",
  });
  assertEquals(api.isStreaming({}, cfg), true);
  const plain = resolveConfig({ model: "q" });
  assertEquals(api.requestHeaders(plain), {});
  assertEquals(api.isStreaming({}, plain), false);
  const ev = (content: string, out: number) =>
    JSON.stringify({
      output: { choices: [{ message: { role: "assistant", content }, finish_reason: "null" }] },
      usage: { input_tokens: 7, output_tokens: out, total_tokens: 7 + out },
    });
  assertEquals(api.parseResponses([ev("a", 1), ev("", 1), ev("b", 2)]), {
    promptTokens: 7,
    completionTokens: 2,
    source: "usage",
    contentChunks: [0, 2],
    answerChunks: [0, 2],
    reasoningTokens: 0,
  });
  assertEquals(api.generatedTexts([ev("a", 1), ev("b", 2)]), ["ab"]);
  assertEquals(
    api.errorInPayload('{"code":"InvalidApiKey","message":"Invalid API-key provided."}'),
    "InvalidApiKey: Invalid API-key provided.",
  );
  assertEquals(api.errorInPayload(ev("a", 1)), undefined);
});

Deno.test("zhipu: only the fields GLM takes, usage or chunk counts, error objects", () => {
  const cfg = resolveConfig({ model: "glm-4", stream: true, topP: 0.7, nChoices: 2 });
  const api = new ZhipuApi(cfg);
  assertEquals(api.buildRequest(msgs, cfg), {
    model: "glm-4",
    messages: msgs,
    max_tokens: 2048,
    top_p: 0.7,
    stream: true,
  });
  const chunk = (content: string, usage?: unknown) =>
    JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content } }], usage });
  assertEquals(
    api.parseResponses([chunk("a"), chunk("b", { prompt_tokens: 3, completion_tokens: 2 })]),
    {
      promptTokens: 3,
      completionTokens: 2,
      source: "usage",
      contentChunks: [0, 1],
      answerChunks: [0, 1],
      reasoningTokens: 0,
    },
  );
  assertEquals(api.parseResponses([chunk("a"), chunk(""), chunk("c")]).completionTokens, 2);
  assertEquals(api.generatedTexts([chunk("a"), chunk("c")]), ["ac"]);
  assertEquals(
    api.errorInPayload('{"error":{"code":"1261","message":"Prompt too long"}}'),
    "1261: Prompt too long",
  );
});

Deno.test("custom: Triton body, URL follows --stream, one token per streamed event", () => {
  const cfg = resolveConfig({ model: "ensemble", stream: true, maxTokens: 64, seed: 7 });
  const api = new CustomApi(cfg);
  const body = api.buildRequest(
    [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
    cfg,
  );
  assertEquals(body, {
    text_input: "Be brief.\nHi",
    bad_words: "",
    stop_words: "",
    max_tokens: 64,
    stream: true,
    random_seed: 7,
  });
  const url = "http://h:8000/v2/models/ensemble/generate";
  assertEquals(api.requestUrl(url, cfg), "http://h:8000/v2/models/ensemble/generate_stream");
  const plain = resolveConfig({ model: "ensemble" });
  assertEquals(api.requestUrl(`${url}_stream`, plain), url);
  const ev = (t: string) => JSON.stringify({ model_name: "ensemble", text_output: t });
  assertEquals(api.parseResponses([ev("a"), ev(""), ev("b")], body), {
    promptTokens: 0,
    completionTokens: 2,
    source: "chunks",
    contentChunks: [0, 2],
    reasoningTokens: 0,
  });
  // A whole reply has no usage either: its tokens are estimated from the text's length.
  assertEquals(api.parseResponses([ev("abcdefghi")], {}), {
    promptTokens: 0,
    completionTokens: 3,
    source: "text-length",
    contentChunks: [0],
    reasoningTokens: 0,
  });
  assertEquals(api.errorInPayload('{"error":"model not ready"}'), "model not ready");
  assertEquals(api.generatedTexts([ev("a"), ev("b")]), ["ab"]);
});

const TTFT_MS = 50;
const ITL_MS = 10;
const TOKENS = 6;
const PROMPT = "Explain the protocol in one paragraph.";

interface Case {
  api: string;
  protocol: MockProtocolName;
  path: string;
  promptTokens: number;
  source: string;
}

const CASES: Case[] = [
  {
    api: "dashscope",
    protocol: "dashscope",
    path: DASHSCOPE_PATH,
    promptTokens: mockTokenCount(PROMPT),
    source: "usage",
  },
  {
    api: "zhipu",
    protocol: "zhipu",
    path: ZHIPU_PATH,
    promptTokens: mockTokenCount(PROMPT),
    source: "usage",
  },
  {
    api: "custom",
    protocol: "triton",
    path: "/v2/models/ensemble/generate",
    promptTokens: 0,
    source: "chunks (estimated: no usage)",
  },
];

for (const c of CASES) {
  Deno.test(`e2e: --api ${c.api} against the mock speaking ${c.protocol}, streamed`, async () => {
    const mock = startMockServer({
      port: 0,
      ttftMs: TTFT_MS,
      itlMs: ITL_MS,
      outputTokens: TOKENS,
      protocol: c.protocol,
    });
    try {
      await using r = await perfRun({
        server: mock,
        path: c.path,
        flags: {
          api: c.api,
          model: "ensemble",
          prompt: PROMPT,
          number: 4,
          parallel: 2,
          stream: true,
        },
      });
      assertEquals(r.code, 0, r.stderr);
      const s = r.summary;
      assertEquals(s["Succeed requests"], 4);
      assertEquals(s["Failed requests"], 0);
      assertEquals(s["Average output tokens per request"], TOKENS);
      assertEquals(s["Average input tokens per request"], c.promptTokens);
      assertEquals(s["Token counts from"], c.source);
      // TTFT is measured on the first event that carried text: never before the mock sent it
      // (the upper bounds are loose: a loaded 2-core CI machine delays reads).
      const ttft = s["Mean TTFT (ms)"] as number;
      assert(ttft >= TTFT_MS - 2 && ttft < TTFT_MS + 1000, `mean TTFT ${ttft}`);
      const latency = (s["Average latency"] as number) * 1000;
      assert(latency >= TTFT_MS + (TOKENS - 1) * ITL_MS - 2, `latency ${latency}`);
      assert((s["Mean ITL (ms)"] as number) > 0, "inter-token latency measured");
    } finally {
      await mock.close();
    }
  });
}

Deno.test("e2e: dashscope and zhipu whole replies count tokens from usage", async () => {
  for (const c of CASES.slice(0, 2)) {
    const mock = startMockServer({ port: 0, outputTokens: TOKENS, protocol: c.protocol });
    await using tmp = await tempDir();
    try {
      const result = await runPerfBenchmark({
        url: `${mock.url}${c.path}`,
        api: c.api,
        model: "m",
        prompt: PROMPT,
        number: 3,
        outputsDir: tmp.path,
      }, { log: silentLogger, resultDb: false });
      assertEquals(result.summary["Succeed requests"], 3, c.api);
      assertEquals(result.summary["Average output tokens per request"], TOKENS, c.api);
      assertEquals(result.summary["Average input tokens per request"], c.promptTokens, c.api);
      assertEquals(result.requestSummary["Token counts from"], "usage", c.api);
    } finally {
      await mock.close();
    }
  }
});

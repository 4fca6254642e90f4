/**
 * The `openai_responses` API plugin end to end: against a byte-exact stub (a raw TCP server that
 * writes a Responses SSE stream with known pauses), TTFT is measured on the first non-empty text
 * delta (reasoning included), TTFO on the first answer delta, the counts come from
 * `response.completed`, and the request ends at that event although the connection stays open;
 * against the mock, streamed and whole replies count what the mock generated.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chunk, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { mockTokenCount } from "../src/mock/generator.ts";
import { startMockServer } from "../src/mock/server.ts";
import OpenAIResponsesApi, { responsesUrl } from "../plugins/api/openai_responses.ts";

function ev(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

const USAGE = {
  input_tokens: 7,
  output_tokens: 3,
  output_tokens_details: { reasoning_tokens: 1 },
  total_tokens: 10,
};

/** The stub's stream: [pause before, event]. Deltas at 300 (reasoning), 500 and 600 ms. */
const STREAM: Array<[number, string]> = [
  [0, ev("response.created", { response: { id: "r", status: "in_progress" } })],
  [0, ev("response.in_progress", { response: { id: "r", status: "in_progress" } })],
  [100, ev("response.output_item.added", { output_index: 0, item: { type: "reasoning" } })],
  [100, ev("response.output_text.delta", { output_index: 1, delta: "" })], // empty: no token
  [100, ev("response.reasoning_text.delta", { output_index: 0, delta: "hmm" })],
  [200, ev("response.output_text.delta", { output_index: 1, delta: "Hi" })],
  [100, ev("response.output_text.delta", { output_index: 1, delta: " there" })],
  [0, ev("response.output_text.done", { output_index: 1, text: "Hi there" })],
  [0, ev("response.completed", { response: { id: "r", status: "completed", usage: USAGE } })],
];

Deno.test("openai_responses: TTFT on the first text delta, the end at response.completed", async () => {
  const server = await rawServer(async (r) => {
    await r.write(SSE_HEAD);
    for (const [pause, text] of STREAM) {
      if (pause > 0) await r.pause(pause);
      await r.write(chunk(text));
    }
    await r.pause(3000); // the body stays open: response.completed must end the request
    await r.write("0\r\n\r\n");
  });
  try {
    await using r = await perfRun({
      server: server,
      flags: {
        api: "openai_responses",
        stream: true,
        number: 1,
        noTestConnection: true,
        readTimeout: 30,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(server.requests[0].head.startsWith("POST /v1/responses "), server.requests[0].head);
    const body = JSON.parse(server.requests[0].body);
    assertEquals(body.input, [{ role: "user", content: "hi" }]);
    assertEquals(body.stream, true);
    assertEquals(body.max_output_tokens, 2048);
    assert(!("stream_options" in body) && !("max_tokens" in body), JSON.stringify(body));
    const [row] = r.sql<Record<string, number>>(
      "SELECT success, ttft, ttfo, latency, prompt_tokens, completion_tokens, reasoning_tokens, " +
        "token_source FROM result",
    );
    assertEquals(String(row.success), "True");
    // The first delta with text is the reasoning one at 300 ms (not response.created at 0, nor
    // the empty delta at 200 ms); the first answer delta is at 500 ms.
    assert(row.ttft >= 0.29 && row.ttft < 3, `ttft ${row.ttft}`);
    assert(row.ttfo >= 0.49 && row.ttfo < 3, `ttfo ${row.ttfo}`);
    // It ends at response.completed (600 ms), not when the connection ends (3.6 s) nor after the
    // silence that ends streams without an end marker (1 s more).
    assert(row.latency >= 0.59 && row.latency < 1.5, `latency ${row.latency}`);
    assertEquals(row.prompt_tokens, 7);
    assertEquals(row.completion_tokens, 3);
    assertEquals(row.reasoning_tokens, 1);
    assertEquals(row.token_source, "usage" as unknown as number);
  } finally {
    await server.close();
  }
});

Deno.test("openai_responses: streamed and whole replies from the mock, /chat/completions rewritten", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 6, reasoningTokens: 2, ttftMs: 20 });
  try {
    for (const stream of [true, false]) {
      await using r = await perfRun({
        server: mock,
        flags: { api: "openai_responses", stream, number: 4, parallel: 2, prompt: "Hello there" },
      });
      assertEquals(r.code, 0, r.stderr);
      const rows = r.sql<Record<string, number>>(
        "SELECT prompt_tokens, completion_tokens, reasoning_tokens, ttft, is_stream FROM result",
      );
      assertEquals(rows.length, 4);
      for (const row of rows) {
        assertEquals(row.prompt_tokens, mockTokenCount("Hello there"));
        assertEquals(row.completion_tokens, 8, "6 answer + 2 reasoning tokens");
        assertEquals(row.reasoning_tokens, 2);
        assertEquals(row.is_stream, stream ? 1 : 0);
        assert(row.ttft >= 0.02, `ttft ${row.ttft} is at least the mock's 20 ms`);
      }
      assertEquals(r.summary["Succeed requests"], 4);
    }
  } finally {
    await mock.close();
  }
});

Deno.test("openai_responses: whole bodies keep their fields, the URL rule, failed events", () => {
  assertEquals(responsesUrl("http://h/v1/chat/completions"), "http://h/v1/responses");
  assertEquals(responsesUrl("http://h/v1/chat/completions?x=1"), "http://h/v1/responses?x=1");
  assertEquals(responsesUrl("http://h/v1/responses"), "http://h/v1/responses");
  // deno-lint-ignore no-explicit-any
  const params = { model: "m", stream: true, maxTokens: 64 } as any;
  const api = new OpenAIResponsesApi(params);
  const item = { kind: "body", body: { input: "own", max_output_tokens: 5 } };
  // deno-lint-ignore no-explicit-any
  const body = api.buildRequest(item as any, params);
  assertEquals(body, { model: "m", max_output_tokens: 5, stream: true, input: "own" });
  const failed = JSON.stringify({
    type: "response.failed",
    response: { status: "failed", error: { code: "server_error", message: "boom" } },
  });
  assertEquals(api.errorInPayload(failed), "boom");
  assertEquals(api.errorInPayload(JSON.stringify({ object: "response", error: null })), undefined);
  let threw = false;
  try {
    api.parseResponses([JSON.stringify({ type: "response.output_text.delta", delta: "x" })], {
      stream: true,
    });
  } catch {
    threw = true;
  }
  assert(threw, "a stream without response.completed is a protocol failure");
});

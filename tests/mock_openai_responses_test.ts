/**
 * The mock's Responses, embeddings and rerank routes (`src/mock/openai_responses.ts`,
 * `src/mock/openai_embeddings.ts`) on the wire: the Responses stream's typed events in order
 * (each `event:` line naming its data's `type`), one delta per planned token, the usage in
 * `response.completed` and no `[DONE]`; embeddings' and rerank's usage by the mock's token count.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { mockTokenCount } from "../src/mock/generator.ts";
import { startMockServer } from "../src/mock/server.ts";

async function post(url: string, body: unknown): Promise<Response> {
  return await fetch(url, { method: "POST", body: JSON.stringify(body) });
}

Deno.test("mock /v1/responses: typed events, a delta per token, usage in response.completed", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3, reasoningTokens: 2 });
  try {
    const res = await post(`${mock.url}/v1/responses`, { model: "m", input: "Hi!", stream: true });
    assertEquals(res.headers.get("content-type")?.startsWith("text/event-stream"), true);
    const text = await res.text();
    assert(!text.includes("[DONE]"));
    const events = text.trim().split("\n\n").map((e) => {
      const [head, data] = e.split("\n");
      const js = JSON.parse(data.slice("data: ".length));
      assertEquals(head, `event: ${js.type}`);
      return js;
    });
    assertEquals(events.map((e) => e.type), [
      "response.created",
      "response.reasoning_text.delta",
      "response.reasoning_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.completed",
    ]);
    const answer = events.filter((e) => e.type === "response.output_text.delta")
      .map((e) => e.delta).join("");
    assertEquals(events[6].text, answer);
    const done = events[7].response;
    assertEquals(done.status, "completed");
    assertEquals(done.usage.input_tokens, mockTokenCount("Hi!"));
    assertEquals(done.usage.output_tokens, 5);
    assertEquals(done.usage.output_tokens_details.reasoning_tokens, 2);
    const whole = await (await post(`${mock.url}/v1/responses`, {
      input: [{ role: "user", content: "Hi!" }],
      max_output_tokens: 1,
    })).json();
    assertEquals(whole.object, "response");
    assertEquals(whole.usage.output_tokens, 1, "max_output_tokens caps the reply");
  } finally {
    await mock.close();
  }
});

Deno.test("mock /v1/embeddings and /v1/rerank: usage by the mock's token count", async () => {
  const mock = startMockServer({ port: 0 });
  try {
    const e = await (await post(`${mock.url}/v1/embeddings`, { input: ["abcdefgh", "xy"] }))
      .json();
    assertEquals(e.data.length, 2);
    assertEquals(e.data.map((d: { index: number }) => d.index), [0, 1]);
    assertEquals(e.usage.prompt_tokens, mockTokenCount("abcdefgh") + mockTokenCount("xy"));
    const r = await (await post(`${mock.url}/v1/rerank`, {
      query: "tokens",
      documents: ["a", { text: "bcdefghij" }],
      top_n: 1,
    })).json();
    assertEquals(r.results.length, 1, "top_n");
    assertEquals(
      r.usage.total_tokens,
      2 * mockTokenCount("tokens") + mockTokenCount("a") + mockTokenCount("bcdefghij"),
    );
    const bad = await post(`${mock.url}/v1/rerank`, { query: "q" });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await mock.close();
  }
});

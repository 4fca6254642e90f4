/**
 * A chat-completions stub that knows nothing of llmperf: it answers every request at once with a
 * one-token OpenAI reply (streamed when the body asks for `stream`) and keeps what it got, with
 * the wall-clock time each request arrived. For tests that count or time requests at the server
 * (the start-up check included, which the mock server leaves out of its counts).
 *
 * @module
 */

/** One request as the stub got it. */
export interface StubRequest {
  /** When its head arrived: epoch ms (`performance.timeOrigin + performance.now()`). */
  at: number;
  /** The JSON body. */
  body: Record<string, unknown>;
  /** The request headers. */
  headers: Headers;
  /** The request path (`/v1/chat/completions`). */
  path: string;
}

/** The text of a request's first message (what a dataset or a trace made its prompt). */
export function firstContent(q: Pick<StubRequest, "body">): string {
  return (q.body.messages as { content: string }[])[0].content;
}

/** A running stub. */
export interface ChatStub {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests in arrival order. */
  readonly requests: StubRequest[];
  /** Stop it. */
  close(): Promise<void>;
}

const SSE = [
  '{"choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}',
  '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
  '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}',
  "[DONE]",
].map((d) => `data: ${d}\n\n`).join("");

const WHOLE = JSON.stringify({
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** Start the stub on a free port of 127.0.0.1. */
export function chatStub(): ChatStub {
  const requests: StubRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const at = performance.timeOrigin + performance.now();
    const body = await req.json();
    requests.push({ at, body, headers: req.headers, path: new URL(req.url).pathname });
    return body.stream === true
      ? new Response(SSE, { headers: { "content-type": "text/event-stream" } })
      : new Response(WHOLE, { headers: { "content-type": "application/json" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

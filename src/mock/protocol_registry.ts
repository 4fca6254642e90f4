/**
 * The mock server's protocols other than OpenAI's (`llmperf mock --protocol NAME`), and the
 * request handling they share: read the request through the protocol, plan the reply exactly as
 * the OpenAI mock does (same lengths, words and prompt token count for the same prompt and
 * seed), and write it on the same schedule: token `k` is due at `arrival + ttft + k · itl`, and
 * every token due by the time a write happens goes out in that write, so a late timer never
 * shifts the tokens after it.
 *
 * @module
 */
import type { MockOptions } from "./server.ts";
import { sleepUntil } from "../util/sleep.ts";
import { dashscopeProtocol } from "./dashscope.ts";
import { mockTokenCount, planReply } from "./generator.ts";
import type { MockCall, MockProtocol, MockReply } from "./protocol_adapter.ts";
import { tritonProtocol } from "./triton.ts";
import { zhipuProtocol } from "./zhipu.ts";

/** Every protocol the mock speaks; `openai` is the server's own. */
export const MOCK_PROTOCOL_NAMES = ["openai", "dashscope", "zhipu", "triton"] as const;

/** A protocol name. */
export type MockProtocolName = typeof MOCK_PROTOCOL_NAMES[number];

/** The protocols other than `openai`, by name. */
export const MOCK_PROTOCOLS: Readonly<Record<string, MockProtocol>> = Object.freeze({
  dashscope: dashscopeProtocol,
  zhipu: zhipuProtocol,
  triton: tritonProtocol,
});

/** What {@link serveProtocol} needs from the server. */
export interface ProtocolContext {
  /** When the request arrived (`performance.now()`). */
  arrival: number;
  /** Timing and length settings (the server's own options). */
  options: Pick<
    MockOptions,
    "ttftMs" | "itlMs" | "outputTokens" | "outputTokensMax" | "usage" | "seed" | "reasoningTokens"
  >;
  /** The server's counters. */
  stats: { requests: number; openStreams: number };
  /** Open streams, ended when the server closes. */
  streams: Set<ReadableStreamDefaultController<Uint8Array>>;
}

const encoder = new TextEncoder();

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Answer one request in protocol `p`. */
export async function serveProtocol(
  p: MockProtocol,
  req: Request,
  path: string,
  ctx: ProtocolContext,
): Promise<Response> {
  if (!p.serves(path)) return json(404, p.errorBody(404, `no route ${req.method} ${path}`));
  if (req.method !== "POST") return json(405, p.errorBody(405, "use POST"));
  ctx.stats.requests++;
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return json(400, p.errorBody(400, "the request body is not JSON"));
  }
  const call = p.parse(path, req.headers, body);
  if ("status" in call) return json(call.status, p.errorBody(call.status, call.message));
  const reply = newReply(p, call, ctx);
  const o = ctx.options;
  if (call.stream) return pacedStream(p, reply, ctx);
  await sleepUntil(ctx.arrival + o.ttftMs + Math.max(0, reply.plan.tokens - 1) * o.itlMs);
  return json(200, p.full(reply));
}

function newReply(p: MockProtocol, call: MockCall, ctx: ProtocolContext): MockReply {
  const o = ctx.options;
  const reasons = (o.reasoningTokens ?? 0) > 0 && p.reasons?.(call) === true;
  return {
    id: `mock-${ctx.stats.requests}`,
    created: Math.floor(Date.now() / 1000),
    call,
    plan: planReply(call.prompt, call.maxTokens, reasons ? o : { ...o, reasoningTokens: 0 }),
    promptTokens: mockTokenCount(call.prompt),
    usage: o.usage,
    text: "",
    reasoningText: "",
  };
}

function pacedStream(p: MockProtocol, r: MockReply, ctx: ProtocolContext): Response {
  const { ttftMs, itlMs } = ctx.options;
  const due = (k: number) => ctx.arrival + ttftMs + k * itlMs;
  let k = 0;
  let ctl: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    ctx.stats.openStreams--;
    ctx.streams.delete(ctl);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
      ctx.stats.openStreams++;
      ctx.streams.add(c);
    },
    async pull(c) {
      if (closed) return;
      if (k >= r.plan.tokens) {
        const tail = p.tail(r);
        if (tail) c.enqueue(encoder.encode(tail));
        c.close();
        finish();
        return;
      }
      await sleepUntil(due(k));
      if (closed) return;
      let text = "";
      const now = performance.now();
      do {
        text += p.event(r, k);
        k++;
      } while (k < r.plan.tokens && due(k) <= now && itlMs > 0);
      c.enqueue(encoder.encode(text));
    },
    cancel() {
      finish();
    },
  }, { highWaterMark: 0 });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}

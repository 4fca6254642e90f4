/**
 * The mock's one engine, for every protocol: read a request through the protocol's adapter, plan
 * the reply (same lengths, words and prompt token count for the same prompt and seed whatever the
 * protocol), and answer it whole or as a paced stream ({@link ReplyStream}, which the mock's
 * HTTP/1.1 server writes straight to the socket and `Deno.serve` reads as a `ReadableStream`).
 *
 * The pacing is exact: token `k` of a reply (reasoning tokens included) is due at
 * `arrival + ttft + k · itl` (`reply_stream.ts`), where `ttft` is `ttftMs` plus
 * `prefillMsPerToken` for each prompt token the prefix cache did not hold. A whole reply is sent
 * when its last token is due. With `latencyPerInflightMs` (load-dependent latency), `ttft` and
 * `itl` of a request each grow by that much per other request in flight when it arrived: one
 * multiplication per request, none per token. `max_tokens` 0 is a reply without tokens: no token
 * event, usage 0.
 *
 * @module
 */
import { type LengthSettings, mockTokenCount, planReply } from "./generator.ts";
import type { MockOptions } from "./options.ts";
import { Pacer } from "./pacer.ts";
import type { MockCall, MockHeaders, MockReply, ProtocolAdapter } from "./protocol_adapter.ts";
import { ReplyStream, streamBody, type StreamContext } from "./reply_stream.ts";
import type { Exchange, MockStats } from "./stats.ts";

/** The settings the engine reads. */
export type EngineSettings = Pick<
  MockOptions,
  | "ttftMs"
  | "itlMs"
  | "outputTokens"
  | "outputTokensMax"
  | "usage"
  | "seed"
  | "reasoningTokens"
  | "reasoningField"
  | "prefillMsPerToken"
  | "reportCachedTokens"
  | "latencyPerInflightMs"
>;

/** A request as the engine reads it, from a `Request` or from the mock's own HTTP/1.1 server. */
export interface MockRequest {
  /** The method. */
  method: string;
  /** The path (without the query). */
  path: string;
  /** Its headers. */
  headers: MockHeaders;
  /** Its body as JSON (rejects when the body is not JSON). */
  json(): Promise<unknown>;
}

/** A whole reply: status, headers and JSON text. */
export interface WholeAnswer {
  /** HTTP status. */
  status: number;
  /** Response headers (lower-case names). */
  headers: Readonly<Record<string, string>>;
  /** The body. */
  body: string;
}

/** What the engine answers: a whole reply, or a stream to start. */
export type MockAnswer = WholeAnswer | ReplyStream;

/** Paces every stream of every mock server in this process on one timer. */
const pacer = new Pacer();

const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };
/** The headers of a streamed reply. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

/** A whole JSON reply. */
export function jsonAnswer(status: number, value: unknown): WholeAnswer {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(value) };
}

/** An answer as a `Response` (a stream's body read as a `ReadableStream`). */
export function toResponse(a: MockAnswer): Response {
  if (a instanceof ReplyStream) return new Response(streamBody(a), { headers: SSE_HEADERS });
  return new Response(a.body, { status: a.status, headers: a.headers });
}

/** A `Request` as the engine reads it. */
export function fromRequest(req: Request): MockRequest {
  return {
    method: req.method,
    path: new URL(req.url).pathname,
    headers: req.headers,
    json: () => req.json(),
  };
}

/** Answers the requests of one mock server in one protocol. */
export class MockEngine {
  #p: ProtocolAdapter;
  #o: EngineSettings;
  #lengths: LengthSettings;
  #plainLengths: LengthSettings;
  #streams: StreamContext;

  /**
   * @param adapter the protocol (wrapped in `withStamps` for `--stamp-times`)
   * @param settings timing and length settings
   * @param stats the server's counters (streams open)
   */
  constructor(adapter: ProtocolAdapter, settings: EngineSettings, stats: MockStats) {
    this.#p = adapter;
    this.#o = settings;
    this.#lengths = settings;
    this.#plainLengths = { ...settings, reasoningTokens: 0 };
    this.#streams = { adapter, stats, pacer, open: new Set() };
  }

  /** The answer to a request that is not a POST: 404 off the protocol's routes, else 405. */
  refuse(method: string, path: string): WholeAnswer {
    const p = this.#p;
    if (p.route(path) === undefined) {
      return jsonAnswer(404, p.errorBody(404, `no route ${method} ${path}`));
    }
    return jsonAnswer(405, p.errorBody(405, "use POST"));
  }

  /**
   * Answer one request (`x`: its arrival and its hold on the in-flight count): a whole reply, or
   * a {@link ReplyStream} that holds the request until it ends.
   */
  async answer(req: MockRequest, x: Exchange): Promise<MockAnswer> {
    if (req.method !== "POST") return this.refuse(req.method, req.path);
    const p = this.#p;
    const path = req.path;
    const route = p.route(path);
    if (route === undefined) {
      return jsonAnswer(404, p.errorBody(404, `no route ${req.method} ${path}`));
    }
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return jsonAnswer(400, p.errorBody(400, "the request body is not JSON"));
    }
    const call = p.parse(route, path, req.headers, body);
    if ("status" in call) return jsonAnswer(call.status, p.errorBody(call.status, call.message));
    const r = this.#reply(call, x);
    const o = this.#o;
    // Load-dependent latency: the other requests in flight (this one has entered already).
    const extra = (o.latencyPerInflightMs ?? 0) * Math.max(0, this.#streams.stats.inFlight - 1);
    // The prompt's uncached part is computed before the first token.
    const ttft = o.ttftMs + extra + (o.prefillMsPerToken ?? 0) * (r.promptTokens - r.cachedTokens);
    const itl = o.itlMs + extra;
    if (call.stream) return new ReplyStream(this.#streams, r, x, ttft, itl);
    const done = x.arrival + ttft + Math.max(0, r.plan.tokens - 1) * itl;
    if (done > performance.now()) await pacer.until(done);
    if (r.plan.tokens > 0) x.firstToken(x.arrival + ttft); // generated then, sent now
    return jsonAnswer(200, p.full(r));
  }

  /** {@link answer} for a `Request`, as a `Response`. */
  async handle(req: Request, x: Exchange): Promise<Response> {
    return toResponse(await this.answer(fromRequest(req), x));
  }

  /** End every stream still being written (the server is closing). */
  close(): void {
    for (const s of [...this.#streams.open]) s.abort();
  }

  #reply(call: MockCall, x: Exchange): MockReply {
    const o = this.#o;
    const reasons = (o.reasoningTokens ?? 0) > 0 && this.#p.reasons?.(call) === true;
    const plan = planReply(
      call.prompt,
      call.maxTokens,
      reasons ? this.#lengths : this.#plainLengths,
    );
    const promptTokens = call.promptTokens ?? mockTokenCount(call.prompt);
    const cachedTokens = x.scheduled(call.prompt, promptTokens, plan.tokens);
    return {
      id: `mock-${x.seq}`,
      created: Math.floor(Date.now() / 1000),
      call,
      plan,
      promptTokens,
      cachedTokens,
      reportCached: o.reportCachedTokens === true,
      usage: o.usage && call.usage,
      reasons,
      reasoningField: o.reasoningField ?? "reasoning",
      receivedMs: performance.timeOrigin + x.arrival,
      text: "",
      reasoningText: "",
      memo: [],
    };
  }
}

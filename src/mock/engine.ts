/**
 * The mock's one engine, for every protocol: read a request through the protocol's adapter, plan
 * the reply (same lengths, words and prompt token count for the same prompt and seed whatever the
 * protocol), and answer it whole or as a paced stream.
 *
 * The pacing is exact: token `k` of a reply (reasoning tokens included) is due at
 * `arrival + ttft + k · itl`. With `itl` > 0 the shared {@link Pacer} pushes each write when it
 * is due, and every token due by then goes out in that one write, so a late timer never pushes
 * the tokens after it back. With `itl` 0 every token is due at `arrival + ttft`, and they are
 * written one event per read, as fast as the client takes them. A whole reply is sent when its
 * last token is due. `max_tokens` 0 is a reply without tokens: no token event, usage 0.
 *
 * Per write the engine joins the adapter's event texts and encodes them into a shared slab (a
 * view per write, no buffer); everything else is made once per request.
 *
 * @module
 */
import { type LengthSettings, mockTokenCount, planReply } from "./generator.ts";
import type { MockOptions } from "./options.ts";
import { Pacer } from "./pacer.ts";
import type { MockCall, MockReply, ProtocolAdapter } from "./protocol_adapter.ts";
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
>;

/** Paces every stream of every mock server in this process on one timer. */
const pacer = new Pacer();

const encoder = new TextEncoder();
const SLAB_BYTES = 1 << 16;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * The UTF-8 bytes of `text`, as a view into a shared slab: bytes once written are never reused
 * (a full slab is dropped for a new one, and lives while a view does), so a write costs a view
 * rather than a buffer of its own.
 */
function encode(text: string): Uint8Array {
  const most = text.length * 3;
  if (most > SLAB_BYTES >> 2) return encoder.encode(text);
  if (SLAB_BYTES - slabUsed < most) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const { written } = encoder.encodeInto(text, slab.subarray(slabUsed));
  const out = slab.subarray(slabUsed, slabUsed + written);
  slabUsed += written;
  return out;
}

const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };
const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: JSON_HEADERS });
}

/** Answers the requests of one mock server in one protocol. */
export class MockEngine {
  #p: ProtocolAdapter;
  #o: EngineSettings;
  #stats: MockStats;
  #lengths: LengthSettings;
  #plainLengths: LengthSettings;
  #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  /**
   * @param adapter the protocol (wrapped in `withStamps` for `--stamp-times`)
   * @param settings timing and length settings
   * @param stats the server's counters (streams open)
   */
  constructor(adapter: ProtocolAdapter, settings: EngineSettings, stats: MockStats) {
    this.#p = adapter;
    this.#o = settings;
    this.#stats = stats;
    this.#lengths = settings;
    this.#plainLengths = { ...settings, reasoningTokens: 0 };
  }

  /** The answer to a request that is not a POST: 404 off the protocol's routes, else 405. */
  refuse(req: Request): Response {
    const p = this.#p;
    const path = new URL(req.url).pathname;
    if (p.route(path) === undefined) {
      return json(404, p.errorBody(404, `no route ${req.method} ${path}`));
    }
    return json(405, p.errorBody(405, "use POST"));
  }

  /** Answer one POST request (`x`: its arrival and its hold on the in-flight count). */
  async handle(req: Request, x: Exchange): Promise<Response> {
    if (req.method !== "POST") return this.refuse(req);
    const p = this.#p;
    const path = new URL(req.url).pathname;
    const route = p.route(path);
    if (route === undefined) {
      return json(404, p.errorBody(404, `no route ${req.method} ${path}`));
    }
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return json(400, p.errorBody(400, "the request body is not JSON"));
    }
    const call = p.parse(route, path, req.headers, body);
    if ("status" in call) return json(call.status, p.errorBody(call.status, call.message));
    const r = this.#reply(call, x);
    if (call.stream) return this.#stream(r, x);
    const done = x.arrival + this.#o.ttftMs + Math.max(0, r.plan.tokens - 1) * this.#o.itlMs;
    if (done > performance.now()) await pacer.until(done);
    if (r.plan.tokens > 0) x.firstToken(x.arrival + this.#o.ttftMs); // generated then, sent now
    return json(200, p.full(r));
  }

  /** End every stream still being written (the server is closing). */
  close(): void {
    for (const c of this.#streams) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }

  #reply(call: MockCall, x: Exchange): MockReply {
    const o = this.#o;
    const reasons = (o.reasoningTokens ?? 0) > 0 && this.#p.reasons?.(call) === true;
    const plan = planReply(
      call.prompt,
      call.maxTokens,
      reasons ? this.#lengths : this.#plainLengths,
    );
    const promptTokens = mockTokenCount(call.prompt);
    x.scheduled(call.prompt, promptTokens, plan.tokens);
    return {
      id: `mock-${x.seq}`,
      created: Math.floor(Date.now() / 1000),
      call,
      plan,
      promptTokens,
      usage: o.usage && call.usage,
      reasons,
      reasoningField: o.reasoningField ?? "reasoning",
      receivedMs: performance.timeOrigin + x.arrival,
      text: "",
      reasoningText: "",
      memo: [],
    };
  }

  /** The paced stream of reply `r`: token k due at arrival + ttft + k · itl. */
  #stream(r: MockReply, x: Exchange): Response {
    const p = this.#p;
    const stats = this.#stats;
    const streams = this.#streams;
    const itl = this.#o.itlMs;
    const first = x.arrival + this.#o.ttftMs; // when token 0 is due
    const tokens = r.plan.tokens;
    let k = 0; // the next token
    let begun = false;
    let closed = false;
    let ctl: ReadableStreamDefaultController<Uint8Array>;
    const finish = () => {
      if (closed) return;
      closed = true;
      stats.closeStream();
      streams.delete(ctl);
      x.release();
    };
    const end = (text: string) => {
      try {
        const last = text + p.tail(r);
        if (last !== "") ctl.enqueue(encode(last)); // an empty chunk would end the body early
        ctl.close();
      } catch { /* the client went away, or the server is closing */ }
      finish();
    };
    // Paced (itl > 0): pushed by the pacer when due, every token due by now in one write.
    const emit = () => {
      if (closed) return;
      const now = performance.now();
      let text = "";
      while (k < tokens && first + k * itl <= now) text += p.event(r, k++);
      if (k > 0) x.firstToken(now);
      if (k === tokens) return end(text);
      try {
        ctl.enqueue(encode(text));
      } catch {
        return finish();
      }
      pacer.at(first + k * itl, emit);
    };
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        ctl = c;
        stats.openStream();
        streams.add(c);
        x.hold();
        if (itl > 0) pacer.at(first, emit);
      },
      // Unpaced (itl 0): every token is due at `first`; one event per read.
      async pull(c) {
        if (closed || itl > 0) return;
        if (!begun) {
          begun = true;
          if (first > performance.now()) await pacer.until(first);
          if (closed) return;
        }
        if (k === tokens) return end("");
        try {
          c.enqueue(encode(p.event(r, k++)));
          if (k === 1) x.firstToken(performance.now());
        } catch {
          finish();
        }
      },
      cancel() {
        finish();
      },
    }, { highWaterMark: 0 });
    return new Response(stream, { headers: SSE_HEADERS });
  }
}

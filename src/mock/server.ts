/**
 * The built-in OpenAI-compatible mock server: chat and plain completions, streamed (SSE) or not,
 * with configurable time to first token, inter-token latency and reply length. It is the ground
 * truth llmperf's own tests measure against, so its pacing is exact: token `k` of a reply is due
 * at `arrival + ttft + k · itl` and is written when due (late writes never push later tokens back).
 *
 * @module
 */
import { sleepUntil } from "../util/sleep.ts";
import { type FaultCounts, type FaultOptions, FaultPicker, withFaults } from "./faults.ts";
import { PREFLIGHT_HEADER } from "../load/preflight.ts";
import { mockTokenCount, planReply, type ReplyPlan } from "./generator.ts";
import { Pacer } from "./pacer.ts";
import { MOCK_PROTOCOLS, type MockProtocolName, serveProtocol } from "./protocol_registry.ts";

/** Settings of the mock server. */
export interface MockOptions {
  /** Interface to listen on. */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Delay before the first token, ms. */
  ttftMs: number;
  /** Delay between tokens, ms. */
  itlMs: number;
  /** Tokens per reply (the minimum, when `outputTokensMax` is larger). */
  outputTokens: number;
  /** Maximum tokens per reply; lengths are uniform between the two. */
  outputTokensMax?: number;
  /** Send `usage` (in the last chunk when `stream_options.include_usage`). */
  usage: boolean;
  /**
   * Reasoning tokens per chat reply, sent before the answer tokens on the same schedule (token
   * `k` of reasoning and answer together is due at `arrival + ttft + k · itl`) and reported in
   * `usage.completion_tokens_details.reasoning_tokens`. Default 0 (no reasoning).
   */
  reasoningTokens?: number;
  /**
   * The field reasoning comes in: `reasoning` (current vLLM, OpenRouter; the default) or
   * `reasoning_content` (DeepSeek, SGLang, older vLLM). Protocols other than OpenAI's use
   * their own.
   */
  reasoningField?: ReasoningField;
  /** Seeds reply lengths and words. */
  seed: number;
  /**
   * The wire protocol: `openai` (default), or `dashscope`, `zhipu`, `triton` (see
   * `src/mock/protocol_registry.ts`); each serves its own endpoint paths with the same timing.
   */
  protocol?: MockProtocolName;
  /**
   * Ground truth for timing checks: add `mock_received_ms` (when the request arrived) and
   * `mock_sent_ms` (when this chunk or body was written) to every chunk and reply, as wall-clock
   * epoch milliseconds with microsecond precision (`performance.timeOrigin + performance.now()`).
   * Off by default.
   */
  stampTimes?: boolean;
  /** PEM certificate chain and key: serve https instead of http. */
  tls?: { cert: string; key: string };
  /** Faults to inject (see `faults.ts`). */
  faults?: FaultOptions;
}

/** The fields the mock can stream reasoning in. */
export const REASONING_FIELDS = ["reasoning", "reasoning_content"] as const;

/** A field the mock can stream reasoning in. */
export type ReasoningField = typeof REASONING_FIELDS[number];

/** Defaults of `llmperf mock`. */
export const MOCK_DEFAULTS: MockOptions = {
  host: "127.0.0.1",
  port: 8877,
  ttftMs: 0,
  itlMs: 0,
  outputTokens: 128,
  usage: true,
  seed: 42,
};

/** A running mock server. */
export interface MockServer {
  /** Base URL, e.g. `http://127.0.0.1:8877`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Counters: requests received, streams open now. */
  readonly stats: { requests: number; openStreams: number };
  /** Faults injected so far, by mode. */
  readonly faults: FaultCounts;
  /** Stop listening and end open streams. */
  close(): Promise<void>;
}

interface Body {
  model?: string;
  messages?: Array<{ content?: unknown }>;
  prompt?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  n?: number;
}

const encoder = new TextEncoder();
/** Paces every stream of every mock server in this process on one timer. */
const pacer = new Pacer();

/** Start the mock server. */
export function startMockServer(options: Partial<MockOptions> = {}): MockServer {
  const o: MockOptions = { ...MOCK_DEFAULTS, ...options };
  const stats = { requests: 0, openStreams: 0 };
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const listen = { hostname: o.host, port: o.port, onListen: () => {} };
  const picker = new FaultPicker(o.faults ?? { faults: [] });
  const server = Deno.serve(
    o.tls ? { ...listen, cert: o.tls.cert, key: o.tls.key } : listen,
    o.faults
      ? withFaults(
        (req) => handle(req, o, stats, streams),
        o.faults,
        picker,
        () => stats.requests++,
      )
      : (req) => handle(req, o, stats, streams),
  );
  const port = server.addr.port;
  return {
    url: `${o.tls ? "https" : "http"}://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`,
    port,
    stats,
    faults: picker.counts,
    async close() {
      for (const c of streams) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await server.shutdown();
    },
  };
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function errorBody(status: number, message: string, type: string): Response {
  return json(status, { object: "error", message, type, code: status });
}

async function handle(
  req: Request,
  o: MockOptions,
  stats: { requests: number; openStreams: number },
  streams: Set<ReadableStreamDefaultController<Uint8Array>>,
): Promise<Response> {
  const arrival = performance.now();
  const path = new URL(req.url).pathname;
  if (req.method === "GET" && (path === "/health" || path === "/v1/health")) return json(200, {});
  if (req.method === "GET" && path === "/v1/models") {
    return json(200, {
      object: "list",
      data: [{ id: "mock", object: "model", owned_by: "llmperf" }],
    });
  }
  const protocol = o.protocol === undefined ? undefined : MOCK_PROTOCOLS[o.protocol];
  if (protocol) {
    return await serveProtocol(protocol, req, path, { arrival, options: o, stats, streams });
  }
  const chat = path === "/v1/chat/completions" || path === "/chat/completions";
  const completions = path === "/v1/completions" || path === "/completions";
  if (!chat && !completions) return errorBody(404, `no route ${req.method} ${path}`, "NotFound");
  if (req.method !== "POST") return errorBody(405, "use POST", "MethodNotAllowed");
  // The client's start-up check is not part of the benchmark: left out of the counts.
  if (!req.headers.has(PREFLIGHT_HEADER)) stats.requests++;
  let body: Body;
  try {
    body = await req.json();
  } catch {
    return errorBody(400, "the request body is not JSON", "BadRequestError");
  }
  const prompt = chat
    ? chatPrompt(body)
    : typeof body.prompt === "string"
    ? body.prompt
    : undefined;
  if (prompt === undefined) {
    return errorBody(
      400,
      chat ? "'messages' is required" : "'prompt' is required",
      "BadRequestError",
    );
  }
  // Plain completions have no reasoning field: reasoning models put their thinking in the text.
  const plan = planReply(
    prompt,
    body.max_tokens ?? body.max_completion_tokens,
    chat ? o : { ...o, reasoningTokens: 0 },
  );
  const n = Math.max(1, Math.floor(body.n ?? 1));
  const reply: Reply = {
    id: `mock-${stats.requests}`,
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? "mock",
    chat,
    n,
    plan,
    promptTokens: mockTokenCount(prompt),
    stamp: o.stampTimes === true,
    receivedMs: performance.timeOrigin + arrival,
    sentMs: 0,
    reasoningField: o.reasoningField ?? "reasoning",
    reports: chat && (o.reasoningTokens ?? 0) > 0,
  };
  if (body.stream === true) {
    const usage = o.usage && body.stream_options?.include_usage === true;
    return streamReply(reply, arrival, o, usage, stats, streams);
  }
  const done = arrival + o.ttftMs + Math.max(0, plan.tokens - 1) * o.itlMs;
  await sleepUntil(done);
  reply.sentMs = epochNow();
  return json(200, fullReply(reply, o.usage));
}

function chatPrompt(body: Body): string | undefined {
  if (!Array.isArray(body.messages)) return undefined;
  let text = "";
  for (const m of body.messages) {
    if (typeof m?.content === "string") text += m.content;
    else if (Array.isArray(m?.content)) {
      for (const p of m.content) if (typeof p?.text === "string") text += p.text;
    }
  }
  return text;
}

interface Reply {
  id: string;
  created: number;
  model: string;
  chat: boolean;
  n: number;
  plan: ReplyPlan;
  promptTokens: number;
  /** Whether to stamp chunks with `mock_received_ms` / `mock_sent_ms`. */
  stamp: boolean;
  /** Epoch ms when the request arrived. */
  receivedMs: number;
  /** Epoch ms of the write being built. */
  sentMs: number;
  /** The field reasoning tokens go in. */
  reasoningField: ReasoningField;
  /** Whether usage reports `completion_tokens_details.reasoning_tokens`. */
  reports: boolean;
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

function addStamps(r: Reply, obj: Record<string, unknown>): void {
  if (!r.stamp) return;
  obj.mock_received_ms = Math.round(r.receivedMs * 1000) / 1000;
  obj.mock_sent_ms = Math.round(r.sentMs * 1000) / 1000;
}

function usageOf(r: Reply) {
  const completion = r.plan.tokens * r.n;
  const usage: Record<string, unknown> = {
    prompt_tokens: r.promptTokens,
    completion_tokens: completion,
    total_tokens: r.promptTokens + completion,
  };
  if (r.reports) usage.completion_tokens_details = { reasoning_tokens: r.plan.reasoning * r.n };
  return usage;
}

/** Replies always run to their planned length, as with `ignore_eos`. */
const FINISH = "length";

function fullReply(r: Reply, usage: boolean): Record<string, unknown> {
  const choices = [];
  for (let c = 0; c < r.n; c++) {
    let reasoning = "";
    let text = "";
    for (let i = 0; i < r.plan.reasoning; i++) reasoning += r.plan.token(i, c);
    for (let i = r.plan.reasoning; i < r.plan.tokens; i++) text += r.plan.token(i, c);
    const message: Record<string, unknown> = { role: "assistant", content: text };
    if (r.plan.reasoning > 0) message[r.reasoningField] = reasoning;
    choices.push(
      r.chat
        ? { index: c, message, logprobs: null, finish_reason: FINISH }
        : { index: c, text, logprobs: null, finish_reason: FINISH },
    );
  }
  const out: Record<string, unknown> = {
    id: r.id,
    object: r.chat ? "chat.completion" : "text_completion",
    created: r.created,
    model: r.model,
    choices,
  };
  if (usage) out.usage = usageOf(r);
  addStamps(r, out);
  return out;
}

function chunk(r: Reply, choices: unknown[], usage?: unknown): string {
  const obj: Record<string, unknown> = {
    id: r.id,
    object: r.chat ? "chat.completion.chunk" : "text_completion",
    created: r.created,
    model: r.model,
    choices,
  };
  if (usage !== undefined) obj.usage = usage;
  addStamps(r, obj);
  return `data: ${JSON.stringify(obj)}\n\n`;
}

/** The SSE text of token `i` (all choices), plus the role chunk before token 0 (chat). */
function tokenEvents(r: Reply, i: number): string {
  let out = "";
  const last = i === r.plan.tokens - 1;
  for (let c = 0; c < r.n; c++) {
    if (r.chat && i === 0) {
      out += chunk(r, [{
        index: c,
        delta: { role: "assistant", content: "" },
        logprobs: null,
        finish_reason: null,
      }]);
    }
    const text = r.plan.token(i, c);
    out += chunk(r, [
      r.chat
        ? {
          index: c,
          delta: i < r.plan.reasoning ? { [r.reasoningField]: text } : { content: text },
          logprobs: null,
          finish_reason: last ? FINISH : null,
        }
        : { index: c, text, logprobs: null, finish_reason: last ? FINISH : null },
    ]);
  }
  return out;
}

function streamReply(
  r: Reply,
  arrival: number,
  o: MockOptions,
  usage: boolean,
  stats: { openStreams: number },
  streams: Set<ReadableStreamDefaultController<Uint8Array>>,
): Response {
  let k = 0; // next token
  let ctl: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    stats.openStreams--;
    streams.delete(ctl);
  };
  const due = (i: number) => arrival + o.ttftMs + i * o.itlMs;
  const tail = () => {
    let text = "";
    if (r.stamp) r.sentMs = epochNow();
    if (usage) text += chunk(r, [], usageOf(r));
    return text + "data: [DONE]\n\n";
  };
  // Paced tokens are pushed by the pacer when due; unpaced ones are pulled as fast as read.
  const emit = () => {
    if (closed) return;
    let text = "";
    const now = performance.now();
    r.sentMs = performance.timeOrigin + now;
    // Write every token that is due now in one write, so a late timer never shifts the rest.
    do {
      text += tokenEvents(r, k);
      k++;
    } while (k < r.plan.tokens && due(k) <= now);
    try {
      if (k < r.plan.tokens) {
        ctl.enqueue(encoder.encode(text));
        pacer.at(due(k), emit);
        return;
      }
      ctl.enqueue(encoder.encode(text + tail()));
      ctl.close();
    } catch {
      // the client went away, or the server is closing
    }
    finish();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
      stats.openStreams++;
      streams.add(c);
      if (o.itlMs > 0) pacer.at(due(0), emit);
    },
    async pull(c) {
      if (closed || o.itlMs > 0) return;
      if (k >= r.plan.tokens) {
        c.enqueue(encoder.encode(tail()));
        c.close();
        finish();
        return;
      }
      if (k === 0 && due(0) > performance.now()) await pacer.until(due(0));
      if (closed) return;
      r.sentMs = epochNow();
      c.enqueue(encoder.encode(tokenEvents(r, k++)));
    },
    cancel() {
      finish();
    },
  }, { highWaterMark: 0 });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    },
  });
}

/**
 * The built-in mock server: OpenAI-compatible by default (chat and plain completions, streamed
 * or not), or another vendor's protocol (`protocol`), with configurable time to first token,
 * inter-token latency and reply length. It is the ground truth llmperf's own tests measure
 * against, so its pacing is exact: token `k` of a reply is due at `arrival + ttft + k · itl` and
 * is written when due (late writes never push later tokens back).
 *
 * The layers of one request: the server counts it (`stats`), the faults may answer or rewrite it
 * (`faults.ts`), and the engine (`engine.ts`) answers it through the protocol's adapter
 * (`protocol_registry.ts`), stamped with times when `stampTimes` is on (`stamps.ts`).
 *
 * Plain http is served by the mock's own HTTP/1.1 server (`http1_server.ts`: a paced write is
 * one socket write, at about two thirds of what `Deno.serve` costs per event). https (`tls`)
 * is served by `Deno.serve`, which brings the TLS stack and HTTP/2 by ALPN; the engine, the
 * faults and the counts are the same on both.
 *
 * @module
 */
import { type FaultCounts, FaultPicker, withFaults } from "./faults.ts";
import { type MockAnswer, MockEngine, toResponse, type WholeAnswer } from "./engine.ts";
import { type IncomingRequest, serveHttp1 } from "./http1_server.ts";
import { MOCK_DEFAULTS, type MockOptions } from "./options.ts";
import { MOCK_PROTOCOLS } from "./protocol_registry.ts";
import { withStamps } from "./stamps.ts";
import { MockStats, type MockStatsView } from "./stats.ts";

export {
  MOCK_DEFAULTS,
  type MockOptions,
  REASONING_FIELDS,
  type ReasoningField,
} from "./options.ts";
export type { MockStatsView } from "./stats.ts";

/** A running mock server. */
export interface MockServer {
  /** Base URL, e.g. `http://127.0.0.1:8877`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /**
   * Its counts: POST requests received (every one, whoever sent it), requests in flight and
   * streams open, now and at their peak.
   */
  readonly stats: MockStatsView;
  /** Faults injected so far, by mode. */
  readonly faults: FaultCounts;
  /** Stop listening and end open streams. */
  close(): Promise<void>;
}

const MODELS = JSON.stringify({
  object: "list",
  data: [{ id: "mock", object: "model", owned_by: "llmperf" }],
});
const JSON_TYPE: Readonly<Record<string, string>> = { "content-type": "application/json" };

/** The server's own GET routes (every protocol), or undefined. */
function serverRoute(path: string, stats: MockStats): WholeAnswer | undefined {
  if (path === "/metrics") {
    return {
      status: 200,
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      body: stats.server.text(stats.inFlight, 0),
    };
  }
  if (path === "/health" || path === "/v1/health") {
    return { status: 200, headers: JSON_TYPE, body: "{}" };
  }
  if (path === "/v1/models") return { status: 200, headers: JSON_TYPE, body: MODELS };
  return undefined;
}

/**
 * Start the mock server.
 *
 * @example
 * ```ts
 * import { startMockServer } from "./server.ts";
 * const mock = startMockServer({ port: 0, ttftMs: 50, itlMs: 10, outputTokens: 8 });
 * // ... POST `${mock.url}/v1/chat/completions` ...
 * console.log(mock.stats.requests, mock.stats.peakInFlight);
 * await mock.close();
 * ```
 */
export function startMockServer(options: Partial<MockOptions> = {}): MockServer {
  const o: MockOptions = { ...MOCK_DEFAULTS, ...options };
  const stats = new MockStats(o.prefixCacheBlocks);
  const adapter = MOCK_PROTOCOLS[o.protocol ?? "openai"];
  const engine = new MockEngine(o.stampTimes ? withStamps(adapter) : adapter, o, stats);
  const picker = new FaultPicker(o.faults ?? { faults: [] });
  const faulted = o.faults
    ? withFaults((req, x) => engine.handle(req, x), o.faults, picker)
    : undefined;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  let port: number;
  let stop: () => Promise<void>;
  if (o.tls) {
    // https: Deno.serve, with Request and Response objects throughout.
    const handle = async (req: Request): Promise<Response> => {
      const arrival = performance.now();
      const path = new URL(req.url).pathname;
      if (req.method === "GET") {
        const own = serverRoute(path, stats);
        if (own !== undefined) return toResponse(own);
      }
      if (req.method !== "POST") return toResponse(engine.refuse(req.method, path));
      const x = stats.enter(arrival);
      try {
        return await (faulted ?? ((r, x) => engine.handle(r, x)))(req, x);
      } finally {
        x.release();
      }
    };
    const server = Deno.serve({
      hostname: o.host,
      port: o.port,
      cert: o.tls.cert,
      key: o.tls.key,
      onListen: () => {},
    }, handle);
    port = server.addr.port;
    stop = () => server.shutdown();
  } else {
    // http: the mock's own HTTP/1.1 server; Request and Response objects only for the faults.
    const app = async (req: IncomingRequest): Promise<MockAnswer | Response> => {
      if (req.method === "GET" || req.method === "HEAD") {
        const own = serverRoute(req.path, stats);
        if (own !== undefined) return own;
      }
      if (req.method !== "POST") return engine.refuse(req.method, req.path);
      const x = stats.enter(req.arrival);
      try {
        return faulted ? await faulted(req.toRequest(), x) : await engine.answer(req, x);
      } finally {
        x.release();
      }
    };
    const listener = Deno.listen({ hostname: o.host, port: o.port });
    port = (listener.addr as Deno.NetAddr).port;
    const server = serveHttp1(listener, app);
    stop = () => server.close();
  }
  return {
    url: `${o.tls ? "https" : "http"}://${host}:${port}`,
    port,
    stats,
    faults: picker.counts,
    async close() {
      engine.close();
      await stop();
    },
  };
}

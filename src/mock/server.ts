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
 * @module
 */
import { type FaultCounts, FaultPicker, withFaults } from "./faults.ts";
import { MockEngine } from "./engine.ts";
import { MOCK_DEFAULTS, type MockOptions } from "./options.ts";
import { MOCK_PROTOCOLS } from "./protocol_registry.ts";
import { withStamps } from "./stamps.ts";
import { type Exchange, MockStats, type MockStatsView } from "./stats.ts";

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

/** The server's own GET routes (every protocol), or undefined. */
function serverRoute(path: string, stats: MockStats): Response | undefined {
  if (path === "/metrics") {
    return new Response(stats.server.text(stats.inFlight, 0), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  }
  if (path === "/health" || path === "/v1/health") {
    return new Response("{}", { headers: { "content-type": "application/json" } });
  }
  if (path === "/v1/models") {
    return new Response(MODELS, { headers: { "content-type": "application/json" } });
  }
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
  const stats = new MockStats();
  const adapter = MOCK_PROTOCOLS[o.protocol ?? "openai"];
  const engine = new MockEngine(o.stampTimes ? withStamps(adapter) : adapter, o, stats);
  const picker = new FaultPicker(o.faults ?? { faults: [] });
  const answer = o.faults
    ? withFaults((req, x) => engine.handle(req, x), o.faults, picker)
    : (req: Request, x: Exchange) => engine.handle(req, x);
  const handle = async (req: Request): Promise<Response> => {
    const arrival = performance.now();
    if (req.method === "GET") {
      const own = serverRoute(new URL(req.url).pathname, stats);
      if (own !== undefined) return own;
    }
    if (req.method !== "POST") return engine.refuse(req);
    const x = stats.enter(arrival);
    try {
      return await answer(req, x);
    } finally {
      x.release();
    }
  };
  const listen = { hostname: o.host, port: o.port, onListen: () => {} };
  const server = Deno.serve(
    o.tls ? { ...listen, cert: o.tls.cert, key: o.tls.key } : listen,
    handle,
  );
  const port = server.addr.port;
  return {
    url: `${o.tls ? "https" : "http"}://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`,
    port,
    stats,
    faults: picker.counts,
    async close() {
      engine.close();
      await server.shutdown();
    },
  };
}

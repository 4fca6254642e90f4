/**
 * Fault injection for the mock server: the ways servers misbehave under load, each given a rate
 * (a probability per request, below 1) or a count (exactly that many requests, the first ones
 * that arrive). Faults wrap the mock's request handler: some replace the response, others rewrite
 * its body stream as it is written, so they work whatever protocol the mock speaks. Like a real
 * server, the mock does not know who sends a request: every POST may be faulted, a client's
 * start-up check included; `skip` leaves the first requests alone (`--fault-skip 1` for that
 * check).
 *
 * @module
 */
import { seededRandom } from "../util/rng.ts";
import { sleepUntil } from "../util/sleep.ts";
import type { Exchange } from "./stats.ts";

/** The fault modes, in the order they are tried for each request. */
export const FAULT_MODES = [
  "http-500", // HTTP 500 with a JSON error body
  "http-429", // HTTP 429 with Retry-After
  "stall-first", // nothing at all (no headers) for --stall-ms
  "slow-headers", // headers after --slow-ms, then a normal reply
  "stall-mid", // the stream stops after its first events, for --stall-ms
  "disconnect-mid", // the connection is cut after the first events
  "malformed-json", // one event's data is not valid JSON
  "error-event", // an {"error": ...} object sent as an SSE event, then [DONE]
  "big-event", // one extra event of 1 MB
  "split-utf8", // an event with multi-byte characters written in two halves, cut inside one
  "no-done", // the stream ends without [DONE]
  "non-sse", // a 200 text/html page instead of the reply
] as const;

/** One fault mode. */
export type FaultMode = typeof FAULT_MODES[number];

/** One fault and how often it happens. */
export interface FaultSpec {
  /** The mode. */
  mode: FaultMode;
  /** Probability per request (0 < rate < 1), or, when 1 or more, the number of requests hit. */
  amount: number;
}

/** Fault injection settings. */
export interface FaultOptions {
  /** The faults. */
  faults: FaultSpec[];
  /** How long stalls last, ms (default: an hour, i.e. until the client gives up). */
  stallMs?: number;
  /** Delay of `slow-headers`, ms (default 1000). */
  slowMs?: number;
  /** Seeds which requests get a rate-based fault. */
  seed?: number;
  /**
   * The first this many requests get no fault and draw nothing (default 0): with 1, a client's
   * start-up check goes through and the faults hit the requests after it as if it had not been.
   */
  skip?: number;
}

/** Counts of faults injected, by mode. */
export type FaultCounts = Partial<Record<FaultMode, number>>;

const enc = new TextEncoder();

/** Parse `mode=amount` (as the `--fault` flag takes it). Throws an Error naming the problem. */
export function parseFault(text: string): FaultSpec {
  const [mode, amountText] = text.split("=", 2);
  if (!(FAULT_MODES as readonly string[]).includes(mode)) {
    throw new Error(`unknown fault '${mode}' (modes: ${FAULT_MODES.join(", ")})`);
  }
  const amount = amountText === undefined ? 1 : Number(amountText);
  if (!(amount > 0) || (amount >= 1 && !Number.isInteger(amount))) {
    throw new Error(
      `fault '${mode}': expected a rate in (0, 1) or a whole count, got '${amountText}'`,
    );
  }
  return { mode: mode as FaultMode, amount };
}

/** Decides, per request, which fault (if any) it gets. Deterministic for a seed. */
export class FaultPicker {
  #skip: number;
  #specs: FaultSpec[];
  #left: number[];
  #random: () => number;
  /** Faults injected so far, by mode. */
  readonly counts: FaultCounts = {};

  /** @param o the settings */
  constructor(o: FaultOptions) {
    this.#skip = o.skip ?? 0;
    this.#specs = [...o.faults].sort((a, b) =>
      FAULT_MODES.indexOf(a.mode) - FAULT_MODES.indexOf(b.mode)
    );
    this.#left = this.#specs.map((s) => (s.amount >= 1 ? s.amount : Infinity));
    this.#random = seededRandom(o.seed ?? 42);
  }

  /** The fault for the next request, or undefined. */
  pick(): FaultMode | undefined {
    if (this.#skip > 0) {
      this.#skip--;
      return undefined;
    }
    let chosen: FaultMode | undefined;
    for (let i = 0; i < this.#specs.length; i++) {
      const s = this.#specs[i];
      // Draw for every rate-based fault, so one fault's draws never shift another's.
      const hit = s.amount >= 1 ? this.#left[i] > 0 : this.#random() < s.amount;
      if (hit && chosen === undefined) {
        chosen = s.mode;
        if (s.amount >= 1) this.#left[i]--;
      }
    }
    if (chosen) this.counts[chosen] = (this.counts[chosen] ?? 0) + 1;
    return chosen;
  }
}

function errorResponse(status: number, message: string, headers: Record<string, string> = {}) {
  return new Response(
    JSON.stringify({
      object: "error",
      message,
      type: status === 429 ? "RateLimitError" : "InternalServerError",
      code: status,
    }),
    { status, headers: { "content-type": "application/json", ...headers } },
  );
}

/** Resolve after `ms`, or when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleepUntil(performance.now() + ms, signal);
}

const BIG_EVENT = `data: ${
  JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(1 << 20) } }] })
}\n\n`;
const SPLIT_EVENT = enc.encode(
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: " 模型→é" } }] })}\n\n`,
);
const MALFORMED_EVENT = `data: {"choices": [{"index": 0, "delta": {"content": "oops"}\n\n`;
const ERROR_EVENT = `data: ${
  JSON.stringify({
    error: { message: "mock fault: error event", type: "InternalServerError", code: 500 },
  })
}\n\ndata: [DONE]\n\n`;

/** Where a multi-byte character starts in the split event: cut one byte into it. */
const SPLIT_AT = (() => {
  for (let i = 0; i < SPLIT_EVENT.length; i++) if (SPLIT_EVENT[i] >= 0xc0) return i + 1;
  return SPLIT_EVENT.length >> 1;
})();

/** The event before which mid-stream faults strike: after the role chunk and the first token. */
const FAULT_AT_EVENT = 2;

/**
 * Rewrite a streamed body according to `mode`, event by event (whatever way the mock grouped its
 * events into writes): the fault strikes before event {@link FAULT_AT_EVENT}, or on `[DONE]`.
 */
function faultyStream(
  body: ReadableStream<Uint8Array>,
  mode: FaultMode,
  stallMs: number,
  signal: AbortSignal,
  x: Exchange,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let n = 0; // events forwarded
  let rest = ""; // text of an unfinished event
  let ended = false;
  // The request stays in flight until this stream, the one the client reads, has ended.
  x.hold();
  const release = () => {
    if (ended) return;
    ended = true;
    x.release();
  };
  const finish = async (c: ReadableStreamDefaultController<Uint8Array>, error?: Error) => {
    release();
    await reader.cancel().catch(() => {});
    if (error) c.error(error);
    else c.close();
  };
  return new ReadableStream<Uint8Array>({
    // A pull must enqueue something (or end): a pull that returns empty-handed is not called
    // again, and the stream would hang. So read until there is a whole event to pass on.
    async pull(c) {
      let wrote = false;
      const write = (bytes: Uint8Array) => {
        c.enqueue(bytes);
        wrote = true;
      };
      while (!ended && !wrote) await step(c, write);
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  async function step(
    c: ReadableStreamDefaultController<Uint8Array>,
    write: (bytes: Uint8Array) => void,
  ): Promise<void> {
    const r = await reader.read();
    if (r.done) {
      if (rest) write(enc.encode(rest));
      release();
      c.close();
      return;
    }
    rest += decoder.decode(r.value, { stream: true });
    let out = "";
    let cut: number;
    while (!ended && (cut = rest.indexOf("\n\n")) !== -1) {
      const event = rest.slice(0, cut + 2);
      rest = rest.slice(cut + 2);
      if (mode === "no-done" && event.startsWith("data: [DONE]")) continue;
      if (n === FAULT_AT_EVENT) {
        switch (mode) {
          case "stall-mid":
            if (out) write(enc.encode(out));
            out = "";
            await pause(stallMs, signal);
            break;
          case "disconnect-mid":
            if (out) write(enc.encode(out));
            return await finish(c, new Error("mock fault: disconnect"));
          case "malformed-json":
            out += MALFORMED_EVENT;
            break;
          case "error-event":
            write(enc.encode(out + ERROR_EVENT));
            return await finish(c);
          case "big-event":
            out += BIG_EVENT;
            break;
          case "split-utf8":
            if (out) write(enc.encode(out));
            out = "";
            write(SPLIT_EVENT.slice(0, SPLIT_AT));
            await pause(5, signal);
            write(SPLIT_EVENT.slice(SPLIT_AT));
            break;
        }
      }
      out += event;
      n++;
    }
    if (out) write(enc.encode(out));
  }
}

/** A mock request handler: the request, and its place at the mock (arrival, in-flight hold). */
export type MockHandler = (req: Request, x: Exchange) => Response | Promise<Response>;

/**
 * Wrap a mock request handler so that POST requests get faults (GETs never do). The faults
 * answer some requests without calling the handler; the server counts every request before.
 */
export function withFaults(
  handler: MockHandler,
  o: FaultOptions,
  picker: FaultPicker = new FaultPicker(o),
): (req: Request, x: Exchange) => Promise<Response> {
  const stallMs = o.stallMs ?? 3_600_000;
  const slowMs = o.slowMs ?? 1000;
  return async (req, x) => {
    if (req.method !== "POST") return await handler(req, x);
    const mode = picker.pick();
    switch (mode) {
      case undefined:
        return await handler(req, x);
      case "http-500":
        await req.body?.cancel();
        return errorResponse(500, "mock fault: internal server error");
      case "http-429":
        await req.body?.cancel();
        return errorResponse(429, "mock fault: rate limited", { "retry-after": "1" });
      case "non-sse":
        await req.body?.cancel();
        return new Response("<html><body>502 Bad Gateway (mock fault)</body></html>", {
          headers: { "content-type": "text/html" },
        });
      case "stall-first":
        await pause(stallMs, req.signal);
        return await handler(req, x);
      case "slow-headers":
        await pause(slowMs, req.signal);
        return await handler(req, x);
    }
    const res = await handler(req, x);
    const streamed = (res.headers.get("content-type") ?? "").includes("text/event-stream");
    if (!res.body || !streamed) {
      // Faults inside a stream need a stream; a non-streamed reply gets the nearest equivalent.
      if (mode === "disconnect-mid" || mode === "stall-mid") {
        // Part of the body, then a stall or a cut connection.
        await res.body?.cancel();
        return new Response(
          new ReadableStream<Uint8Array>({
            async start(c) {
              x.hold(); // in flight while it stalls
              c.enqueue(enc.encode('{"id": "mock-fault", '));
              if (mode === "stall-mid") await pause(stallMs, req.signal);
              c.error(new Error("mock fault: disconnect"));
              x.release();
            },
          }),
          { headers: { "content-type": "application/json" } },
        );
      }
      if (mode === "malformed-json") {
        await res.body?.cancel();
        return new Response('{"choices": [', { headers: { "content-type": "application/json" } });
      }
      if (mode === "error-event") {
        await res.body?.cancel();
        return new Response(ERROR_EVENT.slice(6, ERROR_EVENT.indexOf("\n")), {
          headers: { "content-type": "application/json" },
        });
      }
      return res;
    }
    return new Response(faultyStream(res.body, mode, stallMs, req.signal, x), {
      status: res.status,
      headers: res.headers,
    });
  };
}

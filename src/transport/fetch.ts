/**
 * The `fetch` transport: Deno's built-in HTTP client (connection pooling, HTTP/1.1 and HTTP/2,
 * proxies, TLS). The body is read through `TextDecoderStream` and split into SSE events by
 * {@link SseParser}; each event is stamped with `performance.now()` when the read that completed
 * it returned.
 *
 * @module
 */
import type { FailureKind, RequestRecord } from "../records/record.ts";
import { SseParser } from "./sse.ts";
import type { PreparedRequest, Transport, TransportTimeouts } from "./types.ts";
import { Watchdog, type Watched } from "./watchdog.ts";

/** Longest response-body excerpt kept in a failure. */
export const BODY_EXCERPT = 500;

/** Options of {@link FetchTransport}. */
export interface FetchTransportOptions {
  /** Timeouts in milliseconds. */
  timeouts: TransportTimeouts;
  /** A custom HTTP client (for example with a CA certificate), passed to `fetch`. */
  client?: Deno.HttpClient;
}

class Expired extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

/** HTTP over the runtime's `fetch`. */
export class FetchTransport implements Transport {
  #watchdog: Watchdog;
  #client?: Deno.HttpClient;

  /** @param opts timeouts and an optional HTTP client */
  constructor(opts: FetchTransportOptions) {
    this.#watchdog = new Watchdog(opts.timeouts, false);
    this.#client = opts.client;
  }

  /** See {@link Transport.send}. */
  async send(req: PreparedRequest, rec: RequestRecord, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const onAbort = () => ac.abort(new Expired("cancelled", "cancelled"));
    if (signal) {
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    const w: Watched = {
      started: 0,
      last: 0,
      headers: false,
      connected: false,
      expire: (kind, message) => ac.abort(new Expired(kind, message)),
    };
    rec.start = w.started = w.last = performance.now();
    this.#watchdog.add(w);
    try {
      const res = await fetch(req.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        signal: ac.signal,
        client: this.#client,
      });
      rec.headersAt = w.last = performance.now();
      w.headers = true;
      rec.status = res.status;
      const type = res.headers.get("content-type") ?? "";
      if (res.status !== 200) {
        const text = await res.text();
        rec.end = performance.now();
        rec.failure = {
          kind: "http",
          message: `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`,
          body: text.slice(0, BODY_EXCERPT),
        };
        return;
      }
      if (type.includes("text/event-stream") && res.body) {
        await readEvents(res.body, rec, w);
      } else {
        const text = await res.text();
        rec.end = w.last = performance.now();
        rec.payloads.push(text);
        rec.chunkTimes.push(rec.end);
        if (req.stream) {
          // The server ignored stream=true. A JSON body is still a complete answer.
          if (!type.includes("json")) {
            rec.failure = {
              kind: "protocol",
              message: `expected text/event-stream, got '${type || "no content type"}'`,
              body: text.slice(0, BODY_EXCERPT),
            };
            return;
          }
        }
      }
      rec.success = rec.failure === undefined;
    } catch (e) {
      rec.end = performance.now();
      const reason = ac.signal.aborted ? ac.signal.reason : e;
      if (reason instanceof Expired) {
        rec.failure = { kind: reason.kind, message: reason.message };
      } else {
        rec.failure = classifyFetchError(e);
      }
      rec.success = false;
    } finally {
      this.#watchdog.delete(w);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** See {@link Transport.close}. */
  close(): Promise<void> {
    this.#watchdog.stop();
    return Promise.resolve();
  }
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  rec: RequestRecord,
  w: Watched,
): Promise<void> {
  let done = false;
  const payloads = rec.payloads;
  const times = rec.chunkTimes;
  const parser = new SseParser((data, type, time) => {
    if (data === "[DONE]") {
      if (!done) rec.end = time;
      done = true;
      return;
    }
    if (done) return; // nothing counts after [DONE]
    if (type === "error" && !rec.failure) {
      rec.failure = { kind: "server-error", message: "error event in the stream", body: data };
    }
    payloads.push(data);
    times.push(time);
  });
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const r = await reader.read();
      const t = performance.now();
      w.last = t;
      if (r.done) {
        parser.end(t);
        if (!done) rec.end = t;
        return;
      }
      parser.push(r.value, t);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Turn a `fetch` rejection into a recorded failure. */
export function classifyFetchError(e: unknown): { kind: FailureKind; message: string } {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split("\n")[0];
  if (/connection refused|dns error|failed to lookup|name or service|tcp connect/i.test(msg)) {
    return { kind: "connect", message: first };
  }
  if (/certificate|tls|handshake/i.test(msg)) return { kind: "connect", message: first };
  if (e instanceof SyntaxError) return { kind: "protocol", message: first };
  return { kind: "network", message: first };
}

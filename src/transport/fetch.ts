/**
 * The `fetch` transport: Deno's built-in HTTP client (connection pooling, HTTP/1.1 and HTTP/2,
 * proxies, TLS). The body is read through `TextDecoderStream` and split into SSE events by
 * {@link EventRecorder}; each event is stamped with `performance.now()` when the read that
 * completed it returned.
 *
 * @module
 */
import type { FailureKind, RequestRecord } from "../records/record.ts";
import { EventRecorder, httpFailure, recordWholeBody } from "./record_body.ts";
import { SseLimitError } from "./sse.ts";
import type { PreparedRequest, Transport, TransportTimeouts } from "./types.ts";
import { Watchdog, type Watched } from "./watchdog.ts";

export { BODY_EXCERPT } from "./record_body.ts";

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
        rec.failure = httpFailure(res.status, res.statusText, text);
        return;
      }
      if (type.includes("text/event-stream") && res.body) {
        await readEvents(res.body, rec, w);
      } else {
        const text = await res.text();
        w.last = performance.now();
        recordWholeBody(rec, req.stream, type, text, w.last);
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
  const events = new EventRecorder(rec);
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const r = await reader.read();
      const t = performance.now();
      w.last = t;
      if (r.done) {
        events.end(t);
        return;
      }
      events.push(r.value, t);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Turn a `fetch` rejection into a recorded failure. */
export function classifyFetchError(e: unknown): { kind: FailureKind; message: string } {
  // Deno's fetch says "fetch failed" and puts the reason in `cause`: read the whole chain.
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
    parts.push(x instanceof Error ? x.message : String(x));
    x = x instanceof Error ? x.cause : undefined;
  }
  const msg = parts.join(": ");
  // The most specific line: the innermost cause, without the request URL prefix.
  const detail = (parts[parts.length - 1] ?? "").split("\n")[0]
    .replace(/^error sending request for url \([^)]*\): /, "");
  if (
    /connection refused|dns error|failed to lookup|name or service|tcp connect|are blocked/i.test(
      msg,
    )
  ) {
    return { kind: "connect", message: detail };
  }
  if (/certificate|tls|handshake|invalid peer|unknownissuer/i.test(msg)) {
    return { kind: "connect", message: detail };
  }
  if (e instanceof SyntaxError || e instanceof SseLimitError) {
    return { kind: "protocol", message: detail };
  }
  return { kind: "network", message: detail };
}

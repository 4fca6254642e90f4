/**
 * The `fetch` transport: Deno's built-in HTTP client (connection pooling, HTTP/1.1 and HTTP/2,
 * proxies, TLS). The body's chunks are decoded by {@link Utf8Chunks} (as the socket transport's
 * reads are) and split into SSE events by {@link EventRecorder}; each event is stamped with `performance.now()` when the read that
 * completed it returned.
 *
 * As with the socket transport: a stream is complete at `[DONE]` or when every choice finished,
 * whatever the connection does next; redirects are reported (with their `Location`), not
 * followed; credentials in the URL go out as `Authorization: Basic` unless an Authorization
 * header is given (Deno's fetch would send both).
 *
 * What it cannot tell: Deno's fetch (2.7 and later) sends a request again, once and silently,
 * when a connection taken from its pool closes or is reset before the response, however long
 * the server held the request (`Deno.createHttpClient` has no option to stop it; only
 * `poolMaxIdlePerHost: 0`, no keep-alive at all, avoids it). Such a re-send cannot be seen from
 * JavaScript: the record's `retries` stays `undefined` (unknown), and the time includes the
 * first attempt. The socket transport counts its re-sends.
 *
 * @module
 */
import type { FailureKind, RequestRecord } from "../records/record.ts";
import { tlsHint } from "./hints.ts";
import { basicAuthOf, sameHeaders } from "./http1_request.ts";
import { isEventStream } from "./media_type.ts";
import { EventRecorder, httpFailure, recordWholeBody } from "./record_body.ts";
import { SseLimitError } from "./sse.ts";
import { DEFAULT_STREAM_END, type StreamEndRule } from "./stream_end.ts";
import type { PreparedRequest, Transport, TransportTimeouts } from "./types.ts";
import { Utf8Chunks } from "./utf8_chunks.ts";
import { Watchdog, type Watched } from "./watchdog.ts";

export { BODY_EXCERPT } from "./record_body.ts";

/** Options of {@link FetchTransport}. */
export interface FetchTransportOptions {
  /** Timeouts in milliseconds. */
  timeouts: TransportTimeouts;
  /** A custom HTTP client (for example with a CA certificate), passed to `fetch`. */
  client?: Deno.HttpClient;
  /** What completes a stream ({@link DEFAULT_STREAM_END} when unset). */
  streamEnd?: StreamEndRule;
  /**
   * The proxy requests go through, as it is named in messages (`host:port (from HTTP_PROXY)`),
   * when the environment sets one: a failure to connect is then the proxy's.
   */
  proxy?: string;
}

class Expired extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

/** One request's watch: timeouts, and the end of a complete stream on an open connection. */
class FetchWatch implements Watched {
  started = 0;
  last = 0;
  headers = false;
  connected = false;
  /** The stream is complete: nothing that happens to the connection now fails the request. */
  complete = false;
  events: EventRecorder | undefined;
  constructor(readonly ac: AbortController) {}
  expire(kind: FailureKind, message: string): void {
    this.ac.abort(this.complete ? SETTLED : new Expired(kind, message));
  }
  settle(): boolean {
    if (!this.complete) {
      if (this.events === undefined || !this.events.complete()) return false;
      this.complete = true;
    }
    this.ac.abort(SETTLED); // the read in progress ends; the request is recorded as complete
    return true;
  }
}

/** The abort reason that ends the body of a complete stream. */
const SETTLED = new Error("the stream is complete");

/** What is sent for one URL and header set: the URL without credentials, the headers with them. */
interface FetchPrepared {
  /** The headers as given. */
  given: Record<string, string>;
  url: string;
  headers: Record<string, string>;
}

/** URLs whose prepared form is kept (a run has one, or a few endpoints). */
const MEMO_URLS = 64;

/** HTTP over the runtime's `fetch`. */
export class FetchTransport implements Transport {
  #watchdog: Watchdog;
  #client?: Deno.HttpClient;
  #streamEnd: StreamEndRule;
  #proxy?: string;
  // A memo per URL, headers compared by value: a run sends every request to one URL (or to each
  // of a few, with several --url) with one header set.
  #memo = new Map<string, FetchPrepared>();

  /** @param opts timeouts, an optional HTTP client, the end-of-stream rule, the proxy */
  constructor(opts: FetchTransportOptions) {
    this.#watchdog = new Watchdog(opts.timeouts, false);
    this.#client = opts.client;
    this.#streamEnd = opts.streamEnd ?? DEFAULT_STREAM_END;
    this.#proxy = opts.proxy;
  }

  /** See {@link Transport.send}. */
  async send(req: PreparedRequest, rec: RequestRecord, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const w = new FetchWatch(ac);
    rec.startMs = w.started = w.last = performance.now();
    this.#watchdog.add(w);
    if (signal !== undefined && this.#watchdog.cancelOn(signal)) w.expire("cancelled", "cancelled");
    try {
      const sending = this.#prepare(req);
      const res = await fetch(sending.url, {
        method: "POST",
        headers: sending.headers,
        body: req.body,
        signal: ac.signal,
        client: this.#client,
        redirect: "manual",
      });
      rec.headersAtMs = w.last = performance.now();
      w.headers = true;
      rec.status = res.status;
      const type = res.headers.get("content-type") ?? "";
      if (res.status !== 200) {
        const text = await res.text();
        rec.endMs = performance.now();
        rec.failure = httpFailure(res.status, res.statusText, text, res.headers.get("location"));
        return;
      }
      if (isEventStream(type) && res.body) {
        w.events = new EventRecorder(rec, this.#streamEnd, w);
        await readEvents(res.body, w.events, w);
      } else {
        const text = await res.text();
        w.last = performance.now();
        recordWholeBody(rec, req.stream, type, text, w.last);
      }
      rec.success = rec.failure === undefined;
    } catch (e) {
      rec.endMs = performance.now();
      const reason = ac.signal.aborted ? ac.signal.reason : e;
      if (reason instanceof Expired) {
        rec.failure = { kind: reason.kind, message: reason.message };
      } else {
        rec.failure = classifyFetchError(e, this.#proxy);
      }
      rec.success = false;
    } finally {
      this.#watchdog.delete(w);
    }
  }

  /** The URL without credentials, and the headers with them as Basic auth (once per URL). */
  #prepare(req: PreparedRequest): FetchPrepared {
    const known = this.#memo.get(req.url);
    if (
      known !== undefined &&
      (req.headers === known.given || sameHeaders(req.headers, known.given))
    ) return known;
    const p: FetchPrepared = { given: req.headers, url: req.url, headers: req.headers };
    if (this.#memo.size >= MEMO_URLS) this.#memo.clear();
    this.#memo.set(req.url, p);
    const u = new URL(req.url);
    const auth = basicAuthOf(u);
    if (auth === undefined) return p;
    u.username = "";
    u.password = "";
    p.url = u.href;
    const given = Object.keys(req.headers).some((k) => k.toLowerCase() === "authorization");
    if (!given) p.headers = { ...req.headers, authorization: auth };
    return p;
  }

  /** See {@link Transport.close}. */
  close(): Promise<void> {
    this.#watchdog.stop();
    return Promise.resolve();
  }
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  events: EventRecorder,
  w: FetchWatch,
): Promise<void> {
  // Decoded here rather than through a TextDecoderStream: one stream (and promise) less per
  // chunk, and the same text as the socket transport's (see utf8_chunks.ts for a mark Deno's
  // streaming decoder drops).
  const text = new Utf8Chunks();
  const reader = body.getReader();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        // Closed, reset or given up after the stream was complete: a success.
        if (w.complete || (!w.ac.signal.aborted && events.complete())) {
          events.endComplete(performance.now());
          return;
        }
        throw e;
      }
      const t = performance.now();
      w.last = t;
      if (r.done) {
        const rest = text.end();
        if (rest.length > 0) events.push(rest, t);
        events.end(t);
        return;
      }
      events.pushRead(text.decodeNarrow(r.value), t);
      if (w.complete) {
        // [DONE] came: let the body end (so the connection can be reused) for a short while.
        await drainTail(reader);
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Read to the body's end, or until the watchdog gives it up (`DONE_TAIL_MS` of silence). */
async function drainTail(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) { /* nothing after [DONE] counts */ }
  } catch {
    /* the request is complete */
  }
}

/**
 * Turn a `fetch` rejection into a recorded failure. With a `proxy` (as named in messages), a
 * failure to connect is the proxy's: fetch connects only to it.
 */
export function classifyFetchError(
  e: unknown,
  proxy?: string,
): { kind: FailureKind; message: string } {
  // Deno's fetch says "fetch failed" and puts the reason in `cause`: read the whole chain.
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
    parts.push(x instanceof Error ? x.message : String(x));
    x = x instanceof Error ? x.cause : undefined;
  }
  const msg = parts.join(": ");
  // The most specific line: the innermost cause, without the request URL prefix (Deno writes
  // "for url (URL): " or "from ADDR for URL (ADDR): ").
  const detail = (parts[parts.length - 1] ?? "").split("\n")[0]
    .replace(/^error sending request (?:from \S+ )?for (?:url \(\S*\)|\S+ \(\S*\)): /, "");
  if (/are blocked/i.test(msg)) return { kind: "connect", message: detail };
  if (/connection refused|dns error|failed to lookup|name or service|tcp connect/i.test(msg)) {
    return { kind: "connect", message: proxy ? `proxy ${proxy}: ${detail}` : detail };
  }
  if (/certificate|tls|handshake|invalid peer|unknownissuer/i.test(msg)) {
    return { kind: "connect", message: tlsHint(detail) };
  }
  if (e instanceof SyntaxError || e instanceof SseLimitError) {
    return { kind: "protocol", message: detail };
  }
  return { kind: "network", message: detail };
}

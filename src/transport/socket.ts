/**
 * The socket transport: HTTP/1.1 written and read by hand over `Deno.connect` / `Deno.startTls`,
 * with keep-alive connections pooled per origin ({@link ConnectionPool}).
 *
 * Why by hand: `fetch` hands a streamed body to JavaScript one HTTP chunk at a time through a
 * `ReadableStream`, a promise round trip per token (about 20 µs of CPU each on these machines). A
 * raw read returns whatever has arrived, often many events, into a buffer this transport owns:
 * chunked framing is removed in place, the bytes are decoded to text once ({@link Utf8Chunks}:
 * a multi-byte character split across reads is joined), and the text goes to
 * the same SSE parser and record as with `fetch`. Every event completed by one read is stamped
 * with the time that read's bytes arrived: on Linux, for http, where the process may use FFI, the
 * kernel's receive stamp of the last packet read (`EpollConn`, `src/transport/epoll.ts`), so
 * that time the client spends elsewhere is not added to TTFT and inter-token gaps; otherwise the
 * `performance.now()` taken when the read returned.
 *
 * A request that opens a connection records its TCP connect and TLS handshake times
 * (`rec.connectMs`, `rec.tlsMs`, measured by the pool); one on a kept-alive connection has none.
 *
 * Timeouts use the shared {@link Watchdog}; a socket knows when its connection is made, so the
 * connect timeout covers exactly the TCP connect and TLS handshake, and the read timeout starts
 * when the request has been handed to the connection.
 *
 * A stream is complete at `[DONE]` or when every choice finished ({@link StreamEndRule}); after
 * that nothing the connection does (kept open, closed, reset, garbage) fails the request. After
 * `[DONE]` the transport waits about `DONE_TAIL_MS` for the body's last chunk, so that
 * the connection can carry the next request; past that the watchdog closes the connection.
 *
 * Re-sends: a request is sent again, once, on a fresh connection only when its reused keep-alive
 * connection had been closed by the server before the request could reach it: the write failed,
 * or the connection closed with no response byte within {@link STALE_CLOSE_MS} of the write.
 * Later, the server had the request (it may have worked on it): that is a `network` failure,
 * never a silent second request. Every re-send is counted in `rec.retries`.
 *
 * @module
 */
import type { FailureKind, RequestRecord } from "../records/record.ts";
import { errorMessage } from "../errors.ts";
import {
  type ByteConn,
  type Connection,
  ConnectionPool,
  HandshakeError,
  MAX_READ_BUFFER_BYTES,
} from "./conn_pool.ts";
import {
  headBytes,
  RequestEncoder,
  requestHead,
  sameHeaders,
  type Target,
  targetOf,
} from "./http1_request.ts";
import {
  ChunkedDecoder,
  MAX_HEAD_BYTES,
  parseResponseHead,
  ProtocolError,
  type ResponseHead,
} from "./http1_response.ts";
import type { ReadPump } from "./epoll.ts";
import { HTTP2_HINT, looksLikeHttp2, tlsHint } from "./hints.ts";
import { isEventStream } from "./media_type.ts";
import { EventRecorder, httpFailure, recordWholeBody } from "./record_body.ts";
import { SseLimitError } from "./sse.ts";
import { DEFAULT_STREAM_END, type StreamEndRule } from "./stream_end.ts";
import type { PreparedRequest, Transport, TransportTimeouts } from "./types.ts";
import { Utf8Chunks } from "./utf8_chunks.ts";
import { Watchdog, type Watched } from "./watchdog.ts";

/** Options of {@link SocketTransport}. */
export interface SocketTransportOptions {
  /** Timeouts in milliseconds. */
  timeouts: TransportTimeouts;
  /** PEM certificates trusted in addition to the default roots (https). */
  caCerts?: string[];
  /** What completes a stream ({@link DEFAULT_STREAM_END} when unset). */
  streamEnd?: StreamEndRule;
  /** See {@link STALE_CLOSE_MS} (the default). */
  staleCloseMs?: number;
  /** `false`: plain http through `Deno.connect`, stamped when reads return (see the module). */
  kernelStamps?: boolean;
}

/**
 * A reused connection that ends with no response within this long of the request's write was
 * closed by the server before the request reached it (an idle keep-alive timeout crossing the
 * request): the request is sent again. A server that takes longer to drop it had the request.
 */
export const STALE_CLOSE_MS = 10;

/** Bytes of a non-200 body kept for its failure excerpt. */
const ERROR_BODY_BYTES = 4096;

/** The connection broke (or closed early) after it was made. */
class NetworkError extends Error {}

/** The connection could not be made. */
class ConnectError extends Error {}

/** Retry the request on a fresh connection (a reused one was closed before any response). */
const RETRY = 0;
/** The response is complete and the connection can carry another request. */
const REUSE = 1;
/** The response is complete; the connection must be closed. */
const CLOSE = 2;

/** One request in flight: what the watchdog and the cancel signal need to stop it. */
class Exchange implements Watched {
  started = 0;
  last = 0;
  headers = false;
  connected = false;
  /** The connection carrying the request, once there is one. */
  conn: Connection | undefined;
  /** Aborts a connect in progress. */
  connecting: AbortController | undefined;
  /** Why it was stopped, when it was. */
  stopped: [FailureKind, string] | undefined;
  /** The stream is complete: nothing that happens to the connection now fails the request. */
  complete = false;
  /** The response's events, while an SSE body is read. */
  events: EventRecorder | undefined;
  /** Times the request was sent again. */
  retries = 0;
  /** Whether the transport has had a response from the server before (then it speaks HTTP/1.1). */
  heard = false;

  expire(kind: FailureKind, message: string): void {
    if (this.stopped) return;
    if (!this.complete) this.stopped = [kind, message];
    this.connecting?.abort();
    this.#hangUp();
  }

  settle(): boolean {
    if (!this.complete) {
      if (this.events === undefined || !this.events.complete()) return false;
      this.complete = true;
    }
    this.#hangUp(); // the read in progress ends; the request is recorded as complete
    return true;
  }

  #hangUp(): void {
    try {
      this.conn?.conn.close();
    } catch { /* already closed */ }
  }
}

/** A URL's target and request head, as built for one header set. */
interface Prepared {
  headers: Record<string, string>;
  target: Target;
  head: Uint8Array;
}

/** URLs whose request heads are kept (a run has one, or a few endpoints). */
const MEMO_URLS = 64;

/** HTTP/1.1 over raw sockets. */
export class SocketTransport implements Transport {
  #watchdog: Watchdog;
  #pool: ConnectionPool;
  // A memo per URL, headers compared by value: a run sends every request to one URL (or to each
  // of a few, with several --url) with one header set.
  #memo = new Map<string, Prepared>();
  // And by the header object itself, then URL: the run's one object (shared by every request
  // without headers of its own) keeps its heads while requests with their own (a trace's) come
  // between.
  #byObject = new WeakMap<Record<string, string>, Map<string, Prepared>>();
  #head: Uint8Array = new Uint8Array(0);
  #encoder = new RequestEncoder();
  #streamEnd: StreamEndRule;
  #staleMs: number;
  #heard = false;

  /** @param opts timeouts, extra CA certificates, the end-of-stream rule */
  constructor(opts: SocketTransportOptions) {
    this.#watchdog = new Watchdog(opts.timeouts, true);
    this.#pool = new ConnectionPool({ caCerts: opts.caCerts, kernelStamps: opts.kernelStamps });
    this.#streamEnd = opts.streamEnd ?? DEFAULT_STREAM_END;
    this.#staleMs = opts.staleCloseMs ?? STALE_CLOSE_MS;
  }

  /** Open connections (idle or in use), for tests and diagnostics. */
  get connections(): number {
    return this.#pool.size;
  }

  /** See {@link Transport.send}. */
  async send(req: PreparedRequest, rec: RequestRecord, signal?: AbortSignal): Promise<void> {
    const x = new Exchange();
    rec.startMs = x.started = x.last = performance.now();
    this.#watchdog.add(x);
    if (signal !== undefined && this.#watchdog.cancelOn(signal)) x.expire("cancelled", "cancelled");
    x.heard = this.#heard;
    const pool = this.#pool;
    try {
      const target = this.#prepare(req);
      const bytes = this.#encoder.encode(this.#head, req.body);
      for (;;) {
        if (x.stopped) throw x.stopped;
        // A re-send always gets a fresh connection: other idle ones may be stale too.
        let c = x.retries === 0 ? pool.take(target.origin) : undefined;
        if (c === undefined) {
          x.connected = false;
          x.connecting = new AbortController();
          try {
            c = await pool.open(target, x.connecting.signal);
          } catch (e) {
            throw x.stopped ?? new ConnectError(connectMessage(target, e));
          } finally {
            x.connecting = undefined;
          }
          // The connection that carries the response (a re-send's fresh one, when re-sent).
          rec.connectMs = c.connectMs;
          rec.tlsMs = c.tlsMs;
        }
        x.connected = true;
        x.conn = c;
        if (x.stopped) throw x.stopped;
        const outcome = await exchange(c, bytes, req, rec, x, this.#streamEnd, this.#staleMs);
        x.conn = undefined;
        x.events = undefined;
        if (outcome === RETRY) {
          // Only a reused connection asks for a re-send, and a re-send never reuses one.
          pool.discard(c);
          x.headers = false;
          x.retries++;
          continue;
        }
        if (outcome === REUSE) pool.release(c);
        else pool.discard(c);
        break;
      }
      rec.success = rec.failure === undefined;
    } catch (e) {
      rec.endMs = performance.now();
      rec.success = false;
      if (x.conn) pool.discard(x.conn);
      x.conn = undefined;
      const [kind, message] = classify(x.stopped ?? e);
      rec.failure = { kind, message };
    } finally {
      rec.retries = x.retries;
      if (x.headers) this.#heard = true;
      this.#watchdog.delete(x);
    }
  }

  /** The target, and the request head in `#head`: built again only for another URL or header set. */
  #prepare(req: PreparedRequest): Target {
    let byUrl = this.#byObject.get(req.headers);
    let p = byUrl?.get(req.url);
    if (p === undefined) {
      p = this.#memo.get(req.url);
      if (p === undefined || !sameHeaders(req.headers, p.headers)) {
        const target = targetOf(req.url);
        p = { headers: req.headers, target, head: headBytes(requestHead(target, req.headers)) };
        if (this.#memo.size >= MEMO_URLS) this.#memo.clear();
        this.#memo.set(req.url, p);
      }
      if (byUrl === undefined) this.#byObject.set(req.headers, byUrl = new Map());
      if (byUrl.size >= MEMO_URLS) byUrl.clear();
      byUrl.set(req.url, p);
    }
    this.#head = p.head;
    return p.target;
  }

  /** See {@link Transport.close}. */
  close(): Promise<void> {
    this.#watchdog.stop();
    this.#pool.close();
    return Promise.resolve();
  }
}

/** Why a connection could not be made, with a hint where one helps. */
function connectMessage(t: Target, e: unknown): string {
  const m = errorMessage(e);
  return t.tls ? tlsHint(m, e instanceof HandshakeError) : m;
}

function classify(e: unknown): [FailureKind, string] {
  if (Array.isArray(e)) return e as [FailureKind, string];
  if (e instanceof ConnectError) return ["connect", e.message];
  if (e instanceof ProtocolError || e instanceof SseLimitError || e instanceof TypeError) {
    return ["protocol", e.message];
  }
  return ["network", errorMessage(e)];
}

async function writeAll(conn: ByteConn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
}

/**
 * No response at all on `c`: why, in words that say what to try. A TLS server that never
 * answered this transport may speak only HTTP/2 (one that did answer speaks HTTP/1.1).
 */
function noResponse(c: Connection, e: unknown, sentAt: number, x: Exchange): NetworkError {
  const how = e === null ? "closed the connection" : `broke the connection (${errorMessage(e)})`;
  if (c.uses > 0) {
    const ms = Math.round(performance.now() - sentAt);
    return new NetworkError(
      `the server ${how} ${ms} ms after the request, without a response (a reused connection)`,
    );
  }
  const hint = c.origin.startsWith("https:") && !x.heard ? `; ${HTTP2_HINT}` : "";
  return new NetworkError(`the server ${how} without a response${hint}`);
}

/** Send the request on `c` and read the whole response into `rec`. */
async function exchange(
  c: Connection,
  bytes: Uint8Array,
  req: PreparedRequest,
  rec: RequestRecord,
  x: Exchange,
  rule: StreamEndRule,
  staleMs: number,
): Promise<number> {
  const conn = c.conn;
  const reused = c.uses > 0;
  const writeAt = performance.now();
  try {
    await writeAll(conn, bytes);
  } catch (e) {
    if (reused && !x.stopped) return RETRY; // closed before the request could reach the server
    throw e;
  }
  const sentAt = performance.now();
  // The head: read until the blank line, skipping 1xx interim responses.
  let buf = c.buf;
  let filled = 0;
  let pos = 0;
  let t = 0;
  let head: ResponseHead | undefined;
  let bodyStart = 0;
  // A reused connection's first read has been pending since it went idle (into `buf`, from 0).
  let watch = c.watch;
  c.watch = undefined;
  while (head === undefined) {
    let n: number | null;
    try {
      if (watch !== undefined) {
        n = await watch;
        watch = undefined;
      } else n = await conn.read(filled === 0 ? buf : buf.subarray(filled));
    } catch (e) {
      if (filled > 0 || x.stopped) throw e;
      if (reused && performance.now() - sentAt <= staleMs) return RETRY;
      throw noResponse(c, e, sentAt, x);
    }
    t = conn.readAt ?? performance.now();
    // A stamp is never before the request was written (the clocks' sampling is not exact).
    if (t < writeAt) t = writeAt;
    x.last = t;
    if (n === null) {
      if (filled > 0) {
        throw new NetworkError("the server closed the connection inside the response head");
      }
      if (reused && t - sentAt <= staleMs) return RETRY;
      throw noResponse(c, null, sentAt, x);
    }
    if (filled === 0 && looksLikeHttp2(buf, 0, n)) {
      throw new ProtocolError(`the server answered in HTTP/2, not HTTP/1.1; ${HTTP2_HINT}`);
    }
    filled += n;
    for (;;) {
      const parsed = parseResponseHead(buf, pos, filled);
      if (parsed === undefined) break;
      const s = parsed.head.status;
      if (s >= 100 && s < 200) {
        if (s === 101) throw new ProtocolError("unexpected 101 Switching Protocols");
        pos = parsed.bodyStart;
        continue;
      }
      head = parsed.head;
      bodyStart = parsed.bodyStart;
      break;
    }
    if (head === undefined && filled === buf.length) {
      // A head longer than the buffer: move it to the front, or grow the buffer.
      if (pos > 0) {
        buf.copyWithin(0, pos, filled);
        filled -= pos;
        pos = 0;
      } else {
        const bigger = new Uint8Array(Math.min(buf.length * 2, MAX_HEAD_BYTES + 1024));
        if (bigger.length <= buf.length) {
          throw new ProtocolError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
        }
        bigger.set(buf.subarray(0, filled));
        c.buf = buf = bigger;
      }
    }
  }
  rec.headersAtMs = t;
  x.headers = true;
  rec.status = head.status;
  const type = head.headers["content-type"] ?? "";
  if (head.status !== 200) {
    const sink = new CollectSink(ERROR_BODY_BYTES);
    const reusable = await readBody(c, head, bodyStart, filled, sink, x);
    rec.endMs = x.last;
    rec.failure = httpFailure(head.status, head.reason, sink.text(), head.headers["location"]);
    return reusable && head.keepAlive ? REUSE : CLOSE;
  }
  let reusable: boolean;
  if (isEventStream(type)) {
    const events = new EventRecorder(rec, rule, x);
    x.events = events;
    reusable = await readBody(c, head, bodyStart, filled, new SseSink(events), x);
  } else {
    const sink = new CollectSink(Infinity);
    reusable = await readBody(c, head, bodyStart, filled, sink, x);
    recordWholeBody(rec, req.stream, type, sink.text(), x.last);
  }
  return reusable && head.keepAlive ? REUSE : CLOSE;
}

/** Receives body bytes as they arrive (it must use them before returning: the buffer is reused). */
interface BodySink {
  data(bytes: Uint8Array, time: number): void;
  /** The body ended at `time`. */
  end(time: number): void;
  /**
   * The connection ended before the body did (or was given up after `[DONE]`): whether what
   * arrived is complete anyway (then the sink has recorded its end).
   */
  cut(time: number): boolean;
}

/** SSE: decode to text (multi-byte characters may straddle reads) and record the events. */
class SseSink implements BodySink {
  #decoder = new Utf8Chunks();
  #events: EventRecorder;
  constructor(events: EventRecorder) {
    this.#events = events;
  }
  data(bytes: Uint8Array, time: number): void {
    this.#events.pushRead(this.#decoder.decodeNarrow(bytes), time);
  }
  end(time: number): void {
    const rest = this.#decoder.end();
    if (rest.length > 0) this.#events.push(rest, time);
    this.#events.end(time);
  }
  cut(time: number): boolean {
    if (!this.#events.complete()) return false;
    this.#events.endComplete(time);
    return true;
  }
}

/** Any other body: keep up to `limit` bytes, decode them at the end. */
class CollectSink implements BodySink {
  #parts: Uint8Array[] = [];
  #size = 0;
  #limit: number;
  constructor(limit: number) {
    this.#limit = limit;
  }
  data(bytes: Uint8Array): void {
    const room = this.#limit - this.#size;
    if (room <= 0) return;
    const part = bytes.length > room ? bytes.slice(0, room) : bytes.slice();
    this.#parts.push(part);
    this.#size += part.length;
  }
  end(): void {}
  cut(): boolean {
    return false; // a body cut short is not an answer
  }
  text(): string {
    if (this.#parts.length === 1) return new TextDecoder().decode(this.#parts[0]);
    const all = new Uint8Array(this.#size);
    let off = 0;
    for (const p of this.#parts) {
      all.set(p, off);
      off += p.length;
    }
    return new TextDecoder().decode(all);
  }
}

/**
 * Reads one body framed as its head says, from whatever reads deliver it: the bytes already read
 * with the head, then each read of a `Deno.Conn` loop or of an {@link EpollConn} pump (one
 * callback per read, no promise per read). Says whether the connection ended exactly at the
 * body's end (reusable). A connection that closes or breaks before the body's end is a failure
 * unless the sink says that what arrived is complete (a stream that reached `[DONE]` or finished
 * every choice). After `[DONE]` it keeps reading the body's framing, dropping the bytes, until
 * the body ends or the watchdog gives the connection up (`DONE_TAIL_MS` of silence).
 */
class BodyReader implements ReadPump {
  #framing: ResponseHead["framing"];
  #remaining: number;
  #chunks: ChunkedDecoder | undefined;
  #sink: BodySink;
  #x: Exchange;
  /** `[DONE]` came before the body's end: only its framing is read now. */
  #draining = false;
  resolve: ((reusable: boolean) => void) | undefined;
  reject: ((e: unknown) => void) | undefined;
  /** A close-delimited body ends at the peer's close, whose time the reactor must not delay. */
  readonly exactEnd: boolean;

  constructor(head: ResponseHead, sink: BodySink, x: Exchange) {
    this.#framing = head.framing;
    this.exactEnd = head.framing === "close";
    this.#remaining = head.length;
    this.#chunks = head.framing === "chunked" ? new ChunkedDecoder() : undefined;
    this.#sink = sink;
    this.#x = x;
  }

  /**
   * Take `buf[s, e)`, whose bytes arrived at `t`: whether the connection is reusable once the
   * body ended, `undefined` while it needs more.
   */
  feed(buf: Uint8Array, s: number, e: number, t: number): boolean | undefined {
    const sink = this.#sink;
    const x = this.#x;
    const draining = this.#draining;
    if (!draining) x.last = t;
    switch (this.#framing) {
      case "none":
        sink.end(t);
        return e === s;
      case "length": {
        const take = Math.min(this.#remaining, e - s);
        if (take > 0 && !draining) sink.data(buf.subarray(s, s + take), t);
        this.#remaining -= take;
        if (this.#remaining === 0) {
          if (!draining) sink.end(t);
          return s + take === e;
        }
        break;
      }
      case "chunked": {
        const chunks = this.#chunks!;
        let w: number;
        try {
          w = chunks.decode(buf, s, e);
        } catch (err) {
          if (draining) return false;
          // Broken framing: an error, unless the stream was complete before it.
          if (chunks.partial > s) sink.data(buf.subarray(s, chunks.partial), t);
          if (x.complete || sink.cut(t)) return false;
          throw err;
        }
        if (draining) return chunks.done ? chunks.rest === e : undefined;
        if (w > s) sink.data(buf.subarray(s, w), t);
        if (chunks.done) {
          sink.end(t);
          return chunks.rest === e;
        }
        break;
      }
      case "close":
        if (e > s) sink.data(buf.subarray(s, e), t);
        if (x.complete) {
          sink.cut(t);
          return false; // only closing ends this body: nothing to wait for
        }
        return undefined;
    }
    if (x.complete && !draining) {
      // [DONE] came before the body's end: wait for it briefly, dropping what comes.
      sink.cut(t);
      this.#draining = true;
    }
    return undefined;
  }

  /** The peer closed the connection at `t`: whether it is reusable (never), or why it failed. */
  closed(t: number): boolean {
    if (this.#draining) return false;
    const x = this.#x;
    const sink = this.#sink;
    switch (this.#framing) {
      case "length":
        if (x.complete || sink.cut(t)) return false;
        throw new NetworkError(
          `the server closed the connection ${this.#remaining} bytes before the end of the body`,
        );
      case "chunked":
        if (x.complete || sink.cut(t)) return false;
        throw new NetworkError("the server closed the connection inside a chunked body");
      default:
        if (!x.complete) sink.end(t);
        return false;
    }
  }

  /** A read failed with `err`: not reusable, or `err` again when the body is not complete. */
  broken(err: unknown): boolean {
    if (this.#draining) return false;
    if (this.#x.stopped || !this.#sink.cut(performance.now())) throw err;
    return false;
  }

  data(buf: Uint8Array, n: number, at: number): boolean {
    let r: boolean | undefined;
    try {
      r = this.feed(buf, 0, n, at);
    } catch (e) {
      this.reject!(e);
      return true;
    }
    if (r === undefined) return false;
    this.resolve!(r);
    return true;
  }

  end(error: unknown, at: number): void {
    try {
      this.resolve!(error === null ? this.closed(at) : this.broken(error));
    } catch (e) {
      this.reject!(e);
    }
  }
}

/**
 * Read the body framed as `head` says, starting with the bytes `c.buf[start, filled)` already
 * read ({@link BodyReader}). Returns whether the connection ended exactly at the body's end.
 */
function readBody(
  c: Connection,
  head: ResponseHead,
  start: number,
  filled: number,
  sink: BodySink,
  x: Exchange,
): boolean | Promise<boolean> {
  const reader = new BodyReader(head, sink, x);
  const first = reader.feed(c.buf, start, filled, x.last);
  if (first !== undefined) return first;
  const conn = c.conn;
  if (conn.pump !== undefined) {
    return new Promise<boolean>((resolve, reject) => {
      reader.resolve = resolve;
      reader.reject = reject;
      conn.pump!(reader);
    });
  }
  return readLoop(c, reader, filled);
}

/** {@link readBody} over a connection without a pump: one awaited read at a time. */
async function readLoop(c: Connection, reader: BodyReader, filled: number): Promise<boolean> {
  const conn = c.conn;
  let buf = c.buf;
  let e = filled;
  for (;;) {
    // A full buffer last time means more is queued: read more at once.
    if (e === buf.length && buf.length < MAX_READ_BUFFER_BYTES) {
      c.buf = buf = new Uint8Array(Math.min(buf.length * 4, MAX_READ_BUFFER_BYTES));
    }
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (err) {
      return reader.broken(err);
    }
    const t = conn.readAt ?? performance.now();
    if (n === null) return reader.closed(t);
    e = n;
    const r = reader.feed(buf, 0, n, t);
    if (r !== undefined) return r;
  }
}

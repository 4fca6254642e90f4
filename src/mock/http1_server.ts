/**
 * The mock's own HTTP/1.1 server, over a `Deno.Listener`. It exists for the paced path: under
 * `Deno.serve` every paced write costs a body-stream read and the server's own write machinery
 * (~25 µs of CPU per event on the development VM); here a streamed reply's due tokens go to the
 * socket as one pre-framed chunk in one write, from the pacer's callback (`reply_stream.ts`),
 * and a whole reply is one write of head and body.
 *
 * Per connection: one read is always pending (so a client that goes away is noticed while its
 * reply is being written: the stream is cancelled, the request's signal aborts), requests are
 * answered one at a time in order (pipelined ones wait in the buffer), writes are queued in
 * order and joined while one is in flight. Keep-alive as HTTP/1.1 says (`Connection: close`
 * ends it; HTTP/1.0 keeps it only when asked, and gets close-delimited streams). The app may also
 * answer with a `Response` (the faults do: they rewrite bodies as streams): its body is written
 * chunked as it is read, and a body that fails cuts the connection, as `Deno.serve` does.
 *
 * @module
 */
import type { MockAnswer, MockRequest, WholeAnswer } from "./engine.ts";
import { SSE_HEADERS } from "./engine.ts";
import { ReplyStream, type StreamSink } from "./reply_stream.ts";
import { BadRequest, decodeChunked, parseRequestHead, type RequestHead } from "./request_head.ts";
import { bytesOf, chunkOf } from "./slab.ts";

/** A request read by the server. */
export interface IncomingRequest extends MockRequest {
  /** The request target as sent (path and query). */
  readonly target: string;
  /** When its head had arrived (`performance.now()`). */
  readonly arrival: number;
  /** Its body. */
  readonly body: Uint8Array;
  /** The request as a `Request` (aborted when the client goes away). */
  toRequest(): Request;
}

/** What answers each request. */
export type Http1App = (req: IncomingRequest) => Promise<MockAnswer | Response>;

/** A running server. */
export interface Http1Server {
  /** Stop accepting; close idle connections, and the others after their current response. */
  close(): Promise<void>;
}

/** Unpaced streams write events until a write holds this many characters. */
const BATCH_CHARS = 16 * 1024;
/** The most a connection buffers (a request, or bytes sent while its reply is written). */
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;
const READ_BUFFER_BYTES = 16 * 1024;

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** The `date` header line (RFC 9110 §6.6.1: a server with a clock sends one), built once a second. */
let dateSecond = -1;
let dateText = "";
function dateLine(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateText;
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n${dateLine()}`;
}

function sseHead(chunked: boolean, close: boolean): Uint8Array {
  let h = statusLine(200);
  for (const [k, v] of Object.entries(SSE_HEADERS)) h += `${k}: ${v}\r\n`;
  if (chunked) h += "transfer-encoding: chunked\r\n";
  if (close) h += "connection: close\r\n";
  return new TextEncoder().encode(h + "\r\n");
}

/** Pre-encoded heads of a streamed reply, [chunked][close], rebuilt when the date changes. */
let sseHeadsDate = "";
let sseHeadsCache: Uint8Array[][] = [];
function sseHeads(): Uint8Array[][] {
  if (sseHeadsDate !== dateLine()) {
    sseHeadsDate = dateLine();
    sseHeadsCache = [
      [sseHead(false, false), sseHead(false, true)],
      [sseHead(true, false), sseHead(true, true)],
    ];
  }
  return sseHeadsCache;
}
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

const decoder = new TextDecoder();

function join(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Serve HTTP/1.1 on `listener` with `app` until {@link Http1Server.close}. */
export function serveHttp1(listener: Deno.Listener, app: Http1App): Http1Server {
  const conns = new Set<Connection>();
  const state = { closing: false };
  let allClosed: (() => void) | undefined;
  const forget = (c: Connection) => {
    conns.delete(c);
    if (state.closing && conns.size === 0) allClosed?.();
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        if (state.closing) {
          conn.close();
          continue;
        }
        try {
          (conn as Deno.TcpConn).setNoDelay?.(true);
        } catch { /* not TCP */ }
        const c = new Connection(conn, app, state, forget);
        conns.add(c);
        c.run();
      }
    } catch { /* the listener closed */ }
  })();
  return {
    async close() {
      state.closing = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
      const done = new Promise<void>((resolve) => (allClosed = resolve));
      for (const c of [...conns]) c.closeIdle();
      if (conns.size > 0) await done;
    },
  };
}

/** One request on a connection, as the app sees it. */
class Incoming implements IncomingRequest {
  readonly method: string;
  readonly path: string;
  readonly target: string;
  readonly headers: RequestHead["headers"];
  readonly arrival: number;
  readonly body: Uint8Array;
  #c: Connection;

  constructor(c: Connection, h: RequestHead, body: Uint8Array, arrival: number) {
    this.#c = c;
    this.method = h.method;
    this.path = h.path;
    this.target = h.target;
    this.headers = h.headers;
    this.arrival = arrival;
    this.body = body;
  }

  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(decoder.decode(this.body)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  toRequest(): Request {
    const host = this.headers.get("host") ?? "localhost";
    const url = /^https?:\/\//i.test(this.target) ? this.target : `http://${host}${this.target}`;
    const headers = new Headers();
    for (const [k, v] of this.headers.pairs) {
      try {
        headers.append(k, v);
      } catch { /* a value Headers refuses: the mock reads none of those */ }
    }
    const bodied = this.method !== "GET" && this.method !== "HEAD";
    return new Request(url, {
      method: this.method,
      headers,
      body: bodied ? this.body as Uint8Array<ArrayBuffer> : undefined,
      signal: this.#c.signal(),
    });
  }
}

/** One client connection. */
class Connection {
  #conn: Deno.Conn;
  #app: Http1App;
  #server: { closing: boolean };
  #forget: (c: Connection) => void;
  #buf = new Uint8Array(READ_BUFFER_BYTES);
  #filled = 0;
  #pos = 0;
  #readAt = 0;
  #closed = false;
  // The request being answered, if any.
  #busy = false;
  #head: RequestHead | undefined; // parsed, waiting for its body
  #headAt = 0;
  #continued = false;
  #keepAlive = true;
  #chunked = true;
  #headOnly = false;
  #stream: ReplyStream | undefined;
  #abort: AbortController | undefined;
  #onHangUp: (() => void) | undefined;
  // Writes: the one in flight, and those queued behind it.
  #cur: Uint8Array | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #drain: (() => void) | undefined;
  #closeWhenDrained = false;

  constructor(
    conn: Deno.Conn,
    app: Http1App,
    server: { closing: boolean },
    forget: (c: Connection) => void,
  ) {
    this.#conn = conn;
    this.#app = app;
    this.#server = server;
    this.#forget = forget;
  }

  /** The signal of the request being answered: aborts when the client goes away. */
  signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#closed) this.#abort.abort();
    return this.#abort.signal;
  }

  /** Read requests until the connection ends. */
  async run(): Promise<void> {
    try {
      for (;;) {
        if (this.#pos === this.#filled) this.#pos = this.#filled = 0;
        else if (!this.#busy && this.#pos > 0) {
          this.#buf.copyWithin(0, this.#pos, this.#filled);
          this.#filled -= this.#pos;
          this.#pos = 0;
        }
        if (this.#filled === this.#buf.length) {
          if (this.#buf.length >= MAX_BUFFER_BYTES) {
            if (this.#busy) break;
            return this.#refuse(new BadRequest(413, "request too large"));
          }
          const bigger = new Uint8Array(this.#buf.length * 4);
          bigger.set(this.#buf.subarray(0, this.#filled));
          this.#buf = bigger;
        }
        const n = await this.#conn.read(this.#buf.subarray(this.#filled));
        if (n === null || this.#closed) break;
        this.#readAt = performance.now();
        this.#filled += n;
        this.#next(true);
        if (this.#closed) return;
      }
    } catch { /* reset, or closed by us */ }
    this.#hangUp();
  }

  /** The server is closing: close now when idle, else after the current response. */
  closeIdle(): void {
    this.#keepAlive = false;
    if (!this.#busy) this.#hangUp();
  }

  /** Answer the requests complete in the buffer, one at a time. */
  #next(justRead = false): void {
    while (!this.#busy && !this.#closed && !this.#closeWhenDrained && this.#pos < this.#filled) {
      const buf = this.#buf;
      let h = this.#head;
      try {
        if (h === undefined) {
          h = parseRequestHead(buf, this.#pos, this.#filled);
          if (h === undefined) return;
          this.#head = h;
          this.#headAt = justRead ? this.#readAt : performance.now();
          this.#continued = false;
        }
        let body: Uint8Array;
        let end: number;
        if (h.length === -1) {
          const r = decodeChunked(buf, h.bodyStart, this.#filled);
          if (r === undefined) return this.#askForBody(h);
          body = r.body;
          end = r.end;
        } else {
          end = h.bodyStart + h.length;
          if (end > this.#filled) {
            if (h.length > MAX_BUFFER_BYTES / 2) throw new BadRequest(413, "request too large");
            return this.#askForBody(h);
          }
          body = buf.slice(h.bodyStart, end);
        }
        this.#head = undefined;
        this.#pos = end;
        this.#dispatch(h, body, this.#headAt);
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        return this.#refuse(e);
      }
    }
  }

  #askForBody(h: RequestHead): void {
    if (h.expectContinue && !this.#continued) {
      this.#continued = true;
      this.#write(CONTINUE);
    }
  }

  #refuse(e: BadRequest): void {
    this.#busy = true;
    this.#keepAlive = false;
    this.#chunked = true;
    this.#headOnly = false;
    this.#writeWhole({
      status: e.status,
      headers: { "content-type": "text/plain" },
      body: e.message,
    });
  }

  #dispatch(h: RequestHead, body: Uint8Array, arrival: number): void {
    this.#busy = true;
    this.#keepAlive = h.keepAlive && !this.#server.closing;
    this.#chunked = h.minor === 1;
    this.#headOnly = h.method === "HEAD";
    let answer: Promise<MockAnswer | Response>;
    try {
      answer = this.#app(new Incoming(this, h, body, arrival));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(this.#answered, this.#failed);
  }

  #answered = (a: MockAnswer | Response): void => {
    if (this.#closed) {
      // The client went away while the answer was made.
      if (a instanceof ReplyStream) a.cancel();
      else if (a instanceof Response) a.body?.cancel().catch(() => {});
      return;
    }
    if (a instanceof ReplyStream) this.#startStream(a);
    else if (a instanceof Response) this.#writeResponse(a);
    else this.#writeWhole(a);
  };

  #failed = (): void => {
    if (this.#closed) return;
    this.#keepAlive = false;
    this.#writeWhole({
      status: 500,
      headers: { "content-type": "text/plain" },
      body: "Internal Server Error",
    });
  };

  #writeWhole(a: WholeAnswer): void {
    const body = this.#headOnly ? undefined : bytesOf(a.body);
    let head = statusLine(a.status);
    for (const k in a.headers) head += `${k}: ${a.headers[k]}\r\n`;
    head += `content-length: ${body?.length ?? new TextEncoder().encode(a.body).length}\r\n`;
    if (!this.#keepAlive) head += "connection: close\r\n";
    head += "\r\n";
    const h = bytesOf(head);
    this.#write(body === undefined ? h : join([h, body], h.length + body.length));
    this.#done();
  }

  #startStream(s: ReplyStream): void {
    if (this.#headOnly) {
      s.cancel();
      this.#write(sseHeads()[1][1]);
      this.#keepAlive = false;
      return this.#done();
    }
    if (!this.#chunked) this.#keepAlive = false; // HTTP/1.0: the body ends when we close
    this.#stream = s;
    this.#write(sseHeads()[this.#chunked ? 1 : 0][this.#keepAlive ? 0 : 1]);
    s.start(this.#sink);
    if (!s.paced) this.#pumpUnpaced(s);
  }

  async #pumpUnpaced(s: ReplyStream): Promise<void> {
    while (!s.closed && !this.#closed) {
      await s.pump();
      if (s.closed || this.#closed) return;
      await this.#drained();
    }
  }

  #sink: StreamSink = {
    batchChars: BATCH_CHARS,
    write: (text) => {
      if (this.#closed) return false;
      this.#write(this.#chunked ? chunkOf(text, false) : bytesOf(text));
      return true;
    },
    end: (text) => {
      if (this.#closed) return;
      const bytes = this.#chunked ? chunkOf(text, true) : bytesOf(text);
      if (bytes.length > 0) this.#write(bytes);
      this.#done();
    },
  };

  /** A `Response` (from the faults): head, then its body chunked as it is read. */
  async #writeResponse(res: Response): Promise<void> {
    const body = this.#headOnly ? null : res.body;
    if (body === null) res.body?.cancel().catch(() => {});
    const chunked = this.#chunked;
    if (!chunked && body !== null) this.#keepAlive = false;
    let head = statusLine(res.status);
    res.headers.forEach((v, k) => {
      if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection") {
        head += `${k}: ${v}\r\n`;
      }
    });
    if (body === null) head += "content-length: 0\r\n";
    else if (chunked) head += "transfer-encoding: chunked\r\n";
    if (!this.#keepAlive) head += "connection: close\r\n";
    this.#write(bytesOf(head + "\r\n"));
    if (body === null) return this.#done();
    const reader = body.getReader();
    this.#onHangUp = () => reader.cancel().catch(() => {});
    try {
      for (;;) {
        const r = await reader.read();
        if (this.#closed) return;
        if (r.done) break;
        const n = r.value.length;
        if (n === 0) continue;
        if (!chunked) this.#write(r.value);
        else {
          const size = bytesOf(n.toString(16) + "\r\n");
          this.#write(join([size, r.value, CRLF], size.length + n + 2));
        }
        await this.#drained();
        if (this.#closed) return;
      }
    } catch {
      // The body failed (a fault's cut connection): end the connection without ending the body.
      return this.#hangUp();
    }
    if (chunked) this.#write(LAST_CHUNK);
    this.#done();
  }

  /** The current response is written (or queued): on to the next request, or close. */
  #done(): void {
    this.#busy = false;
    this.#stream = undefined;
    this.#abort = undefined;
    this.#onHangUp = undefined;
    if (!this.#keepAlive || this.#server.closing) {
      if (this.#cur === undefined) this.#hangUp();
      else this.#closeWhenDrained = true;
      return;
    }
    this.#next();
  }

  #write(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#cur !== undefined) {
      this.#queue.push(bytes);
      this.#queued += bytes.length;
      return;
    }
    this.#send(bytes);
  }

  #send(bytes: Uint8Array): void {
    this.#cur = bytes;
    this.#conn.write(bytes).then(this.#wrote, this.#writeFailed);
  }

  #wrote = (n: number): void => {
    if (this.#closed) return;
    const cur = this.#cur!;
    if (n < cur.length) return this.#send(cur.subarray(n));
    this.#cur = undefined;
    const q = this.#queue;
    if (q.length > 0) {
      const next = q.length === 1 ? q[0] : join(q, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      return this.#send(next);
    }
    if (this.#closeWhenDrained) return this.#hangUp();
    const drain = this.#drain;
    if (drain !== undefined) {
      this.#drain = undefined;
      drain();
    }
  };

  #writeFailed = (): void => this.#hangUp();

  /** Resolves when every write so far has gone to the socket (or the connection ended). */
  #drained(): Promise<void> {
    if (this.#cur === undefined || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const before = this.#drain;
      this.#drain = before === undefined ? resolve : () => {
        before();
        resolve();
      };
    });
  }

  /** The connection ended (either side): stop what it was doing and forget it. */
  #hangUp(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#stream?.cancel();
    this.#abort?.abort();
    this.#onHangUp?.();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.();
    this.#forget(this);
  }
}

const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");

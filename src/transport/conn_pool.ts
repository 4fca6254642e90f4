/**
 * Keep-alive connections of the socket transport, one idle stack per origin. A connection carries
 * one request at a time (no pipelining), so the pool never holds more connections to an origin
 * than the most requests that were in flight to it together. Each connection owns its read buffer.
 *
 * An idle connection keeps one read pending (its {@link Connection.watch}): when the server
 * closes it (a keep-alive timeout) or writes to it unasked (a `408` before closing), the read
 * ends and the connection is dropped, so no request is sent on it (an epoll socket's read is
 * tried again when it is taken, in case what ended it is not dispatched yet). The next request
 * that takes the connection uses that read as the first read of its response.
 *
 * @module
 */
import type { Target } from "./http1_request.ts";
import {
  epollAvailable,
  EpollConn,
  forgetAddress,
  type ReadPump,
  resolveAddress,
  SocketError,
} from "./epoll.ts";

/**
 * What the socket transport needs of a connection: a `Deno.Conn`, or an {@link EpollConn} (which
 * also says when each read's bytes arrived, `readAt`).
 */
export interface ByteConn {
  /** Read into the buffer: bytes read, `null` at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Write some of the bytes: how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Close (throws when already closed). */
  close(): void;
  /** When the last read's bytes arrived (kernel stamp, `performance.now()`'s clock), if known. */
  readonly readAt?: number;
  /** Hand every read to a callback until it stops (an {@link EpollConn}: no promise per read). */
  pump?(pump: ReadPump): void;
}

/**
 * Bytes of a new connection's read buffer. A paced stream's read holds one event (a few hundred
 * bytes), so thousands of streams keep small buffers; a read that fills its buffer means events
 * are queueing, and the buffer grows (×4 up to {@link MAX_READ_BUFFER_BYTES}) so that one read
 * carries up to a few hundred events.
 */
export const READ_BUFFER_BYTES = 4 * 1024;
/** The largest a connection's read buffer grows. */
export const MAX_READ_BUFFER_BYTES = 64 * 1024;

/** One open connection. */
export interface Connection {
  /** The socket (a `Deno.TlsConn` for https; an {@link EpollConn} for http where it can be). */
  conn: ByteConn;
  /** Its read buffer (replaced by a larger one when reads fill it, or a head does not fit). */
  buf: Uint8Array;
  /** The origin it is connected to. */
  origin: string;
  /** Requests it has finished (0 while its first is in flight). */
  uses: number;
  /** Whether it is in the idle stack. */
  idle: boolean;
  /**
   * The read pending since the connection went idle (into `buf`, from 0): the next request on
   * it must take this as its first read. `undefined` once taken.
   */
  watch: Promise<number | null> | undefined;
  /** Ends the connection if its watch ends while it is idle (one per connection). */
  watched: () => void;
  /** How long the TCP connect took, ms. */
  connectMs: number;
  /** How long the TLS handshake took, ms (`undefined` for http). */
  tlsMs: number | undefined;
}

/** The TCP connection was made, but the TLS handshake on it failed (message: the reason). */
export class HandshakeError extends Error {
  /** @param cause the handshake's error */
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "HandshakeError";
  }
}

/** Options of {@link ConnectionPool}. */
export interface PoolOptions {
  /** PEM certificates trusted in addition to the default roots (https). */
  caCerts?: string[];
  /**
   * Plain-http connections through {@link EpollConn} (each read stamped by the kernel) where
   * this process can ({@link epollAvailable}); `false`: always `Deno.connect`. Default true.
   */
  kernelStamps?: boolean;
}

/** Idle keep-alive connections by origin. */
export class ConnectionPool {
  #idle = new Map<string, Connection[]>();
  #open = new Set<Connection>();
  #caCerts?: string[];
  #epoll: boolean;

  /** @param opts extra CA certificates, whether plain http may use epoll sockets */
  constructor(opts: PoolOptions = {}) {
    this.#caCerts = opts.caCerts;
    this.#epoll = opts.kernelStamps !== false;
  }

  /** Whether this pool's plain-http connections are {@link EpollConn}s. */
  get kernelStamps(): boolean {
    return this.#epoll && epollAvailable();
  }

  /** Open connections, idle or in use. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * The most recently released idle connection to `origin` that the server has not closed, if
   * any. Its {@link Connection.watch} is the first read of the next response.
   */
  take(origin: string): Connection | undefined {
    const stack = this.#idle.get(origin);
    if (stack === undefined) return undefined;
    for (;;) {
      const c = stack.pop();
      if (c === undefined) return undefined;
      if (!c.idle) continue; // dropped while idle (already closed): skip it
      // An epoll socket's watch is tried at once: bytes or the end that arrived while it was
      // idle (a 408 before closing) but are not dispatched yet drop it now, before a request.
      if (c.conn instanceof EpollConn && c.conn.probe()) {
        this.discard(c);
        continue;
      }
      c.idle = false;
      return c;
    }
  }

  /**
   * Connect to `t` (TCP, then the TLS handshake for https), timing each phase (one
   * `performance.now()` per phase, kept on the connection). `signal` aborts the attempt: the
   * promise then rejects and nothing is left open. A failed handshake is a {@link HandshakeError}.
   */
  async open(t: Target, signal: AbortSignal): Promise<Connection> {
    const t0 = performance.now();
    if (!t.tls && this.kernelStamps) {
      // The name is resolved once per thread (a probe connection), not timed as the connect.
      const ip = await resolveAddress(t.hostname, t.port, signal);
      const t1 = performance.now();
      let conn: EpollConn;
      try {
        conn = await EpollConn.connect(ip, t.port, signal);
      } catch (e) {
        if (e instanceof SocketError) forgetAddress(t.hostname, t.port);
        throw e;
      }
      conn.setNoDelay(true);
      return this.#made(conn, t, performance.now() - t1, undefined);
    }
    const tcp = await Deno.connect({ hostname: t.hostname, port: t.port, signal });
    const t1 = performance.now();
    let tlsMs: number | undefined;
    let conn: Deno.Conn = tcp;
    const onAbort = () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      tcp.setNoDelay(true);
      if (t.tls) {
        // Offer HTTP/1.1 only: a server that speaks only HTTP/2 then says so in the handshake
        // (a `NoApplicationProtocol` alert) instead of hanging up on the request.
        const tls = await Deno.startTls(tcp, {
          hostname: t.hostname,
          caCerts: this.#caCerts,
          alpnProtocols: ["http/1.1"],
        });
        conn = tls;
        if (signal.aborted) throw signal.reason;
        await tls.handshake();
        tlsMs = performance.now() - t1;
      }
    } catch (e) {
      onAbort();
      throw t.tls && !signal.aborted ? new HandshakeError(e) : e;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    return this.#made(conn, t, t1 - t0, tlsMs);
  }

  #made(conn: ByteConn, t: Target, connectMs: number, tlsMs: number | undefined): Connection {
    const c: Connection = {
      conn,
      buf: new Uint8Array(READ_BUFFER_BYTES),
      origin: t.origin,
      uses: 0,
      idle: false,
      watch: undefined,
      // Anything while idle (closed, reset, bytes nobody asked for) ends the connection. A watch
      // that ends after a request took the connection is that request's (it runs first).
      watched: () => {
        if (c.idle) this.discard(c);
      },
      connectMs,
      tlsMs,
    };
    this.#open.add(c);
    return c;
  }

  /** A finished exchange left `c` reusable: keep it for the next request to its origin. */
  release(c: Connection): void {
    c.uses++;
    c.idle = true;
    const watch = c.conn.read(c.buf);
    c.watch = watch;
    watch.then(c.watched, c.watched);
    let stack = this.#idle.get(c.origin);
    if (stack === undefined) this.#idle.set(c.origin, stack = []);
    stack.push(c);
  }

  /** Close `c` and forget it. */
  discard(c: Connection): void {
    this.#open.delete(c);
    c.idle = false;
    try {
      c.conn.close();
    } catch { /* already closed */ }
  }

  /** Close every connection. */
  close(): void {
    for (const c of this.#open) {
      try {
        c.conn.close();
      } catch { /* already closed */ }
    }
    this.#open.clear();
    this.#idle.clear();
  }
}

/**
 * The bench's cheapest read path: TCP sockets read through Linux `epoll` and `read(2)`, called
 * from JavaScript through Deno's FFI (`Deno.dlopen` of libc), for the floor's `epoll` reader
 * (`bench/floor_client.ts`). It says how far under a `Deno.Conn` read loop a JavaScript client
 * on Deno can go at all (docs/performance.md, "Hot path v10").
 *
 * One {@link Reactor} per isolate owns an epoll set, and its loop blocks the thread in a
 * synchronous `epoll_wait` (as a C loop does): the floor does nothing but read, so nothing else
 * needs the event loop while it waits. The loop wakes, reads each ready socket with one
 * non-blocking `read(2)` (an FFI call), resolves that socket's pending read, lets the
 * continuations run (microtasks), and waits again; it ends when no read is pending. It is not
 * llmperf's transport: a worker blocked in `epoll_wait` would not see its messages or timers
 * (measured there, it cost the same CPU as `Deno.connect`, docs/performance.md).
 *
 * Sockets are registered edge-triggered. A read that returns less than it was given drained the
 * socket (a stream socket returns everything queued), so the socket is marked empty and the next
 * edge says when more arrived; a read that fills its buffer leaves it marked readable.
 *
 * {@link EpollConn} has the part of `Deno.Conn` a read loop uses (`read`, `write`, `close`,
 * `setNoDelay`); each read leaves the `performance.now()` taken right after its `read(2)` in
 * {@link EpollConn.readAt}. Linux on x86-64 or arm64, IPv4 or IPv6 literals, FFI permission.
 *
 * @example
 * ```ts ignore
 * import { EpollConn } from "./epoll_conn.ts";
 * const c = await EpollConn.connect("127.0.0.1", 8000);
 * await c.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
 * const n = await c.read(new Uint8Array(4096));
 * c.close();
 * ```
 *
 * @module
 */

const EAGAIN = 11;
const EINTR = 4;
const EINPROGRESS = 115;

const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 1 << 31;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SOL_SOCKET = 1;
const SO_ERROR = 4;

/** Events one `epoll_wait` returns at most. */
const MAX_EVENTS = 1024;
/** Longest one wait blocks (ms) before the loop checks that reads are still pending. */
const WAIT_MS = 1000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;
let available: boolean | undefined;

/**
 * Whether this process can read sockets through epoll: Linux on x86-64 or arm64, and the FFI
 * permission granted (asked without a prompt). Loads libc on the first call that says yes.
 */
export function epollAvailable(): boolean {
  if (available !== undefined) return available;
  available = false;
  if (Deno.build.os !== "linux") return false;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return false;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    errnoView = new Deno.UnsafePointerView(libc.__errno_location()!);
    available = true;
  } catch {
    available = false;
  }
  return available;
}

function lib(): Libc {
  if (libc === undefined && !epollAvailable()) {
    throw new Error("epoll sockets need Linux and the FFI permission (--allow-ffi)");
  }
  return libc!;
}

/** The calling thread's `errno`, just after a failed call. */
function errno(): number {
  return errnoView!.getInt32();
}

/** The message for an errno value, as `strerror` says it. */
function message(code: number): string {
  const p = libc!.strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** A failed system call on a socket (`code`: its errno). */
export class SocketError extends Error {
  /** The errno value. */
  readonly code: number;
  /**
   * @param call the system call that failed
   * @param code its errno
   */
  constructor(call: string, code: number) {
    super(`${call}: ${message(code)}`);
    this.name = "SocketError";
    this.code = code;
  }
}

// x86-64 packs `struct epoll_event` (u32 events, u64 data) into 12 bytes; arm64 aligns it to 16.
const EVENT_BYTES = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;

/** A read waiting for its socket. */
interface PendingRead {
  buf: Uint8Array;
  resolve: (n: number | null) => void;
  reject: (e: unknown) => void;
}

/** The epoll set of one isolate, and the loop that waits on it. */
class Reactor {
  #c: Libc;
  #ep: number;
  #conns = new Map<number, EpollConn>();
  #waiting = 0;
  #running = false;
  #events = new Uint8Array(MAX_EVENTS * EVENT_BYTES);
  #view = new DataView(this.#events.buffer);
  #ev = new Uint8Array(EVENT_BYTES);
  #evView = new DataView(this.#ev.buffer);

  constructor(c: Libc) {
    this.#c = c;
    this.#ep = c.epoll_create1(0o2000000);
    if (this.#ep < 0) throw new SocketError("epoll_create1", errno());
  }

  #ctl(op: number, fd: number, events: number): void {
    const v = this.#evView;
    v.setUint32(0, events >>> 0, true);
    v.setUint32(DATA_OFFSET, fd, true);
    v.setUint32(DATA_OFFSET + 4, 0, true);
    if (this.#c.epoll_ctl(this.#ep, op, fd, this.#ev) < 0) {
      throw new SocketError("epoll_ctl", errno());
    }
  }

  add(conn: EpollConn, events: number): void {
    this.#ctl(EPOLL_CTL_ADD, conn.fd, events);
    this.#conns.set(conn.fd, conn);
  }

  modify(conn: EpollConn, events: number): void {
    this.#ctl(EPOLL_CTL_MOD, conn.fd, events);
  }

  remove(conn: EpollConn): void {
    if (this.#conns.get(conn.fd) !== conn) return;
    this.#conns.delete(conn.fd);
    try {
      this.#ctl(EPOLL_CTL_DEL, conn.fd, 0);
    } catch { /* closing anyway */ }
  }

  /** A connection now waits for an event: make sure the loop runs. */
  wait(): void {
    this.#waiting++;
    if (!this.#running) {
      this.#running = true;
      this.#loop();
    }
  }

  /** A connection's wait ended. */
  done(): void {
    this.#waiting--;
  }

  #dispatch(n: number): void {
    const view = this.#view;
    for (let i = 0; i < n; i++) {
      const at = i * EVENT_BYTES;
      const events = view.getUint32(at, true);
      const fd = view.getUint32(at + DATA_OFFSET, true);
      this.#conns.get(fd)?.ready(events);
    }
  }

  async #loop(): Promise<void> {
    const c = this.#c;
    try {
      while (this.#waiting > 0) {
        const n = c.epoll_wait(this.#ep, this.#events, MAX_EVENTS, WAIT_MS);
        if (n > 0) this.#dispatch(n);
        else if (n < 0 && errno() !== EINTR) throw new SocketError("epoll_wait", errno());
        await null; // the reads' continuations run before the next wait
      }
    } finally {
      this.#running = false;
    }
  }
}

let reactor: Reactor | undefined;
function theReactor(): Reactor {
  return reactor ??= new Reactor(lib());
}

/** The bytes of a `sockaddr_in` / `sockaddr_in6` for an IP address and port. */
function sockaddr(ip: string, port: number): Uint8Array {
  if (ip.includes(":")) {
    const a = new Uint8Array(28);
    const v = new DataView(a.buffer);
    v.setUint16(0, AF_INET6, true);
    v.setUint16(2, port, false);
    const groups = expand6(ip);
    for (let i = 0; i < 8; i++) v.setUint16(8 + i * 2, groups[i], false);
    return a;
  }
  const a = new Uint8Array(16);
  const v = new DataView(a.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  const parts = ip.split(".").map(Number);
  for (let i = 0; i < 4; i++) a[4 + i] = parts[i];
  return a;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an IPv4 tail converted). */
function expand6(ip: string): number[] {
  let s = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [l, r] = s.split("::");
  const left = l === "" ? [] : l.split(":");
  const right = r === undefined ? [] : r === "" ? [] : r.split(":");
  const zeros = r === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array(zeros).fill("0"), ...right].map((g) => parseInt(g, 16));
}

/** Whether `host` is an IP address literal (v4, or v6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":");
}

/** A TCP connection read and written through the isolate's epoll set. */
export class EpollConn {
  /** The socket's file descriptor (-1 once closed). */
  fd: number;
  /** `performance.now()` right after the `read(2)` that ended the last read. */
  readAt = 0;
  #r: Reactor;
  #readable = false;
  #writable = false;
  #closed = false;
  #read: PendingRead | undefined;
  #connect: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #write: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  private constructor(fd: number, r: Reactor) {
    this.fd = fd;
    this.#r = r;
  }

  /**
   * Connect to `ip:port` (an IP address: resolve names first). `signal` aborts the attempt: the
   * promise rejects with its reason and the socket is closed.
   */
  static connect(ip: string, port: number, signal?: AbortSignal): Promise<EpollConn> {
    const c = lib();
    const r = theReactor();
    const addr = sockaddr(ip, port);
    const family = addr.length === 16 ? AF_INET : AF_INET6;
    const fd = c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Promise.reject(new SocketError("socket", errno()));
    const conn = new EpollConn(fd, r);
    if (c.connect(fd, addr, addr.length) === 0) {
      conn.#writable = true;
      r.add(conn, EPOLLIN | EPOLLRDHUP | EPOLLET);
      return Promise.resolve(conn);
    }
    const code = errno();
    if (code !== EINPROGRESS) {
      c.close(fd);
      return Promise.reject(new SocketError("connect", code));
    }
    r.add(conn, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    return new Promise<EpollConn>((resolve, reject) => {
      const onAbort = () => {
        conn.#connect = undefined;
        r.done();
        conn.close();
        reject(signal!.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      conn.#connect = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(conn);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          conn.close();
          reject(e);
        },
      };
      r.wait();
    });
  }

  /** Set `TCP_NODELAY` (on by default in {@link EpollConn.connect}'s callers). */
  setNoDelay(on = true): void {
    const v = new Uint8Array(4);
    v[0] = on ? 1 : 0;
    libc!.setsockopt(this.fd, IPPROTO_TCP, TCP_NODELAY, v, 4);
  }

  /** epoll says something happened on the socket. */
  ready(events: number): void {
    if (this.#connect !== undefined && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) !== 0) {
      const pending = this.#connect;
      this.#connect = undefined;
      this.#r.done();
      const err = new Uint8Array(4);
      const len = new Uint8Array(4);
      len[0] = 4;
      libc!.getsockopt(this.fd, SOL_SOCKET, SO_ERROR, err, len);
      const code = new DataView(err.buffer).getInt32(0, true);
      if (code !== 0) pending.reject(new SocketError("connect", code));
      else {
        this.#writable = true;
        try {
          this.#r.modify(this, EPOLLIN | EPOLLRDHUP | EPOLLET);
        } catch (e) {
          pending.reject(e);
          return;
        }
        pending.resolve();
      }
    }
    if ((events & EPOLLOUT) !== 0 || (events & (EPOLLERR | EPOLLHUP)) !== 0) {
      this.#writable = true;
      const w = this.#write;
      if (w !== undefined) {
        this.#write = undefined;
        this.#r.done();
        w.resolve();
      }
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) !== 0) {
      this.#readable = true;
      const p = this.#read;
      if (p !== undefined) {
        const n = this.#tryRead(p.buf);
        if (n === undefined) return; // spurious: still empty
        this.#read = undefined;
        this.#r.done();
        if (n instanceof Error) p.reject(n);
        else p.resolve(n);
      }
    }
  }

  /** One `read(2)`: bytes, `null` at the end, an error, or `undefined` when empty. */
  #tryRead(buf: Uint8Array): number | null | Error | undefined {
    for (;;) {
      const n = Number(libc!.read(this.fd, buf, BigInt(buf.length)));
      if (n > 0) {
        this.readAt = performance.now();
        if (n < buf.length) this.#readable = false;
        return n;
      }
      if (n === 0) {
        this.readAt = performance.now();
        return null;
      }
      const code = errno();
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#readable = false;
        return undefined;
      }
      this.readAt = performance.now();
      return new SocketError("read", code);
    }
  }

  /**
   * Read into `buf`: the number of bytes, or `null` when the peer closed the connection. One read
   * at a time; a read pending when the connection is closed rejects.
   */
  read(buf: Uint8Array): Promise<number | null> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("the connection is closed"));
    }
    if (this.#read !== undefined) return Promise.reject(new Error("a read is already pending"));
    if (this.#readable) {
      const n = this.#tryRead(buf);
      if (n instanceof Error) return Promise.reject(n);
      if (n !== undefined) return Promise.resolve(n);
    }
    return new Promise((resolve, reject) => {
      this.#read = { buf, resolve, reject };
      this.#r.wait();
    });
  }

  /** Write all of `bytes` (waiting for room when the socket's send buffer is full). */
  async write(bytes: Uint8Array): Promise<number> {
    let off = 0;
    while (off < bytes.length) {
      if (this.#closed) throw new Deno.errors.BadResource("the connection is closed");
      const part = off === 0 ? bytes : bytes.subarray(off);
      const n = Number(libc!.write(this.fd, part, BigInt(part.length)));
      if (n >= 0) {
        off += n;
        continue;
      }
      const code = errno();
      if (code === EINTR) continue;
      if (code !== EAGAIN) throw new SocketError("write", code);
      this.#writable = false;
      this.#r.modify(this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
      await new Promise<void>((resolve, reject) => {
        this.#write = { resolve, reject };
        this.#r.wait();
      });
      this.#r.modify(this, EPOLLIN | EPOLLRDHUP | EPOLLET);
    }
    return bytes.length;
  }

  /** Close the socket; a pending read or write rejects. Closing twice throws, as `Deno.Conn`'s does. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("the connection is already closed");
    this.#closed = true;
    const r = this.#r;
    r.remove(this);
    libc!.close(this.fd);
    this.fd = -1;
    const gone = new Deno.errors.Interrupted("the connection was closed");
    for (const p of [this.#read, this.#write, this.#connect]) {
      if (p === undefined) continue;
      r.done();
      p.reject(gone);
    }
    this.#read = this.#write = this.#connect = undefined;
  }
}

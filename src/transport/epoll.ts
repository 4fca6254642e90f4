/**
 * TCP sockets read through Linux `epoll` and `recvmsg(2)` (libc through Deno's FFI), each read
 * stamped with the time the kernel received its bytes: the socket transport's plain-http
 * connections where this process may use FFI.
 *
 * Why: a client stamps an event when its code gets to the read, so every microsecond the client
 * spends elsewhere (another stream's events, finishing a request, a collection) is added to the
 * TTFT and inter-token gaps it reports; at 1,024 paced streams on one core that was tens of
 * milliseconds (docs/performance.md). With `SO_TIMESTAMPNS` the kernel stamps each packet as it
 * arrives, and `recvmsg` returns the stamp of the last packet it read: the event's arrival on this
 * machine, whatever the client was doing. {@link EpollConn.readAt} holds it, on
 * `performance.now()`'s clock; {@link EpollConn.readLagMs} how much later the read ran.
 *
 * The kernel turns stamping on a moment after the first socket on the machine asks for it: reads
 * of a process's first packets may come without a stamp, and keep the time they ran.
 *
 * One {@link Reactor} per isolate owns an epoll set. A read first tries its socket (one
 * non-blocking `recvmsg`, a fast FFI call); only an empty socket waits. Waiting is one
 * `epoll_wait` for every socket of the isolate: up to {@link SYNC_ROUNDS} synchronous polls in a
 * row while events keep coming (each followed by the reads' continuations), then the same call
 * with a timeout on Deno's blocking thread pool (`nonblocking: true`), during which the event loop
 * runs its timers and messages. That costs what a `Deno.Conn` read costs; the floor of the bench
 * may instead block its thread in `epoll_wait` ({@link useBlockingWaits}), which only a thread
 * that does nothing else can afford. Under a sparse load of many streams (1,024 paced streams:
 * ~20 events per ms, each socket's 50 ms apart) a wait on the pool wakes for the first socket
 * ready, ~2 events a wake, so the loop instead polls again on a timer (a tick, ~2 ms here), which
 * harvests dozens a wake for less: reads come later but keep the kernel's stamps. No tick runs
 * without stamps, nor while a connect, a write waiting for room or a body that ends at the peer's
 * close (whose end has no stamp) waits; the streams counted are the bodies being read (a pump),
 * not an idle kept-alive connection's watch ({@link reactorWaits} counts the waits by kind).
 *
 * Sockets are registered edge-triggered. A read that returns less than it asked for drained the
 * socket (a stream socket returns everything queued), so the socket is marked empty and the next
 * edge says when more arrived; a read that fills its buffer leaves it marked readable, and so
 * does the peer's close (its edge may come with the last bytes: the read after them returns the
 * end at once).
 *
 * {@link EpollConn} has the part of `Deno.Conn` the socket transport uses (`read`, `write`,
 * `close`, `setNoDelay`), so its HTTP/1.1 code is the same over both. Linux on x86-64 or arm64,
 * with the FFI permission ({@link epollAvailable}); names are resolved as `Deno.connect` resolves
 * them ({@link resolveAddress}).
 *
 * @example
 * ```ts ignore
 * import { EpollConn, epollAvailable } from "./epoll.ts";
 * if (epollAvailable()) {
 *   const c = await EpollConn.connect("127.0.0.1", 8000);
 *   await c.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
 *   const buf = new Uint8Array(4096);
 *   const n = await c.read(buf); // c.readAt: when the kernel had the bytes
 *   c.close();
 * }
 * ```
 *
 * @module
 */

import { LagHistogram, type LagSummary } from "../util/lag_histogram.ts";

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
/**
 * What a connection is registered for, once, for its life: edge-triggered, so a writable socket
 * reports EPOLLOUT only with another event or after a write found its send buffer full; `ready`
 * acts on it only for a connect or a write that waits. No `EPOLL_CTL_MOD` ever.
 */
const CONN_EVENTS = EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_TIMESTAMPNS = 35;
const CLOCK_REALTIME = 0;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** A clock sample read within this long (ms) is taken as exact ({@link Reactor}'s offset). */
const OFFSET_WINDOW_MS = 0.02;
/** Events one `epoll_wait` returns at most. */
const MAX_EVENTS = 1024;
/** Synchronous polls in a row, at most, before a wait on the thread pool lets the loop run. */
export const SYNC_ROUNDS = 8;
/** Longest one wait on the thread pool lasts (ms); a wake (eventfd) ends it sooner. */
const WAIT_MS = 1000;
/**
 * Under a sparse load of many streams, the set is polled every this long (ms, a timer; ~2 ms
 * here, as Deno's timers round up) instead of waited on: see `Reactor`'s `#useTick`.
 */
const TICK_MS = 1;
/** Events per ms (all the sockets) from which {@link TICK_MS} polls: 8 or more a tick. */
export const TICK_MIN_RATE = 4;
/**
 * A stream's mean time between events (ms: the bodies being read, i.e. pumps waiting, ÷ the
 * rate) from which {@link TICK_MS} polls: a tick is then a tenth of a stream's gap or less, and
 * far less of a request, so the closed loop's refills lose next to nothing. A mean: one dense
 * stream among many sparse ones is ticked too (its reads keep their stamps; its refill waits ~2
 * ms).
 */
export const TICK_MIN_GAP_MS = 20;
/** What a wait is for: a read (a response head, an idle connection's watch). */
const READ_WAIT = 0;
/** A body being read through a pump: a stream, counted for {@link TICK_MIN_GAP_MS}. */
const PUMP_WAIT = 1;
/**
 * A connect, a write waiting for room, or a body that ends at the peer's close: a tick would
 * hold up a request or shift an end without a stamp, so these end a tick and none runs meanwhile.
 */
const URGENT_WAIT = 2;
/** A kind of wait: {@link READ_WAIT}, {@link PUMP_WAIT} or {@link URGENT_WAIT}. */
type WaitKind = typeof READ_WAIT | typeof PUMP_WAIT | typeof URGENT_WAIT;
/** Weight of the latest stretch between two waits in {@link Reactor}'s event rate. */
const RATE_WEIGHT = 0.25;
/** Bytes one read takes at most (the socket transport's largest read buffer). */
const READ_BYTES = 64 * 1024;
/** Bytes of the control buffer (one `SCM_TIMESTAMPNS`: 16 of header, 16 of timespec). */
const CONTROL_BYTES = 64;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "pointer", "i32"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_pooled: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;
let available: boolean | undefined;

/**
 * Whether this process can read sockets through epoll: Linux on x86-64 or arm64, the FFI
 * permission granted (asked without a prompt), and libc loaded. Answers the same from then on.
 */
export function epollAvailable(): boolean {
  if (available !== undefined) return available;
  available = false;
  if (Deno.build.os !== "linux") return false;
  if (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64") return false;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    const lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    const errnoAt = lib.__errno_location();
    if (errnoAt === null) return false;
    libc = lib;
    errnoView = new Deno.UnsafePointerView(errnoAt);
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

/** A failed system call on a socket (`code`: its errno), worded as `strerror` words it. */
export class SocketError extends Error {
  /** The errno value. */
  readonly code: number;
  /**
   * @param call the system call that failed
   * @param code its errno
   */
  constructor(call: string, code: number) {
    const p = libc?.strerror(code) ?? null;
    super(`${call}: ${p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p)}`);
    this.name = "SocketError";
    this.code = code;
  }
}

// x86-64 packs `struct epoll_event` (u32 events, u64 data) into 12 bytes; arm64 aligns it to 16.
const EVENT_BYTES = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;

/** An operation waiting for its socket. */
interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

let blocking = false;

/**
 * Make this isolate's reactor block its thread in `epoll_wait` instead of waiting on the thread
 * pool: the cheapest wait, for a thread that does nothing but read (the bench's floor). Timers
 * and messages then wait for the reads; llmperf's transport never calls this.
 */
export function useBlockingWaits(): void {
  blocking = true;
}

/**
 * The epoll set of one isolate, the loop that waits on it, and the buffers every read of the
 * isolate shares (reads run one at a time on its thread).
 */
class Reactor {
  #c: Libc;
  #ep: number;
  #wake: number;
  #conns = new Map<number, EpollConn>();
  #ids = 0;
  /** `errno` of the last `recvmsg` that failed, taken right after it. */
  recvErrno = 0;
  #waiting = 0;
  #running = false;
  #pooled = false;
  /** Events per ms, a moving mean over the stretches between waits. */
  #rate = 0;
  /** Events harvested since the last wait. */
  #burst = 0;
  /** When the last wait began (`performance.now()`). */
  #idleAt = 0;
  /** Whether the last read with bytes had the kernel's stamp (a tick then shifts no timing). */
  #stamped = false;
  /** Urgent waits ({@link URGENT_WAIT}): while there are any, no tick runs. */
  #urgent = 0;
  /** Pumps waiting ({@link PUMP_WAIT}): the streams whose mean gap the tick's rule takes. */
  #pumps = 0;
  /** Ends the tick under way at once (a connect or write began, or nothing waits any more). */
  #endTick: (() => void) | undefined;
  #tickTimer: ReturnType<typeof setTimeout> | undefined;
  /** Waits so far, by kind ({@link reactorWaits}). */
  waits: ReactorWaits = { pooled: 0, ticks: 0, cutShort: 0 };
  #events = new Uint8Array(MAX_EVENTS * EVENT_BYTES);
  #view = new DataView(this.#events.buffer);
  #poolEvents = new Uint8Array(MAX_EVENTS * EVENT_BYTES);
  #poolView = new DataView(this.#poolEvents.buffer);
  #ev = new Uint8Array(EVENT_BYTES);
  #evView = new DataView(this.#ev.buffer);
  #eight = new Uint8Array(8);
  // recvmsg's buffers, in one ArrayBuffer of its own (off the heap, so they never move): the
  // bytes read, the control message, the iovec, the msghdr, a timespec.
  #mem = new ArrayBuffer(READ_BYTES + CONTROL_BYTES + 16 + 56 + 16);
  /** Where each read lands (then copied into the caller's buffer). */
  data = new Uint8Array(this.#mem, 0, READ_BYTES);
  #control = new DataView(this.#mem, READ_BYTES, CONTROL_BYTES);
  #iov = new DataView(this.#mem, READ_BYTES + CONTROL_BYTES, 16);
  #msg = new DataView(this.#mem, READ_BYTES + CONTROL_BYTES + 16, 56);
  #msgPtr: Deno.PointerValue;
  #clock = new Uint8Array(this.#mem, READ_BYTES + CONTROL_BYTES + 16 + 56, 16);
  #clockView = new DataView(this.#mem, READ_BYTES + CONTROL_BYTES + 16 + 56, 16);
  /** How long after their bytes arrived (kernel stamp) the reads ran. */
  lag = new LagHistogram();
  /** Epoch second that kernel stamps are counted from (keeps the milliseconds exact). */
  #epochS = 0;
  /** Realtime ms since `#epochS` minus `performance.now()`, as last sampled. */
  #offsetMs = 0;
  #offsetAt = -Infinity;

  constructor(c: Libc) {
    this.#c = c;
    this.#ep = c.epoll_create1(SOCK_CLOEXEC);
    if (this.#ep < 0) throw new SocketError("epoll_create1", errno());
    this.#wake = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#wake < 0) throw new SocketError("eventfd", errno());
    this.#ctl(EPOLL_CTL_ADD, this.#wake, EPOLLIN | EPOLLET);
    const at = (v: ArrayBufferView) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(v as Uint8Array)));
    // iovec { base: data, len } (len set per read); msghdr { name 0, namelen 0, iov, iovlen 1,
    // control, controllen (set per read), flags }.
    this.#iov.setBigUint64(0, at(this.data), true);
    this.#msg.setBigUint64(16, at(this.#iov), true);
    this.#msg.setBigUint64(24, 1n, true);
    this.#msg.setBigUint64(32, at(this.#control), true);
    this.#msgPtr = Deno.UnsafePointer.of(this.#msg as unknown as Uint8Array);
    this.#clockNow();
    this.#epochS = Number(this.#clockView.getBigInt64(0, true));
  }

  /** `id`: the connection's number, so that a stale event for a reused fd is told apart. */
  #ctl(op: number, fd: number, events: number, id = 0): void {
    const v = this.#evView;
    v.setUint32(0, events >>> 0, true);
    v.setUint32(DATA_OFFSET, fd, true);
    v.setUint32(DATA_OFFSET + 4, id, true);
    if (this.#c.epoll_ctl(this.#ep, op, fd, this.#ev) < 0) {
      throw new SocketError("epoll_ctl", errno());
    }
  }

  /** A number for a new connection (never 0: the eventfd's). */
  nextId(): number {
    this.#ids = (this.#ids % 0xffff_fffe) + 1;
    return this.#ids;
  }

  add(conn: EpollConn, events: number): void {
    this.#ctl(EPOLL_CTL_ADD, conn.fd, events, conn.id);
    this.#conns.set(conn.fd, conn);
  }

  /**
   * Forget `conn`, whose socket is being closed. No `EPOLL_CTL_DEL`: closing the socket's last
   * descriptor removes it from the set (one system call fewer per connection). A descriptor a
   * forked child still holds until its `exec` (every socket here is close-on-exec) keeps the
   * registration that long; an event it brings names a connection that is gone, or whose number
   * went to a new one with another id, and is dropped as stale (`#dispatch`).
   */
  remove(conn: EpollConn): void {
    if (this.#conns.get(conn.fd) !== conn) return;
    this.#conns.delete(conn.fd);
  }

  /**
   * One more operation waits for an event: make sure the loop runs. `kind`: what for (an urgent
   * one ends a tick, and none runs while it waits).
   */
  wait(kind: WaitKind = READ_WAIT): void {
    this.#waiting++;
    if (kind === PUMP_WAIT) this.#pumps++;
    else if (kind === URGENT_WAIT) {
      this.#urgent++;
      this.#stopTick();
    }
    if (!this.#running) {
      this.#running = true;
      this.#loop();
    }
  }

  /**
   * An operation's wait ended (`kind` as it was given to {@link wait}). With none left, a wait on
   * the thread pool is woken to end, and a tick ends.
   */
  done(kind: WaitKind = READ_WAIT): void {
    if (kind === PUMP_WAIT) this.#pumps--;
    else if (kind === URGENT_WAIT) this.#urgent--;
    if (--this.#waiting > 0) return;
    this.#stopTick();
    if (this.#pooled) {
      const e = this.#eight;
      e[0] = 1;
      this.#c.write(this.#wake, e, 8n);
    }
  }

  /**
   * A tick: resolves after {@link TICK_MS}, or sooner by {@link #stopTick}. Its reads run before
   * other timers due with it (a send among them). Resolving through `setImmediate` let those run
   * first, for 0.3 ms less event-loop lag, but starts Node's layer in the isolate (~4 ms and ~6 MB
   * a worker); a `MessageChannel` hop cost 2–11% more CPU per paced event; a second timer gave
   * no less lag. So it resolves from its timer.
   */
  #tick(): Promise<void> {
    return new Promise((resolve) => {
      this.#endTick = resolve;
      this.#tickTimer = setTimeout(resolve, TICK_MS);
    });
  }

  #stopTick(): void {
    const end = this.#endTick;
    if (end === undefined) return;
    clearTimeout(this.#tickTimer);
    this.#endTick = this.#tickTimer = undefined;
    this.waits.cutShort++;
    end();
  }

  /**
   * One `recvmsg` of at most `len` bytes into {@link Reactor.data}: the count (0 at the end, -1
   * with `errno` set), and the kernel's stamp in `conn.readAt`.
   */
  recv(conn: EpollConn, len: number): number {
    // iov_len and msg_controllen are 64-bit; their high halves stay 0 (both are small).
    this.#iov.setUint32(8, len, true);
    this.#msg.setUint32(40, CONTROL_BYTES, true);
    const n = Number(this.#c.recvmsg(conn.fd, this.#msgPtr, 0));
    if (n < 0) this.recvErrno = errno();
    const now = performance.now();
    conn.readLagMs = 0;
    if (n <= 0) {
      conn.readAt = now;
      return n;
    }
    const c = this.#control;
    if (
      this.#msg.getUint32(40, true) >= 32 && c.getInt32(8, true) === SOL_SOCKET &&
      c.getInt32(12, true) === SO_TIMESTAMPNS
    ) {
      if (now - this.#offsetAt > 100) this.#sampleOffset(now);
      const ms = this.#timespecMs(c, 16);
      // Not before the connection's previous read, nor before the socket was last seen empty:
      // a segment that waited in the out-of-order queue for a retransmission keeps the stamp of
      // its own arrival, though it became readable only with the retransmission.
      const at = Math.max(ms - this.#offsetMs, conn.readAt, conn.emptyAt);
      // Later than now, or more than a minute old, is a step of the realtime clock between two
      // samples, not an arrival: the read's own time stands.
      if (at <= now && now - at < 60_000) {
        conn.readAt = at;
        conn.readLagMs = now - at;
        this.#stamped = true;
        this.lag.record(now - at);
        return n;
      }
    }
    conn.readAt = Math.max(now, conn.readAt);
    this.#stamped = false;
    return n;
  }

  /** Forget the read lags so far (a thread's measurement starts after its warm-up). */
  resetLag(): void {
    this.lag = new LagHistogram();
  }

  /** A `struct timespec` at `off` in `v`, as realtime ms since `#epochS`. */
  #timespecMs(v: DataView, off: number): number {
    return (Number(v.getBigInt64(off, true)) - this.#epochS) * 1000 +
      Number(v.getBigInt64(off + 8, true)) / 1e6;
  }

  #clockNow(): void {
    this.#c.clock_gettime(CLOCK_REALTIME, this.#clock);
  }

  /**
   * Realtime against `performance.now()`, sampled at most every 100 ms (NTP may slew it): the
   * realtime clock read between two `performance.now()`s, against their middle. A thread taken
   * off the CPU between them would shift every stamp by that long, so the narrowest of a few
   * tries counts.
   */
  #sampleOffset(now: number): void {
    const v = this.#clockView;
    let best = Infinity;
    for (let i = 0; i < 4 && best > OFFSET_WINDOW_MS; i++) {
      const p0 = performance.now();
      this.#clockNow();
      const p1 = performance.now();
      if (p1 - p0 >= best) continue;
      best = p1 - p0;
      this.#offsetMs = this.#timespecMs(v, 0) - (p0 + p1) / 2;
    }
    this.#offsetAt = now;
  }

  #dispatch(view: DataView, n: number): void {
    for (let i = 0; i < n; i++) {
      const at = i * EVENT_BYTES;
      const fd = view.getUint32(at + DATA_OFFSET, true);
      if (fd === this.#wake) {
        this.#c.read(this.#wake, this.#eight, 8n);
        continue;
      }
      // An event harvested before its connection closed and the fd went to a new one is stale.
      const conn = this.#conns.get(fd);
      if (conn !== undefined && conn.id === view.getUint32(at + DATA_OFFSET + 4, true)) {
        conn.ready(view.getUint32(at, true));
      }
    }
  }

  /**
   * Whether the next wait is a tick ({@link TICK_MS}, a timer) rather than a wait for readiness
   * on the thread pool. The pool's wait wakes at the first socket ready, ~2 events a wake at
   * 1,024 paced streams, and each wake is a round trip through a pool thread (a few µs); a timer
   * at ~20 events per ms harvests ~40 a wake for less. It only delays reads, which the kernel
   * stamps, so it is used only while reads come stamped, no urgent wait is pending, many events
   * come (≥ {@link TICK_MIN_RATE} per ms) and the streams' are far apart on average (≥
   * {@link TICK_MIN_GAP_MS}): dense streams (unthrottled, short non-streamed replies) would wait
   * for their refills.
   */
  #useTick(): boolean {
    const t = performance.now();
    const dt = t - this.#idleAt;
    if (dt > 0) this.#rate += RATE_WEIGHT * (this.#burst / dt - this.#rate);
    this.#idleAt = t;
    this.#burst = 0;
    return this.#stamped && this.#urgent === 0 && this.#rate >= TICK_MIN_RATE &&
      this.#pumps >= this.#rate * TICK_MIN_GAP_MS;
  }

  async #loop(): Promise<void> {
    const c = this.#c;
    let rounds = 0;
    try {
      while (this.#waiting > 0) {
        if (blocking || rounds < SYNC_ROUNDS) {
          const n = c.epoll_wait(this.#ep, this.#events, MAX_EVENTS, blocking ? WAIT_MS : 0);
          if (n < 0 && errno() !== EINTR) throw new SocketError("epoll_wait", errno());
          if (n > 0 || blocking) {
            if (n > 0) {
              this.#burst += n;
              this.#dispatch(this.#view, n);
            }
            rounds++;
            await null; // the reads' continuations run before the next poll
            continue;
          }
        }
        rounds = 0;
        if (this.#useTick()) {
          this.waits.ticks++;
          await this.#tick();
          this.#endTick = this.#tickTimer = undefined;
          continue;
        }
        this.#pooled = true;
        this.waits.pooled++;
        let m: number;
        try {
          m = await c.epoll_wait_pooled(this.#ep, this.#poolEvents, MAX_EVENTS, WAIT_MS);
        } finally {
          this.#pooled = false;
        }
        if (m > 0) {
          this.#burst += m;
          this.#dispatch(this.#poolView, m);
        }
      }
    } catch (e) {
      // epoll itself failed: every socket's operation fails with it.
      for (const conn of [...this.#conns.values()]) conn.fail(e);
    } finally {
      this.#running = false;
    }
  }
}

let reactor: Reactor | undefined;
function theReactor(): Reactor {
  return reactor ??= new Reactor(lib());
}

/**
 * How long after their bytes arrived this thread's epoll sockets were read (from the kernel's
 * stamps): the client's own lateness, which the stamps keep out of the timings except where it
 * made events queue up together. `undefined` when this thread read none.
 */
export function readLag(): LagSummary | undefined {
  const s = reactor?.lag.summary();
  return s === undefined || s.count === 0 ? undefined : s;
}

/**
 * How often a thread's reactor waited, by kind (see {@link reactorWaits}); a thread that blocks
 * in `epoll_wait` ({@link useBlockingWaits}) counts none.
 */
export interface ReactorWaits {
  /** Waits for readiness on the thread pool. */
  pooled: number;
  /** Ticks: the set polled again after {@link TICK_MS} on a timer (a sparse load of many streams). */
  ticks: number;
  /** Ticks ended early: an urgent wait began (a connect, ...), or nothing waited any more. */
  cutShort: number;
}

/** How often this thread's epoll reactor waited so far, by kind (a copy; zeros before any socket). */
export function reactorWaits(): ReactorWaits {
  return { ...(reactor?.waits ?? { pooled: 0, ticks: 0, cutShort: 0 }) };
}

/** Start {@link readLag} afresh (a thread's self-check measures after its warm-up). */
export function resetReadLag(): void {
  reactor?.resetLag();
}

/** The bytes of a `sockaddr_in` / `sockaddr_in6` for an IP address literal and port. */
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
export function expand6(ip: string): number[] {
  let s = ip.replace(/^\[|\]$/g, "");
  const v4 = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [l, r] = s.split("::");
  const left = l === "" ? [] : l.split(":");
  const right = r === undefined || r === "" ? [] : r.split(":");
  const zeros = r === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array(zeros).fill("0"), ...right].map((g) => parseInt(g, 16));
}

/** Whether `host` is an IPv4 literal, or an IPv6 one (bracketed or not) without a zone. */
export function isIpLiteral(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || (host.includes(":") && !host.includes("%"));
}

const resolved = new Map<string, Promise<string>>();

/** How long a name's probe connection may take before it fails (and is tried again). */
const PROBE_MS = 30_000;

/**
 * The IP address `host` connects to, as the system resolves it: an IP literal as it is, a name
 * through one `Deno.connect` to `host:port` (closed at once), remembered for the isolate until
 * {@link forgetAddress}. One probe serves every caller; `signal` ends this caller's wait (with its
 * reason) without ending the probe.
 */
export function resolveAddress(host: string, port: number, signal?: AbortSignal): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIpLiteral(bare)) return Promise.resolve(bare);
  const key = `${bare}:${port}`;
  let p = resolved.get(key);
  if (p === undefined) {
    p = Deno.connect({ hostname: bare, port, signal: AbortSignal.timeout(PROBE_MS) }).then(
      (probe) => {
        const ip = (probe.remoteAddr as Deno.NetAddr).hostname;
        probe.close();
        return ip;
      },
    );
    p.catch(() => resolved.delete(key));
    resolved.set(key, p);
  }
  if (signal === undefined) return p;
  const probe = p;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    probe.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Resolve `host` again at its next connection (one to the address remembered failed: the name may
 * point elsewhere now).
 */
export function forgetAddress(host: string, port: number): void {
  resolved.delete(`${host.replace(/^\[|\]$/g, "")}:${port}`);
}

/**
 * Takes a connection's bytes as the reactor reads them ({@link EpollConn.pump}), with no promise
 * per read and no copy: a body read through many reads settles one promise of its own at its end.
 *
 * @example
 * ```ts ignore
 * let bytes = 0;
 * conn.pump({
 *   data(buf, n, at) { bytes += n; return bytes >= 1000; }, // true: stop taking reads
 *   end(error, at) { console.log(error ?? "the peer closed", at); },
 * });
 * ```
 */
export interface ReadPump {
  /**
   * One read: `buf[0, n)`, whose bytes arrived at `at` (as {@link EpollConn.readAt}). The buffer
   * is the reactor's, reused by the next read: use the bytes before returning. Returns `true` to
   * stop (nothing more is read for this pump; what is still queued stays in the socket). Must not
   * throw.
   */
  data(buf: Uint8Array, n: number, at: number): boolean;
  /**
   * The pump ended before it stopped: `error` null when the peer closed the connection, else why
   * the read failed (the connection was closed, the socket broke). `at`: when.
   */
  end(error: unknown, at: number): void;
  /**
   * Whether the peer's close is the body's end (HTTP's close-delimited framing): a close comes
   * with no kernel stamp, so its time must not wait for a tick (the reactor runs none meanwhile).
   */
  readonly exactEnd?: boolean;
}

/** A TCP connection read and written through the isolate's epoll set. */
export class EpollConn {
  /** The socket's file descriptor (-1 once closed). */
  fd: number;
  /**
   * When the bytes of the last read arrived, on `performance.now()`'s clock: the kernel's stamp
   * of the last packet read, or the read's own time when there was none.
   */
  readAt = 0;
  /** How long after that arrival the last read ran, ms (0 without a kernel stamp). */
  readLagMs = 0;
  /** When a read last found the socket empty (what is read later arrived after it). */
  emptyAt = 0;
  /** This connection's number in its reactor's epoll set. */
  readonly id: number;
  #r: Reactor;
  #readable = false;
  /** The peer closed its side (or the socket broke): reads never wait again. */
  #ended = false;
  #closed = false;
  #read: (Pending<number | null> & { buf: Uint8Array }) | undefined;
  #pump: ReadPump | undefined;
  /** How the pending pump counts in the reactor's waits. */
  #pumpKind: WaitKind = PUMP_WAIT;
  /** Inside the pump's `data`: a failure then waits for it to return ({@link EpollConn.fail}). */
  #pumping = false;
  /** The failure that came while {@link #pumping}, for the pump to hear once `data` returns. */
  #pumpFailure: { error: unknown } | undefined;
  #connect: Pending<void> | undefined;
  #write: Pending<void> | undefined;

  private constructor(fd: number, r: Reactor) {
    this.fd = fd;
    this.#r = r;
    this.id = r.nextId();
  }

  /**
   * Connect to `ip:port` (an IP literal: {@link resolveAddress} names first), with kernel receive
   * stamps on. `signal` aborts the attempt: the promise rejects with its reason and the socket
   * is closed.
   */
  static connect(ip: string, port: number, signal?: AbortSignal): Promise<EpollConn> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const c = lib();
    const r = theReactor();
    const addr = sockaddr(ip, port);
    const family = addr.length === 16 ? AF_INET : AF_INET6;
    const fd = c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Promise.reject(new SocketError("socket", errno()));
    const on = new Uint8Array(4);
    on[0] = 1;
    c.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, on, 4);
    const conn = new EpollConn(fd, r);
    if (c.connect(fd, addr, addr.length) === 0) {
      try {
        r.add(conn, CONN_EVENTS);
      } catch (e) {
        c.close(fd);
        return Promise.reject(e);
      }
      return Promise.resolve(conn);
    }
    const code = errno();
    if (code !== EINPROGRESS) {
      c.close(fd);
      return Promise.reject(new SocketError("connect", code));
    }
    try {
      r.add(conn, CONN_EVENTS);
    } catch (e) {
      c.close(fd);
      return Promise.reject(e);
    }
    return new Promise<EpollConn>((resolve, reject) => {
      const onAbort = () => {
        if (conn.#connect === undefined) return;
        conn.#connect = undefined;
        r.done(URGENT_WAIT);
        conn.close();
        reject(signal!.reason);
      };
      conn.#connect = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(conn);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          if (!conn.#closed) conn.close();
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      r.wait(URGENT_WAIT);
    });
  }

  /** Set `TCP_NODELAY`. */
  setNoDelay(on = true): void {
    const v = new Uint8Array(4);
    v[0] = on ? 1 : 0;
    libc!.setsockopt(this.fd, IPPROTO_TCP, TCP_NODELAY, v, 4);
  }

  /** epoll says something happened on the socket (its event bits). */
  ready(events: number): void {
    const broken = (events & (EPOLLERR | EPOLLHUP)) !== 0;
    const connecting = this.#connect;
    if (connecting !== undefined && ((events & EPOLLOUT) !== 0 || broken)) {
      this.#connect = undefined;
      this.#r.done(URGENT_WAIT);
      // A connect that failed sets the socket's error, which the kernel reports as EPOLLERR: only
      // then is the error asked for (one system call fewer per connection, ~2 µs here).
      if (broken) {
        const err = new Uint8Array(4);
        const len = new Uint8Array(4);
        len[0] = 4;
        if (libc!.getsockopt(this.fd, SOL_SOCKET, SO_ERROR, err, len) < 0) {
          return connecting.reject(new SocketError("getsockopt", errno()));
        }
        const code = new DataView(err.buffer).getInt32(0, true);
        if (code !== 0) return connecting.reject(new SocketError("connect", code));
      }
      connecting.resolve();
    }
    const writing = this.#write;
    if (writing !== undefined && ((events & EPOLLOUT) !== 0 || broken)) {
      this.#write = undefined;
      this.#r.done(URGENT_WAIT);
      writing.resolve(); // the write is tried again, and fails there if the socket broke
    }
    if ((events & EPOLLRDHUP) !== 0 || broken) this.#ended = true;
    if ((events & (EPOLLIN | EPOLLRDHUP)) !== 0 || broken) {
      this.#readable = true;
      const pump = this.#pump;
      const kind = this.#pumpKind;
      if (pump === undefined) this.#finishRead();
      else if (this.#runPump(pump)) this.#r.done(kind);
    }
  }

  /**
   * Read into `pump` while the socket has bytes and the pump takes them. Returns whether the pump
   * ended (it stopped, the peer closed, the read failed); false when the socket is empty and the
   * next edge resumes it.
   */
  #runPump(pump: ReadPump): boolean {
    const r = this.#r;
    for (;;) {
      const n = this.#recv(READ_BYTES);
      if (n === undefined) return false; // empty: the next edge resumes it
      if (typeof n !== "number") {
        this.#pump = undefined;
        pump.end(n, this.readAt); // null: the peer closed
        return true;
      }
      let stop: boolean;
      this.#pumping = true;
      try {
        stop = pump.data(r.data, n, this.readAt);
      } finally {
        this.#pumping = false;
      }
      const failed = this.#pumpFailure;
      if (stop || failed !== undefined) {
        this.#pump = this.#pumpFailure = undefined;
        if (!stop) pump.end(failed!.error, performance.now());
        return true;
      }
      if (!this.#readable) return false;
    }
  }

  /** Try the pending read now; whether it ended (bytes, the end or an error, not still empty). */
  #finishRead(): boolean {
    const p = this.#read;
    if (p === undefined) return false;
    const n = this.#tryRead(p.buf);
    if (n === undefined) return false;
    this.#read = undefined;
    this.#r.done();
    if (n instanceof Error) p.reject(n);
    else p.resolve(n);
    return true;
  }

  /**
   * Whether the pending read (a kept-alive connection's idle watch) has its answer already: tries
   * it now, so that bytes or the end that arrived but were not yet dispatched are seen before a
   * request is written on the connection. False when no read is pending or the socket is empty.
   */
  probe(): boolean {
    return this.#finishRead(); // one recvmsg: the event may not be dispatched yet
  }

  /** epoll itself failed: fail what waits. */
  fail(e: unknown): void {
    // Cleared first: a rejection's own handler may close the connection, which fails it again.
    const pending = [this.#read, this.#write, this.#connect];
    this.#read = this.#write = this.#connect = undefined;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      if (p === undefined) continue;
      this.#r.done(i > 0 ? URGENT_WAIT : READ_WAIT); // the write and the connect were urgent
      p.reject(e);
    }
    const pump = this.#pump;
    if (pump === undefined) return;
    if (this.#pumping) {
      // The pump's own `data` closed the connection: it hears once that returns (#runPump).
      this.#pumpFailure = { error: e };
      return;
    }
    this.#pump = undefined;
    this.#r.done(this.#pumpKind);
    pump.end(e, performance.now());
  }

  /** One `recvmsg`: bytes (copied into `buf`), `null` at the end, an error, or `undefined` when empty. */
  #tryRead(buf: Uint8Array): number | null | Error | undefined {
    const n = this.#recv(Math.min(buf.length, READ_BYTES));
    if (typeof n === "number") {
      buf.set(n === READ_BYTES ? this.#r.data : this.#r.data.subarray(0, n));
    }
    return n;
  }

  /**
   * One `recvmsg` of up to `len` bytes into the reactor's buffer: how many, `null` at the end, an
   * error, or `undefined` when the socket is empty (then it waits for the next edge).
   */
  #recv(len: number): number | null | Error | undefined {
    const r = this.#r;
    for (;;) {
      const n = r.recv(this, len);
      if (n > 0) {
        // A short read emptied the socket, and the next edge says when more arrives; but the
        // peer's close came with an edge already seen, so after it the socket stays readable.
        if (n < len && !this.#ended) this.#readable = false;
        return n;
      }
      if (n === 0) return null;
      const code = r.recvErrno;
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#readable = false;
        this.emptyAt = this.readAt;
        return undefined;
      }
      return new SocketError("recvmsg", code);
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
    if (this.#read !== undefined || this.#pump !== undefined) {
      return Promise.reject(new Deno.errors.Busy("a read is pending"));
    }
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

  /**
   * Hand every read to `pump` until it stops or ends ({@link ReadPump}): what the socket holds
   * now at once, the rest as it arrives. One read or pump at a time: one started while another
   * is pending, or on a closed connection, ends at once with the error.
   */
  pump(pump: ReadPump): void {
    if (this.#closed || this.#read !== undefined || this.#pump !== undefined) {
      const e = this.#closed
        ? new Deno.errors.BadResource("the connection is closed")
        : new Deno.errors.Busy("a read is pending");
      pump.end(e, performance.now());
      return;
    }
    this.#pump = pump;
    this.#pumpKind = pump.exactEnd === true ? URGENT_WAIT : PUMP_WAIT;
    // Only a pump the socket could not finish waits (and counts in the reactor's waits).
    if (this.#readable && this.#runPump(pump)) return;
    this.#r.wait(this.#pumpKind);
  }

  /**
   * Write all of `bytes`, waiting for room when the socket's send buffer is full. One write at a
   * time: one started while another waits for room rejects (`Busy`), as a second read does.
   */
  async write(bytes: Uint8Array): Promise<number> {
    if (this.#write !== undefined) throw new Deno.errors.Busy("a write is pending");
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
      // The full buffer set the socket's no-space mark: the room it gets back comes as EPOLLOUT
      // (an EPOLLOUT that came with another event may wake this first: it tries again).
      await new Promise<void>((resolve, reject) => {
        this.#write = { resolve, reject };
        this.#r.wait(URGENT_WAIT);
      });
    }
    return bytes.length;
  }

  /** Close the socket; what is pending rejects. Closing twice throws, as `Deno.Conn`'s does. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("the connection is already closed");
    this.#closed = true;
    this.#r.remove(this);
    libc!.close(this.fd);
    this.fd = -1;
    this.fail(new Deno.errors.Interrupted("the connection was closed"));
  }
}

/**
 * The bench's floor: the least a JavaScript client on Deno can spend reading the same streams
 * llmperf reads. Each lane of a closed loop (`parallel` lanes, `number` requests) opens one
 * connection, writes a hand-written HTTP/1.1 request, and reads until the response's last chunk,
 * taking one `performance.now()` per read and doing nothing else (no parsing, no record); then
 * sends its next request on the same connection. Three ways to read:
 *
 * - `deno`: `Deno.connect` and a `conn.read` loop into a buffer the lane owns (4 KB, growing ×4
 *   to 64 KB when a read fills it, as llmperf's socket transport does);
 * - `node`: `node:net` inside Deno: `net.connect` and `socket.on("data")`;
 * - `epoll`: the same loop as `deno` over {@link EpollConn} (`src/transport/epoll.ts`): epoll and
 *   `recvmsg(2)` through FFI, the thread blocked in `epoll_wait` while nothing is readable (Linux).
 *
 * CPU and memory are measured as `bench/client_process.ts` measures llmperf (the whole process,
 * every thread, from before the first connection to the last byte), so that llmperf's CPU per
 * event divides by this one in the same run. Events per response are counted once, after the
 * measured run, from one more response read and parsed whole.
 *
 * Run by `bench/run.ts`: `deno run -A bench/floor_client.ts '<FloorArgs as JSON>'`.
 *
 * @module
 */
import net from "node:net";
import { stat } from "./ground_truth.ts";
import { EpollConn, resolveAddress, useBlockingWaits } from "../src/transport/epoll.ts";
import type { ClientReport } from "./client_process.ts";
import { processCpuSeconds, statusMb, threadTimes } from "./process_stats.ts";

/** What the floor is asked to do. */
export interface FloorArgs {
  /** Endpoint. */
  url: string;
  /** Lanes (connections, requests in flight). */
  parallel: number;
  /** Requests in all. */
  number: number;
  /** How to read. */
  reader: FloorReader;
  /** The JSON body sent (llmperf's `openai` request for the same run). */
  body: string;
  /** The peer only (`bench/peer_vllm.py`): keep the mock's stamps and check them after the run. */
  truth?: boolean;
}

/** The floor's read paths. */
export type FloorReader = "deno" | "node" | "epoll";

/** The last bytes of a chunked body. */
const END = new TextEncoder().encode("0\r\n\r\n");
const MAX_BUFFER = 64 * 1024;

/** Tracks the last five bytes of a stream: whether it ended with the last chunk. */
class EndWatch {
  #w = new Uint8Array(END.length);
  /** Take the bytes `b[0, n)`; true when the stream so far ends with `0\r\n\r\n`. */
  push(b: Uint8Array, n: number): boolean {
    const w = this.#w;
    const k = END.length;
    if (n >= k) w.set(b.subarray(n - k, n));
    else {
      w.copyWithin(0, n);
      w.set(b.subarray(0, n), k - n);
    }
    for (let i = 0; i < k; i++) if (w[i] !== END[i]) return false;
    return true;
  }
}

/** The request's bytes. */
function requestBytes(u: URL, body: string): Uint8Array {
  const enc = new TextEncoder();
  const b = enc.encode(body);
  const head = enc.encode(
    `POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${b.length}\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + b.length);
  out.set(head);
  out.set(b, head.length);
  return out;
}

/** Sum of every read's time stamp (kept so that the stamps are really taken). */
let stamps = 0;
let reads = 0;

/** A connection the read loop lanes use: `Deno.TcpConn`, or {@link EpollConn}. */
interface LaneConn {
  read(buf: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/**
 * The closed loop of `conn.read` lanes: `open` makes a lane's connection, `stamp` is the time
 * taken per read (kept, so that it is really taken).
 */
async function readLoopLanes<C extends LaneConn>(
  a: FloorArgs,
  request: Uint8Array,
  open: () => Promise<C>,
  stamp: (c: C) => number,
): Promise<number> {
  let left = a.number;
  let done = 0;
  const lane = async () => {
    let conn: C | undefined;
    let buf = new Uint8Array(4096);
    const end = new EndWatch();
    try {
      while (left > 0) {
        left--;
        conn ??= await open();
        let off = 0;
        while (off < request.length) off += await conn.write(request.subarray(off));
        for (;;) {
          const n = await conn.read(buf);
          stamps += stamp(conn);
          reads++;
          if (n === null) throw new Error("the server closed the connection");
          if (end.push(buf, n)) break;
          if (n === buf.length && buf.length < MAX_BUFFER) buf = new Uint8Array(buf.length * 4);
        }
        done++;
      }
    } finally {
      conn?.close();
    }
  };
  await Promise.all(Array.from({ length: a.parallel }, lane));
  return done;
}

function denoLanes(u: URL, a: FloorArgs, request: Uint8Array): Promise<number> {
  return readLoopLanes(a, request, async () => {
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    conn.setNoDelay(true);
    return conn;
  }, () => performance.now());
}

async function epollLanes(u: URL, a: FloorArgs, request: Uint8Array): Promise<number> {
  useBlockingWaits(); // the floor does nothing else: its thread may block in epoll_wait
  const ip = await resolveAddress(u.hostname, Number(u.port));
  return readLoopLanes(a, request, async () => {
    const conn = await EpollConn.connect(ip, Number(u.port));
    conn.setNoDelay(true);
    return conn;
  }, (c) => c.readAt);
}

async function nodeLanes(u: URL, a: FloorArgs, request: Uint8Array): Promise<number> {
  let left = a.number;
  let done = 0;
  const lane = () =>
    new Promise<void>((resolve, reject) => {
      if (left <= 0) return resolve();
      left--;
      const end = new EndWatch();
      let finished = false;
      const s = net.connect({ host: u.hostname, port: Number(u.port) });
      s.setNoDelay(true);
      s.write(request);
      s.on("data", (d: Uint8Array) => {
        stamps += performance.now();
        reads++;
        if (!end.push(d, d.length)) return;
        done++;
        if (left > 0) {
          left--;
          s.write(request);
        } else {
          finished = true;
          s.destroy();
          resolve();
        }
      });
      s.on("error", (e) => reject(e));
      s.on("close", () => finished || reject(new Error("the server closed the connection")));
    });
  await Promise.all(Array.from({ length: a.parallel }, lane));
  return done;
}

/** Read one whole response and count its SSE payloads (`data:` lines but `[DONE]`). */
async function eventsPerResponse(u: URL, request: Uint8Array): Promise<number> {
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    let off = 0;
    while (off < request.length) off += await conn.write(request.subarray(off));
    const buf = new Uint8Array(1 << 20);
    const end = new EndWatch();
    let filled = 0;
    for (;;) {
      const n = await conn.read(buf.subarray(filled));
      if (n === null) throw new Error("the server closed the connection");
      const ended = end.push(buf.subarray(filled), n);
      filled += n;
      if (ended) break;
    }
    const text = new TextDecoder().decode(buf.subarray(0, filled));
    return (text.match(/^data:(?! ?\[DONE\])/gm) ?? []).length;
  } finally {
    conn.close();
  }
}

if (import.meta.main) {
  const a = JSON.parse(Deno.args[0]) as FloorArgs;
  const u = new URL(a.url);
  const request = requestBytes(u, a.body);
  const rssBeforeMb = statusMb("VmRSS");
  const cpu0 = processCpuSeconds();
  const t0 = performance.now();
  const done = a.reader === "node"
    ? await nodeLanes(u, a, request)
    : a.reader === "epoll"
    ? await epollLanes(u, a, request)
    : await denoLanes(u, a, request);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = processCpuSeconds() - cpu0;
  const peakRssMb = statusMb("VmHWM");
  const per = await eventsPerResponse(u, request);
  const none = stat([]);
  const out: ClientReport = {
    seconds,
    cpuSeconds,
    rssBeforeMb,
    peakRssMb,
    failures: {},
    truth: {
      requests: done,
      succeeded: done,
      events: done * per,
      stamped: 0,
      eventDelay: none,
      ttftDelay: none,
      ttftError: none,
      sendDelay: none,
      coldTtftError: none,
      itlError: none,
      mockLate: none,
      sinkMs: 0,
    },
    client: { transport: `floor-${a.reader}`, workers: 0, saturated: false },
    threads: threadTimes(),
    reads,
  };
  console.log(JSON.stringify(out));
  if (stamps < 0) console.error("unreachable");
}

/**
 * `src/transport/epoll.ts`: sockets through epoll and `recvmsg` over FFI (Linux), each read
 * stamped with the kernel's arrival time. Against `Deno.listen` servers in this process.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  epollAvailable,
  EpollConn,
  expand6,
  isIpLiteral,
  reactorWaits,
  readLag,
  type ReadPump,
  resetReadLag,
  resolveAddress,
  SocketError,
} from "../src/transport/epoll.ts";
import { SocketTransport } from "../src/transport/socket.ts";
import { newRecord } from "../src/records/record.ts";

const linux = Deno.build.os === "linux";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A listener on 127.0.0.1 and a client connected to it: the client's and the server's ends. */
async function pair(): Promise<{ client: EpollConn; server: Deno.TcpConn; close(): void }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  const client = await EpollConn.connect("127.0.0.1", l.addr.port);
  const server = await accepted;
  return {
    client,
    server,
    close() {
      for (const c of [client, server, l]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

function busy(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms) { /* the thread does something else */ }
}

Deno.test("epoll: IP literals and IPv6 groups", () => {
  assert(isIpLiteral("127.0.0.1"));
  assert(isIpLiteral("::1"));
  assert(isIpLiteral("2001:db8::1"));
  assert(!isIpLiteral("localhost"));
  assert(!isIpLiteral("fe80::1%eth0"), "a zone needs the system's resolver");
  assertEquals(expand6("::1"), [0, 0, 0, 0, 0, 0, 0, 1]);
  assertEquals(expand6("[2001:db8::ff00:42:8329]"), [
    0x2001,
    0xdb8,
    0,
    0,
    0,
    0xff00,
    0x42,
    0x8329,
  ]);
  assertEquals(expand6("::ffff:192.0.2.128"), [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]);
  assertEquals(expand6("1:2:3:4:5:6:7:8"), [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test({
  name: "epoll: a read is stamped when its bytes arrived, not when the busy thread read them",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    const p = await pair();
    try {
      const buf = new Uint8Array(4096);
      // The kernel turns receive stamping on a moment after the first socket asks (when no other
      // socket on the machine has it on): one exchange, and a pause, first.
      await p.server.write(enc.encode("warm"));
      await p.client.read(buf);
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 3; i++) {
        const before = performance.now();
        await p.server.write(enc.encode(`event ${i}`));
        const wrote = performance.now();
        busy(40); // the bytes wait in the socket
        const n = await p.client.read(buf);
        const read = performance.now();
        assertEquals(dec.decode(buf.subarray(0, n!)), `event ${i}`);
        // Loopback delivers during the write: the stamp lies between its start and end (a
        // millisecond of slack for the clocks' sampling), 40 ms before the read.
        assert(p.client.readAt >= before - 1, `${p.client.readAt} < ${before}`);
        assert(p.client.readAt <= wrote + 1, `${p.client.readAt - wrote} ms after the write`);
        assert(
          read - p.client.readAt >= 39,
          `stamped ${read - p.client.readAt} ms before the read`,
        );
        assert(p.client.readLagMs >= 39, `lag ${p.client.readLagMs}`);
      }
      // The thread's read lag (the self-check's) has those reads.
      const lag = readLag()!;
      assert(lag.count >= 3 && lag.maxMs >= 39 && lag.meanMs > 0, JSON.stringify(lag));
    } finally {
      p.close();
    }
  },
});

Deno.test({
  name: "epoll: the last bytes and the peer's close in one edge: the data, then the end",
  ignore: !linux,
  async fn() {
    for (const waitFirst of [true, false]) {
      const p = await pair();
      try {
        const buf = new Uint8Array(4096);
        // A read pending before anything arrives, or none until both are queued.
        const pending = waitFirst ? p.client.read(buf) : undefined;
        await p.server.write(enc.encode("last"));
        p.server.close();
        await new Promise((r) => setTimeout(r, 20));
        const n = await (pending ?? p.client.read(buf));
        assertEquals(dec.decode(buf.subarray(0, n!)), "last");
        assertEquals(await p.client.read(buf), null, "the end, at once (no new edge comes)");
        assertEquals(await p.client.read(buf), null);
      } finally {
        p.close();
      }
    }
  },
});

/** A pump that keeps what it is given, stops once it has `until` bytes, and says how it ended. */
function keeper(until = Infinity) {
  const k = {
    text: "",
    stamps: [] as number[],
    ended: undefined as unknown,
    endedAt: 0,
    done: undefined as unknown as Promise<void>,
    pump: undefined as unknown as import("../src/transport/epoll.ts").ReadPump,
  };
  let finish!: () => void;
  k.done = new Promise<void>((r) => finish = r);
  k.pump = {
    data(buf, n, at) {
      k.text += dec.decode(buf.subarray(0, n));
      k.stamps.push(at);
      if (k.text.length < until) return false;
      finish();
      return true;
    },
    end(error, at) {
      k.ended = error;
      k.endedAt = at;
      finish();
    },
  };
  return k;
}

Deno.test({
  name: "epoll: a pump takes each read with its arrival stamp; after it stops, read() has the rest",
  ignore: !linux,
  async fn() {
    const p = await pair();
    try {
      const k = keeper(10);
      const before = performance.now();
      p.client.pump(k.pump); // nothing queued yet: it waits for the first edge
      await p.server.write(enc.encode("hello "));
      await new Promise((r) => setTimeout(r, 20));
      assertEquals(k.text, "hello ");
      // The stop comes in the middle of the second read: its tail (after byte 10) was the pump's,
      // the next write stays in the socket for the next reader.
      await p.server.write(enc.encode("world!"));
      await k.done;
      assertEquals(k.text, "hello world!");
      assertEquals(k.ended, undefined, "it stopped; it did not end");
      assertEquals(k.stamps.length, 2);
      assert(k.stamps[0] >= before - 1 && k.stamps[1] >= k.stamps[0], String(k.stamps));
      assert(k.stamps[1] <= performance.now() + 1);
      await p.server.write(enc.encode("next"));
      const buf = new Uint8Array(64);
      const n = await p.client.read(buf);
      assertEquals(dec.decode(buf.subarray(0, n!)), "next");
      // Bytes queued before a pump starts are given at once, inside pump().
      await p.server.write(enc.encode("queued"));
      await new Promise((r) => setTimeout(r, 20));
      const q = keeper(6);
      p.client.pump(q.pump);
      assertEquals(q.text, "queued", "taken synchronously");
    } finally {
      p.close();
    }
  },
});

Deno.test({
  name:
    "epoll: a pump ends with null when the peer closes, with the error when the socket is closed",
  ignore: !linux,
  async fn() {
    {
      const p = await pair();
      try {
        const k = keeper();
        p.client.pump(k.pump);
        await p.server.write(enc.encode("last"));
        p.server.close();
        await k.done;
        assertEquals(k.text, "last");
        assertEquals(k.ended, null, "the peer closed");
      } finally {
        p.close();
      }
    }
    {
      // Closed while it waits (the watchdog's read timeout): Interrupted, and nothing left waiting.
      const p = await pair();
      try {
        const k = keeper();
        p.client.pump(k.pump);
        p.client.close();
        await k.done;
        assert(k.ended instanceof Deno.errors.Interrupted, String(k.ended));
        // A pump or read on the closed connection ends at once.
        const again = keeper();
        p.client.pump(again.pump);
        assert(again.ended instanceof Deno.errors.BadResource, String(again.ended));
      } finally {
        p.close();
      }
    }
    {
      // Closed by the pump's own data(): it hears the end once data() returns, once.
      const p = await pair();
      try {
        let ends = 0;
        let error: unknown;
        const { promise, resolve } = Promise.withResolvers<void>();
        p.client.pump({
          data() {
            p.client.close();
            return false;
          },
          end(e) {
            ends++;
            error = e;
            resolve();
          },
        });
        await p.server.write(enc.encode("x"));
        await promise;
        await new Promise((r) => setTimeout(r, 20));
        assertEquals(ends, 1);
        assert(error instanceof Deno.errors.Interrupted, String(error));
      } finally {
        p.close();
      }
    }
    {
      // One reader at a time: a pump while a read is pending ends at once, Busy.
      const p = await pair();
      try {
        const pending = p.client.read(new Uint8Array(16));
        const k = keeper();
        p.client.pump(k.pump);
        assert(k.ended instanceof Deno.errors.Busy, String(k.ended));
        await p.server.write(enc.encode("ok"));
        assertEquals(await pending, 2);
      } finally {
        p.close();
      }
    }
  },
});

Deno.test({
  name: "epoll: a write larger than the socket's buffers waits for room and arrives whole",
  ignore: !linux,
  async fn() {
    const p = await pair();
    try {
      const big = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      const writing = p.client.write(big);
      let got = 0;
      let sum = 0;
      const buf = new Uint8Array(65536);
      while (got < big.length) {
        const n = await p.server.read(buf);
        assert(n !== null);
        for (let i = 0; i < n; i++) sum = (sum + buf[i] * ((got + i) % 7 + 1)) % 1_000_000_007;
        got += n;
      }
      assertEquals(await writing, big.length);
      let want = 0;
      for (let i = 0; i < big.length; i++) want = (want + big[i] * (i % 7 + 1)) % 1_000_000_007;
      assertEquals(sum, want, "every byte, in order");
    } finally {
      p.close();
    }
  },
});

Deno.test({
  name: "epoll: refused, aborted, closed: each rejects, and nothing is left waiting",
  ignore: !linux,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    const refused = await assertRejects(() => EpollConn.connect("127.0.0.1", port), SocketError);
    assert(refused.message.startsWith("connect: "), refused.message);
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assertRejects(() => EpollConn.connect("127.0.0.1", port, ac.signal), Error, "stop");

    const p = await pair();
    const pending = p.client.read(new Uint8Array(16));
    p.client.close();
    await assertRejects(() => pending, Deno.errors.Interrupted);
    await assertRejects(() => p.client.read(new Uint8Array(16)), Deno.errors.BadResource);
    p.close();
    // The test's sanitizers check that no op (the reactor's wait) outlives the test.
  },
});

Deno.test({
  name: "epoll: names resolve as Deno.connect resolves them, once per isolate",
  ignore: !linux,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let accepted = 0;
    const counting = (async () => {
      for await (const c of l) {
        accepted++;
        c.close();
      }
    })();
    try {
      assertEquals(await resolveAddress("127.0.0.1", l.addr.port), "127.0.0.1", "a literal as is");
      assertEquals(await resolveAddress("[::1]", l.addr.port), "::1");
      assertEquals(accepted, 0);
      const ip = await resolveAddress("localhost", l.addr.port);
      assert(ip === "127.0.0.1" || ip === "::1", ip);
      assertEquals(await resolveAddress("localhost", l.addr.port), ip);
      await new Promise((r) => setTimeout(r, 20));
      assert(accepted <= 1, `one probe connection at most, got ${accepted}`);
    } finally {
      l.close();
      await counting.catch(() => {});
    }
  },
});

Deno.test({
  name: "epoll: a caller's signal ends its wait for a name's probe; the probe goes on for others",
  ignore: !linux,
  // The probe that never connects outlives the test (it gives up after 30 s).
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A listener that never accepts, its backlog full: connections to it hang.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const fill: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 4096; i++) {
        try {
          fill.push(
            await Deno.connect({
              hostname: "127.0.0.1",
              port: l.addr.port,
              signal: AbortSignal.timeout(200),
            }),
          );
        } catch {
          break; // full
        }
      }
      const t0 = performance.now();
      await assertRejects(() => resolveAddress("localhost", l.addr.port, AbortSignal.timeout(150)));
      const waited = performance.now() - t0;
      assert(waited < 2000, `the caller waited ${waited} ms for a probe that hangs`);
      // The transport's connect timeout holds for a name too.
      const t = new SocketTransport({ timeouts: { connectMs: 200, readMs: 1000, totalMs: 5000 } });
      const rec = newRecord(0, true);
      await t.send(
        { url: `http://localhost:${l.addr.port}/`, headers: {}, body: "{}", stream: true },
        rec,
      );
      await t.close();
      assertEquals(rec.failure?.kind, "connect-timeout", JSON.stringify(rec.failure));
    } finally {
      for (const c of fill) c.close();
      l.close();
    }
  },
});

Deno.test({
  name: "epoll: while a stream's bytes keep coming, this thread's timers still run",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    // The writer is another thread: a byte every ~0.1 ms for 400 ms, so that the reader's polls
    // nearly always find one soon (its brief waits on this thread, not the pool's).
    const server = serverThread(`
      const c = await l.accept();
      const one = new Uint8Array([120]);
      const end = performance.now() + 400;
      while (performance.now() < end) {
        await c.write(one);
        const t = performance.now();
        while (performance.now() - t < 0.1) { /* the next byte's moment */ }
      }
      c.close();
      l.close();
    `);
    try {
      const c = await EpollConn.connect("127.0.0.1", await server.next());
      const ticks: number[] = [];
      const timer = setInterval(() => ticks.push(performance.now()), 1);
      let bytes = 0;
      const start = performance.now();
      try {
        const buf = new Uint8Array(4096);
        for (let n = await c.read(buf); n !== null; n = await c.read(buf)) bytes += n;
      } finally {
        clearInterval(timer);
        c.close();
      }
      const took = performance.now() - start;
      assert(bytes > 100, `${bytes} bytes`);
      // Starved timers would not tick until the stream ended; these tick all along (loose
      // bounds: a test asserts no timings, only that the loop turns).
      const during = ticks.filter((t) => t < start + took - 50);
      assert(during.length >= 20, `${during.length} ticks in ${took.toFixed(0)} ms`);
      let gap = 0;
      for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i] - during[i - 1]);
      assert(gap < 100, `a timer waited ${gap.toFixed(1)} ms`);
    } finally {
      server.close();
    }
  },
});

/**
 * A server on another thread: accepts `streams` connections, then writes a byte to each in turn,
 * each connection's ~`gapMs` apart, for `forMs`, and closes them; a connection made meanwhile is
 * answered "hello" (then closed when `closeExtraAfterMs` is set, else left open). Posts its port,
 * then the bytes it wrote to the `streams` connections.
 */
function sparseWriter(streams: number, gapMs: number, forMs: number, closeExtraAfterMs?: number) {
  const server = serverThread(`
    const conns = [];
    while (conns.length < ${streams}) conns.push(await l.accept());
    l.accept().then(async (c) => {
      await c.write(new TextEncoder().encode("hello"));
      ${closeExtraAfterMs === undefined ? "" : `setTimeout(() => c.close(), ${closeExtraAfterMs});`}
    });
    const one = new Uint8Array([120]);
    const start = performance.now();
    let next = start;
    let wrote = 0;
    for (let i = 0; performance.now() - start < ${forMs}; i++) {
      await conns[i % conns.length].write(one);
      wrote++;
      // A thread kept off the CPU does not catch up in a burst: the rate stays as asked.
      next = Math.max(next + ${gapMs} / conns.length, performance.now());
      while (performance.now() < next) { /* the next write's moment */ }
    }
    for (const c of conns) c.close();
    l.close();
    postMessage(wrote);
  `);
  return { port: server.next(), wrote: () => server.next(), close: () => server.close() };
}

/**
 * A server on another thread: `body` runs there after `l` listens on a port of 127.0.0.1 and the
 * port is posted. {@link next} gives what it posts, in order (the port first).
 */
function serverThread(body: string): { next(): Promise<number>; close(): void } {
  const src = `
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    postMessage(l.addr.port);
    ${body}
  `;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const w = new Worker(url, { type: "module" });
  const messages: number[] = [];
  const waiters: Array<(n: number) => void> = [];
  w.onmessage = (e) => {
    const waiter = waiters.shift();
    if (waiter) waiter(e.data);
    else messages.push(e.data);
  };
  return {
    next: () =>
      new Promise<number>((r) => messages.length > 0 ? r(messages.shift()!) : waiters.push(r)),
    close() {
      w.terminate();
      URL.revokeObjectURL(url);
    },
  };
}

/** Read `c` through a pump until the peer closes: the bytes, and each read's lag behind its stamp. */
function pumpAll(c: EpollConn, lags: number[], exactEnd = false): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const pump: ReadPump = {
      data(_buf, n, at) {
        bytes += n;
        lags.push(performance.now() - at);
        return false;
      },
      end(error) {
        if (error === null) resolve(bytes);
        else reject(error);
      },
      exactEnd,
    };
    c.pump(pump);
  });
}

Deno.test({
  name:
    "epoll: many sparse streams are polled on a tick; reads keep their stamps, a connect cuts it",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    // 200 bodies read through pumps, a byte to each every ~25 ms (~8 events per ms, each
    // stream's 25 ms apart: the tick's load) for ~1.2 s.
    const streams = 200;
    const server = sparseWriter(streams, 25, 1200);
    try {
      const port = await server.port;
      const conns: EpollConn[] = [];
      for (let i = 0; i < streams; i++) conns.push(await EpollConn.connect("127.0.0.1", port));
      const before = reactorWaits();
      resetReadLag();
      const lags: number[] = [];
      const reading = Promise.all(conns.map((c) => pumpAll(c, lags)));
      await new Promise((r) => setTimeout(r, 600));
      const extra = await EpollConn.connect("127.0.0.1", port);
      const connected = reactorWaits();
      const hello = new Uint8Array(16);
      const n = await extra.read(hello);
      extra.close();
      const bytes = (await reading).reduce((a, b) => a + b, 0);
      const wrote = await server.wrote();
      const after = reactorWaits();
      for (const c of conns) c.close();
      assertEquals(dec.decode(hello.subarray(0, n!)), "hello");
      assertEquals(bytes, wrote, "every byte written was read");
      // The load was polled on ticks (the pool's waits are for the rest: start, end)...
      const ticks = after.ticks - before.ticks;
      assert(ticks >= 50, `${ticks} ticks, ${after.pooled - before.pooled} pool waits`);
      // ...the connect ended the tick it met (or found the loop waiting on the pool)...
      assert(
        connected.cutShort > before.cutShort || connected.pooled > before.pooled,
        "the connect ended no wait",
      );
      // ...and reads ran up to a tick after their bytes came, keeping the kernel's stamps: a
      // read that runs at once is stamped a few µs before it (a lower bound: load only adds).
      const mean = lags.reduce((a, b) => a + b, 0) / lags.length;
      assert(mean > 0.2, `reads ran ${mean.toFixed(3)} ms after their stamps on average`);
      assert(readLag()!.count >= lags.length / 2, "the thread's read lag has them");
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name: "epoll: idle kept-alive connections beside dense streams do not switch ticks on",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    // 20 closed-loop streams whose replies come ~1 ms after each request (dense), beside 300
    // connections whose pending read (a keep-alive watch) never ends.
    const server = serverThread(`
      const one = new Uint8Array([121]);
      for (;;) {
        const c = await l.accept();
        (async () => {
          const b = new Uint8Array(16);
          while ((await c.read(b)) !== null) {
            await new Promise((r) => setTimeout(r, 1));
            await c.write(one);
          }
        })().catch(() => {});
      }
    `);
    const all: EpollConn[] = [];
    try {
      const port = await server.next();
      const idle: Promise<number | null>[] = [];
      for (let i = 0; i < 300; i++) {
        const c = await EpollConn.connect("127.0.0.1", port);
        all.push(c);
        idle.push(c.read(new Uint8Array(16)).catch(() => null));
      }
      const dense: EpollConn[] = [];
      for (let i = 0; i < 20; i++) dense.push(await EpollConn.connect("127.0.0.1", port));
      all.push(...dense);
      const before = reactorWaits();
      const end = performance.now() + 800;
      let trips = 0;
      await Promise.all(dense.map(async (c) => {
        const req = new Uint8Array([120]);
        while (performance.now() < end) {
          await c.write(req);
          await pumpAll1(c);
          trips++;
        }
      }));
      const after = reactorWaits();
      assert(trips > 100, `${trips} round trips`);
      // Each reply is a body read through a pump, ~1 ms apart on its stream: too dense to wait
      // for a tick, whatever the idle connections add to the waits.
      assertEquals(after.ticks - before.ticks, 0, `pool waits ${after.pooled - before.pooled}`);
    } finally {
      for (const c of all) c.close();
      server.close();
    }
  },
});

/** One reply's byte through a pump that stops after it. */
function pumpAll1(c: EpollConn): Promise<void> {
  return new Promise((resolve, reject) =>
    c.pump({
      data: () => {
        resolve();
        return true;
      },
      end: (e) => e === null ? resolve() : reject(e),
    })
  );
}

Deno.test({
  name: "epoll: no tick runs while a body that ends at the peer's close is read",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    // The sparse load ticks; a close-delimited body's end (the peer's close: no kernel stamp)
    // is read meanwhile, and must not wait for a tick.
    const streams = 200;
    const server = sparseWriter(streams, 25, 1000, 150);
    try {
      const port = await server.port;
      const conns: EpollConn[] = [];
      for (let i = 0; i < streams; i++) conns.push(await EpollConn.connect("127.0.0.1", port));
      const reading = Promise.all(conns.map((c) => pumpAll(c, [])));
      await new Promise((r) => setTimeout(r, 400));
      const ticking = reactorWaits();
      const extra = await EpollConn.connect("127.0.0.1", port);
      const from = reactorWaits();
      const body = await pumpAll(extra, [], true); // "hello", then the close after 150 ms
      const to = reactorWaits();
      extra.close();
      await reading;
      await server.wrote();
      for (const c of conns) c.close();
      assertEquals(body, 5);
      assert(from.ticks > ticking.ticks - 1 && ticking.ticks > 0, "the load was on ticks");
      assertEquals(to.ticks - from.ticks, 0, "a tick ran while the close-delimited body waited");
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name: "epoll: a second write while one waits for room is refused, the first still completes",
  ignore: !linux,
  async fn() {
    assert(epollAvailable(), "tests run with -A on Linux");
    const p = await pair();
    try {
      const big = new Uint8Array(32 * 1024 * 1024);
      const first = p.client.write(big); // more than the socket's buffers: it waits for room
      await new Promise((r) => setTimeout(r, 20));
      await assertRejects(() => p.client.write(new Uint8Array(1)), Deno.errors.Busy);
      let got = 0;
      const buf = new Uint8Array(1 << 16);
      while (got < big.length) {
        const n = await p.server.read(buf);
        if (n === null) break;
        got += n;
      }
      assertEquals(await first, big.length);
      assertEquals(got, big.length);
    } finally {
      p.close();
    }
  },
});

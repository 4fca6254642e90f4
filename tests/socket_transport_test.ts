/**
 * The socket transport against servers that write exactly the bytes each test needs: framings,
 * interim responses, split multi-byte characters, keep-alive reuse and its stale-connection
 * retry, failures of every kind, timeouts, cancellation, TLS. No timing is asserted beyond
 * "before" and "after".
 */
import { assert, assertEquals } from "./assert.ts";
import { chunk, type RawReply, type RawServer, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { makeTestCerts } from "./helpers/tls.ts";
import { tempDir } from "./helpers/cli.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import { SocketTransport } from "../src/transport/socket.ts";
import { EpollConn } from "../src/transport/epoll.ts";
import type { TransportTimeouts } from "../src/transport/types.ts";

const TIMEOUTS: TransportTimeouts = { connectMs: 5000, readMs: 5000, totalMs: Infinity };

async function send(
  t: SocketTransport,
  url: string,
  opts: { stream?: boolean; signal?: AbortSignal } = {},
): Promise<RequestRecord> {
  const stream = opts.stream ?? true;
  const rec = newRecord(0, stream);
  await t.send(
    { url, headers: { "content-type": "application/json" }, body: '{"q":"é"}', stream },
    rec,
    opts.signal,
  );
  return rec;
}

async function withServer(
  reply: (r: RawReply) => Promise<void>,
  fn: (url: string, t: SocketTransport, s: RawServer) => Promise<void>,
  timeouts = TIMEOUTS,
) {
  const server = await rawServer(reply);
  const t = new SocketTransport({ timeouts });
  try {
    await fn(server.url, t, server);
  } finally {
    await t.close();
    await server.close();
  }
}

Deno.test("socket: chunked SSE split everywhere, multi-byte characters across reads", async () => {
  const events = ['{"t":"wörld"}', '{"t":"模型 推理"}', '{"t":"😀"}'];
  const wire = events.map((e) => chunk(`data: ${e}\n\n`)).join("") + chunk("data: [DONE]\n\n") +
    "0\r\n\r\n";
  const bytes = new TextEncoder().encode(wire);
  await withServer(async (r) => {
    await r.write(SSE_HEAD);
    // Three bytes per write: every character and chunk line gets cut somewhere.
    for (let i = 0; i < bytes.length; i += 3) {
      await r.write(bytes.subarray(i, i + 3));
      if (i % 30 === 0) await r.pause(1);
    }
  }, async (url, t, server) => {
    const rec = await send(t, url);
    assertEquals(rec.failure, undefined);
    assert(rec.success);
    assertEquals(rec.status, 200);
    assertEquals(rec.payloads, events);
    assertEquals(rec.chunkTimesMs.length, 3);
    assert(rec.headersAtMs! >= rec.startMs && rec.chunkTimesMs[0] >= rec.headersAtMs!);
    assert(rec.endMs >= rec.chunkTimesMs[2]);
    // The request went out as HTTP/1.1 with a byte-exact content-length.
    const req = server.requests[0];
    assert(req.head.startsWith("POST / HTTP/1.1\r\n"), req.head);
    assert(/content-length: 10\r?$/im.test(req.head), req.head);
    assertEquals(req.body, '{"q":"é"}');
  });
});

Deno.test("socket: many events in one read are all recorded, in order, with the read's time", async () => {
  const n = 200;
  let wire = SSE_HEAD;
  for (let i = 0; i < n; i++) wire += chunk(`data: {"i":${i}}\n\n`);
  wire += chunk("data: [DONE]\n\n") + "0\r\n\r\n";
  await withServer(async (r) => await r.write(wire), async (url, t) => {
    const rec = await send(t, url);
    assert(rec.success);
    assertEquals(rec.payloads.length, n);
    assertEquals(rec.payloads[n - 1], `{"i":${n - 1}}`);
    for (let i = 1; i < n; i++) assert(rec.chunkTimesMs[i] >= rec.chunkTimesMs[i - 1]);
  });
});

Deno.test("socket: Content-Length JSON body, and keep-alive reuses one connection", async () => {
  const body = '{"choices":[{"message":{"content":"hi 模型"}}]}';
  const len = new TextEncoder().encode(body).length;
  await withServer(async (r) => {
    await r.write(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`,
    );
    await r.pause(2);
    await r.write(body);
  }, async (url, t, server) => {
    for (let i = 0; i < 5; i++) {
      const rec = await send(t, url, { stream: false });
      assert(rec.success, JSON.stringify(rec.failure));
      assertEquals(rec.payloads, [body]);
      assertEquals(rec.chunkTimesMs, [rec.endMs]);
    }
    assertEquals(server.connections, 1);
    assertEquals(t.connections, 1);
  });
});

Deno.test("socket: a body that ends when the connection closes", async () => {
  await withServer(async (r) => {
    await r.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n");
    await r.write("data: one\n\n");
    await r.pause(2);
    await r.write("data: two"); // no blank line: dispatched at the end of the stream
    r.close();
  }, async (url, t, server) => {
    const a = await send(t, url);
    assert(a.success, JSON.stringify(a.failure));
    assertEquals(a.payloads, ["one", "two"]);
    const b = await send(t, url);
    assert(b.success);
    assertEquals(server.connections, 2); // a close-delimited response cannot be reused
  });
});

Deno.test("socket: 100 Continue and 103 Early Hints are skipped", async () => {
  await withServer(async (r) => {
    await r.write("HTTP/1.1 100 Continue\r\n\r\n");
    await r.pause(2);
    await r.write("HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n" + SSE_HEAD);
    await r.write(chunk("data: x\n\n") + "0\r\n\r\n");
  }, async (url, t) => {
    const rec = await send(t, url);
    assert(rec.success, JSON.stringify(rec.failure));
    assertEquals(rec.status, 200);
    assertEquals(rec.payloads, ["x"]);
  });
});

Deno.test("socket: a keep-alive connection the server closed is not reused", async () => {
  // The server closes after each response without saying so (as an idle timeout would).
  await withServer(async (r) => {
    await r.write(SSE_HEAD + chunk("data: ok\n\n") + "0\r\n\r\n");
    await r.pause(5);
    r.close();
  }, async (url, t, server) => {
    const a = await send(t, url);
    await new Promise((r) => setTimeout(r, 30));
    const b = await send(t, url);
    assert(a.success && b.success, JSON.stringify([a.failure, b.failure]));
    assertEquals(b.payloads, ["ok"]);
    assertEquals(server.connections, 2);
    assertEquals(server.requests.length, 2); // the dead connection never got the request
  });
});

Deno.test("socket: the connect timeout covers connecting only, not a slow reply on a reused connection", async () => {
  await withServer(async (r) => {
    await r.pause(r.seq === 0 ? 0 : 300); // longer than the connect timeout
    await r.write(SSE_HEAD + chunk("data: ok\n\n") + "0\r\n\r\n");
  }, async (url, t, server) => {
    const a = await send(t, url);
    const b = await send(t, url);
    assert(a.success && b.success, JSON.stringify([a.failure, b.failure]));
    assertEquals(server.connections, 1);
  }, { connectMs: 100, readMs: 5000, totalMs: Infinity });
});

Deno.test("socket: [DONE] ends the response; later events do not count", async () => {
  await withServer(async (r) => {
    await r.write(SSE_HEAD + chunk("data: a\n\n") + chunk("data: [DONE]\n\n"));
    await r.pause(20);
    await r.write(chunk("data: late\n\n") + "0\r\n\r\n");
  }, async (url, t) => {
    const rec = await send(t, url);
    assert(rec.success);
    assertEquals(rec.payloads, ["a"]);
    assert(rec.endMs < performance.now());
  });
});

Deno.test("socket: an error event and a non-200 status are recorded failures", async () => {
  await withServer(async (r) => {
    if (r.seq === 0) {
      await r.write(SSE_HEAD + chunk('event: error\ndata: {"error":"boom"}\n\n') + "0\r\n\r\n");
    } else {
      const body = '{"error":"overloaded"}';
      await r.write(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n` +
          `content-length: ${body.length}\r\n\r\n${body}`,
      );
    }
  }, async (url, t, server) => {
    const a = await send(t, url);
    assertEquals(a.success, false);
    assertEquals(a.failure?.kind, "server-error");
    const b = await send(t, url);
    assertEquals(b.status, 503);
    assertEquals(b.failure, {
      kind: "http",
      message: "HTTP 503 Service Unavailable",
      body: '{"error":"overloaded"}',
    });
    assertEquals(server.connections, 1); // a complete error response keeps the connection
  });
});

Deno.test("socket: broken and unsupported responses are protocol or network failures", async () => {
  const replies = [
    "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 3\r\n\r\nabc",
    "SPDY/3 200 OK\r\n\r\n",
    SSE_HEAD + "zz\r\n",
    SSE_HEAD + chunk("data: a\n\n"), // then the connection closes mid-body
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 10\r\n\r\nabc",
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nabc",
  ];
  const expected = [
    ["protocol", "content-encoding"],
    ["protocol", "status line"],
    ["protocol", "chunk size"],
    ["network", "inside a chunked body"],
    ["network", "7 bytes before the end"],
    ["protocol", "expected text/event-stream"],
  ];
  let i = 0;
  await withServer(async (r) => {
    await r.write(replies[i++]);
    r.close();
  }, async (url, t) => {
    for (const [kind, text] of expected) {
      const rec = await send(t, url);
      assertEquals(rec.success, false);
      assertEquals(rec.failure?.kind, kind, `${text}: ${JSON.stringify(rec.failure)}`);
      assert(rec.failure!.message.includes(text), rec.failure!.message);
      assert(rec.endMs >= rec.startMs);
    }
  });
});

Deno.test("socket: connection refused is a connect failure", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const t = new SocketTransport({ timeouts: TIMEOUTS });
  const rec = await send(t, `http://127.0.0.1:${port}/v1/chat/completions`);
  await t.close();
  assertEquals(rec.failure?.kind, "connect");
  assertEquals(rec.status, 0);
  assertEquals(rec.headersAtMs, undefined);
});

Deno.test("socket: read timeout after silence, and cancellation, close the request", async () => {
  await withServer(async (r) => {
    await r.write(SSE_HEAD + chunk("data: a\n\n"));
    await r.pause(600); // then silence, longer than the read timeout
  }, async (url, t) => {
    const rec = await send(t, url);
    assertEquals(rec.failure?.kind, "read-timeout");
    assertEquals(rec.payloads, ["a"]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const c = await send(t, url, { signal: ac.signal });
    assertEquals(c.failure?.kind, "cancelled");
    assertEquals(t.connections, 0);
  }, { connectMs: 5000, readMs: 150, totalMs: Infinity });
});

Deno.test("socket: https with a given CA; unknown CA refused; a stalled handshake times out", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certs.cert,
    key: certs.key,
    onListen() {},
  }, () => new Response("data: tls\n\n", { headers: { "content-type": "text/event-stream" } }));
  const url = `https://127.0.0.1:${server.addr.port}/v1/chat/completions`;
  // A TCP server that never answers the TLS hello.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of silent) held.push(c);
  })().catch(() => {});
  const trusted = new SocketTransport({ timeouts: TIMEOUTS, caCerts: [certs.ca] });
  const untrusted = new SocketTransport({ timeouts: TIMEOUTS });
  const quick = new SocketTransport({
    timeouts: { connectMs: 150, readMs: 5000, totalMs: Infinity },
    caCerts: [certs.ca],
  });
  try {
    const ok = await send(trusted, url);
    assert(ok.success, JSON.stringify(ok.failure));
    assertEquals(ok.payloads, ["tls"]);
    const again = await send(trusted, url);
    assert(again.success);
    assertEquals(trusted.connections, 1);
    const refused = await send(untrusted, url);
    assertEquals(refused.failure?.kind, "connect");
    assert(/certificate|issuer/i.test(refused.failure!.message), refused.failure!.message);
    const stalled = await send(quick, `https://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/`);
    assertEquals(stalled.failure?.kind, "connect-timeout");
  } finally {
    await trusted.close();
    await untrusted.close();
    await quick.close();
    silent.close();
    for (const c of held) c.close();
    await server.shutdown();
  }
});

Deno.test({
  name: "socket: events are stamped when they arrived, though the thread was busy when they did",
  ignore: Deno.build.os !== "linux", // kernel receive stamps: epoll sockets, Linux only
  async fn() {
    // The kernel turns receive stamping on a moment after the first socket asks (when no other
    // socket on the machine has it on): a socket that asks, kept open, and a pause, first.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const warm = await EpollConn.connect("127.0.0.1", l.addr.port);
    (await l.accept()).close();
    await new Promise((r) => setTimeout(r, 50));
    for (const kernelStamps of [true, false]) {
      const written: Array<[number, number]> = [];
      const server = await rawServer(async (r) => {
        await r.write(SSE_HEAD);
        for (let i = 0; i < 3; i++) {
          const before = performance.now();
          await r.write(chunk(`data: {"i":${i}}\n\n`));
          written.push([before, performance.now()]);
          // The event waits in the socket while this thread (the client's too) is busy. Then
          // the client has 25 ms to read it before the next is written: a read that finds two
          // events gets one stamp, the later one's (TCP stamps a read with its last segment), and
          // 5 ms was too short for a loaded 2-core CI machine once (event 1 read with event 2).
          const t = performance.now();
          while (performance.now() - t < 40) { /* busy */ }
          await r.pause(25);
        }
        await r.write(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
      });
      const t = new SocketTransport({ timeouts: TIMEOUTS, kernelStamps });
      try {
        const rec = await send(t, server.url);
        assert(rec.success, JSON.stringify(rec.failure));
        assertEquals(rec.chunkTimesMs.length, 3);
        for (let i = 0; i < 3; i++) {
          const [before, after] = written[i];
          const at = rec.chunkTimesMs[i];
          if (kernelStamps) {
            // Loopback delivers during the write; a millisecond of slack for the clock's sampling.
            assert(at >= before - 1 && at <= after + 1, `event ${i}: ${at - after} ms after`);
          } else {
            assert(at >= after + 39, `event ${i}: read ${at - after} ms after it was written`);
          }
        }
      } finally {
        await t.close();
        await server.close();
      }
    }
    warm.close();
    l.close();
  },
});

Deno.test({
  name: "socket: a kept-alive connection that spoke while idle is not used, even if not yet seen",
  ignore: Deno.build.os !== "linux", // kernel receive stamps: epoll sockets, Linux only
  async fn() {
    // A server in its own process: 200 to the first request, then a 408 on the idle connection
    // 10 ms later (before closing it), while this thread is busy and has not seen it.
    const py = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: 2\\r\\n\\r\\n{}")
    time.sleep(0.01)
    c.sendall(b"HTTP/1.1 408 Request Timeout\\r\\nconnection: close\\r\\ncontent-length: 0\\r\\n\\r\\n")
    time.sleep(0.2)
    c.close()
`;
    const server = new Deno.Command("python3", { args: ["-c", py], stdout: "piped" }).spawn();
    const reader = server.stdout.getReader();
    const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
    const t = new SocketTransport({ timeouts: TIMEOUTS });
    try {
      const url = `http://127.0.0.1:${port}/`;
      const first = await send(t, url, { stream: false });
      assertEquals(first.status, 200);
      const b = performance.now();
      while (performance.now() - b < 60) { /* busy: the 408 arrives meanwhile */ }
      const second = await send(t, url, { stream: false });
      assertEquals(second.status, 200, JSON.stringify(second.failure));
      assertEquals(second.retries, 0, "not sent on the idle one at all: on a fresh connection");
      assert(second.headersAtMs! >= second.startMs, "no time before the request");
    } finally {
      await t.close();
      reader.releaseLock();
      server.kill();
      await server.status;
      await server.stdout.cancel().catch(() => {});
    }
  },
});

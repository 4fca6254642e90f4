/**
 * Messages that send the user the right way, in a request's recorded failure (both transports)
 * and in the start-up check's one line: an unreachable proxy is named (not the target), a
 * server that may speak only HTTP/2 gets `--transport fetch`, a redirect shows its `Location`,
 * an unknown certificate issuer gets `--ca-cert`, a header that HTTP cannot carry is refused at
 * parse time (exit 2), and media types compare case-insensitively with parameters.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir, unusedPort } from "./helpers/cli.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { chunk, LAST_CHUNK, rawServer } from "./helpers/raw_http.ts";
import { makeTestCerts } from "./helpers/tls.ts";
import { sendOne, TEST_TIMEOUTS, TRANSPORT_KINDS, withStub } from "./helpers/transports.ts";
import { SocketTransport } from "../src/transport/socket.ts";
import { classifyFetchError, FetchTransport } from "../src/transport/fetch.ts";
import { headerProblem } from "../src/util/http_header.ts";
import { CA_CERT_HINT, HTTP2_HINT, tlsHint } from "../src/transport/hints.ts";
import { mediaType } from "../src/transport/media_type.ts";

/** One streamed request to `url` (the start-up check included); `await using` the result. */
function perf(url: string, flags: PerfFlags = {}, env?: Record<string, string>) {
  return perfRun({ url, flags: { stream: true, number: 1, connectTimeout: 5, ...flags }, env });
}

/** The one error line of a failed run. */
function errorLine(r: { code: number; stderr: string }, code: number): string {
  assertEquals(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n").filter((l) => /error/i.test(l));
  assertEquals(lines.length, 1, r.stderr);
  assert(!r.stderr.includes("    at "), "no stack trace");
  return lines[0];
}

Deno.test("messages: an unreachable proxy from HTTP_PROXY is named, not the target", async () => {
  const proxyPort = unusedPort();
  const target = `http://127.0.0.1:${unusedPort()}/v1/chat/completions`;
  await using r = await perf(target, {}, {
    HTTP_PROXY: `http://user:secret@127.0.0.1:${proxyPort}`,
    NO_PROXY: "",
    no_proxy: "",
  });
  const line = errorLine(r, 1);
  assert(line.includes(`proxy 127.0.0.1:${proxyPort} (from HTTP_PROXY)`), line);
  assert(line.includes("connection refused"), line);
  assert(!r.stderr.includes("secret"), "the proxy's credentials are not printed");
  // The same words in a recorded failure.
  const t = new FetchTransport({ timeouts: TEST_TIMEOUTS, proxy: "p:1 (from HTTP_PROXY)" });
  const { rec } = await sendOne(t, `http://127.0.0.1:${unusedPort()}/`);
  await t.close();
  assertEquals(rec.failure?.kind, "connect");
  assert(rec.failure!.message.startsWith("proxy p:1 (from HTTP_PROXY): "), rec.failure!.message);
});

/**
 * A TLS server that completes the handshake (offering only `alpn`, if given), then hangs up;
 * with `answerFirst`, its first connection gets one HTTP/1.1 answer first.
 */
async function tlsHangUp(alpn: string[] | undefined, dir: string, answerFirst = false) {
  const certs = await makeTestCerts(dir);
  const l = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: certs.cert,
    key: certs.key,
    alpnProtocols: alpn,
  });
  let first = answerFirst;
  const answer = async (c: Deno.TlsConn) => {
    await c.handshake();
    if (!first) return;
    first = false;
    await c.read(new Uint8Array(65536));
    await c.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n" +
          "content-length: 2\r\n\r\n{}",
      ),
    );
  };
  const done = (async () => {
    for await (const c of l) {
      answer(c).catch(() => {}).finally(() => {
        try {
          c.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});
  return {
    url: `https://127.0.0.1:${(l.addr as Deno.NetAddr).port}/v1/chat/completions`,
    caPath: certs.caPath,
    ca: certs.ca,
    async close() {
      l.close();
      await done;
    },
  };
}

for (const alpn of [["h2"], undefined]) {
  const what = alpn ? "offers only h2 (ALPN)" : "hangs up after the TLS handshake";
  Deno.test(`messages: a server that ${what} may speak only HTTP/2`, async () => {
    await using dir = await tempDir();
    const s = await tlsHangUp(alpn, dir.path);
    try {
      const t = new SocketTransport({ timeouts: TEST_TIMEOUTS, caCerts: [s.ca] });
      const { rec } = await sendOne(t, s.url);
      await t.close();
      assert(rec.failure!.message.includes("try --transport fetch"), rec.failure!.message);
      await using r = await perf(s.url, { caCert: s.caPath, transport: "socket" });
      const line = errorLine(r, 1);
      assert(line.includes("may speak only HTTP/2: try --transport fetch"), line);
    } finally {
      await s.close();
    }
  });
}

Deno.test("messages: a TLS server that has answered in HTTP/1.1 gets no HTTP/2 hint", async () => {
  await using dir = await tempDir();
  const s = await tlsHangUp(undefined, dir.path, true);
  try {
    const t = new SocketTransport({ timeouts: TEST_TIMEOUTS, caCerts: [s.ca] });
    const a = await sendOne(t, s.url, { stream: false });
    const b = await sendOne(t, s.url, { stream: false });
    await t.close();
    assert(a.rec.success, JSON.stringify(a.rec.failure));
    assertEquals(b.rec.failure?.kind, "network");
    assert(!b.rec.failure!.message.includes("HTTP/2"), b.rec.failure!.message);
  } finally {
    await s.close();
  }
});

Deno.test("messages: an HTTP/2 frame where a status line should be", async () => {
  // An h2c server reading an HTTP/1.1 request answers with SETTINGS, then GOAWAY.
  const settings = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  await withStub("socket", async (r) => {
    await r.write(settings);
    r.close();
  }, async (url, t) => {
    const { rec } = await sendOne(t, url);
    assertEquals(rec.failure?.kind, "protocol");
    assert(rec.failure!.message.includes("HTTP/2"), rec.failure!.message);
    assert(rec.failure!.message.includes("--transport fetch"), rec.failure!.message);
  });
});

Deno.test("messages: a redirect is reported with its Location, over both transports", async () => {
  const to = "https://api.example.com/v1/chat/completions";
  const s = await rawServer(async (r) => {
    await r.write(
      `HTTP/1.1 308 Permanent Redirect\r\nlocation: ${to}\r\ncontent-length: 0\r\n\r\n`,
    );
  });
  try {
    for (const kind of TRANSPORT_KINDS) {
      const t = kind === "socket"
        ? new SocketTransport({ timeouts: TEST_TIMEOUTS })
        : new FetchTransport({ timeouts: TEST_TIMEOUTS });
      const { rec } = await sendOne(t, `${s.url}/v1/chat/completions`);
      await t.close();
      assertEquals([rec.status, rec.failure?.kind], [308, "http"], kind);
      assertEquals(rec.failure?.message, `HTTP 308 Permanent Redirect, redirected to ${to}`, kind);
    }
    await using r = await perf(`${s.url}/v1/chat/completions`);
    const line = errorLine(r, 1);
    assert(line.includes(`redirects the request to ${to} (HTTP 308)`), line);
    assert(line.includes("use that URL as --url"), line);
    assertEquals(s.requests.length, 3, "the redirect was not followed");
  } finally {
    await s.close();
  }
});

Deno.test("messages: an unknown certificate issuer suggests --ca-cert, over both transports", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key, onListen: () => {} },
    () => new Response("{}"),
  );
  const url = `https://127.0.0.1:${server.addr.port}/v1/chat/completions`;
  try {
    for (const kind of TRANSPORT_KINDS) {
      const t = kind === "socket"
        ? new SocketTransport({ timeouts: TEST_TIMEOUTS })
        : new FetchTransport({ timeouts: TEST_TIMEOUTS });
      const { rec } = await sendOne(t, url);
      await t.close();
      assertEquals(rec.failure?.kind, "connect", kind);
      assert(/UnknownIssuer/.test(rec.failure!.message), rec.failure!.message);
      assert(rec.failure!.message.includes("--ca-cert"), rec.failure!.message);
    }
    await using r = await perf(url);
    const line = errorLine(r, 1);
    assert(line.includes("TLS handshake") && line.includes("--ca-cert FILE"), line);
  } finally {
    await server.shutdown();
  }
});

Deno.test("messages: a header HTTP cannot carry is refused at parse time (exit 2)", async () => {
  assertEquals(headerProblem("x-ok", " Bearer a\tb é "), undefined);
  assert(headerProblem("bad name", "v")!.includes("not a valid HTTP header name"));
  assert(headerProblem("x-a", "a\u0001b")!.includes("control character (U+0001)"));
  assert(headerProblem("x-a", "模型")!.includes("U+6A21"));
  const url = `http://127.0.0.1:${unusedPort()}/v1/chat/completions`;
  for (
    const [arg, needle] of [
      ["bad name=v", "not a valid HTTP header name"],
      ["x-a=b\u0001c", "control character (U+0001)"],
      ["x-a=模型", "cannot carry"],
    ]
  ) {
    await using r = await perf(url, { headers: [arg] });
    const line = errorLine(r, 2);
    assert(line.includes("--headers") && line.includes(needle), line);
  }
  await using r = await perf(url, { apiKey: "sk-a\nb" });
  const line = errorLine(r, 2);
  assert(line.includes("--api-key") && line.includes("U+000A"), line);
  assert(!line.includes("sk-a"), "the key is not printed");
});

Deno.test("messages: media types compare case-insensitively, with parameters", async () => {
  assertEquals(mediaType(" Text/Event-Stream ; charset=UTF-8"), "text/event-stream");
  const event = 'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}';
  for (const kind of TRANSPORT_KINDS) {
    for (const type of ["Text/Event-Stream", "TEXT/EVENT-STREAM; Charset=utf-8"]) {
      await withStub(kind, async (r) => {
        await r.write(
          `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n\r\n` +
            chunk(`${event}\n\n`) + chunk("data: [DONE]\n\n") + LAST_CHUNK,
        );
      }, async (url, t) => {
        const { rec } = await sendOne(t, url);
        assert(rec.success, `${kind} ${type}: ${JSON.stringify(rec.failure)}`);
        assertEquals(rec.payloads, [event.slice(6)]);
      });
    }
    // A JSON answer to a streamed request, typed in capitals, is still an answer.
    await withStub(kind, async (r) => {
      await r.write(
        "HTTP/1.1 200 OK\r\ncontent-type: Application/JSON\r\ncontent-length: 2\r\n\r\n{}",
      );
    }, async (url, t) => {
      const { rec } = await sendOne(t, url);
      assert(rec.success, `${kind}: ${JSON.stringify(rec.failure)}`);
    });
  }
});

Deno.test("messages: fetch failures keep Deno's reason, not its URL prefix (both forms)", () => {
  const fail = (inner: string) => new Error("fetch failed", { cause: new Error(inner) });
  assertEquals(
    classifyFetchError(
      fail(
        "error sending request from 127.0.0.1:5 for http://h:1/x (127.0.0.1:1): client error " +
          "(SendRequest): connection closed before message completed",
      ),
    ),
    {
      kind: "network",
      message: "client error (SendRequest): connection closed before message completed",
    },
  );
  assertEquals(
    classifyFetchError(
      fail(
        "error sending request for url (http://h:1/x): client error (Connect): tcp connect error",
      ),
      "p:3128 (from HTTPS_PROXY)",
    ),
    {
      kind: "connect",
      message: "proxy p:3128 (from HTTPS_PROXY): client error (Connect): tcp connect error",
    },
  );
});

Deno.test("messages: a TLS handshake reset (the ALPN alert lost to it) gets the HTTP/2 hint", () => {
  const reset = "Connection reset by peer (os error 104)";
  assert(tlsHint(reset, true).includes("during the TLS handshake; " + HTTP2_HINT));
  assertEquals(tlsHint(reset, false), reset, "not for a reset outside the handshake");
  assert(tlsHint("invalid peer certificate: UnknownIssuer").endsWith(CA_CERT_HINT));
});

/**
 * Both transports fill the same record from the same response: payloads, status, success and
 * failure kinds, over http and https, streamed or not; and `auto` chooses as documented.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { makeTestCerts } from "./helpers/tls.ts";
import { startMockServer } from "../src/mock/server.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import {
  chooseTransport,
  createTransport,
  type TransportKind,
  type TransportSpec,
} from "../src/transport/create.ts";
import { proxyFor } from "../src/transport/proxy.ts";
import { sameHeaders } from "../src/transport/http1_request.ts";
import { LAST_CHUNK, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";

const KINDS: TransportKind[] = ["socket", "fetch"];
const TIMEOUTS = { connectMs: 10_000, readMs: 10_000, totalMs: Infinity };

/** A record reduced to what must not depend on the transport. */
function comparable(rec: RequestRecord) {
  return {
    status: rec.status,
    success: rec.success,
    failure: rec.failure?.kind,
    chunks: rec.chunkTimesMs.length,
    headers: rec.headersAtMs !== undefined,
    // The mock numbers its replies and stamps them with the second: both differ per request.
    payloads: rec.payloads.map((p) =>
      p.replace(/"id":"mock-\d+"/, "").replace(/"created":\d+/, "")
    ),
  };
}

async function sendAll(spec: TransportSpec, base: string) {
  const t = createTransport(spec);
  const out: Record<string, ReturnType<typeof comparable>> = {};
  const cases: Array<[string, string, Record<string, unknown>, boolean]> = [
    [
      "stream",
      "/v1/chat/completions",
      { stream: true, stream_options: { include_usage: true } },
      true,
    ],
    ["whole", "/v1/chat/completions", {}, false],
    ["completions", "/v1/completions", { stream: true }, true],
    ["404", "/nope", { stream: true }, true],
    ["400", "/v1/chat/completions", { messages: "not a list" }, false],
  ];
  try {
    for (const [name, path, extra, stream] of cases) {
      const rec = newRecord(0, stream);
      const body = {
        model: "m",
        messages: [{ role: "user", content: "héllo 模型" }],
        prompt: "p",
        ...extra,
      };
      await t.send(
        {
          url: base + path,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          stream,
        },
        rec,
      );
      assert(rec.endMs >= rec.startMs, `${spec.kind} ${name}: end before start`);
      out[name] = comparable(rec);
    }
  } finally {
    await t.close();
  }
  return out;
}

Deno.test("transports: socket and fetch record the same responses over http", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 2, itlMs: 1, outputTokens: 5 });
  try {
    const [socket, fetch] = await Promise.all(
      KINDS.map((kind) => sendAll({ kind, timeouts: TIMEOUTS }, mock.url)),
    );
    assertEquals(socket, fetch);
    assertEquals(socket.stream.payloads.length, 7); // role, 5 tokens, usage
    assertEquals(socket.whole.chunks, 1);
    assertEquals([socket["404"].status, socket["404"].failure], [404, "http"]);
    assertEquals([socket["400"].status, socket["400"].failure], [400, "http"]);
  } finally {
    await mock.close();
  }
});

Deno.test("transports: the same over https with a given CA", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  const mock = startMockServer({
    port: 0,
    ttftMs: 2,
    itlMs: 1,
    outputTokens: 5,
    tls: { cert: certs.cert, key: certs.key },
  });
  try {
    const [socket, fetch] = await Promise.all(
      KINDS.map((kind) => sendAll({ kind, timeouts: TIMEOUTS, caCerts: [certs.ca] }, mock.url)),
    );
    assertEquals(socket, fetch);
    assert(socket.stream.success);
  } finally {
    await mock.close();
  }
});

Deno.test("transports: a refused connection is a connect failure for both", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}/v1/chat/completions`;
  l.close();
  for (const kind of KINDS) {
    const t = createTransport({ kind, timeouts: TIMEOUTS });
    const rec = newRecord(0, true);
    await t.send({ url, headers: {}, body: "{}", stream: true }, rec);
    await t.close();
    assertEquals([rec.success, rec.status, rec.failure?.kind], [false, 0, "connect"], kind);
  }
});

Deno.test("transports: auto is socket unless the environment sets a proxy for the URL", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const none = env({});
  assertEquals(chooseTransport("auto", "http://h:1/v1", none), { kind: "socket" });
  assertEquals(chooseTransport("auto", "https://h/v1", none), { kind: "socket" });
  assertEquals(chooseTransport("fetch", "http://h/v1", none), { kind: "fetch" });
  const proxied = env({
    HTTPS_PROXY: "http://proxy:3128",
    no_proxy: "localhost,.internal,10.0.0.1:8000",
  });
  assertEquals(chooseTransport("auto", "https://api.example.com/v1", proxied).kind, "fetch");
  assertEquals(chooseTransport("auto", "http://api.example.com/v1", proxied).kind, "socket"); // http
  assertEquals(chooseTransport("auto", "https://gpu.internal/v1", proxied).kind, "socket");
  assertEquals(chooseTransport("auto", "https://localhost/v1", proxied).kind, "socket");
  assertEquals(chooseTransport("auto", "https://10.0.0.1:8000/v1", proxied).kind, "socket");
  assertEquals(chooseTransport("auto", "https://10.0.0.1:9000/v1", proxied).kind, "fetch");
  const forced = chooseTransport("socket", "https://api.example.com/v1", proxied);
  assertEquals(forced.kind, "socket");
  assert(forced.note?.includes("proxy"));
  assertEquals(proxyFor("http://x/", env({ all_proxy: "socks5://p:1" })), "socks5://p:1");
  assertEquals(proxyFor("http://x/", env({ HTTP_PROXY: "http://p:1", NO_PROXY: "*" })), undefined);
  assertEquals(
    proxyFor("http://sub.x.org/", env({ HTTP_PROXY: "http://p", NO_PROXY: "x.org" })),
    undefined,
  );
  assertEquals(
    proxyFor("http://notx.org/", env({ HTTP_PROXY: "http://p", NO_PROXY: "x.org" })),
    "http://p",
  );
});

for (const kind of KINDS) {
  Deno.test(`transports [${kind}]: one abort listener per run cancels every request in flight`, async () => {
    const mock = startMockServer({ port: 0, ttftMs: 10_000, outputTokens: 2 });
    const t = createTransport({ kind, timeouts: TIMEOUTS });
    try {
      const ac = new AbortController();
      let listeners = 0;
      const add = ac.signal.addEventListener.bind(ac.signal);
      ac.signal.addEventListener = ((...a: Parameters<typeof add>) => {
        listeners++;
        add(...a);
      }) as typeof add;
      const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] });
      const req = {
        url: `${mock.url}/v1/chat/completions`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...JSON.parse(body), stream: true }),
        stream: true,
      };
      const recs = Array.from({ length: 20 }, (_, i) => newRecord(i, true));
      const sent = recs.map((r) => t.send(req, r, ac.signal));
      setTimeout(() => ac.abort(), 200);
      await Promise.all(sent);
      for (const r of recs) assertEquals(r.failure?.kind, "cancelled");
      assertEquals(listeners, 1, "one listener for 20 requests");
      // Sent after the abort: cancelled at once, still no new listener.
      const late = newRecord(20, true);
      await t.send(req, late, ac.signal);
      assertEquals([late.failure?.kind, listeners], ["cancelled", 1]);
    } finally {
      await t.close();
      await mock.close();
    }
  });
}

/** A raw server answering every request with `{}`, and a socket transport to its chat URL. */
async function emptyJsonServer() {
  const server = await rawServer(async (r) => {
    await r.write(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
    );
  });
  const t = createTransport({ kind: "socket", timeouts: TIMEOUTS });
  return { server, t, url: `${server.url}/v1/chat/completions` };
}

Deno.test("transports [socket]: the request head follows the header values, compared by value", async () => {
  const { server, t, url } = await emptyJsonServer();
  try {
    const send = (headers: Record<string, string>) =>
      t.send({ url, headers, body: "{}", stream: false }, newRecord(0, false));
    await send({ "x-run": "a", "content-type": "application/json" });
    await send({ "content-type": "application/json", "x-run": "a" }); // a copy, reordered
    await send({ "x-run": "b", "content-type": "application/json" });
    await send({ "content-type": "application/json" });
    const runs = server.requests.map((r) => /\r\nx-run: (\w)/.exec(r.head)?.[1] ?? "-");
    assertEquals(runs, ["a", "a", "b", "-"]);
    assert(server.requests.every((r) => r.body === "{}"));
  } finally {
    await t.close();
    await server.close();
  }
});

Deno.test("transports [socket]: requests with headers of their own between the run's each get theirs", async () => {
  // A trace's requests carry their own header sets between requests with the run's one object:
  // the run's head is kept (by its object) while theirs are built, and nothing leaks across.
  const { server, t, url } = await emptyJsonServer();
  try {
    const run = { "content-type": "application/json", "x-run": "r" };
    const own = (v: string) => ({ ...run, "x-own": v });
    const send = (headers: Record<string, string>) =>
      t.send({ url, headers, body: "{}", stream: false }, newRecord(0, false));
    for (const h of [run, own("1"), run, own("2"), own("2"), run]) await send(h);
    const seen = server.requests.map((r) =>
      `${/\r\nx-run: (\w)/.exec(r.head)?.[1] ?? "-"}${/\r\nx-own: (\w)/.exec(r.head)?.[1] ?? "-"}`
    );
    assertEquals(seen, ["r-", "r1", "r-", "r2", "r2", "r-"]);
  } finally {
    await t.close();
    await server.close();
  }
});

Deno.test("transports: sameHeaders compares names and values, not order or identity", () => {
  assert(sameHeaders({ a: "1", b: "2" }, { b: "2", a: "1" }));
  assert(!sameHeaders({ a: "1" }, { a: "1", b: "2" }));
  assert(!sameHeaders({ a: "1", b: "2" }, { a: "1" }));
  assert(!sameHeaders({ a: "1" }, { a: "2" }));
  assert(!sameHeaders({ a: "1" }, undefined));
  assert(sameHeaders({}, {}));
});

Deno.test("transports: the same text from reads split inside a character or starting with U+FEFF", async () => {
  // Each write arrives as its own read. A U+FEFF that begins a read after ASCII-only reads is
  // text (Deno's streaming TextDecoder dropped it, and did so for fetch only), so that line's
  // field is "\ufeffdata", which SSE ignores; "€" (e2 82 ac) is split between two reads.
  const euro = new TextEncoder().encode("€");
  const bytes = (s: string) => new TextEncoder().encode(s);
  const frame = (b: Uint8Array) =>
    Uint8Array.from([...bytes(`${b.length.toString(16)}\r\n`), ...b, 13, 10]);
  const server = await rawServer(async (r) => {
    await r.write(SSE_HEAD);
    for (
      const part of [
        bytes("data: a\n\n"),
        bytes("\ufeffdata: b\n\n"),
        Uint8Array.from([...bytes("data: x"), euro[0]]),
        Uint8Array.from([euro[1], euro[2], ...bytes("y\n\n")]),
        bytes("data: [DONE]\n\n"),
      ]
    ) {
      await r.write(frame(part));
      await r.pause();
    }
    await r.write(LAST_CHUNK);
  });
  try {
    for (const kind of KINDS) {
      const t = createTransport({ kind, timeouts: TIMEOUTS });
      try {
        const rec = newRecord(0, true);
        await t.send({
          url: `${server.url}/v1/chat/completions`,
          headers: { "content-type": "application/json" },
          body: "{}",
          stream: true,
        }, rec);
        assertEquals(rec.failure, undefined, kind);
        assertEquals(rec.payloads, ["a", "x€y"], kind);
      } finally {
        await t.close();
      }
    }
  } finally {
    await server.close();
  }
});

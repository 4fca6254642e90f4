/**
 * The mock's own HTTP/1.1 server (plain http), byte by byte from a raw TCP client: keep-alive and
 * pipelined requests answered in order, exact `Content-Length` bodies, HTTP/1.0 (close-delimited
 * streams), chunked request bodies and `Expect: 100-continue`, refusals of malformed requests,
 * HEAD, a paced stream written as whole events in at most one chunk per due token, a client that
 * hangs up mid-stream; and the parts: chunk framing in the slab, request heads, chunked bodies.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { chunkOf } from "../src/mock/slab.ts";
import { BadRequest, decodeChunked, parseRequestHead } from "../src/mock/request_head.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const CHAT = JSON.stringify({ messages: [{ role: "user", content: "hello" }] });
const STREAM = JSON.stringify({ messages: [{ role: "user", content: "hello" }], stream: true });

function post(body: string, extra = "", version = "1.1"): string {
  return `POST /v1/chat/completions HTTP/${version}\r\nhost: x\r\ncontent-type: application/json\r\n` +
    `${extra}content-length: ${enc.encode(body).length}\r\n\r\n${body}`;
}

/** A raw connection: write text, read until a condition holds on everything read so far. */
async function connect(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  let closed = false;
  const buf = new Uint8Array(1 << 16);
  return {
    write: (s: string) => conn.write(enc.encode(s)),
    /** Read until `done(text)` or the connection closes; returns everything read. */
    async until(done: (text: string) => boolean): Promise<string> {
      while (!done(text) && !closed) {
        const n = await conn.read(buf);
        if (n === null) closed = true;
        else text += dec.decode(buf.subarray(0, n), { stream: true });
      }
      return text;
    },
    get closed() {
      return closed;
    },
    close: () => {
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

/** Split `text` into HTTP/1.1 responses with Content-Length bodies. */
function responses(text: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  let rest = text;
  while (rest.length > 0) {
    const cut = rest.indexOf("\r\n\r\n");
    if (cut === -1) break;
    const head = rest.slice(0, cut);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    const bodyBytes = enc.encode(rest.slice(cut + 4)).subarray(0, length);
    const body = dec.decode(bodyBytes);
    out.push({ head, body });
    rest = rest.slice(cut + 4 + body.length);
  }
  return out;
}

/** The chunks of a chunked body (without the last, empty one), and whether it ended. */
function chunks(body: string): { parts: string[]; ended: boolean } {
  const bytes = enc.encode(body);
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    const lf = bytes.indexOf(10, i);
    if (lf === -1) return { parts, ended: false };
    const size = parseInt(dec.decode(bytes.subarray(i, lf)), 16);
    if (size === 0) return { parts, ended: true };
    parts.push(dec.decode(bytes.subarray(lf + 1, lf + 1 + size)));
    i = lf + 1 + size + 2;
  }
}

Deno.test("mock http/1.1: keep-alive and pipelined requests, answered in order with exact lengths", async () => {
  const m = startMockServer({ port: 0, outputTokens: 3 });
  const c = await connect(m.port);
  try {
    await c.write(post(CHAT));
    const one = responses(await c.until((t) => responses(t).length === 1 && t.endsWith("}")));
    assertEquals(one[0].head.split("\r\n")[0], "HTTP/1.1 200 OK");
    assertEquals(JSON.parse(one[0].body).usage.completion_tokens, 3);
    // Two more in one write, on the same connection: both answered, in order.
    await c.write(post(CHAT) + `GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n`);
    const all = responses(await c.until((t) => t.includes('"owned_by"') && t.endsWith("}")));
    assertEquals(all.length, 3);
    assertEquals(JSON.parse(all[1].body).object, "chat.completion");
    assertEquals(JSON.parse(all[2].body).data[0].id, "mock");
    assert(!c.closed, "the connection is kept alive");
    assertEquals(m.stats.requests, 2, "the GET is not a request for a completion");
  } finally {
    c.close();
    await m.close();
  }
});

Deno.test("mock http/1.1: HTTP/1.0 gets a close-delimited stream, and Connection: close is honoured", async () => {
  const m = startMockServer({ port: 0, outputTokens: 2 });
  try {
    const old = await connect(m.port);
    await old.write(post(STREAM, "", "1.0"));
    const text = await old.until(() => false); // until the server closes
    assert(old.closed);
    const [head, body] = [
      text.slice(0, text.indexOf("\r\n\r\n")),
      text.slice(text.indexOf("\r\n\r\n") + 4),
    ];
    assert(!/transfer-encoding/i.test(head), head);
    assert(body.startsWith("data: {") && body.endsWith("data: [DONE]\n\n"), body);
    const once = await connect(m.port);
    await once.write(post(CHAT, "connection: close\r\n"));
    const reply = await once.until(() => false);
    assert(once.closed, "closed after the response");
    assert(/connection: close/i.test(reply), reply);
    assertEquals(responses(reply).length, 1);
  } finally {
    await m.close();
  }
});

Deno.test("mock http/1.1: chunked request bodies, and 100 Continue when the client waits for it", async () => {
  const m = startMockServer({ port: 0, outputTokens: 2 });
  const c = await connect(m.port);
  try {
    const half = Math.floor(CHAT.length / 2);
    await c.write(
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n" +
        "transfer-encoding: chunked\r\n\r\n",
    );
    assertEquals(await c.until((t) => t.endsWith("\r\n\r\n")), "HTTP/1.1 100 Continue\r\n\r\n");
    await c.write(
      `${half.toString(16)}\r\n${CHAT.slice(0, half)}\r\n` +
        `${(CHAT.length - half).toString(16)};x=1\r\n${CHAT.slice(half)}\r\n0\r\n\r\n`,
    );
    const text = await c.until((t) => t.endsWith("}"));
    const reply = responses(text.slice(text.indexOf("\r\n\r\n") + 4));
    assertEquals(JSON.parse(reply[0].body).usage.completion_tokens, 2);
  } finally {
    c.close();
    await m.close();
  }
});

Deno.test("mock http/1.1: malformed requests are refused with a status, then the connection closes", async () => {
  const m = startMockServer({ port: 0 });
  try {
    for (
      const [request, status] of [
        ["NOT A REQUEST\r\n\r\n", 400],
        ["POST /v1/chat/completions HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 501],
        ["POST /v1/chat/completions HTTP/1.1\r\ncontent-length: x\r\n\r\n", 400],
      ] as const
    ) {
      const c = await connect(m.port);
      await c.write(request);
      const text = await c.until(() => false);
      assertEquals(text.split(" ")[1], String(status), text);
      assert(c.closed);
    }
    // An unknown route and a GET on a completion route: the protocol's errors, as before.
    const c = await connect(m.port);
    await c.write(
      "GET /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\r\nHEAD /health HTTP/1.1\r\n\r\n",
    );
    const text = await c.until((t) => t.split("HTTP/1.1").length === 3);
    const [refused, head] = responses(text);
    assert(refused.head.startsWith("HTTP/1.1 405"), refused.head);
    assertEquals(JSON.parse(refused.body).code, 405);
    assert(head.head.startsWith("HTTP/1.1 200"), head.head);
    assertEquals(head.body, "", "HEAD: no body");
    c.close();
  } finally {
    await m.close();
  }
});

Deno.test("mock http/1.1: a paced stream is whole events, at most one chunk per due token", async () => {
  const TOKENS = 6;
  const m = startMockServer({ port: 0, ttftMs: 20, itlMs: 30, outputTokens: TOKENS });
  const c = await connect(m.port);
  try {
    await c.write(post(STREAM));
    const text = await c.until((t) => t.endsWith("\r\n0\r\n\r\n"));
    const head = text.slice(0, text.indexOf("\r\n\r\n"));
    assert(/transfer-encoding: chunked/i.test(head) && /text\/event-stream/.test(head), head);
    const { parts, ended } = chunks(text.slice(head.length + 4));
    assert(ended);
    // Token k is due at ttft + k·itl: one write per due batch, never more writes than tokens.
    assert(parts.length >= 1 && parts.length <= TOKENS, `${parts.length} chunks`);
    for (const p of parts) assert(p.endsWith("\n\n"), `a chunk of whole events: ${p}`);
    const events = parts.join("").split("\n\n").filter((e) => e !== "");
    assertEquals(events.length, 1 + TOKENS + 1, "role chunk, tokens, [DONE]");
    assertEquals(events.at(-1), "data: [DONE]");
    assert(parts[0].startsWith('data: {"id"') && parts[0].includes('"role":"assistant"'));
  } finally {
    c.close();
    await m.close();
  }
});

Deno.test("mock http/1.1: a client that hangs up mid-stream leaves the counts", async () => {
  const m = startMockServer({ port: 0, itlMs: 20, outputTokens: 200 });
  try {
    const c = await connect(m.port);
    await c.write(post(STREAM));
    await c.until((t) => t.includes("data: "));
    assertEquals([m.stats.inFlight, m.stats.openStreams], [1, 1]);
    c.close();
    for (let i = 0; i < 100 && m.stats.openStreams > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals([m.stats.inFlight, m.stats.openStreams], [0, 0]);
  } finally {
    await m.close();
  }
});

Deno.test("mock slab: a chunk is size line, data, CRLF; the last chunk after it when the body ends", () => {
  const text = "data: 模型\n\n";
  const size = enc.encode(text).length;
  assertEquals(dec.decode(chunkOf(text, false)), `${size.toString(16)}\r\n${text}\r\n`);
  assertEquals(dec.decode(chunkOf(text, true)), `${size.toString(16)}\r\n${text}\r\n0\r\n\r\n`);
  assertEquals(dec.decode(chunkOf("", true)), "0\r\n\r\n");
  assertEquals(chunkOf("", false).length, 0);
  const big = "x".repeat(70_000); // larger than the slab takes: a buffer of its own
  assertEquals(dec.decode(chunkOf(big, false)), `${(70_000).toString(16)}\r\n${big}\r\n`);
  // Views handed out earlier keep their bytes.
  const a = chunkOf("data: a\n\n", false);
  chunkOf("data: b\n\n", false);
  assertEquals(dec.decode(a), "9\r\ndata: a\n\n\r\n");
});

Deno.test("mock request heads: fields, keep-alive rules, targets, chunked bodies", () => {
  const head = (s: string) => parseRequestHead(enc.encode(s), 0, enc.encode(s).length);
  const h = head(
    "\r\nPOST http://h:1/v1/x?y=1 HTTP/1.1\nHost: h\nX-A: 1\nx-a: 2\ncontent-length: 4\n\nbody",
  )!;
  assertEquals([h.method, h.path, h.target, h.minor, h.length], [
    "POST",
    "/v1/x",
    "http://h:1/v1/x?y=1",
    1,
    4,
  ]);
  assertEquals(h.headers.get("x-a"), "1, 2");
  assertEquals(h.headers.get("HOST"), "h");
  assertEquals(h.keepAlive, true);
  assertEquals(head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")!.keepAlive, false);
  assertEquals(head("GET / HTTP/1.0\r\n\r\n")!.keepAlive, false);
  assertEquals(head("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n")!.keepAlive, true);
  assertEquals(head("GET / HTTP/1.1\r\nhost: x\r\n"), undefined, "no blank line yet");
  assertThrows(() => head("GET / HTTP/2\r\n\r\n"), BadRequest);
  assertThrows(() => head("GET / HTTP/1.1\r\nbad header\r\n\r\n"), BadRequest);
  const body = enc.encode("3\r\nabc\r\n2;ext\r\nde\r\n0\r\nTrailer: x\r\n\r\nNEXT");
  const r = decodeChunked(body, 0, body.length)!;
  assertEquals([dec.decode(r.body), dec.decode(body.subarray(r.end))], ["abcde", "NEXT"]);
  assertEquals(decodeChunked(body, 0, 12), undefined, "incomplete");
  assertThrows(() => decodeChunked(enc.encode("zz\r\n"), 0, 4), BadRequest);
});

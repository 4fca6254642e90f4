/**
 * HTTP/1.1 response parsing of the socket transport: heads (status line, headers, framing, 1xx,
 * bare LF, folding, errors) and the in-place chunked decoder, at every split of the input.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  ChunkedDecoder,
  headOf,
  MAX_HEAD_BYTES,
  parseResponseHead,
  ProtocolError,
} from "../src/transport/http1_response.ts";
import { encodeRequest, headBytes, requestHead, targetOf } from "../src/transport/http1_request.ts";
import { seededRandom } from "../src/util/rng.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function throwsProtocol(fn: () => unknown, includes: string) {
  try {
    fn();
  } catch (e) {
    assert(e instanceof ProtocolError, `expected ProtocolError, got ${e}`);
    assert(e.message.includes(includes), `'${e.message}' should mention '${includes}'`);
    return;
  }
  throw new Error(`expected ProtocolError mentioning '${includes}'`);
}

Deno.test("head: status, reason, lower-case headers, repeated headers joined", () => {
  const h = headOf(
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-A: 1\r\nx-a:  2 \r\n" +
      "Transfer-Encoding: chunked\r\n\r\n",
  );
  assertEquals(h.status, 200);
  assertEquals(h.reason, "OK");
  assertEquals(h.headers["content-type"], "text/event-stream");
  assertEquals(h.headers["x-a"], "1, 2");
  assertEquals(h.framing, "chunked");
  assertEquals(h.keepAlive, true);
});

Deno.test("head: framing and keep-alive by RFC 9112 §6.3", () => {
  const f = (text: string) => headOf(text + "\r\n");
  assertEquals(f("HTTP/1.1 200 OK\r\ncontent-length: 12\r\n").framing, "length");
  assertEquals(f("HTTP/1.1 200 OK\r\ncontent-length: 12\r\n").length, 12);
  // Identical repeated lengths are one length; different ones are an error.
  assertEquals(f("HTTP/1.1 200 OK\r\ncontent-length: 7, 7\r\n").length, 7);
  throwsProtocol(
    () => f("HTTP/1.1 200 OK\r\ncontent-length: 7\r\ncontent-length: 8\r\n"),
    "conflicting",
  );
  throwsProtocol(() => f("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n"), "invalid content-length");
  // Chunked wins over Content-Length.
  assertEquals(
    f("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n").framing,
    "chunked",
  );
  // No length: the body ends when the connection closes, which cannot then be reused.
  const close = f("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n");
  assertEquals([close.framing, close.keepAlive], ["close", false]);
  assertEquals(f("HTTP/1.1 204 No Content\r\n").framing, "none");
  assertEquals(f("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n").framing, "none");
  assertEquals(f("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n").keepAlive, false);
  assertEquals(
    f("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\ncontent-length: 0\r\n").keepAlive,
    false,
  );
  assertEquals(f("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n").keepAlive, false);
  assertEquals(
    f("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n").keepAlive,
    true,
  );
  throwsProtocol(
    () => f("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n"),
    "transfer-encoding",
  );
  throwsProtocol(
    () => f("HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 3\r\n"),
    "content-encoding",
  );
  assertEquals(
    f("HTTP/1.1 200 OK\r\ncontent-encoding: identity\r\ncontent-length: 3\r\n").length,
    3,
  );
});

Deno.test("head: malformed heads are protocol errors", () => {
  throwsProtocol(() => headOf("HTTP/2 200\r\n\r\n"), "status line");
  throwsProtocol(() => headOf("ICY 200 OK\r\n\r\n"), "status line");
  throwsProtocol(() => headOf("HTTP/1.1 20 OK\r\n\r\n"), "status line");
  throwsProtocol(() => headOf("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "malformed header");
  throwsProtocol(() => headOf("HTTP/1.1 200 OK\r\nbad name : x\r\n\r\n"), "whitespace");
  throwsProtocol(() => headOf("HTTP/1.1 200 OK\r\n folded\r\n\r\n"), "continuation");
});

Deno.test("head: a status line without a reason, bare LF line ends, folded values", () => {
  const h = headOf("HTTP/1.1 200\nx-long: a\n  b\ncontent-length: 0\n\n");
  assertEquals(h.reason, "");
  assertEquals(h.headers["x-long"], "a b");
  assertEquals(h.length, 0);
});

Deno.test("parseResponseHead: finds the end of the head at every split, CRLF or LF", () => {
  for (const eol of ["\r\n", "\n"]) {
    const text = `HTTP/1.1 200 OK${eol}content-length: 5${eol}${eol}hello`;
    const bytes = enc.encode(text);
    const bodyStart = text.indexOf("hello");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = parseResponseHead(bytes, 0, cut);
      if (cut < bodyStart) assertEquals(r, undefined, `cut ${cut}`);
      else {
        assert(r !== undefined, `cut ${cut}`);
        assertEquals(r.bodyStart, bodyStart);
        assertEquals(r.head.length, 5);
      }
    }
  }
});

Deno.test("parseResponseHead: starts at an offset (after a 1xx head) and bounds the head size", () => {
  const text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  const bytes = enc.encode(text);
  const first = parseResponseHead(bytes, 0, bytes.length)!;
  assertEquals(first.head.status, 100);
  assertEquals(first.head.framing, "none");
  const second = parseResponseHead(bytes, first.bodyStart, bytes.length)!;
  assertEquals(second.head.status, 200);
  assertEquals(dec.decode(bytes.subarray(second.bodyStart)), "ok");
  const huge = enc.encode("HTTP/1.1 200 OK\r\nx: " + "a".repeat(MAX_HEAD_BYTES));
  throwsProtocol(() => parseResponseHead(huge, 0, huge.length), "longer than");
});

Deno.test("parseResponseHead: a head equal to the last is the same frozen head; another is its own", () => {
  const a = enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-id: 1\r\n\r\nabc");
  const b = enc.encode("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-id: 2\r\n\r\n");
  const first = parseResponseHead(a, 0, a.length)!;
  const again = parseResponseHead(a.slice(), 0, a.length)!;
  assert(again.head === first.head, "an equal head is not parsed again");
  assert(Object.isFrozen(first.head) && Object.isFrozen(first.head.headers));
  assertThrows(() => {
    (first.head.headers as Record<string, string>)["x-id"] = "changed";
  }, TypeError);
  const other = parseResponseHead(b, 0, b.length)!.head;
  assertEquals([other.status, other.reason, other.length, other.headers["x-id"]], [
    404,
    "Not Found",
    0,
    "2",
  ]);
  const back = parseResponseHead(a, 0, a.length)!.head;
  assertEquals([back.status, back.length, back.headers["x-id"], back.framing], [
    200,
    3,
    "1",
    "length",
  ]);
});

/** Decode `wire` fed in pieces cut at the given offsets; returns the body text and the rest index. */
function dechunk(wire: string, cuts: number[]): { body: string; done: boolean; rest: string } {
  const all = enc.encode(wire);
  const d = new ChunkedDecoder();
  let body = "";
  let rest = "";
  let prev = 0;
  for (const cut of [...cuts, all.length]) {
    const piece = all.slice(prev, cut); // each read gets its own buffer, as from the socket
    prev = cut;
    const w = d.decode(piece, 0, piece.length);
    body += dec.decode(piece.subarray(0, w), { stream: true });
    if (d.done) {
      rest = dec.decode(piece.subarray(d.rest)) + dec.decode(all.subarray(cut));
      break;
    }
  }
  return { body, done: d.done, rest };
}

const SSE = 'data: {"a":"wörld 模型"}\n\n';
const WIRE = `${enc.encode(SSE).length.toString(16)}\r\n${SSE}\r\n` +
  `4;ext="x"\r\nabcd\r\n` +
  `A \r\n0123456789\r\n` +
  `0\r\nx-trailer: 1\r\n\r\n`;

Deno.test("chunked: extensions, upper-case hex, whitespace, trailers", () => {
  const r = dechunk(WIRE, []);
  assertEquals(r.body, SSE + "abcd0123456789");
  assert(r.done);
  assertEquals(r.rest, "");
});

Deno.test("chunked: the same body at every split point, multi-byte UTF-8 included", () => {
  const n = enc.encode(WIRE).length;
  for (let a = 0; a <= n; a++) {
    const r = dechunk(WIRE, [a]);
    assertEquals(r.body, SSE + "abcd0123456789", `cut at ${a}`);
    assert(r.done, `cut at ${a}`);
  }
  // Three reads, cut at every pair of points in the first chunk.
  for (let a = 0; a < 40; a++) {
    for (let b = a; b < 45; b++) assertEquals(dechunk(WIRE, [a, b]).body, SSE + "abcd0123456789");
  }
});

Deno.test("chunked: bare LF framing, and bytes after the body are left alone", () => {
  const r = dechunk("3\nabc\n0\n\nHTTP/1.1 200 OK", []);
  assertEquals(r.body, "abc");
  assert(r.done);
  assertEquals(r.rest, "HTTP/1.1 200 OK");
});

Deno.test("chunked: in place, the data moves down over the framing in the same buffer", () => {
  const buf = enc.encode("xx2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
  const d = new ChunkedDecoder();
  const w = d.decode(buf, 2, buf.length);
  assertEquals(dec.decode(buf.subarray(2, w)), "abcde");
  assert(d.done);
  assertEquals(d.rest, buf.length);
});

Deno.test("chunked: malformed framing is a protocol error", () => {
  throwsProtocol(() => dechunk("zz\r\n", []), "invalid chunk size");
  throwsProtocol(() => dechunk("2\r\nabX\r\n", []), "missing CRLF");
  throwsProtocol(() => dechunk("fffffffffffff\r\n", []), "too large");
  // An unfinished body is not done.
  assertEquals(dechunk("5\r\nab", []).done, false);
});

Deno.test("request: target of a URL, head with the caller's headers, content-length in bytes", () => {
  const t = targetOf("https://example.com/v1/chat/completions?x=1");
  assertEquals([t.tls, t.hostname, t.port, t.path, t.host], [
    true,
    "example.com",
    443,
    "/v1/chat/completions?x=1",
    "example.com",
  ]);
  const v6 = targetOf("http://[::1]:8080");
  assertEquals([v6.hostname, v6.port, v6.path, v6.host], ["::1", 8080, "/", "[::1]:8080"]);
  const head = requestHead(targetOf("http://127.0.0.1:8000/v1/x"), {
    "content-type": "application/json",
    "Host": "ignored",
    "Connection": "close",
    "authorization": "Bearer k",
  });
  const bytes = encodeRequest(headBytes(head), '{"p":"模型"}');
  const text = dec.decode(bytes);
  assertEquals(
    text,
    "POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:8000\r\ncontent-type: application/json\r\n" +
      "authorization: Bearer k\r\naccept: */*\r\ncontent-length: 14\r\n\r\n" + '{"p":"模型"}',
  );
  let threw = false;
  try {
    requestHead(t, { "x-bad": "a\r\nInjected: 1" });
  } catch (e) {
    threw = e instanceof TypeError;
  }
  assert(threw, "a header value with CR/LF must be refused");
});

/**
 * Everything a decoder does with `wire` fed in reads of `size` bytes (each in its own buffer):
 * the body's bytes, the rest after the body, or the error and how far the data had decoded.
 */
function decodeAll(wire: Uint8Array, size: number): string {
  const d = new ChunkedDecoder();
  const body: number[] = [];
  for (let pos = 0; pos < wire.length; pos += size) {
    const piece = wire.slice(pos, pos + size);
    try {
      const w = d.decode(piece, 0, piece.length);
      body.push(...piece.subarray(0, w));
    } catch (e) {
      body.push(...piece.subarray(0, d.partial));
      return `error '${(e as Error).message}' after ${JSON.stringify(body)}`;
    }
    if (d.done) return `done ${JSON.stringify(body)} rest at ${pos + d.rest}`;
  }
  return `unfinished ${JSON.stringify(body)}`;
}

Deno.test("chunked: whole chunks in one read decode as byte by byte does, malformed ones too", () => {
  // One read holds whole chunks (the decoder's fast path); reads of one byte never do.
  const random = seededRandom(3);
  const int = (n: number) => Math.floor(random() * n);
  const pieces = ["\r\n", "\r", "\n", "0", "a", "F", "g", ";x", " ", "0\r\n\r\n"];
  for (let round = 0; round < 3000; round++) {
    let wire = "";
    for (let k = 1 + int(4); k > 0; k--) {
      const data = "x".repeat(int(20));
      wire += `${data.length.toString(16)}\r\n${data}\r\n`;
    }
    wire += "0\r\n\r\n";
    for (let k = int(3); k > 0; k--) { // mutations: most rounds malformed, some not
      const at = int(wire.length);
      const piece = pieces[int(pieces.length)];
      wire = int(2) === 0
        ? wire.slice(0, at) + piece + wire.slice(at)
        : wire.slice(0, at) + piece + wire.slice(at + 1);
    }
    const bytes = enc.encode(wire + "tail");
    const whole = decodeAll(bytes, bytes.length);
    assertEquals(whole, decodeAll(bytes, 1), JSON.stringify(wire));
    assertEquals(decodeAll(bytes, 7), whole, JSON.stringify(wire));
  }
  // A size past the limit is refused either way.
  const big = enc.encode(`${"f".repeat(12)}\r\nx\r\n`);
  assertEquals(decodeAll(big, big.length), decodeAll(big, 1));
  assert(decodeAll(big, big.length).startsWith("error 'chunk size too large'"));
});

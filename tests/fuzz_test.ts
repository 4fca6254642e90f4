/**
 * Property tests with random input: the SSE parser (random splits, random bytes, huge lines), the
 * socket transport's HTTP/1.1 parsing (random chunked bodies and splits, random bytes) and the flag
 * parser (random argument lists) never crash, never hang, and keep memory bounded.
 * Seeded, so a failure reproduces.
 */
import { assert, assertEquals } from "./assert.ts";
import { MAX_EVENT_CHARS, SseLimitError, SseParser } from "../src/transport/sse.ts";
import { parsePerfArgs, PERF_FLAGS } from "../src/cli/perf_flags.ts";
import { UsageError } from "../src/errors.ts";
import { resolveConfig } from "../src/config.ts";
import { HelpShown } from "../src/cli/commander.ts";
import { seededRandom } from "../src/util/rng.ts";
import {
  ChunkedDecoder,
  parseResponseHead,
  ProtocolError,
} from "../src/transport/http1_response.ts";

const rnd = seededRandom(20261129);
const int = (n: number) => Math.floor(rnd() * n);

function randomSplits(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + int(Math.min(64, text.length - i));
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

function parseAll(pieces: string[]): Array<[string, string]> {
  const got: Array<[string, string]> = [];
  const p = new SseParser((d, t) => got.push([t, d]));
  for (const x of pieces) p.push(x, 0);
  p.end(0);
  return got;
}

Deno.test("fuzz: random SSE streams parse the same however they are split", () => {
  const pieces = [
    "data: ",
    "data:",
    "event: error\n",
    ": c\n",
    "\n",
    "\r\n",
    "\r",
    "x",
    '{"a":1}',
    "[DONE]",
    "id: 1\n",
    "模型",
    "é",
  ];
  for (let round = 0; round < 400; round++) {
    let text = "";
    for (let k = int(40); k >= 0; k--) text += pieces[int(pieces.length)];
    const whole = parseAll([text]);
    for (let s = 0; s < 5; s++) {
      assertEquals(parseAll(randomSplits(text)), whole, JSON.stringify(text));
    }
  }
});

Deno.test("fuzz: random bytes (invalid UTF-8 included) through TextDecoder never crash the parser", () => {
  for (let round = 0; round < 300; round++) {
    const bytes = Uint8Array.from(
      { length: int(2000) },
      () => (rnd() < 0.3 ? [10, 13, 58, 32][int(4)] : int(256)),
    );
    const dec = new TextDecoder(); // streaming decode, as TextDecoderStream does
    const p = new SseParser(() => {});
    let i = 0;
    while (i < bytes.length) {
      const n = 1 + int(100);
      p.push(dec.decode(bytes.subarray(i, i + n), { stream: true }), 0);
      i += n;
    }
    p.push(dec.decode(), 0);
    p.end(0);
  }
});

Deno.test("fuzz: a line or event without end is bounded, not buffered forever", () => {
  const limit = 10_000;
  const p = new SseParser(() => {}, limit);
  let threw = false;
  try {
    for (let i = 0; i < 1000; i++) p.push("x".repeat(100), 0); // 100k chars, no newline
  } catch (e) {
    threw = e instanceof SseLimitError;
  }
  assert(threw, "an endless line is refused");
  const q = new SseParser(() => {}, limit);
  threw = false;
  try {
    for (let i = 0; i < 1000; i++) q.push("data: " + "y".repeat(100) + "\n", 0); // one endless event
  } catch (e) {
    threw = e instanceof SseLimitError;
  }
  assert(threw, "an endless event is refused");
  assert(MAX_EVENT_CHARS >= 1 << 20, "the default allows 1 MB events");
});

Deno.test("fuzz: random argument lists give a valid config or one UsageError line, never a crash", () => {
  const words = [
    ...PERF_FLAGS.flatMap((f) => f.flags.split(/[ ,]+/).filter((w) => w.startsWith("-"))),
    "--",
    "-",
    "-x",
    "--unknown",
    "--model=",
    "--rate=-1",
    "=",
    "k=v",
    "1",
    "-1",
    "0",
    "1e9",
    "abc",
    "",
    "http://h/v1/chat/completions",
    "@/nonexistent",
    "{",
    "NaN",
    "Infinity",
    "--parallel=0",
  ];
  for (let round = 0; round < 3000; round++) {
    const args = Array.from({ length: int(8) }, () => words[int(words.length)]);
    try {
      resolveConfig({ model: "m", ...parsePerfArgs(args).config });
    } catch (e) {
      if (e instanceof HelpShown) continue;
      assert(e instanceof UsageError, `args ${JSON.stringify(args)} threw ${e}`);
      assert(!e.message.includes("\n"), `multi-line message for ${JSON.stringify(args)}`);
      assert(e.message.length > 0 && e.message.length < 500);
    }
  }
});

Deno.test("fuzz: the socket transport's chunked decoder, random bodies at random splits", () => {
  for (let round = 0; round < 300; round++) {
    // A random body, chunked at random sizes (hex in random case, sometimes with extensions).
    const body = Uint8Array.from({ length: int(3000) }, () => int(256));
    let wire: number[] = [];
    for (let i = 0; i < body.length;) {
      const n = Math.min(body.length - i, 1 + int(700));
      let hex = n.toString(16);
      if (rnd() < 0.5) hex = hex.toUpperCase();
      const ext = rnd() < 0.2 ? ";x=1" : "";
      wire.push(
        ...new TextEncoder().encode(`${hex}${ext}\r\n`),
        ...body.subarray(i, i + n),
        13,
        10,
      );
      i += n;
    }
    wire = [...wire, ...new TextEncoder().encode("0\r\n\r\n")];
    const buf = Uint8Array.from(wire);
    const d = new ChunkedDecoder();
    const out: number[] = [];
    let pos = 0;
    while (pos < buf.length && !d.done) {
      const end = Math.min(buf.length, pos + 1 + int(500));
      const w = d.decode(buf, pos, end);
      out.push(...buf.subarray(pos, w));
      pos = end;
    }
    assert(d.done, `round ${round}: not done`);
    assertEquals(out.length, body.length, `round ${round}: length`);
    assert(out.every((b, i) => b === body[i]), `round ${round}: content`);
  }
});

Deno.test("fuzz: random bytes into the HTTP/1.1 head parser and chunked decoder: ok or ProtocolError", () => {
  const pieces = [
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.0 ",
    "Content-Length: ",
    "Transfer-Encoding: chunked\r\n",
    "\r\n",
    "\n",
    ": ",
    "5",
    "ff",
    " ",
    "\t",
  ];
  for (let round = 0; round < 2000; round++) {
    let text = "";
    for (let k = int(12); k >= 0; k--) {
      text += rnd() < 0.7 ? pieces[int(pieces.length)] : String.fromCharCode(int(256));
    }
    const buf = Uint8Array.from([...text].map((c) => c.charCodeAt(0) & 255));
    try {
      parseResponseHead(buf, 0, buf.length);
    } catch (e) {
      assert(e instanceof ProtocolError, `head: ${JSON.stringify(text)} threw ${e}`);
    }
    try {
      const d = new ChunkedDecoder();
      for (let pos = 0; pos < buf.length && !d.done;) {
        const end = Math.min(buf.length, pos + 1 + int(8));
        d.decode(buf, pos, end);
        pos = end;
      }
    } catch (e) {
      assert(e instanceof ProtocolError, `chunked: ${JSON.stringify(text)} threw ${e}`);
    }
  }
});

/**
 * The SSE parser's fast path (a whole `data:` line and its blank line in one push) gives exactly
 * what the line-by-line path gives: text fed one character at a time never takes the fast path,
 * the same text fed whole takes it wherever it can.
 */
import { assertEquals } from "./assert.ts";
import { SseParser } from "../src/transport/sse.ts";
import { seededRandom } from "../src/util/rng.ts";

function parse(pieces: string[]): Array<[string, string, number]> {
  const got: Array<[string, string, number]> = [];
  const p = new SseParser((d, t, time) => got.push([t, d, time]));
  pieces.forEach((x, i) => p.push(x, i));
  p.end(pieces.length);
  return got.map(([t, d]) => [t, d, 0]);
}

Deno.test("sse fast path: same events as one character at a time", () => {
  const rnd = seededRandom(6);
  const parts = [
    'data: {"a":1}\n\n',
    "data:x\n\n",
    "data: \n\n",
    "data:\n\n",
    "data:  two\n\n",
    "event: error\n",
    "data: a\ndata: b\n\n",
    ": comment\n",
    "\n",
    "\r\n",
    "data: cr\r\n\r\n",
    "data: 模型\n\n",
    "id: 3\n",
    "data: [DONE]\n\n",
    "dat",
    "a: tail",
  ];
  for (let round = 0; round < 500; round++) {
    let text = "";
    for (let k = Math.floor(rnd() * 30); k >= 0; k--) {
      text += parts[Math.floor(rnd() * parts.length)];
    }
    assertEquals(parse([text]), parse([...text]), JSON.stringify(text));
  }
});

Deno.test("sse fast path: an event's type and the time of the read that completed it", () => {
  const got: Array<[string, string, number]> = [];
  const p = new SseParser((d, t, time) => got.push([t, d, time]));
  p.push('event: error\ndata: {"e":1}\n\ndata: ok\n\ndata: spl', 1);
  p.push("it\n\n", 2);
  p.end(3);
  assertEquals(got, [["error", '{"e":1}', 1], ["", "ok", 1], ["", "split", 2]]);
});

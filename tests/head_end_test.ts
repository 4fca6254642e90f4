/** The end of an HTTP/1.x head (`src/util/head_end.ts`), against offsets counted by hand. */
import { assertEquals } from "./assert.ts";
import { headEnd } from "../src/util/head_end.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("head end: just past the blank line, CRLF or bare LF; -1 until it has come", () => {
  const crlf = bytes("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody");
  assertEquals(headEnd(crlf, 0, crlf.length), "HTTP/1.1 200 OK\r\nA: b\r\n\r\n".length);
  const lf = bytes("GET / HTTP/1.1\nHost: x\n\nrest");
  assertEquals(headEnd(lf, 0, lf.length), "GET / HTTP/1.1\nHost: x\n\n".length);
  // Not complete: the blank line is past `end`, or not there at all.
  assertEquals(headEnd(crlf, 0, 23), -1);
  assertEquals(headEnd(bytes("HTTP/1.1 200 OK\r\nA: b\r\n"), 0, 23), -1);
  // From an offset (a pipelined second head in the same buffer).
  const two = bytes("X\r\n\r\nY\r\n\r\n");
  assertEquals(headEnd(two, 5, two.length), two.length);
});

/**
 * Where an HTTP/1.x message head ends in a buffer: just past the blank line (`\r\n\r\n`, or a
 * bare `\n\n` as lenient parsers accept). Shared by the socket transport's response reader and
 * the mock's request reader; hand-written because it runs once per message on the hot path and
 * must not copy or decode the bytes.
 *
 * @module
 */

const LF = 10;
const CR = 13;

/**
 * The index just past the head's blank line in `buf[start, end)`, or -1 when the head is not
 * complete yet.
 *
 * @example
 * ```ts
 * import { headEnd } from "./head_end.ts";
 * const b = new TextEncoder().encode("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody");
 * headEnd(b, 0, b.length); // 25
 * ```
 */
export function headEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  for (;;) {
    const lf = buf.indexOf(LF, i);
    if (lf === -1 || lf >= end) return -1;
    if (lf + 1 < end && buf[lf + 1] === LF) return lf + 2;
    if (lf + 2 < end && buf[lf + 1] === CR && buf[lf + 2] === LF) return lf + 3;
    i = lf + 1;
  }
}

/**
 * A read's text in pieces that V8 can keep one byte per character. V8 holds a string in one byte
 * per character when every character is below U+0100, and in two otherwise: one CJK word or curly
 * quote (U+2019) in a read makes the whole read's text two-byte. Each SSE payload is a slice of
 * its read's text and keeps all of it alive, so a read of 256 coalesced events with one such word
 * among them costs twice its size for as long as any of its payloads lives, and every later step
 * (the payloads' join, its UTF-8 encoding, the plugin's searches, the garbage collector's copies)
 * works on two-byte text. {@link narrowPieces} cuts such a read at the SSE event boundaries around
 * the events that hold a wide character and decodes each piece from its own bytes: the events
 * without one are one-byte, and only those with one stay two-byte. A wide character is found by
 * its UTF-8 lead byte (0xC4 and up); invalid bytes below that (a stray continuation byte) decode
 * to U+FFFD, which keeps its piece two-byte: memory, never the text, is what that costs.
 *
 * A cut is made only after a blank line (`\n\n`, an ASCII byte): UTF-8 decoding keeps no state
 * across an ASCII byte, so the pieces' texts, joined, are the whole read's text, invalid bytes
 * included. A stream whose lines end in CRLF or CR has no `\n\n` and is never cut. Reads of mostly
 * wide text (a Chinese reply) are left whole: they are two-byte whatever is done.
 *
 * @example
 * ```ts
 * import { narrowPieces } from "./narrow_text.ts";
 *
 * const bytes = new TextEncoder().encode(
 *   'data: {"a":"x"}\n\ndata: {"a":"模型"}\n\ndata: {"a":"y"}\n\n',
 * );
 * const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a mark inside is text
 * const pieces = narrowPieces(bytes, (b) => decoder.decode(b));
 * // ['data: {"a":"x"}\n\n', 'data: {"a":"模型"}\n\n', 'data: {"a":"y"}\n\n']
 * ```
 *
 * @module
 */

/**
 * Reads shorter than this are left whole: a paced read is one event (nothing to cut), and a few
 * events read together, as a client that fell behind reads them, are short-lived text.
 */
export const NARROW_MIN_BYTES = 8 * 1024;

/** More wide characters than this in one read: mostly wide text, left whole. */
const MAX_WIDE = 64;

/** UTF-8 lead bytes from here on start a character past U+00FF (two-byte in V8). */
const WIDE_LEAD = 0xc4;

const LF = 10;

/** Offsets of the wide characters' lead bytes, in order; `undefined` past {@link MAX_WIDE}. */
function wideLeads(bytes: Uint8Array): number[] | undefined {
  const out: number[] = [];
  const n = bytes.length;
  // Four bytes at a time where the buffer is aligned: most words are ASCII (no high bit).
  let i = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  for (let j = 0; j < i; j++) if (bytes[j] >= WIDE_LEAD) out.push(j);
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      if ((w[k] & 0x80808080) === 0) continue;
      for (let j = i + 4 * k, e = j + 4; j < e; j++) {
        if (bytes[j] >= WIDE_LEAD) {
          if (out.length === MAX_WIDE) return undefined;
          out.push(j);
        }
      }
    }
    i += words * 4;
  }
  for (; i < n; i++) if (bytes[i] >= WIDE_LEAD) out.push(i);
  return out.length > MAX_WIDE ? undefined : out;
}

/** Where the event holding byte `at` starts: after the blank line before it, or at `from`. */
function eventStart(bytes: Uint8Array, at: number, from: number): number {
  for (let i = bytes.lastIndexOf(LF, at); i > from; i = bytes.lastIndexOf(LF, i - 1)) {
    if (bytes[i - 1] === LF) return i + 1;
  }
  return from;
}

/** Where the event holding byte `at` ends: after the blank line that ends it, or at the end. */
function eventEnd(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  for (let i = bytes.indexOf(LF, at); i !== -1 && i + 1 < n; i = bytes.indexOf(LF, i + 1)) {
    if (bytes[i + 1] === LF) return i + 2;
  }
  return n;
}

/**
 * The text of `bytes` (UTF-8), decoded with `decode` in pieces that keep the events without a
 * character past U+00FF one-byte (see the module doc); the pieces, joined, are the whole text.
 * `undefined` when the read is best decoded whole: no wide character, mostly wide, or all of it
 * one run of events that hold one.
 */
export function narrowPieces(
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => string,
): string[] | undefined {
  const leads = wideLeads(bytes);
  if (leads === undefined || leads.length === 0) return undefined;
  const n = bytes.length;
  const pieces: string[] = [];
  let from = 0; // bytes before this are in pieces already
  let wideFrom = -1; // where the run of wide events being gathered starts
  let wideTo = 0;
  for (const at of leads) {
    if (at < wideTo) continue; // in an event already gathered
    const start = eventStart(bytes, at, wideTo);
    if (wideFrom !== -1 && start > wideTo) {
      // One-byte events between two wide runs: the run before them is complete.
      pieces.push(decode(bytes.subarray(wideFrom, wideTo)));
      from = wideTo;
      wideFrom = -1;
    }
    if (wideFrom === -1) {
      if (start > from) pieces.push(decode(bytes.subarray(from, start)));
      wideFrom = start;
    }
    wideTo = eventEnd(bytes, at);
  }
  if (wideFrom === 0 && wideTo === n) return undefined;
  pieces.push(decode(bytes.subarray(wideFrom, wideTo)));
  if (wideTo < n) pieces.push(decode(bytes.subarray(wideTo)));
  return pieces;
}

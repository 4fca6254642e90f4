/**
 * A response's payloads as one opaque blob: their UTF-8 bytes joined by CR, and how many there
 * are. It crosses threads as one transferable buffer (no copy, no string per payload on the other
 * side), and the result DB pickles it without decoding it (`pickleUtf8List`). An SSE payload
 * never holds a CR (the parser ends lines there); a lone whole body may, so a blob of one payload
 * is the whole body, CRs included.
 *
 * @module
 */

import { ScratchBytes } from "../util/scratch_bytes.ts";

/** Payloads, packed (see the module doc). */
export interface PayloadBlob {
  /** How many payloads. */
  count: number;
  /** Their UTF-8 bytes, joined by CR (0x0d) when there are several. */
  utf8: Uint8Array;
  /**
   * Each payload's length in bytes, where the packer knew it for free (several payloads, all
   * ASCII: a character is then a byte): the DB writer pickles them without searching the bytes.
   */
  lengths?: Uint32Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Pack payloads into one blob. */
export function packPayloads(payloads: readonly string[]): PayloadBlob {
  return packRuns(payloadRuns(payloads), payloads);
}

/** A character past U+00FF: V8 holds a string with one at two bytes per character. */
const WIDE = /[\u0100-\uffff]/;

/**
 * The payloads' text as a blob holds it, in runs: each run of payloads with no character past
 * U+00FF joined by CR, each payload with one alone; the runs joined by CR are
 * {@link joinPayloads}'s text. One such character (a CJK word, a curly quote, an emoji) makes a
 * whole join two bytes per character, and encoding that costs several times what a one-byte text
 * does (a 7 KB paced reply: 6–7 µs against 1.5–2 here): the runs keep the rest one-byte, for
 * {@link packRuns} and for a search of the text. Payloads without such a character, the usual
 * case, are one run at the price of the join and a test of each payload, ~10 ns: V8 does not scan
 * a one-byte string for the pattern, which it cannot match.
 *
 * @example
 * ```ts
 * payloadRuns(['{"a":1}', '{"b":2}', '{"c":"模型"}', '{"d":4}']);
 * // ['{"a":1}\r{"b":2}', '{"c":"模型"}', '{"d":4}']
 * ```
 */
export function payloadRuns(payloads: readonly string[]): string[] {
  const n = payloads.length;
  if (n <= 1) return n === 0 ? [] : [payloads[0]];
  // Each payload tested, not their join: a two-byte join of a long reply costs more to make than
  // the tests of all its payloads (~10 ns each when one-byte).
  const runs: string[] = [];
  let from = 0; // where the current run of one-byte payloads starts
  for (let i = 0; i < n; i++) {
    if (!WIDE.test(payloads[i])) continue;
    if (i > from) runs.push(i - from === 1 ? payloads[from] : payloads.slice(from, i).join("\r"));
    runs.push(payloads[i]);
    from = i + 1;
  }
  if (from === 0) return [payloads.join("\r")]; // none: one run
  if (from < n) runs.push(n - from === 1 ? payloads[from] : payloads.slice(from).join("\r"));
  return runs;
}

/** Where {@link packRuns} encodes runs before the blob's own copy (kept up to 1 MB). */
const scratch = new ScratchBytes(1024 * 1024);

/**
 * The blob of `payloads`, whose {@link payloadRuns} are `runs`: one run encoded as
 * {@link packJoined} does, several each into one buffer (`encodeInto`, at most three bytes per
 * UTF-16 unit), then copied to a blob of their size.
 */
export function packRuns(runs: readonly string[], payloads: readonly string[]): PayloadBlob {
  if (runs.length <= 1) return packJoined(runs.length === 0 ? "" : runs[0], payloads);
  let bound = runs.length - 1; // the CRs between the runs
  for (const r of runs) bound += r.length * 3;
  const into = scratch.take(bound);
  let o = 0;
  for (let i = 0; i < runs.length; i++) {
    if (i > 0) into[o++] = 0x0d;
    o += enc.encodeInto(runs[i], into.subarray(o)).written;
  }
  // A character past U+00FF takes more bytes than units: no byte lengths for free.
  return { count: payloads.length, utf8: into.slice(0, o) };
}

/** The payloads' text as a blob holds it (joined by CR). */
export function joinPayloads(payloads: readonly string[]): string {
  const n = payloads.length;
  return n === 0 ? "" : n === 1 ? payloads[0] : payloads.join("\r");
}

/** The blob of `payloads`, whose {@link joinPayloads} text is `joined`. */
export function packJoined(joined: string, payloads: readonly string[]): PayloadBlob {
  const count = payloads.length;
  const utf8 = enc.encode(joined);
  // As many bytes as characters: all ASCII (any other character takes more bytes than units).
  if (count < 2 || utf8.length !== joined.length) return { count, utf8 };
  const lengths = new Uint32Array(count);
  for (let i = 0; i < count; i++) lengths[i] = payloads[i].length;
  return { count, utf8, lengths };
}

/** The payloads of a blob, as strings. */
export function unpackPayloads(blob: PayloadBlob): string[] {
  if (blob.count === 0) return [];
  const text = dec.decode(blob.utf8);
  return blob.count === 1 ? [text] : text.split("\r");
}

/** A copy of a blob with its own buffer (one buffer can be transferred to one thread only). */
export function copyPayloads(blob: PayloadBlob): PayloadBlob {
  const copy: PayloadBlob = { count: blob.count, utf8: blob.utf8.slice() };
  if (blob.lengths !== undefined) copy.lengths = blob.lengths.slice();
  return copy;
}

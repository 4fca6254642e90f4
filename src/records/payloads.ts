/**
 * A response's payloads as one opaque blob: their UTF-8 bytes joined by CR, and how many there
 * are. It crosses threads as one transferable buffer (no copy, no string per payload on the other
 * side), and the result DB pickles it without decoding it (`pickleUtf8List`). An SSE payload
 * never holds a CR (the parser ends lines there); a lone whole body may, so a blob of one payload
 * is the whole body, CRs included.
 *
 * @module
 */

/** Payloads, packed (see the module doc). */
export interface PayloadBlob {
  /** How many payloads. */
  count: number;
  /** Their UTF-8 bytes, joined by CR (0x0d) when there are several. */
  utf8: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Pack payloads into one blob. */
export function packPayloads(payloads: readonly string[]): PayloadBlob {
  return packJoined(joinPayloads(payloads), payloads.length);
}

/** The payloads' text as a blob holds it (joined by CR). */
export function joinPayloads(payloads: readonly string[]): string {
  const n = payloads.length;
  return n === 0 ? "" : n === 1 ? payloads[0] : payloads.join("\r");
}

/** The blob of `count` payloads whose {@link joinPayloads} text is `joined`. */
export function packJoined(joined: string, count: number): PayloadBlob {
  return { count, utf8: enc.encode(joined) };
}

/** The payloads of a blob, as strings. */
export function unpackPayloads(blob: PayloadBlob): string[] {
  if (blob.count === 0) return [];
  const text = dec.decode(blob.utf8);
  return blob.count === 1 ? [text] : text.split("\r");
}

/** A copy of a blob with its own buffer (one buffer can be transferred to one thread only). */
export function copyPayloads(blob: PayloadBlob): PayloadBlob {
  return { count: blob.count, utf8: blob.utf8.slice() };
}

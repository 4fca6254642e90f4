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
  return packJoined(joinPayloads(payloads), payloads);
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

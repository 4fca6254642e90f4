/**
 * UTF-8 text from a body that arrives in reads: what a streaming `TextDecoder` gives
 * (`decode(bytes, { stream: true })` per read, `decode()` at the end), at about half its cost per
 * read. A read that ends on a character boundary (nearly every read of an SSE body: servers write
 * whole events) is decoded on its own by a one-shot decoder, Deno's fast path; only when a read
 * ends inside a multi-byte character does the body go on through a streaming decoder, from that
 * read to its end. A byte-order mark is dropped only at the very start of the text, as the
 * streaming decoder drops it.
 *
 * Why by hand: the transports decode every read of every stream, and a streaming decode costs
 * ~1.5 µs of CPU per read of a paced reply here against ~0.5 µs one-shot
 * (`bench/worker_work.ts`, docs/performance.md "Hot path v5"). Deno's streaming decoder also
 * drops a mark that begins the first read with a byte beyond ASCII after reads that had none
 * (Deno 2.9.6); the standard, and this class, keep it: it is text there.
 *
 * @example
 * ```ts
 * const d = new Utf8Chunks();
 * const euro = new TextEncoder().encode("€"); // 3 bytes
 * d.decode(euro.subarray(0, 2)); // "" (the character is not complete)
 * d.decode(euro.subarray(2)); // "€"
 * d.end(); // ""
 * ```
 *
 * @module
 */

import { NARROW_MIN_BYTES, narrowPieces } from "./narrow_text.ts";

const STREAM: TextDecodeOptions = { stream: true };
const ONE_SHOT = new TextDecoder("utf-8", { ignoreBOM: true });
const BOM = 0xfeff;
const oneShot = (b: Uint8Array): string => ONE_SHOT.decode(b);

/**
 * Whether `b` ends inside a character: its last bytes are a valid start of a multi-byte UTF-8
 * sequence that needs more bytes (the WHATWG decoder would hold them for the next read). A byte
 * that cannot start or continue one is an error now, not a wait: false.
 */
export function endsInsideCharacter(b: Uint8Array): boolean {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k];
    if (c < 0x80) return false;
    if (c < 0xc0) continue; // a continuation byte: its lead is further back
    // A lead: how many continuation bytes it needs (0 for bytes that lead nothing).
    const need = c >= 0xf5 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
    if (need < k) return false; // complete (or no lead at all)
    if (k === 1) return true;
    // The byte after the lead has a narrower range for some leads (no overlong forms,
    // surrogates or code points past U+10FFFF).
    const s = b[n - k + 1];
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    return s >= lo && s <= hi;
  }
  return false;
}

/** Decodes one body's reads to text (see the module doc). One per body. */
export class Utf8Chunks {
  #stream: TextDecoder | undefined;
  #start = true;

  /** The text `bytes` completes (bytes of a character they end inside are held for the next). */
  decode(bytes: Uint8Array): string {
    if (this.#stream === undefined) {
      if (!endsInsideCharacter(bytes)) {
        let text = ONE_SHOT.decode(bytes);
        if (this.#start && text.length > 0) {
          this.#start = false;
          if (text.charCodeAt(0) === BOM) text = text.slice(1);
        }
        return text;
      }
      // From here to the body's end, a streaming decoder; it drops a byte-order mark only while
      // no text has come before it.
      this.#stream = new TextDecoder("utf-8", { ignoreBOM: !this.#start });
    }
    return this.#stream.decode(bytes, STREAM);
  }

  /**
   * {@link decode}, cut where {@link narrowPieces} cuts it (a read of SSE events with a few
   * characters past U+00FF): one string, or the pieces, to be used in order. A read shorter than
   * {@link NARROW_MIN_BYTES} (every paced read) is just decoded.
   */
  decodeNarrow(bytes: Uint8Array): string | string[] {
    // Only where the read alone is its text: no character held over or cut at its end, and no
    // byte-order mark to drop at the start.
    if (
      bytes.length < NARROW_MIN_BYTES || this.#stream !== undefined ||
      (this.#start && bytes[0] === 0xef) || endsInsideCharacter(bytes)
    ) return this.decode(bytes);
    // What `decode` does here, without its tests again: a one-shot decode, and no mark to drop
    // (the read does not start with one's first byte), so the text has started.
    this.#start = false;
    return narrowPieces(bytes, oneShot) ?? ONE_SHOT.decode(bytes);
  }

  /** The end of the body: a character left incomplete becomes U+FFFD. */
  end(): string {
    return this.#stream === undefined ? "" : this.#stream.decode();
  }
}

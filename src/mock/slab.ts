/**
 * The mock's write buffers: text encoded as UTF-8 into a shared slab, as a view per write and no
 * buffer of its own. Bytes once handed out are never reused (a full slab is dropped for a new one
 * and lives while a view of it does), so a write in flight keeps its bytes. {@link chunkOf} frames
 * the bytes as one HTTP/1.1 chunk in the same view (size line, data, CRLF, and the last chunk
 * after it when the body ends), so a paced write is one view and one socket write.
 *
 * @module
 */

const encoder = new TextEncoder();
const SLAB_BYTES = 1 << 16;
/** Room before the data for a chunk's size line: up to 8 hex digits and CRLF. */
const SIZE_ROOM = 10;
const CR = 13;
const LF = 10;
/** `0\r\n\r\n`: the last chunk of a chunked body. */
const LAST_CHUNK = [48, CR, LF, CR, LF];

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** Room for `bytes` more bytes in the slab (a new slab when it is short), or false: too big. */
function room(bytes: number): boolean {
  if (bytes > SLAB_BYTES >> 2) return false;
  if (SLAB_BYTES - used < bytes) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  return true;
}

/** The UTF-8 bytes of `text`, as a view into the shared slab. */
export function bytesOf(text: string): Uint8Array {
  if (!room(text.length * 3)) return encoder.encode(text);
  const { written } = encoder.encodeInto(text, slab.subarray(used));
  const out = slab.subarray(used, used + written);
  used += written;
  return out;
}

/**
 * `text` as one HTTP/1.1 chunk (`size CRLF data CRLF`; nothing for ""), followed by the last
 * chunk (`0 CRLF CRLF`) when `last`: the bytes of one write of a chunked body.
 *
 * @example
 * ```ts
 * import { chunkOf } from "./slab.ts";
 * new TextDecoder().decode(chunkOf("data: x\n\n", true)); // "9\r\ndata: x\n\n\r\n0\r\n\r\n"
 * ```
 */
export function chunkOf(text: string, last: boolean): Uint8Array {
  const most = SIZE_ROOM + text.length * 3 + 2 + LAST_CHUNK.length;
  let buf: Uint8Array;
  let at: number;
  if (room(most)) {
    buf = slab;
    at = used;
  } else {
    buf = new Uint8Array(most);
    at = 0;
  }
  const data = at + SIZE_ROOM;
  const { written } = encoder.encodeInto(text, buf.subarray(data));
  let start = data;
  let end = data + written;
  if (written > 0) {
    buf[end++] = CR;
    buf[end++] = LF;
    buf[--start] = LF;
    buf[--start] = CR;
    let size = written;
    do {
      const digit = size & 15;
      buf[--start] = digit < 10 ? 48 + digit : 87 + digit; // 0-9, a-f
      size >>>= 4;
    } while (size > 0);
  }
  if (last) { for (const b of LAST_CHUNK) buf[end++] = b; }
  if (buf === slab) used = end;
  return buf.subarray(start, end);
}

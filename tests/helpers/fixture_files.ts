/**
 * Small binary fixtures the image-dataset tests write themselves: a tar archive (ustar, as
 * Python's `tarfile` writes short names) and JPEG-structured bytes with a given size in their
 * frame header. Written here by hand so that the readers under test are checked against bytes
 * made independently of them.
 *
 * @module
 */

const enc = new TextEncoder();

function field(h: Uint8Array, at: number, len: number, text: string): void {
  h.set(enc.encode(text).subarray(0, len), at);
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** A tar archive of `files` (name → bytes, in order): ustar headers, 512-byte blocks. */
export function tarOf(
  files: ReadonlyArray<readonly [string, Uint8Array]>,
): Uint8Array<ArrayBuffer> {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of files) {
    const h = new Uint8Array(512);
    field(h, 0, 100, name);
    field(h, 100, 8, octal(0o644, 8));
    field(h, 108, 8, octal(0, 8));
    field(h, 116, 8, octal(0, 8));
    field(h, 124, 12, octal(data.length, 12));
    field(h, 136, 12, octal(1_700_000_000, 12));
    field(h, 148, 8, "        "); // the checksum counts its own field as spaces
    h[156] = 0x30; // '0': a regular file
    field(h, 257, 6, "ustar\0");
    field(h, 263, 2, "00");
    const sum = h.reduce((a, b) => a + b, 0);
    field(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(h);
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    blocks.push(padded);
  }
  blocks.push(new Uint8Array(1024)); // two zero blocks end the archive
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * JPEG-structured bytes: SOI, a JFIF APP0 segment, a baseline frame header (SOF0) of `width` ×
 * `height` with one component, a few scan bytes marked by `seed`, and EOI. Not decodable pixels
 * (no tables): what llmperf reads of a JPEG is its bytes and its frame header.
 */
export function jpegOf(width: number, height: number, seed: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    0xff,
    0xd8, // SOI
    0xff,
    0xe0,
    0,
    16,
    0x4a,
    0x46,
    0x49,
    0x46,
    0,
    1,
    1,
    0,
    0,
    1,
    0,
    1,
    0,
    0, // APP0 "JFIF"
    0xff,
    0xc0,
    0,
    11,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    1,
    1,
    0x11,
    0,
    0xff,
    0xda,
    0,
    8,
    1,
    1,
    0,
    0,
    63,
    0, // SOS
    seed & 255,
    (seed * 7) & 255,
    (seed * 13) & 255,
    0x00,
    0x2a,
    0xff,
    0xd9, // EOI
  ]);
}

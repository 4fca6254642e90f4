/**
 * Images in prompts, for plugins: data URLs from bytes, an image's size read from its header
 * (PNG, JPEG, GIF, WebP; without decoding it), and the prompt tokens images count as when a
 * server reports no usage, evalscope's rule: each image adds `ceil(h / p) · ceil(w / p)` tokens
 * for a patch size `p` (`--image-patch-size`, 28 by default: Qwen2-VL's merged patches).
 * Only images sent as `data:` URLs can be measured; an http(s) image counts 0 (the server
 * fetches it; llmperf never does).
 *
 * @module
 */

/** An image's size in pixels. */
export interface ImageSize {
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** The MIME type of an image file, by its extension (undefined when not an image llmperf knows). */
export function imageMime(path: string): string | undefined {
  const ext = path.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  switch (ext) {
    case "png":
      return "image/png";
    case "jpg":
    case "jpeg":
      return "image/jpeg";
    case "gif":
      return "image/gif";
    case "webp":
      return "image/webp";
    default:
      return undefined;
  }
}

/**
 * The MIME type of image bytes, by their signature (PNG, JPEG, GIF, WebP); undefined when none
 * matches. For images that come without a file name (a Parquet column's bytes).
 */
export function sniffImageMime(b: Uint8Array): string | undefined {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return "image/gif";
  const riff = String.fromCharCode(...b.subarray(0, 4), ...b.subarray(8, 12));
  return riff === "RIFFWEBP" ? "image/webp" : undefined;
}

/** `Uint8Array.prototype.toBase64` (ES2026) where the runtime has it (Deno 2.5 and later). */
const toBase64 = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64;

/**
 * Base64 of bytes (standard alphabet, padded): the runtime's own `toBase64` where there is one
 * (0.1 ms for 100 KB, a JPEG of Flickr8k), else through a binary string and `btoa` (7 ms).
 */
export function base64(bytes: Uint8Array): string {
  if (toBase64 !== undefined) return toBase64.call(bytes);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * A `data:` URL of an image's bytes.
 *
 * @example
 * ```ts
 * import { imageDataUrl } from "@llmperf/llmperf/plugin";
 * imageDataUrl(new Uint8Array([137, 80, 78, 71]), "image/png"); // "data:image/png;base64,iVBORw=="
 * ```
 */
export function imageDataUrl(bytes: Uint8Array, mime: string): string {
  return `data:${mime};base64,${base64(bytes)}`;
}

function bytesOf(url: string, limit: number): Uint8Array | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma === -1 || !url.slice(0, comma).endsWith(";base64")) return undefined;
  // Whole groups of 4 characters: 3 bytes each.
  const chars = Math.min(url.length - comma - 1, Math.ceil(limit / 3) * 4);
  try {
    const bin = atob(url.slice(comma + 1, comma + 1 + chars - (chars % 4)));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function jpegSize(b: Uint8Array): ImageSize | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame's size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    i += 2 + len;
  }
  return undefined;
}

function webpSize(b: Uint8Array): ImageSize | undefined {
  const tag = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (tag === "VP8X") {
    return {
      width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)),
      height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)),
    };
  }
  if (tag === "VP8L") {
    const v = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { width: (v & 0x3fff) + 1, height: ((v >>> 14) & 0x3fff) + 1 };
  }
  if (tag === "VP8 ") {
    return { width: (b[26] | (b[27] << 8)) & 0x3fff, height: (b[28] | (b[29] << 8)) & 0x3fff };
  }
  return undefined;
}

/** The size of an image given as a `data:` URL, from its header; undefined when unknown. */
export function imageSize(url: string): ImageSize | undefined {
  // JPEG's frame header can come after large metadata segments: read up to 256 KiB for it.
  const head = bytesOf(url, url.startsWith("data:image/jpeg") ? 256 * 1024 : 64);
  if (head === undefined || head.length < 24) return undefined;
  const b = head;
  switch (sniffImageMime(b)) {
    case "image/png": {
      const dv = new DataView(b.buffer, b.byteOffset);
      return { width: dv.getUint32(16), height: dv.getUint32(20) };
    }
    case "image/jpeg":
      return jpegSize(b);
    case "image/gif":
      return { width: b[6] | (b[7] << 8), height: b[8] | (b[9] << 8) };
    case "image/webp":
      return b.length >= 30 ? webpSize(b) : undefined;
  }
  return undefined;
}

/** The image URLs of a message list's content parts (`image_url` and `input_image` parts). */
export function imageUrls(messages: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(messages)) return out;
  for (const m of messages as Array<{ content?: unknown }>) {
    if (!Array.isArray(m?.content)) continue;
    for (const p of m.content as Array<Record<string, unknown>>) {
      const v = p?.image_url;
      const url = typeof v === "string" ? v : (v as { url?: unknown } | undefined)?.url;
      if (typeof url === "string") out.push(url);
    }
  }
  return out;
}

/**
 * The prompt tokens of the images in a message list by evalscope's rule (see the module
 * documentation): `ceil(h / patch) · ceil(w / patch)` per image whose size can be read.
 *
 * @example
 * ```ts
 * import { imageTokens } from "@llmperf/llmperf/plugin";
 * imageTokens(body.messages, 28); // a 224×224 image: 8 · 8 = 64
 * ```
 */
export function imageTokens(messages: unknown, patch = 28): number {
  let n = 0;
  for (const url of imageUrls(messages)) {
    const s = imageSize(url);
    if (s !== undefined) n += Math.ceil(s.height / patch) * Math.ceil(s.width / patch);
  }
  return n;
}

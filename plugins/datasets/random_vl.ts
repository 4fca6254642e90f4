/**
 * Built-in dataset `random_vl`: `random`'s prompts with synthetic images, as evalscope makes
 * them. Each request is one user message whose content is the text part followed by
 * `--image-num` images in OpenAI's content-part form (`{"type": "image_url", "image_url":
 * {"url": "data:image/png;base64,..."}}`). Each image is `--image-width` × `--image-height`
 * pixels in the colour mode `--image-format` (`RGB`, `RGBA`, `L`, `LA`: PIL's names): a solid
 * random colour with 1 to 5 random rectangles, ellipses or lines drawn on it, encoded as PNG
 * (with `fast-png`), reproducible under `--seed`. Text lengths follow `random` (tokens with
 * `--tokenizer-path`, else characters); all requests are made before the first is sent.
 *
 * When a server reports no usage, the images count `ceil(h/p)·ceil(w/p)` prompt tokens each
 * (`--image-patch-size` p), as evalscope counts them (`imageTokens`).
 *
 * @module
 */
import { DatasetPlugin, imageDataUrl, type Message } from "../../plugin.ts";
import { promptMaker, seeded } from "./random.ts";

/** Channels of each colour mode. */
const CHANNELS: Readonly<Record<string, 1 | 2 | 3 | 4>> = { L: 1, LA: 2, RGB: 3, RGBA: 4 };

/** The largest side llmperf draws (a 8192 × 8192 RGBA image is 256 MiB before encoding). */
export const MAX_SIDE = 8192;

/**
 * The pixels of one synthetic image: a random background and 1–5 random shapes, `channels`
 * bytes per pixel (grey, grey + alpha, RGB, RGBA; alpha is opaque).
 */
export function drawImage(
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  rnd: () => number,
): Uint8Array {
  const px = new Uint8Array(width * height * channels);
  const colour = (): number[] => {
    const rgb = [0, 0, 0].map(() => Math.floor(rnd() * 256));
    const grey = Math.round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
    return channels === 1 ? [grey] : channels === 2 ? [grey, 255] : channels === 3 ? rgb : [
      ...rgb,
      255,
    ];
  };
  const set = (x: number, y: number, c: number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const at = (y * width + x) * channels;
    for (let k = 0; k < channels; k++) px[at + k] = c[k];
  };
  const bg = colour();
  for (let i = 0; i < width * height; i++) px.set(bg, i * channels);
  const shapes = 1 + Math.floor(rnd() * 5);
  for (let s = 0; s < shapes; s++) {
    const c = colour();
    const x0 = Math.floor(rnd() * width), y0 = Math.floor(rnd() * height);
    const x1 = Math.floor(rnd() * width), y1 = Math.floor(rnd() * height);
    const [l, r] = x0 < x1 ? [x0, x1] : [x1, x0];
    const [t, b] = y0 < y1 ? [y0, y1] : [y1, y0];
    const kind = Math.floor(rnd() * 3);
    if (kind === 0) { // rectangle
      for (let y = t; y <= b; y++) for (let x = l; x <= r; x++) set(x, y, c);
    } else if (kind === 1) { // ellipse
      const cx = (l + r) / 2, cy = (t + b) / 2;
      const rx = Math.max(0.5, (r - l) / 2), ry = Math.max(0.5, (b - t) / 2);
      for (let y = t; y <= b; y++) {
        for (let x = l; x <= r; x++) {
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) set(x, y, c);
        }
      }
    } else { // line, 3 pixels wide
      const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
      for (let i = 0; i <= steps; i++) {
        const x = Math.round(x0 + ((x1 - x0) * i) / steps);
        const y = Math.round(y0 + ((y1 - y0) * i) / steps);
        for (let d = -1; d <= 1; d++) {
          set(x + d, y, c);
          set(x, y + d, c);
        }
      }
    }
  }
  return px;
}

/** One synthetic image as a PNG `data:` URL. */
export async function randomImageUrl(
  width: number,
  height: number,
  mode: string,
  rnd: () => number,
): Promise<string> {
  // Imported here (once; the module system keeps it): every command registers this dataset, few
  // draw images.
  const { encode } = await import("fast-png");
  const channels = CHANNELS[mode];
  if (channels === undefined) {
    throw new Error(`--image-format '${mode}': one of ${Object.keys(CHANNELS).join(", ")}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new Error(`--image-width and --image-height: at most ${MAX_SIDE} pixels`);
  }
  const data = drawImage(width, height, channels, rnd);
  return imageDataUrl(encode({ width, height, data, channels, depth: 8 }), "image/png");
}

/** Random prompts, each with `--image-num` synthetic images. */
export default class RandomVlDataset extends DatasetPlugin {
  /** The texts already fit `--min/--max-prompt-length` (as `random`'s). */
  readonly lengthFiltered = true;

  /** Yield `-n` requests (1 without `-n`). */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const p = this.params;
    const count = p.number ?? 1;
    const text = promptMaker(p, p.prefixLength);
    const rnd = seeded((p.seed ?? 42) ^ 0x5eed);
    const width = p.imageWidth ?? 224, height = p.imageHeight ?? 224;
    const mode = p.imageFormat ?? "RGB";
    const images = p.imageNum ?? 1;
    const out: Message[][] = [];
    for (let i = 0; i < count; i++) {
      const content: unknown[] = [{ type: "text", text: text() }];
      for (let k = 0; k < images; k++) {
        content.push({
          type: "image_url",
          image_url: { url: await randomImageUrl(width, height, mode, rnd) },
        });
      }
      out.push([{ role: "user", content }]);
    }
    yield* out;
  }
}

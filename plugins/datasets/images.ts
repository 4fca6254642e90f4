/**
 * Built-in dataset `images`: prompts with images from local files, sent in OpenAI's content-part
 * form (the text part, then each image as an `image_url` part). `--dataset-path` is either
 *
 * - a folder: each image file in it (`.png`, `.jpg`/`.jpeg`, `.gif`, `.webp`), in name order, is
 *   one request; its prompt is the text of a `.txt` file of the same name beside it, else
 *   `Describe the image.`; or
 * - a JSON Lines file of `{"image": path | URL}` or `{"images": [...]}` with a `prompt` (or
 *   `text`, `question`, `instruction`; default `Describe the image.`). Paths are relative to
 *   the file's folder.
 *
 * Local images are sent as `data:` URLs (read one request at a time, as they are due); http(s)
 * URLs are sent as they are, for the server to fetch. Image tokens are counted as `random_vl`'s
 * when a server reports no usage (only images sent as data can be measured).
 *
 * @module
 */
import {
  DatasetPlugin,
  imageDataUrl,
  imageMime,
  type Message,
  readJsonLines,
} from "../../plugin.ts";

/** The prompt when a file or line gives none. */
export const DEFAULT_IMAGE_PROMPT = "Describe the image.";

/** Fields a JSON line's prompt is read from, in order. */
const PROMPT_FIELDS = ["prompt", "text", "question", "instruction"];

function dirOf(path: string): string {
  const at = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return at === -1 ? "." : path.slice(0, at) || "/";
}

function resolve(base: string, p: string): string {
  return p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p) ? p : `${base}/${p}`;
}

/** The URL an image is sent as: an http(s) or data URL as given, a local file as data. */
export async function imageUrl(ref: string, base: string): Promise<string> {
  if (/^(https?|data):/i.test(ref)) return ref;
  const path = resolve(base, ref);
  const mime = imageMime(path);
  if (mime === undefined) throw new Error(`${path}: not a .png, .jpg, .gif or .webp image`);
  return imageDataUrl(await Deno.readFile(path), mime);
}

/** A user message of a text and images. */
export function imageMessage(text: string, urls: string[]): Message[] {
  const content: unknown[] = [{ type: "text", text }];
  for (const url of urls) content.push({ type: "image_url", image_url: { url } });
  return [{ role: "user", content }];
}

async function textIfThere(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Images from a folder or a JSON Lines file. */
export default class ImagesDataset extends DatasetPlugin {
  /** Yield one request per image (folder) or line (JSON Lines). */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("images needs --dataset-path: a folder of images, or JSON Lines");
    }
    const info = await Deno.stat(path);
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const e of Deno.readDir(path)) {
        if (e.isFile && imageMime(e.name) !== undefined) names.push(e.name);
      }
      names.sort();
      if (names.length === 0) throw new Error(`${path}: no .png, .jpg, .gif or .webp images`);
      for (const name of names) {
        const stem = name.replace(/\.[^.]+$/, "");
        const text = await textIfThere(`${path}/${stem}.txt`) ?? DEFAULT_IMAGE_PROMPT;
        yield imageMessage(text, [await imageUrl(name, path)]);
      }
      return;
    }
    const base = dirOf(path);
    let n = 0;
    for await (const item of readJsonLines(path)) {
      n++;
      const o = (item ?? {}) as Record<string, unknown>;
      const refs = typeof o.image === "string"
        ? [o.image]
        : Array.isArray(o.images) && o.images.every((x) => typeof x === "string")
        ? o.images as string[]
        : undefined;
      if (refs === undefined) throw new Error(`${path}:${n}: no "image" or "images" field`);
      const f = PROMPT_FIELDS.find((k) => typeof o[k] === "string");
      const text = f === undefined ? DEFAULT_IMAGE_PROMPT : (o[f] as string).trim();
      const urls: string[] = [];
      for (const r of refs) urls.push(await imageUrl(r, base));
      yield imageMessage(text, urls);
    }
  }
}

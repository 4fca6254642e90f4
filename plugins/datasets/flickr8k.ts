/**
 * Built-in dataset `flickr8k`: evalscope's image-text dataset, the test split of the hub dataset
 * `clip-benchmark/wds_flickr8k`. It is a WebDataset: tar shards whose samples are a `.jpg` image
 * and a `.txt` caption of the same key (`readWebDataset`). Each sample is one request: the
 * caption text (as the file has it: Flickr8k's captions of the image, one per line), then the
 * image as a `data:image/jpeg;base64,...` URL in OpenAI's content-part form (`imageMessage`, as
 * `images` sends). The JPEG's bytes are sent as they are in the shard (evalscope decodes and
 * re-encodes them with PIL); image tokens are counted from its header when a server reports no
 * usage, as for the other image datasets.
 *
 * Without `--dataset-path` the shards come from the hub `--data-source` names (ModelScope by
 * default, or Hugging Face), in the layout `clip_benchmark` writes and reads: `test/nshards.txt`
 * holds the number of shards N, and the shards are `test/0.tar` … `test/{N-1}.tar` (a hub that
 * has no `test/nshards.txt`, 404, is read from `test/0.tar` on until a shard is 404). Each shard
 * is downloaded into the cache only when the run reaches it, so `--number` limits what is
 * downloaded (a shard reached mid-run is downloaded then, once). `--dataset-path` is a shard
 * (`.tar`), or a folder of them (a `test/` folder inside it is used when there is one: a copy of
 * the hub's files); shards are read in the order of their numbers.
 *
 * @module
 */
import {
  DatasetPlugin,
  hubDatasetFile,
  HubDownloadError,
  imageDataUrl,
  type Message,
  readWebDataset,
} from "../../plugin.ts";
import { imageMessage } from "./images.ts";

/** The hub dataset and the files of its test split. */
export const FLICKR8K_HUB = {
  dataset: "clip-benchmark/wds_flickr8k",
  shardCount: "test/nshards.txt",
  shard: (i: number): string => `test/${i}.tar`,
};

/** The text when a sample has no caption (evalscope's 2024 prompt). */
export const FLICKR8K_DEFAULT_TEXT = "Describe the image";

/** Image fields of a sample, in the order they are looked for, with their MIME types. */
const IMAGE_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["png", "image/png"],
  ["webp", "image/webp"],
];

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Whether a download failed because the hub has no such file. */
function missing(e: unknown): boolean {
  return e instanceof HubDownloadError && e.status === 404;
}

/** The `.tar` files of a folder, by the number in their names (`2.tar` before `10.tar`). */
async function folderShards(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.toLowerCase().endsWith(".tar")) names.push(e.name);
  }
  if (names.length === 0) throw new Error(`${dir}: no .tar shards`);
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return names.map((n) => `${dir}/${n}`);
}

/** Flickr8k's captions and images, one request per sample. */
export default class Flickr8kDataset extends DatasetPlugin {
  /** The local path of each shard, in order, each fetched only when it is reached. */
  async *shards(): AsyncGenerator<string> {
    const p = this.params;
    if (p.datasetPath) {
      const path = p.datasetPath;
      if (!await isDirectory(path)) {
        yield path;
        return;
      }
      const dir = await isDirectory(`${path}/test`) ? `${path}/test` : path;
      yield* await folderShards(dir);
      return;
    }
    const { dataset, shardCount, shard } = FLICKR8K_HUB;
    let countFile: string | undefined;
    try {
      countFile = await hubDatasetFile(p.dataSource, dataset, shardCount);
    } catch (e) {
      if (!missing(e)) throw e;
    }
    if (countFile === undefined) {
      // No count on this hub: the shards are read in order until the first that is not there.
      for (let i = 0;; i++) {
        try {
          yield await hubDatasetFile(p.dataSource, dataset, shard(i));
        } catch (e) {
          if (i === 0 || !missing(e)) throw e;
          return;
        }
      }
    }
    const text = (await Deno.readTextFile(countFile)).trim();
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${dataset} ${shardCount}: '${text.slice(0, 40)}' is not a shard count`);
    }
    for (let i = 0; i < n; i++) yield await hubDatasetFile(p.dataSource, dataset, shard(i));
  }

  /** Yield one caption-and-image request per sample that has an image. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const utf8 = new TextDecoder();
    const read: string[] = [];
    let yielded = 0;
    for await (const shard of this.shards()) {
      read.push(shard);
      for await (const sample of readWebDataset(shard)) {
        const image = IMAGE_FIELDS.find(([field]) => sample.files[field] !== undefined);
        if (image === undefined) continue;
        const txt = sample.files.txt;
        const text = txt === undefined ? FLICKR8K_DEFAULT_TEXT : utf8.decode(txt);
        yielded++;
        yield imageMessage(text, [imageDataUrl(sample.files[image[0]], image[1])]);
      }
    }
    if (yielded === 0) {
      const names = read.length > 2 ? `${read[0]} … ${read.at(-1)}` : read.join(", ");
      throw new Error(`${names}: no WebDataset samples with a .jpg, .png or .webp image`);
    }
  }
}

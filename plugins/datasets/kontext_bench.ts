/**
 * Built-in dataset `kontext_bench`: evalscope's image-editing prompts, the test split of the hub
 * dataset `black-forest-labs/kontext-bench`. Each row is one request: its `instruction` (default
 * `Describe the image`), then its image as a `data:` URL in OpenAI's content-part form
 * (`imageMessage`, as `images` sends), the file's bytes as they are (evalscope re-encodes them
 * with PIL). Image tokens are counted from the image's header when a server reports no usage, as
 * for the other image datasets.
 *
 * The hub keeps the split as an image folder: `test/metadata.jsonl`, one JSON object per image
 * (`file_name`, relative to the metadata's folder, e.g. `images/0000.jpg`, and `instruction`),
 * beside the images. Without `--dataset-path` the metadata comes from the hub `--data-source`
 * names (ModelScope by default, or Hugging Face) and the images after it, into the cache: the
 * ones `--number` (and `--warmup-num`) need before the first request is sent, the rest as they
 * are reached. `--dataset-path` is
 *
 * - a Parquet file, or a folder of them (the hub's Parquet export, or `datasets`'
 *   `to_parquet`): the `image` column is the `datasets` Image struct (`bytes`, `path`) or the
 *   bytes themselves, and `instruction` the text; rows are read one row group at a time;
 * - a `metadata.jsonl` file, or a folder that holds one (or a `test/` folder that does: a copy
 *   of the hub's files), with the images beside it.
 *
 * @module
 */
import {
  DatasetPlugin,
  hubDatasetFile,
  hubDatasetFiles,
  imageDataUrl,
  imageMime,
  type Message,
  readJsonLines,
  sniffImageMime,
  warmupCount,
} from "../../plugin.ts";
import { imageMessage } from "./images.ts";

/** The hub dataset, its split's metadata file and the folder its `file_name`s are relative to. */
export const KONTEXT_HUB = {
  dataset: "black-forest-labs/kontext-bench",
  metadata: "test/metadata.jsonl",
  folder: "test",
};

/** The text of a row without an `instruction` (evalscope's default). */
export const KONTEXT_DEFAULT_INSTRUCTION = "Describe the image";

/** Images fetched from the hub at a time once the first ones are in. */
const LATER_BATCH = 64;

/** One metadata line: the image's path (relative to the metadata's folder) and its text. */
interface Row {
  file: string;
  instruction: string;
}

function textOf(v: unknown): string {
  return typeof v === "string" && v.trim() !== "" ? v : KONTEXT_DEFAULT_INSTRUCTION;
}

function messageOf(instruction: string, bytes: Uint8Array, name: string): Message[] {
  const mime = imageMime(name) ?? sniffImageMime(bytes);
  if (mime === undefined) throw new Error(`${name}: not a PNG, JPEG, GIF or WebP image`);
  return imageMessage(instruction, [imageDataUrl(bytes, mime)]);
}

async function statOf(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}

/** The rows of a metadata file; a `file_name` must stay inside the metadata's folder. */
async function readRows(path: string): Promise<Row[]> {
  const rows: Row[] = [];
  let n = 0;
  for await (const item of readJsonLines(path)) {
    n++;
    const o = (item ?? {}) as { file_name?: unknown; instruction?: unknown };
    const file = o.file_name;
    if (typeof file !== "string" || file === "") {
      throw new Error(`${path}:${n}: no "file_name"`);
    }
    if (file.startsWith("/") || file.split(/[\\/]/).includes("..")) {
      throw new Error(`${path}:${n}: file_name '${file}' leaves the dataset's folder`);
    }
    rows.push({ file, instruction: textOf(o.instruction) });
  }
  return rows;
}

/** The bytes of a Parquet `image` cell: the `datasets` Image struct, or bytes. */
function cellBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  const b = (v as { bytes?: unknown } | null | undefined)?.bytes;
  return b instanceof Uint8Array ? b : undefined;
}

/** The requests of Parquet files, one row group in memory at a time. */
async function* parquetMessages(paths: string[]): AsyncGenerator<Message[]> {
  // Imported here, not at the top: every command registers this dataset, few read Parquet.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import(
    "hyparquet"
  );
  for (const path of paths) {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      const rows = await parquetReadObjects({
        file,
        metadata,
        rowStart: start,
        rowEnd: end,
        utf8: false,
      });
      for (let i = 0; i < rows.length; i++) {
        const bytes = cellBytes(rows[i].image);
        if (bytes === undefined) throw new Error(`${path}: row ${start + i}: no image bytes`);
        yield messageOf(textOf(rows[i].instruction), bytes, `${path} row ${start + i}`);
      }
      start = end;
    }
  }
}

/** Kontext-Bench's instructions and images, one request per row. */
export default class KontextBenchDataset extends DatasetPlugin {
  /** Yield one instruction-and-image request per row. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) {
      yield* this.#hubMessages();
      return;
    }
    const info = await statOf(path);
    if (info === undefined) throw new Error(`${path}: no such file or folder`);
    if (info.isFile) {
      if (path.toLowerCase().endsWith(".parquet")) yield* parquetMessages([path]);
      else yield* this.#folderMessages(path);
      return;
    }
    for (const meta of [`${path}/metadata.jsonl`, `${path}/test/metadata.jsonl`]) {
      if ((await statOf(meta))?.isFile) {
        yield* this.#folderMessages(meta);
        return;
      }
    }
    const parquet: string[] = [];
    for await (const e of Deno.readDir(path)) {
      if (e.isFile && e.name.toLowerCase().endsWith(".parquet")) parquet.push(`${path}/${e.name}`);
    }
    if (parquet.length === 0) {
      throw new Error(`${path}: no metadata.jsonl (nor test/metadata.jsonl) and no .parquet files`);
    }
    yield* parquetMessages(parquet.sort());
  }

  /** Rows of a local metadata file, each image read from beside it as it is reached. */
  async *#folderMessages(meta: string): AsyncGenerator<Message[]> {
    const at = Math.max(meta.lastIndexOf("/"), meta.lastIndexOf("\\"));
    const dir = at === -1 ? "." : meta.slice(0, at) || "/";
    for (const row of await readRows(meta)) {
      const file = `${dir}/${row.file}`;
      yield messageOf(row.instruction, await Deno.readFile(file), file);
    }
  }

  /** Rows of the hub's metadata; the images the run needs fetched before the first is sent. */
  async *#hubMessages(): AsyncGenerator<Message[]> {
    const p = this.params;
    const { dataset, metadata, folder } = KONTEXT_HUB;
    const rows = await readRows(await hubDatasetFile(p.dataSource, dataset, metadata));
    const need = p.number === undefined
      ? rows.length
      : Math.min(rows.length, p.number + warmupCount(p.warmupNum ?? 0, p.number));
    const local: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (i >= local.length) {
        const end = i === 0 ? Math.max(1, need) : Math.min(rows.length, i + LATER_BATCH);
        const files = rows.slice(i, end).map((r) => `${folder}/${r.file}`);
        local.push(...await hubDatasetFiles(p.dataSource, dataset, files));
      }
      yield messageOf(rows[i].instruction, await Deno.readFile(local[i]), local[i]);
    }
  }
}

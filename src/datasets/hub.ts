/**
 * `--data-source`: which hub a built-in dataset's default file comes from when no
 * `--dataset-path` is given, as evalscope 2026 chooses: `modelscope` (the default; see
 * `modelscope.ts`), `huggingface` (the same dataset id, from `$HF_ENDPOINT`, else
 * `https://huggingface.co`, at `/datasets/{id}/resolve/{revision}/{file}`, the URL the
 * `huggingface_hub` library downloads from), or `local` (nothing is downloaded: `--dataset-path`
 * is needed). Files are cached in llmperf's cache folder, under `datasets/huggingface/` for the
 * Hugging Face hub.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { stderrLogger } from "../log.ts";
import { nodePath } from "../util/node_path.ts";
import {
  cachedDownload,
  cacheDir,
  type HubFileOptions,
  modelscopeDatasetFile,
} from "./modelscope.ts";

/** The public Hugging Face hub. */
export const HF_DEFAULT_ENDPOINT = "https://huggingface.co";

/** The Hugging Face endpoint in force: `$HF_ENDPOINT` (a mirror, a test server), else the hub. */
export function huggingfaceEndpoint(): string {
  let v: string | undefined;
  try {
    v = Deno.env.get("HF_ENDPOINT")?.trim();
  } catch {
    v = undefined; // no --allow-env
  }
  return (v ? v : HF_DEFAULT_ENDPOINT).replace(/\/+$/, "");
}

/** The download URL of `file` in the Hugging Face dataset `dataset` (`namespace/name`). */
export function huggingfaceFileUrl(
  dataset: string,
  file: string,
  revision = "main",
  endpoint = huggingfaceEndpoint(),
): string {
  const path = file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/datasets/${dataset}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/**
 * The local path of `file` of `dataset` from the hub `source` names (`--data-source`; unset:
 * ModelScope), downloaded into the cache the first time. `local` is a {@link UsageError}: there
 * is nothing to download from.
 *
 * @example
 * ```ts
 * const path = await hubDatasetFile("huggingface", "AI-ModelScope/HC3-Chinese", "open_qa.jsonl");
 * ```
 */
export async function hubDatasetFile(
  source: string | undefined,
  dataset: string,
  file: string,
  opts: HubFileOptions = {},
): Promise<string> {
  if (source === undefined || source === "modelscope") {
    return await modelscopeDatasetFile(dataset, file, opts);
  }
  if (source === "local") {
    throw new UsageError(
      `--data-source local: give --dataset-path FILE (the ${dataset} file ${file} is not downloaded)`,
    );
  }
  const revision = opts.revision ?? "main";
  const { join } = await nodePath();
  const local = join(
    opts.cacheDir ?? await cacheDir(),
    "datasets",
    "huggingface",
    ...dataset.split("/"),
    ...file.split("/"),
  );
  return await cachedDownload(huggingfaceFileUrl(dataset, file, revision, opts.endpoint), local, {
    what: `${file} of the Hugging Face dataset ${dataset}`,
    hint: "set HF_ENDPOINT to a mirror",
    log: opts.log,
  });
}

/** How many files {@link hubDatasetFiles} downloads at once. */
export const HUB_PARALLEL_DOWNLOADS = 8;

/**
 * The local paths of several files of one dataset (a folder of images beside its metadata), in
 * the order of `files`, as {@link hubDatasetFile} has each (cached files are not fetched again),
 * {@link HUB_PARALLEL_DOWNLOADS} at a time. One line is logged when the first download starts,
 * not one per file.
 *
 * @example
 * ```ts
 * const [a, b] = await hubDatasetFiles("huggingface", "ns/name", ["images/0.jpg", "images/1.jpg"]);
 * ```
 */
export async function hubDatasetFiles(
  source: string | undefined,
  dataset: string,
  files: readonly string[],
  opts: HubFileOptions = {},
): Promise<string[]> {
  const log = opts.log ?? stderrLogger;
  let said = false;
  const once = (line: string) => {
    if (said) return;
    said = true;
    log(files.length === 1 ? line : `${line} (and the rest of ${files.length} files not cached)`);
  };
  const out: string[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        out[i] = await hubDatasetFile(source, dataset, files[i], { ...opts, log: once });
      } catch (e) {
        next = files.length; // the others stop after their current file
        throw e;
      }
    }
  };
  const n = Math.min(HUB_PARALLEL_DOWNLOADS, files.length);
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

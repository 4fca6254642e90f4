/**
 * WebDataset shards for plugins: a tar file whose consecutive entries that share a key make one
 * sample (`s0000001.jpg` and `s0000001.txt` are the `jpg` and `txt` fields of sample
 * `s0000001`), the format of `clip-benchmark/wds_*` and of many image-text sets. The key and the
 * field are split as the `webdataset` Python library splits them: the key is the entry's folder
 * and its name up to the first dot, the field the rest, lower-cased; entries that are not files,
 * or have no dot, are skipped. The tar is read as a stream (with `modern-tar`), one sample in
 * memory at a time.
 *
 * @module
 */

/** One sample of a shard: its key and its fields' bytes by extension (`jpg`, `txt`, `cls`). */
export interface WebDatasetSample {
  /** The entries' shared key (`s0000001`, or `train/s0000001` in a folder). */
  key: string;
  /** The bytes of each field, by extension, lower-case. */
  files: Record<string, Uint8Array>;
}

/** An entry name's key and field, as `webdataset`'s `base_plus_ext` splits it. */
export function webDatasetKey(name: string): { key: string; field: string } | undefined {
  const m = /^((?:.*\/|)[^./]+)\.([^/]*)$/.exec(name);
  return m === null ? undefined : { key: m[1], field: m[2].toLowerCase() };
}

/**
 * The samples of a tar stream, in order.
 *
 * @example
 * ```ts
 * import { webDatasetSamples } from "@llmperf/llmperf/plugin";
 * const file = await Deno.open("test/0.tar");
 * for await (const s of webDatasetSamples(file.readable)) {
 *   console.log(s.key, new TextDecoder().decode(s.files.txt), s.files.jpg.length);
 * }
 * ```
 */
export async function* webDatasetSamples(
  tar: ReadableStream<Uint8Array>,
): AsyncGenerator<WebDatasetSample> {
  // Imported here, not at the top: `plugin.ts` re-exports this module, and every thread that
  // loads a plugin (each transport worker) would otherwise load the tar reader too.
  const { createTarDecoder } = await import("modern-tar");
  let current: WebDatasetSample | undefined;
  for await (const entry of tar.pipeThrough(createTarDecoder())) {
    const type = entry.header.type ?? "file";
    const split = type === "file" ? webDatasetKey(entry.header.name) : undefined;
    if (split === undefined) {
      await entry.body.cancel();
      continue;
    }
    const bytes = new Uint8Array(await new Response(entry.body).arrayBuffer());
    if (current !== undefined && current.key !== split.key) {
      yield current;
      current = undefined;
    }
    current ??= { key: split.key, files: {} };
    current.files[split.field] = bytes;
  }
  if (current !== undefined) yield current;
}

/** The samples of the tar file at `path` (see {@link webDatasetSamples}). */
export async function* readWebDataset(path: string): AsyncGenerator<WebDatasetSample> {
  const file = await Deno.open(path);
  yield* webDatasetSamples(file.readable);
}

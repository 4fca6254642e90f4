/**
 * Built-in datasets for `--api openai_embedding`, as evalscope has them:
 *
 * - `embedding` (also `embed`): texts from `--dataset-path`, one request each: a `.txt` file (a
 *   text a line), a `.json` file (a list of strings, or of objects with `text`, `input`,
 *   `sentence` or `content`) or a `.jsonl` file (the same, one a line).
 * - `embedding_batch`: the same texts, `batch_size` per request (`--extra-args
 *   '{"batch_size": 16}'`, default 8; the last batch may be smaller).
 * - `random_embedding` / `random_embedding_batch`: `-n` random texts (batches) whose lengths
 *   are drawn from `[--min-prompt-length, --max-prompt-length]` as `random` draws them (tokens
 *   with `--tokenizer-path`, else characters; reproducible under `--seed`).
 *
 * Texts outside `--min/--max-prompt-length` are left out, as the request source leaves out
 * chat prompts (characters, or tokens with `--tokenizer-path`); blank texts are skipped.
 *
 * @module
 */
import {
  DatasetPlugin,
  type PluginParams,
  type Prompt,
  readJsonArray,
  readJsonLines,
  readLines,
} from "../../plugin.ts";
import { promptMaker } from "./random.ts";

/** Fields an object's text is read from, in order. */
export const TEXT_FIELDS: readonly string[] = ["text", "input", "sentence", "content"];

/** Texts per request of the batch datasets when `--extra-args` has no `batch_size`. */
export const DEFAULT_BATCH_SIZE = 8;

/** The text of one JSON item: a string, or an object's first text field. */
export function itemText(item: unknown): string | undefined {
  if (typeof item === "string") return item;
  if (item === null || typeof item !== "object") return undefined;
  const o = item as Record<string, unknown>;
  const f = TEXT_FIELDS.find((k) => typeof o[k] === "string");
  return f === undefined ? undefined : o[f] as string;
}

/** The items of a `.json` (array), `.jsonl` or text file, lazily. */
export async function* fileItems(path: string): AsyncGenerator<unknown> {
  const lower = path.toLowerCase();
  if (lower.endsWith(".json")) yield* readJsonArray(path);
  else if (lower.endsWith(".jsonl")) yield* readJsonLines(path);
  else {
    for await (const line of readLines(path)) yield line;
  }
}

/** A positive integer from `--extra-args`, or the default. */
export function extraInt(params: PluginParams, key: string, fallback: number): number {
  const v = (params.extraArgs as Record<string, unknown> | undefined)?.[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`--extra-args '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Whether a text's length is inside `--min/--max-prompt-length` (the request source's rule). */
export function lengthFits(params: PluginParams, text: string): boolean {
  const bounded = params.minPromptLength > 0 || params.maxPromptLength < Number.MAX_SAFE_INTEGER;
  if (!bounded) return true;
  const len = params.tokenizer ? params.tokenizer.encode(text).length : text.length;
  return len > params.minPromptLength && len < params.maxPromptLength;
}

/** Texts to embed from a file, one (or `batch` at a time) per request. */
export default class EmbeddingDataset extends DatasetPlugin {
  /** The texts are filtered here. */
  readonly lengthFiltered = true;
  /** Texts per request (1 for `embedding`). */
  batch(): number {
    return 1;
  }

  /** Yield the file's texts, one batch per request. */
  async *buildMessages(): AsyncGenerator<Prompt> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("needs --dataset-path: a .txt (a text a line), .json or .jsonl file");
    }
    const size = this.batch();
    let texts: string[] = [];
    let n = 0;
    for await (const item of fileItems(path)) {
      n++;
      const text = itemText(item);
      if (text === undefined) {
        throw new Error(`${path}: item ${n} has no text (a string, or ${TEXT_FIELDS.join("|")})`);
      }
      const t = text.trim();
      if (t === "" || !lengthFits(this.params, t)) continue;
      texts.push(t);
      if (texts.length === size) {
        yield { kind: "texts", texts };
        texts = [];
      }
    }
    if (texts.length > 0) yield { kind: "texts", texts };
  }
}

/** `embedding_batch`: `batch_size` texts per request. */
export class EmbeddingBatchDataset extends EmbeddingDataset {
  /** `--extra-args` `batch_size`, default 8. */
  override batch(): number {
    return extraInt(this.params, "batch_size", DEFAULT_BATCH_SIZE);
  }
}

/** `random_embedding`: `-n` random texts, one per request. */
export class RandomEmbeddingDataset extends DatasetPlugin {
  /** Lengths are drawn inside the bounds. */
  readonly lengthFiltered = true;
  /** Texts per request. */
  batch(): number {
    return 1;
  }

  /** Yield `-n` requests (1 without `-n`), all made before the first is sent. */
  *buildMessages(): Generator<Prompt> {
    const make = promptMaker(this.params, 0);
    const size = this.batch();
    const out: Prompt[] = [];
    for (let i = 0; i < (this.params.number ?? 1); i++) {
      out.push({ kind: "texts", texts: Array.from({ length: size }, make) });
    }
    yield* out;
  }
}

/** `random_embedding_batch`: `batch_size` random texts per request. */
export class RandomEmbeddingBatchDataset extends RandomEmbeddingDataset {
  /** `--extra-args` `batch_size`, default 8. */
  override batch(): number {
    return extraInt(this.params, "batch_size", DEFAULT_BATCH_SIZE);
  }
}

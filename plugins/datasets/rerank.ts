/**
 * Built-in datasets for `--api openai_rerank`, as evalscope has them:
 *
 * - `rerank`: from `--dataset-path`, a `.json` list or `.jsonl`/`.txt` lines of
 *   `{"query", "documents"}` (the documents may be called `passages` or `texts`; each a string
 *   or `{"text"}`). One request per item.
 * - `random_rerank`: `-n` requests of a random query, its length drawn from
 *   `[--min-prompt-length, --max-prompt-length]` as `random` draws it (tokens with
 *   `--tokenizer-path`, else characters), and `num_documents` random documents (default 10),
 *   each `document_length_ratio` times the query's length (default 5), both read from
 *   `--extra-args` as evalscope reads them.
 *
 * @module
 */
import { DatasetPlugin, type Prompt } from "../../plugin.ts";
import { extraInt, fileItems, lengthFits } from "./embedding.ts";
import { charPrompts, promptMaker, tokenPrompts } from "./random.ts";

/** Fields the documents are read from, in order. */
export const DOCUMENT_FIELDS: readonly string[] = ["documents", "passages", "texts"];

/** The rerank pair of one item, or why there is none. */
export function rerankItem(item: unknown): Prompt | string {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return "not an object";
  const o = item as Record<string, unknown>;
  if (typeof o.query !== "string") return "no 'query' text";
  const field = DOCUMENT_FIELDS.find((f) => Array.isArray(o[f]));
  if (field === undefined) return `no document list (${DOCUMENT_FIELDS.join(", ")})`;
  const documents: string[] = [];
  for (const d of o[field] as unknown[]) {
    const text = typeof d === "string" ? d : (d as { text?: unknown })?.text;
    if (typeof text !== "string") return `a document of '${field}' is not text`;
    documents.push(text);
  }
  return { kind: "rerank", query: o.query, documents };
}

/** Queries and documents from a file. */
export default class RerankDataset extends DatasetPlugin {
  /** Queries are filtered here (by their length). */
  readonly lengthFiltered = true;

  /** Yield one rerank request per item. */
  async *buildMessages(): AsyncGenerator<Prompt> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error('needs --dataset-path: .json or .jsonl of {"query", "documents"}');
    }
    let n = 0;
    for await (const line of fileItems(path)) {
      n++;
      let item = line;
      if (typeof line === "string") {
        if (line.trim() === "") continue;
        try {
          item = JSON.parse(line);
        } catch (e) {
          throw new Error(`${path}:${n}: not valid JSON (${(e as Error).message})`);
        }
      }
      const p = rerankItem(item);
      if (typeof p === "string") throw new Error(`${path}: item ${n}: ${p}`);
      if (!Array.isArray(p) && p.kind === "rerank" && !lengthFits(this.params, p.query)) continue;
      yield p;
    }
  }
}

/** Random queries and documents. */
export class RandomRerankDataset extends DatasetPlugin {
  /** Lengths are drawn inside the bounds. */
  readonly lengthFiltered = true;

  /** Yield `-n` requests (1 without `-n`), all made before the first is sent. */
  *buildMessages(): Generator<Prompt> {
    const p = this.params;
    const docs = extraInt(p, "num_documents", 10);
    const ratio = extraInt(p, "document_length_ratio", 5);
    const query = promptMaker(p, 0);
    const makers = new Map<number, () => string>(); // document makers, by length
    const length = (text: string) => p.tokenizer ? p.tokenizer.encode(text).length : text.length;
    const out: Prompt[] = [];
    for (let i = 0; i < (p.number ?? 1); i++) {
      const q = query();
      const len = Math.max(1, length(q) * ratio);
      let make = makers.get(len);
      if (make === undefined) {
        const seed = (p.seed ?? 42) + len;
        make = p.tokenizer
          ? tokenPrompts(p.tokenizer, len, len, 0, seed)
          : charPrompts(len, len, 0, seed);
        makers.set(len, make);
      }
      out.push({ kind: "rerank", query: q, documents: Array.from({ length: docs }, make) });
    }
    yield* out;
  }
}

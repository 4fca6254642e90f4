/**
 * Built-in dataset `mooncake`: replays a Mooncake trace (the format vLLM, SGLang and AIPerf
 * read: Kimi's FAST'25 traces). `--dataset-path` is a JSON Lines file of
 * `{timestamp, input_length, output_length, hash_ids}` records:
 *
 * - `timestamp`: ms. Records are sent in time order, `(timestamp − first) / speed` after the
 *   run's start.
 * - `hash_ids`: the prompt's blocks of `block_size` tokens (512, Mooncake's and SGLang's
 *   convention). Each block's text is made from its hash id (and `--seed`) alone, so equal
 *   hash ids are equal text wherever they appear: the trace's prefix sharing reaches the server
 *   as it was. The last block is cut so that the prompt is `input_length` tokens (without a
 *   tokenizer its text is the start of the full block's); a trace whose blocks are too few for it gets unshared text after them.
 * - `output_length`: the reply's length, asked for exactly: `max_tokens` and `min_tokens` set to
 *   it, with `ignore_eos` (vLLM and SGLang honour them).
 *
 * Tokens are the `--tokenizer-path` tokenizer's (each block's text encodes to exactly its
 * tokens on its own, as the `random` dataset makes its prompts; joined, a block boundary may
 * merge a token or two); without one a token is taken as 4 characters of random English words (what
 * OpenAI's rule of thumb and the mock count). `--dataset-args` takes `speed` (> 0, default 1)
 * and `block_size` (default 512). `--number` truncates the trace.
 *
 * @module
 */
import {
  type DatasetArgsSchema,
  DatasetPlugin,
  type DatasetRequest,
  type PromptTokenizer,
  type RequestBody,
} from "../../plugin.ts";
import { randomWords, seeded, seededExactText } from "./random.ts";
import { datasetArgs, readTrace } from "./trace_records.ts";

/** Tokens per hash id block (Mooncake's traces, SGLang's and AIPerf's readers). */
export const MOONCAKE_BLOCK_SIZE = 512;

/** Characters per token without a tokenizer. */
export const CHARS_PER_TOKEN = 4;

const ARGS: DatasetArgsSchema = {
  speed: { type: "positive" },
  block_size: { type: "positive-int" },
};

/** The seed of a block's text: its hash id mixed with the run's seed. */
export function blockSeed(hashId: number, seed: number): number {
  const lo = hashId >>> 0;
  const hi = Math.floor(hashId / 2 ** 32) >>> 0;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) ^ seed;
  return h >>> 0;
}

/** Makes the text of `n` tokens of a block (its first `n` of `blockSize`). */
type BlockText = (seed: number, n: number) => string;

function charBlocks(blockSize: number): BlockText {
  return (seed, n) => {
    const full = randomWords(seeded(seed), blockSize * CHARS_PER_TOKEN);
    return full.slice(0, n * CHARS_PER_TOKEN);
  };
}

/** Block texts kept for reuse (a trace's blocks recur): at most this many, then started over. */
const CACHED_BLOCKS = 8192;

function tokenBlocks(tok: PromptTokenizer): BlockText {
  const make = seededExactText(tok);
  const cache = new Map<string, string>();
  return (seed, n) => {
    const key = `${seed}:${n}`;
    let text = cache.get(key);
    if (text === undefined) {
      text = make(n, seed); // encodes to exactly n tokens on its own
      if (cache.size >= CACHED_BLOCKS) cache.clear();
      cache.set(key, text);
    }
    return text;
  };
}

/** Replays a Mooncake trace; see the module doc. */
export default class MooncakeDataset extends DatasetPlugin {
  /** Its `--dataset-args` keys, checked before anything is sent. */
  readonly argsSchema = ARGS;
  /** Each request carries its send time. */
  readonly timed = true;
  /** The trace sets the prompts' lengths. */
  readonly lengthFiltered = true;

  /** Yield the trace's requests in time order. */
  async *buildMessages(): AsyncGenerator<DatasetRequest> {
    const p = this.params;
    const args = datasetArgs(p, "mooncake", ARGS);
    const speed = (args.speed as number | undefined) ?? 1;
    const blockSize = (args.block_size as number | undefined) ?? MOONCAKE_BLOCK_SIZE;
    const seed = p.seed ?? 42;
    const block = p.tokenizer ? tokenBlocks(p.tokenizer) : charBlocks(blockSize);
    const trace = await readTrace(
      "mooncake",
      p.datasetPath,
      (r) => typeof r.timestamp === "number" ? r.timestamp : undefined,
    );
    const t0 = trace[0]?.timeMs ?? 0;
    for (const { line, record, timeMs } of trace) {
      const where = `${p.datasetPath}: record ${line}`;
      const input = record.input_length;
      const output = record.output_length;
      const ids = record.hash_ids ?? [];
      if (!Number.isSafeInteger(input) || (input as number) < 1) {
        throw new Error(`${where}: input_length must be a whole number above 0`);
      }
      if (!Array.isArray(ids) || !ids.every((h) => Number.isSafeInteger(h) && h >= 0)) {
        throw new Error(`${where}: hash_ids must be a list of whole numbers`);
      }
      let left = input as number;
      let text = "";
      for (const h of ids as number[]) {
        if (left <= 0) break;
        const n = Math.min(blockSize, left);
        text += block(blockSeed(h, seed), n);
        left -= n;
      }
      // Blocks too few for input_length: the rest is this record's own (never shared).
      while (left > 0) {
        const n = Math.min(blockSize, left);
        text += block(blockSeed(2 ** 52 + line, seed), n);
        left -= n;
      }
      const item: DatasetRequest = {
        messages: [{ role: "user", content: text }],
        atMs: (timeMs - t0) / speed,
      };
      if (Number.isSafeInteger(output) && (output as number) > 0) {
        const fields: RequestBody = { max_tokens: output, min_tokens: output, ignore_eos: true };
        item.fields = fields;
      }
      yield item;
    }
  }
}

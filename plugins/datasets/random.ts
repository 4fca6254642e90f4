/**
 * Built-in dataset `random`: synthetic prompts whose lengths are drawn uniformly from
 * `[--min-prompt-length, --max-prompt-length]` (bounds included), each starting with the same
 * `--prefix-length` long prefix, reproducible under `--seed`. Written as a user's plugin would be:
 * it imports only the public plugin module and finds the run's tokenizer in `params.tokenizer`.
 *
 * - With `--tokenizer-path`, lengths are tokens and exact: a prompt is random vocabulary tokens
 *   (added and special tokens left out), decoded to text and adjusted until re-encoding it gives
 *   exactly the drawn length, as the run measures it (`tokenizer.promptLength`: through the chat
 *   template with `--apply-chat-template`). Its first `--prefix-length` tokens are the same in
 *   every prompt.
 * - Without, lengths are characters: random English words cut to the drawn length.
 *
 * Shared-prefix workloads (SGLang's generated-shared-prefix, vLLM's `prefix_repetition`):
 * `--prefix-groups G` makes G different prefixes of `--prefix-length`, and spreads the requests
 * over them evenly (request i's group is i mod G, the order then shuffled under `--seed`), so
 * that each group's prefix is shared by about `-n / G` questions.
 *
 * Defaults: without `--max-prompt-length` the longest prompt is 1024 (or `--min-prompt-length`
 * when that is more); the shortest is never below what the prefix and the chat template take,
 * nor below 1. `-n` prompts are generated (1 without `-n`), all before the first is sent.
 *
 * @module
 */
import {
  DatasetPlugin,
  type Message,
  type PluginParams,
  type PromptTokenizer,
  warmupCount,
} from "../../plugin.ts";

/** The longest prompt when `--max-prompt-length` is not given. */
export const DEFAULT_MAX_LENGTH = 1024;

/** Rounds of decode/re-encode before a prompt is started again from fresh random tokens. */
const ROUNDS = 16;
/** Fresh starts before giving up on a length. */
const RESTARTS = 64;

const WORDS = (
  "time year people way day man thing woman life child world school state family student " +
  "group country problem hand part place case week company system program question work " +
  "government number night point home water room mother area money story fact month lot " +
  "right study book eye job word business issue side kind head house service friend father " +
  "power hour game line end member law car city community name president team minute idea " +
  "kid body information back parent face others level office door health person art war " +
  "history party result change morning reason research girl guy moment air teacher force " +
  "education"
).split(" ");

/** `n` characters of random English words drawn with `rnd` (the character-length prompts' text). */
export function randomWords(rnd: () => number, n: number): string {
  let s = "";
  while (s.length < n) s += WORDS[Math.floor(rnd() * WORDS.length)] + " ";
  return s.slice(0, n);
}

/** A seeded uniform generator on [0, 1) (mulberry32): small, fast, reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The range lengths are drawn from, after the defaults and the floor are applied. */
export interface LengthRange {
  /** Shortest prompt. */
  lo: number;
  /** Longest prompt. */
  hi: number;
}

/**
 * The length range for `min`/`max` as given (`max` at `Number.MAX_SAFE_INTEGER` = not given) and
 * `floor`, the shortest prompt possible (prefix plus chat template). Throws when it is empty.
 */
export function lengthRange(min: number, max: number, floor: number, unit: string): LengthRange {
  const hi = max >= Number.MAX_SAFE_INTEGER ? Math.max(DEFAULT_MAX_LENGTH, min) : max;
  const lo = Math.max(min, floor, 1);
  if (lo > hi) {
    throw new Error(
      `random: prompts cannot be at most ${hi} ${unit} long: the shortest possible is ${lo} ` +
        `(--min-prompt-length, --prefix-length and the chat template); raise --max-prompt-length`,
    );
  }
  return { lo, hi };
}

/** Random prompts; see the module documentation. */
export default class RandomDataset extends DatasetPlugin {
  /** The prompts already fit `--min/--max-prompt-length`: no filtering again. */
  readonly lengthFiltered = true;

  /**
   * Yield `-n` prompts (1 without `-n`), plus the `--warmup-num` ones, from position
   * `--dataset-offset` of the seeded stream (the ones before it are made and dropped).
   */
  *buildMessages(): Generator<Message[]> {
    const p = this.params;
    const count = (p.number ?? 1) + warmupCount(p.warmupNum ?? 0, p.number);
    const skip = p.datasetOffset ?? 0;
    const groups = p.prefixGroups ?? 1;
    const make = promptMaker(p, p.prefixLength, groups);
    const order = groupOrder(count, groups, p.seed ?? 42);
    // All made up front: building a prompt takes milliseconds, which must not delay sending.
    for (let i = 0; i < skip; i++) make();
    const prompts: string[] = new Array(count);
    for (let i = 0; i < count; i++) prompts[i] = make(order[i]);
    for (const content of prompts) yield [{ role: "user", content }];
  }
}

/**
 * The prefix group of each of `count` requests: `i mod groups`, shuffled (Fisher–Yates) by a
 * generator seeded from `seed`, so the groups' sizes differ by at most one.
 */
export function groupOrder(count: number, groups: number, seed: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i % groups);
  if (groups <= 1) return order;
  const rnd = seeded(seed ^ 0x5bd1e995);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The maker of the run's random prompts (`random`'s, and the datasets built on it): lengths in
 * `--min/--max-prompt-length`, tokens with `--tokenizer-path`, else characters; the first
 * `prefixLength` the same in every prompt of a group (`make(g)`: group `g` of `groups`).
 */
export function promptMaker(
  p: PluginParams,
  prefixLength: number,
  groups = 1,
): (group?: number) => string {
  const make = p.tokenizer
    ? tokenPrompts(p.tokenizer, p.minPromptLength, p.maxPromptLength, prefixLength, p.seed, groups)
    : charPrompts(p.minPromptLength, p.maxPromptLength, prefixLength, p.seed, groups);
  return (g = 0) => make(g);
}

/**
 * Prompts of exact character lengths made of random words; `make(g)` starts with group `g`'s
 * prefix (of `groups` different ones).
 */
export function charPrompts(
  min: number,
  max: number,
  prefixLength: number,
  seed = 42,
  groups = 1,
): (group?: number) => string {
  const rnd = seeded(seed);
  const { lo, hi } = lengthRange(min, max, prefixLength, "characters");
  const words = (n: number) => randomWords(rnd, n);
  const prefixes = Array.from({ length: groups }, () => words(prefixLength));
  return (group = 0) => {
    const len = lo + Math.floor(rnd() * (hi - lo + 1));
    return prefixes[group] + words(len - prefixLength);
  };
}

/**
 * Prompts of exact token lengths, as `tok.promptLength` measures them; `make(g)` starts with
 * group `g`'s prefix (of `groups` different ones).
 */
export function tokenPrompts(
  tok: PromptTokenizer,
  min: number,
  max: number,
  prefixLength: number,
  seed = 42,
  groups = 1,
): (group?: number) => string {
  const rnd = seeded(seed);
  const sample = tokenSampler(tok, rnd);
  const user = (content: string): Message[] => [{ role: "user", content }];
  const overhead = tok.promptLength(user(""));
  const { lo, hi } = lengthRange(min, max, overhead + prefixLength, "tokens");
  const prefixTexts = Array.from({ length: groups }, () => exactText(tok, sample, prefixLength));
  const prefixIdLists = prefixTexts.map((t) => tok.encode(t));
  return (group = 0) => {
    const prefix = prefixTexts[group];
    const prefixIds = prefixIdLists[group];
    const target = lo + Math.floor(rnd() * (hi - lo + 1));
    for (let start = 0; start < RESTARTS; start++) {
      // Content tokens wanted; corrected when the template joins differently around the content.
      let want = target - overhead;
      let body = sample(want - prefixIds.length);
      for (let round = 0; round < ROUNDS; round++) {
        const content = prefix + tok.decode(body);
        const ids = tok.encode(content);
        if (!startsWith(ids, prefixIds)) break; // the body merged into the prefix: start again
        if (ids.length === want) {
          const len = tok.usesChatTemplate ? tok.promptLength(user(content)) : want;
          if (len === target) return content;
          want = Math.max(prefixIds.length, want + target - len);
        }
        body = ids.slice(prefixIds.length);
        const n = want - prefixIds.length;
        body = n <= body.length ? body.slice(0, n) : body.concat(sample(n - body.length));
      }
    }
    throw new Error(`random: could not make a prompt of exactly ${target} tokens`);
  };
}

/**
 * Text that encodes to exactly `n` tokens, from the ids `sample` gives (the first `n`, then as
 * many more as a decode/re-encode round comes up short). With `trimmed` (the default) it neither
 * starts nor ends with whitespace (chat templates such as Llama 3's trim the content; a trimmed
 * prefix could not stay `n` tokens); without, real text cut at any token keeps its whitespace.
 */
export function exactText(
  tok: PromptTokenizer,
  sample: (n: number) => number[],
  n: number,
  trimmed = true,
): string {
  if (n === 0) return "";
  for (let start = 0; start < RESTARTS; start++) {
    let ids = sample(n);
    for (let round = 0; round < ROUNDS; round++) {
      const text = tok.decode(ids);
      const again = tok.encode(text);
      if (again.length === n && (!trimmed || text.trim() === text)) return text;
      if (again.length === n) break; // whitespace at an end: start again
      ids = again.length > n ? again.slice(0, n) : again.concat(sample(n - again.length));
    }
  }
  throw new Error(`could not make text of exactly ${n} tokens`);
}

/**
 * Makes text of exactly `n` of `tok`'s tokens ({@link exactText}) from `seed` alone: equal seeds
 * and lengths give equal text. One sampler serves every call (its vocabulary cache is shared).
 *
 * @example
 * ```ts
 * const make = seededExactText(tokenizer);
 * tokenizer.encode(make(100, 7)).length; // 100
 * ```
 */
export function seededExactText(tok: PromptTokenizer): (n: number, seed: number) => string {
  let rnd = seeded(0);
  const sample = tokenSampler(tok, () => rnd());
  return (n, seed) => {
    rnd = seeded(seed);
    return exactText(tok, sample, n);
  };
}

/**
 * Draws random ids from the base vocabulary, leaving out added tokens and tokens that decode to
 * nothing or to an incomplete character (a lone byte of a multi-byte UTF-8 sequence).
 */
export function tokenSampler(tok: PromptTokenizer, rnd: () => number): (n: number) => number[] {
  const state = new Uint8Array(tok.vocabSize); // 0 unknown, 1 usable, 2 not
  const usable = (id: number): boolean => {
    if (state[id] === 0) {
      const text = tok.addedIds.has(id) ? "" : tok.decode([id]);
      state[id] = text.length > 0 && !text.includes("\uFFFD") ? 1 : 2;
    }
    return state[id] === 1;
  };
  return (n) => {
    const out: number[] = new Array(Math.max(0, n));
    for (let i = 0; i < out.length; i++) {
      let id: number;
      do id = Math.floor(rnd() * tok.vocabSize); while (!usable(id));
      out[i] = id;
    }
    return out;
  };
}

function startsWith(ids: number[], prefix: number[]): boolean {
  if (ids.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

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
 * Prompt i depends only on `--seed` and i (its own generator), so `--dataset-offset K` yields
 * the prompts of indices K on of the same run without it, and `--num-workers N` makes them on N
 * workers (each loads `--tokenizer-path` itself and makes the indices i ≡ k mod N) with the same
 * result as one thread.
 *
 * @module
 */
import {
  DatasetPlugin,
  makeOnWorkers,
  type Message,
  type PluginParams,
  type PromptTokenizer,
  resolveNumWorkers,
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

/**
 * The seed of prompt `index`'s own generator under the run's `seed` (a splitmix32 round over
 * both): prompt i depends on `seed` and i alone, not on the draws of the prompts before it.
 */
export function indexSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
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
   * Yield `-n` prompts (1 without `-n`), plus the `--warmup-num` ones: those of indices
   * `--dataset-offset` on (prompt i depends only on `--seed` and i). Made on `--num-workers`
   * workers ({@link randomWorkers}) when that resolves to more than one: then the prompts come
   * from an async generator, else from a plain one.
   */
  buildMessages(): Iterable<Message[]> | AsyncIterable<Message[]> {
    const p = this.params;
    const { start, end } = indexRange(p);
    const workers = randomWorkers(p, end - start);
    if (workers > 1) return this.#parallel(start, end, workers);
    return this.#serial(start, end);
  }

  *#serial(start: number, end: number): Generator<Message[]> {
    const t0 = performance.now();
    const make = randomPromptAt(this.params);
    // All made up front: building a prompt takes milliseconds, which must not delay sending.
    const prompts: string[] = new Array(end - start);
    for (let i = start; i < end; i++) prompts[i - start] = make(i);
    const s = (performance.now() - t0) / 1000;
    if (s >= SLOW_SECONDS) {
      this.params.log?.(
        `random: 1 worker (this thread) made ${prompts.length} prompts in ${s.toFixed(1)} s ` +
          "(--num-workers N makes them on N workers)",
      );
    }
    for (const content of prompts) yield [{ role: "user", content }];
  }

  async *#parallel(start: number, end: number, workers: number): AsyncGenerator<Message[]> {
    const t0 = performance.now();
    const prompts = await makeOnWorkers<string>({
      module: import.meta.url,
      name: "randomPromptAt",
      params: this.params,
      start,
      end,
      workers,
    });
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    this.params.log?.(`random: ${workers} workers made ${prompts.length} prompts in ${s} s`);
    for (const content of prompts) yield [{ role: "user", content }];
  }
}

/** Serial generation that took this long says so in a log line. */
const SLOW_SECONDS = 2;

/**
 * Expected prompt tokens (mean length × count) per worker under `--num-workers 0` (auto), which
 * makes token-exact prompts on `min(cpus, count, 32, tokens // this)` workers, at least 1.
 * Measured (Qwen3, 1,024-token prompts, 2 cores): about 35 µs a token on one thread (200 prompts
 * in 6.8 s) and about 1.3 s for a worker to start (module and tokenizer load), so a worker's share
 * of this many tokens (about 5 s of work) is worth its start. At 1,024-token prompts this is
 * evalscope's `count // 128`.
 */
export const AUTO_TOKENS_PER_WORKER = 128 * 1024;

/**
 * The indices of the prompts a run yields: `[--dataset-offset, offset + count)`, the count being
 * `-n` (1 without it) plus the `--warmup-num` ones.
 */
export function indexRange(p: PluginParams): { start: number; end: number } {
  const count = (p.number ?? 1) + warmupCount(p.warmupNum ?? 0, p.number);
  const start = p.datasetOffset ?? 0;
  return { start, end: start + count };
}

/**
 * How many workers make `total` prompts: `--num-workers` 1 or more resolved as evalscope does
 * ({@link resolveNumWorkers}); 0 (auto) only with a tokenizer, on one worker per
 * {@link AUTO_TOKENS_PER_WORKER} expected tokens (at most `cpus`, `total` and 32), else 1.
 * evalscope's auto goes parallel from a mean length of 8192 and 4 Mi tokens, with one worker per
 * 128 prompts: its per-prompt cost is not ours.
 */
export function randomWorkers(
  p: PluginParams,
  total: number,
  cpus: number = navigator.hardwareConcurrency,
): number {
  const requested = p.numWorkers ?? 0;
  if (requested !== 0) return resolveNumWorkers(requested, total);
  if (!p.tokenizer) return 1;
  const hi = p.maxPromptLength >= Number.MAX_SAFE_INTEGER
    ? Math.max(DEFAULT_MAX_LENGTH, p.minPromptLength)
    : p.maxPromptLength;
  const tokens = Math.floor((p.minPromptLength + hi) / 2) * total;
  return Math.max(1, Math.min(cpus, total, 32, Math.floor(tokens / AUTO_TOKENS_PER_WORKER)));
}

/**
 * The maker of `random`'s prompt of each index (the one {@link makeOnWorkers} calls on each
 * worker): `make(i)` depends only on the run's settings and `i`, its prefix group's place in
 * {@link groupOrder} taken over indices `0 … offset + count`.
 */
export function randomPromptAt(p: PluginParams): (index: number) => string {
  const groups = p.prefixGroups ?? 1;
  const order = groupOrder(indexRange(p).end, groups, p.seed ?? 42);
  const make = promptMaker(p, p.prefixLength, groups);
  return (i) => make(order[i], i);
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
 * A maker of prompts: `make(g, i)` is prompt `i` (the next index after the last one made when
 * omitted, from 0), starting with group `g`'s prefix. Prompt i depends only on the maker's
 * settings, its seed and i ({@link indexSeed}); the prefixes only on the settings and the seed.
 */
export type PromptMaker = (group?: number, index?: number) => string;

/**
 * The maker of the run's random prompts (`random`'s, and the datasets built on it): lengths in
 * `--min/--max-prompt-length`, tokens with `--tokenizer-path`, else characters; the first
 * `prefixLength` the same in every prompt of a group (`make(g)`: group `g` of `groups`).
 */
export function promptMaker(p: PluginParams, prefixLength: number, groups = 1): PromptMaker {
  return p.tokenizer
    ? tokenPrompts(p.tokenizer, p.minPromptLength, p.maxPromptLength, prefixLength, p.seed, groups)
    : charPrompts(p.minPromptLength, p.maxPromptLength, prefixLength, p.seed, groups);
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
): PromptMaker {
  const { lo, hi } = lengthRange(min, max, prefixLength, "characters");
  const prefixRnd = seeded(seed);
  const prefixes = Array.from({ length: groups }, () => randomWords(prefixRnd, prefixLength));
  let next = 0;
  return (group = 0, index = next) => {
    next = index + 1;
    const rnd = seeded(indexSeed(seed, index));
    const len = lo + Math.floor(rnd() * (hi - lo + 1));
    return prefixes[group] + randomWords(rnd, len - prefixLength);
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
): PromptMaker {
  let rnd = seeded(seed); // the prefixes' stream; then each prompt's own
  const sample = tokenSampler(tok, () => rnd());
  const user = (content: string): Message[] => [{ role: "user", content }];
  const overhead = tok.promptLength(user(""));
  const { lo, hi } = lengthRange(min, max, overhead + prefixLength, "tokens");
  const prefixTexts = Array.from({ length: groups }, () => exactText(tok, sample, prefixLength));
  const prefixIdLists = prefixTexts.map((t) => tok.encode(t));
  let next = 0;
  return (group = 0, index = next) => {
    next = index + 1;
    rnd = seeded(indexSeed(seed, index));
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

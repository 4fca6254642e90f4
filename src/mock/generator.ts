/**
 * What the mock server says: deterministic token text and lengths. A reply's length and words
 * depend only on the seed and the prompt, so equal runs get equal replies whatever the order in
 * which requests arrive.
 *
 * @module
 */
import { hash32, seededRandom } from "../util/rng.ts";

const WORDS = (
  "the of and to in is that for it as with was on be by at this are from or an have not " +
  "which but they one all were we when there can more if no out so said what up its about into " +
  "than them only other new some could time these two may then first any like now my such make " +
  "over did down way each just those people how too well also back after use work because good " +
  "language model token server latency stream benchmark throughput 模型 推理 延迟 吞吐"
).split(" ");

/** Each word as a JSON string literal, without and with its leading space. */
const WORDS_JSON = WORDS.map((w) => JSON.stringify(w));
const SPACED_JSON = WORDS.map((w) => JSON.stringify(" " + w));

/** The mock's own token count of a text: one token per 4 UTF-16 units, at least 1. */
export function mockTokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Settings for reply lengths. */
export interface LengthSettings {
  /** Output tokens per reply (minimum when `outputTokensMax` is larger). */
  outputTokens: number;
  /** When larger than `outputTokens`, lengths are uniform in [outputTokens, outputTokensMax]. */
  outputTokensMax?: number;
  /** The server's seed. */
  seed: number;
  /**
   * Reasoning tokens generated before the answer tokens (default 0): the reply has
   * `reasoningTokens + answer length` tokens, capped as a whole by `max_tokens` (reasoning first,
   * as a server's limit counts every generated token).
   */
  reasoningTokens?: number;
}

/** A planned reply: how many tokens, and a generator of their text. */
export interface ReplyPlan {
  /** Tokens to generate per choice, reasoning included. */
  tokens: number;
  /** Of those, the reasoning tokens: tokens `0 .. reasoning − 1`; the answer follows. */
  reasoning: number;
  /** The text of token `i` of choice `choice`. */
  token(i: number, choice: number): string;
  /** `JSON.stringify(token(i, choice))`, from a table: nothing is built per call. */
  tokenJson(i: number, choice: number): string;
}

/**
 * Plan the reply to `prompt`, capped by the request's `max_tokens` (a whole number of tokens:
 * fractions are rounded down; 0 is a reply without tokens; negative caps are ignored).
 */
export function planReply(
  prompt: string,
  maxTokens: number | undefined,
  s: LengthSettings,
): ReplyPlan {
  const h = hash32(prompt, s.seed);
  const rnd = seededRandom(h);
  const lo = s.outputTokens;
  const hi = Math.max(lo, s.outputTokensMax ?? lo);
  const thinking = Math.max(0, Math.floor(s.reasoningTokens ?? 0));
  let tokens = thinking + lo + Math.floor(rnd() * (hi - lo + 1));
  if (maxTokens !== undefined && maxTokens >= 0) tokens = Math.min(tokens, Math.floor(maxTokens));
  const reasoning = Math.min(thinking, tokens);
  const word = (i: number, choice: number) => hash32(String(i * 31 + choice), h) % WORDS.length;
  return {
    tokens,
    reasoning,
    token(i: number, choice: number): string {
      const w = WORDS[word(i, choice)];
      return i === 0 || i === reasoning ? w : " " + w;
    },
    tokenJson(i: number, choice: number): string {
      return (i === 0 || i === reasoning ? WORDS_JSON : SPACED_JSON)[word(i, choice)];
    },
  };
}

/**
 * Built-in dataset `random_multi_turn` (`--multi-turn`): synthetic conversations, as evalscope's.
 * Each conversation has a number of turns drawn uniformly from `[--min-turns, --max-turns]`
 * (both included; `--max-turns` defaults to 5), and each turn is one random user message whose
 * length is drawn from `[--min-prompt-length, --max-prompt-length]` as the `random` dataset
 * draws it (tokens with `--tokenizer-path`, else characters). `-n` conversations are made (1
 * without `-n`), all before the first is sent, reproducible under `--seed`.
 *
 * `--dataset-args` (evalscope's `MultiTurnDatasetArgs`, `multi_turn_args.ts`) take precedence
 * over those bounds: `first_turn_length` sets the first turn's length and
 * `subsequent_turn_length` each later turn's (a number, or `[min, max]` drawn once per
 * conversation, under `--seed`), in tokens of the user message's text (exact with
 * `--tokenizer-path`, the chat template's tokens not counted), else in characters of
 * `chars_per_token` (3.0) each. evalscope declares these keys for this dataset but only its
 * `swe_smith` reads them; here they do what their names say. A key not given leaves its turns to
 * the bounds.
 *
 * Without `--multi-turn` each conversation is one request holding its user messages.
 *
 * @module
 */
import { DatasetPlugin, type Message, type Turn } from "../../plugin.ts";
import { MULTI_TURN_DATASET_ARGS } from "./dataset_args.ts";
import { drawLength, multiTurnArgs, type TurnLength } from "./multi_turn_args.ts";
import {
  charPrompts,
  exactText,
  randomWords,
  seeded,
  tokenPrompts,
  tokenSampler,
} from "./random.ts";

/** Turns per conversation when `--max-turns` is not given. */
export const DEFAULT_MAX_TURNS = 5;

/** Random conversations; see the module documentation. */
export default class RandomMultiTurnDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = MULTI_TURN_DATASET_ARGS;
  /** The turns already fit `--min/--max-prompt-length`. */
  readonly lengthFiltered = true;
  #made: Turn[][] | undefined;

  /** The conversations, made once. */
  #conversations(): Turn[][] {
    if (this.#made) return this.#made;
    const p = this.params;
    const count = p.number ?? 1;
    const lo = p.minTurns;
    const hi = Math.max(lo, p.maxTurns ?? DEFAULT_MAX_TURNS);
    const make = p.tokenizer
      ? tokenPrompts(p.tokenizer, p.minPromptLength, p.maxPromptLength, 0, p.seed)
      : charPrompts(p.minPromptLength, p.maxPromptLength, 0, p.seed);
    const rnd = seeded((p.seed ?? 42) ^ 0x9e3779b9);
    const args = multiTurnArgs(p, "random_multi_turn", true);
    // The --dataset-args lengths: drawn, and their text made, from a stream of their own.
    const lenRnd = seeded((p.seed ?? 42) ^ 0x85ebca6b);
    const sample = p.tokenizer && tokenSampler(p.tokenizer, lenRnd);
    const text = (tokens: number) =>
      p.tokenizer
        ? exactText(p.tokenizer, sample!, tokens)
        : randomWords(lenRnd, Math.max(1, Math.round(tokens * args.charsPerToken)));
    const turn = (len: number | undefined) => len === undefined ? make() : text(len);
    const draw = (len?: TurnLength) => len === undefined ? undefined : drawLength(len, lenRnd);
    const out: Turn[][] = new Array(count);
    for (let i = 0; i < count; i++) {
      const n = lo + Math.floor(rnd() * (hi - lo + 1));
      const first = draw(args.firstTurnLength);
      const later = draw(args.subsequentTurnLength);
      out[i] = Array.from({ length: n }, (_, t) => ({
        messages: [{ role: "user", content: turn(t === 0 ? first : later) }],
      }));
    }
    return this.#made = out;
  }

  /** `--multi-turn`: yield the conversations. */
  *buildConversations(): Generator<Turn[]> {
    yield* this.#conversations();
  }

  /** Without `--multi-turn`: each conversation's user messages as one request. */
  *buildMessages(): Generator<Message[]> {
    for (const c of this.#conversations()) yield c.flatMap((t) => t.messages);
  }
}

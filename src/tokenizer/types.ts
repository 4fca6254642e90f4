/**
 * What plugins see of the run's tokenizer (`--tokenizer-path`): plain methods over token ids, so a
 * dataset plugin can build prompts of exact token lengths without importing anything. A plugin
 * receives it as `params.tokenizer` (see {@link PromptTokenizer}); it is absent without
 * `--tokenizer-path`.
 *
 * @module
 */
import type { Message } from "../plugins/types.ts";

/**
 * The run's tokenizer as plugins use it. `promptLength` is the one definition of a prompt's
 * length in tokens that the whole run shares: the `--min/--max-prompt-length` filter, the
 * `random` dataset and the token counts all agree with it.
 */
export interface PromptTokenizer {
  /** Token ids of `text`, without special tokens (no BOS/EOS added). */
  encode(text: string): number[];
  /** Text of `ids` (special tokens kept as text). */
  decode(ids: number[]): string;
  /**
   * A message list's length in tokens: the rendered chat template (generation prompt added)
   * with `--apply-chat-template`, else the text of the messages joined by newlines, both without
   * added special tokens.
   */
  promptLength(messages: Message[]): number;
  /** Whether {@link promptLength} renders the chat template (`--apply-chat-template`). */
  readonly usesChatTemplate: boolean;
  /** Size of the base vocabulary: ids `0 … vocabSize − 1`, added tokens not included. */
  readonly vocabSize: number;
  /** Ids of added tokens (special or not, e.g. `<|im_start|>`, `<think>`). */
  readonly addedIds: ReadonlySet<number>;
}

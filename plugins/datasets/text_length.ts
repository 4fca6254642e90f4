/**
 * evalscope's `TextDatasetArgs` (`--dataset-args` of `openqa`, `longalpaca`, `share_gpt_zh/en`
 * and the plain-text lines of `line_by_line`) carried out: prompts fit to `target_input_len`
 * tokens instead of being filtered by `--min/--max-prompt-length`.
 *
 * - Lengths are the tokens of the messages' text as `--tokenizer-path` encodes it (no special
 *   tokens, the chat template's own tokens not counted), summed over the messages: evalscope's
 *   measure. `target_input_len` without `--tokenizer-path` is an error.
 * - A prompt longer than the target is cut to exactly that many tokens; a shorter one is kept
 *   (`input_len_mode` `cap`, the default) or skipped (`drop`). A conversation (`share_gpt_zh/en`:
 *   the history with the last question) is never cut: one longer than the target is skipped, and
 *   `drop` is refused for it (a whole conversation almost never has exactly the target's length,
 *   so every one would be skipped), as evalscope has it.
 * - `prefix_file` (needs `target_input_len`, refused with `drop`): the file's text, tokenised
 *   once, tiled and cut to fill the `target − prompt` tokens left, so that every prompt is exactly
 *   the target. `prefix_role` `system` (the default) sends it as a system message before the
 *   others; `user`, or any role without the chat template (a plain prompt string is sent), puts it
 *   at the start of the first message's text, as evalscope falls back (where the prefix's last
 *   token and the text's first always join into fewer or more tokens than apart, a newline or a
 *   space goes between them, so that the total stays exact).
 *
 * @module
 */
import type { Message, PluginParams, PromptTokenizer } from "../../plugin.ts";
import { isCompletionsUrl } from "../api/openai.ts";
import { exactText } from "./random.ts";

/** The length control of one run, resolved (see the module documentation). */
export interface TextLength {
  /** `target_input_len`: tokens. */
  readonly target: number;
  /** `input_len_mode`: what happens to a shorter prompt. */
  readonly mode: "cap" | "drop";
  /** The prefix file's token ids (absent without `prefix_file`). */
  readonly prefixIds?: readonly number[];
  /** Whether the prefix is a message of its own (`prefix_role` `system`, messages sent). */
  readonly systemPrefix: boolean;
  /** The run's tokenizer. */
  readonly tok: PromptTokenizer;
}

/** Whether `--dataset-args` asks for length control (`target_input_len` given). */
export function fitsLength(params: PluginParams): boolean {
  return (params.datasetArgs as Record<string, unknown> | undefined)?.target_input_len !==
    undefined;
}

/**
 * The run's length control from `--dataset-args` (checked already against `TEXT_DATASET_ARGS`),
 * or undefined without `target_input_len`. `conversation`: the dataset's prompts are whole
 * conversations (`drop` refused). Throws one line for a rule broken: `prefix_file` without
 * `target_input_len` or with `drop`, no `--tokenizer-path`, a prefix file unreadable or empty.
 */
export async function textLength(
  params: PluginParams,
  dataset: string,
  conversation = false,
): Promise<TextLength | undefined> {
  const args = (params.datasetArgs ?? {}) as {
    target_input_len?: number;
    input_len_mode?: "cap" | "drop";
    prefix_file?: string;
    prefix_role?: "system" | "user";
  };
  const target = args.target_input_len;
  const mode = args.input_len_mode ?? "cap";
  const file = args.prefix_file;
  if (file !== undefined && target === undefined) {
    throw new Error("--dataset-args 'prefix_file' needs 'target_input_len' (the length it fills)");
  }
  if (file !== undefined && mode === "drop") {
    throw new Error(
      "--dataset-args 'prefix_file' cannot be used with input_len_mode 'drop' (the prefix fills " +
        "the shorter prompts that 'drop' skips): use 'cap'",
    );
  }
  if (target === undefined) return undefined;
  const tok = params.tokenizer;
  if (tok === undefined) {
    throw new Error(
      "--dataset-args 'target_input_len' needs --tokenizer-path (the length is in its tokens)",
    );
  }
  if (conversation && mode === "drop") {
    throw new Error(
      `--dataset-args input_len_mode 'drop' is not supported by ${dataset}: a whole ` +
        "conversation almost never has exactly target_input_len tokens, so every one would be " +
        "skipped (use 'cap', with prefix_file to fill up to the target)",
    );
  }
  const prefixIds = file === undefined ? undefined : await prefixTokens(tok, file);
  // The chat template on (evalscope's rule: as --[no-]apply-chat-template says, else by the URL):
  // messages are sent, so a system message can be; off, one prompt string is.
  const chat = params.applyChatTemplate ?? !isCompletionsUrl(params.url);
  const systemPrefix = (args.prefix_role ?? "system") === "system" && chat;
  return { target, mode, prefixIds, systemPrefix, tok };
}

// Each prefix file's tokens, tokenised once per tokenizer (a dataset's passes share them).
const prefixes = new WeakMap<PromptTokenizer, Map<string, readonly number[]>>();

async function prefixTokens(tok: PromptTokenizer, file: string): Promise<readonly number[]> {
  let byFile = prefixes.get(tok);
  if (byFile === undefined) prefixes.set(tok, byFile = new Map());
  const known = byFile.get(file);
  if (known !== undefined) return known;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new Error(`--dataset-args prefix_file '${file}': cannot read it (${e})`);
  }
  const ids = tok.encode(text);
  if (ids.length === 0) throw new Error(`--dataset-args prefix_file '${file}' is empty`);
  byFile.set(file, ids);
  return ids;
}

/** Hands out `ids` in order, from the start again when they run out (the prefix's tiling). */
function tiled(ids: readonly number[]): (n: number) => number[] {
  let at = 0;
  return (n) => {
    const out: number[] = new Array(Math.max(0, n));
    for (let i = 0; i < out.length; i++) {
      out[i] = ids[at];
      at = (at + 1) % ids.length;
    }
    return out;
  };
}

/** Text of exactly `n` tokens from the start of `ids` (tiled when shorter), whitespace kept. */
function firstTokens(tok: PromptTokenizer, ids: readonly number[], n: number): string {
  try {
    return exactText(tok, tiled(ids), n, false);
  } catch {
    return tok.decode(ids.slice(0, n)); // a tokenizer that never round-trips: as close as it gets
  }
}

/**
 * `text` with the tiled prefix before it, `want` tokens in all: about `budget` of the prefix's,
 * since its last tokens and the text's first may join differently. The prefix's length is searched
 * near `budget`, nearest first; where every length jumps over `want` (a join that always merges),
 * a newline, then a space, goes between them. A cut inside a character (`\uFFFD`) is passed over.
 */
function prefixed(
  tok: PromptTokenizer,
  prefixIds: readonly number[],
  text: string,
  budget: number,
  want: number,
): string {
  for (const sep of ["", "\n", " "]) {
    for (let d = 0; d <= 8; d++) {
      for (const k of d === 0 ? [budget] : [budget - d, budget + d]) {
        if (k <= 0) continue;
        const prefix = firstTokens(tok, prefixIds, k);
        if (prefix.endsWith("\uFFFD")) continue;
        const content = prefix + sep + text;
        if (tok.encode(content).length === want) return content;
      }
    }
  }
  return firstTokens(tok, prefixIds, budget) + text; // as close as this tokenizer allows
}

const tokens = (tok: PromptTokenizer, m: Message) =>
  typeof m.content === "string" ? tok.encode(m.content).length : 0;

/**
 * `messages` fit to the target (see the module documentation), or undefined when skipped. With
 * `cut`, a single message longer than the target is cut to it; else (a conversation) skipped.
 *
 * @example
 * ```ts ignore
 * const fit = await textLength(params, "openqa");
 * fitMessages(fit!, [{ role: "user", content: question }]); // exactly fit.target tokens
 * ```
 */
export function fitMessages(
  t: TextLength,
  messages: Message[],
  cut = true,
): Message[] | undefined {
  const { tok, target } = t;
  const lengths = messages.map((m) => tokens(tok, m));
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total > target) {
    if (!cut || messages.length !== 1 || typeof messages[0].content !== "string") return undefined;
    const ids = tok.encode(messages[0].content);
    return [{ ...messages[0], content: firstTokens(tok, ids, target) }];
  }
  if (total === target) return messages;
  if (t.mode === "drop") return undefined;
  if (t.prefixIds === undefined) return messages;
  const budget = target - total;
  if (t.systemPrefix) {
    return [{ role: "system", content: firstTokens(tok, t.prefixIds, budget) }, ...messages];
  }
  const first = messages[0];
  const text = typeof first.content === "string" ? first.content : "";
  const content = prefixed(tok, t.prefixIds, text, budget, lengths[0] + budget);
  return [{ ...first, content }, ...messages.slice(1)];
}

/**
 * The prompts of `prompts`, fit by `fit` ({@link fitMessages}; `conversation`: never cut), or all
 * of them as they are without it.
 */
export async function* fitAll(
  fit: TextLength | undefined,
  prompts: AsyncIterable<Message[]>,
  conversation = false,
): AsyncGenerator<Message[]> {
  for await (const m of prompts) {
    const out = fit === undefined ? m : fitMessages(fit, m, !conversation);
    if (out !== undefined) yield out;
  }
}

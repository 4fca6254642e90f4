/**
 * Built-in datasets `share_gpt_zh` and `share_gpt_en`: ShareGPT conversations as single
 * requests, as evalscope has them. The file is JSON Lines of `{"conversation": [{"human",
 * "assistant"}, ...]}` (swift/sharegpt's `common_zh_70k.jsonl` / `common_en_70k.jsonl`): each
 * conversation is one request holding its whole history, the earlier turns as user and
 * assistant messages and the last human message as the final user message (its recorded reply is
 * left out: that is what the server generates). Empty messages are skipped; a conversation with
 * no human message is skipped.
 *
 * The `--min/--max-prompt-length` filter applies to the last user message (characters, or tokens
 * with `--tokenizer-path`, as the run measures a prompt), as evalscope filters. Without
 * `--dataset-path` the file is downloaded from the ModelScope hub once and cached.
 *
 * `--dataset-args` `target_input_len` replaces that filter, measured over the whole conversation
 * (`text_length.ts`): a conversation longer than the target is skipped (never cut), a shorter one
 * kept and, with `prefix_file`, filled up to the target; `input_len_mode` `drop` is refused.
 *
 * @module
 */
import {
  DatasetPlugin,
  type Message,
  modelscopeDatasetFile,
  type PluginParams,
  readJsonLines,
} from "../../plugin.ts";
import { TEXT_DATASET_ARGS } from "./dataset_args.ts";
import { fitAll, fitsLength, textLength } from "./text_length.ts";

/** The ModelScope dataset the files come from. */
export const SHARE_GPT_DATASET = "swift/sharegpt";

/** One turn of a ShareGPT conversation. */
interface Turn {
  human?: unknown;
  assistant?: unknown;
}

/** The messages of one conversation (empty when it has no human message). */
export function conversationMessages(item: unknown): Message[] {
  const turns = (item as { conversation?: unknown })?.conversation;
  if (!Array.isArray(turns)) return [];
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  let last = -1;
  for (let i = turns.length - 1; i >= 0; i--) {
    if (text((turns[i] as Turn)?.human) !== "") {
      last = i;
      break;
    }
  }
  if (last === -1) return [];
  const out: Message[] = [];
  for (let i = 0; i < last; i++) {
    const t = turns[i] as Turn;
    if (text(t?.human)) out.push({ role: "user", content: text(t.human) });
    if (text(t?.assistant)) out.push({ role: "assistant", content: text(t.assistant) });
  }
  out.push({ role: "user", content: text((turns[last] as Turn).human) });
  return out;
}

function lastUserFits(params: PluginParams, m: Message): boolean {
  const bounded = params.minPromptLength > 0 || params.maxPromptLength < Number.MAX_SAFE_INTEGER;
  if (!bounded) return true;
  const len = params.tokenizer
    ? params.tokenizer.promptLength([m])
    : typeof m.content === "string"
    ? m.content.length
    : 0;
  return len > params.minPromptLength && len < params.maxPromptLength;
}

/** ShareGPT conversations (Chinese file by default), one request each. */
export default class ShareGptZhDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = TEXT_DATASET_ARGS;
  /** The last user message is filtered here. */
  readonly lengthFiltered = true;

  /** The hub file read without `--dataset-path`. */
  defaultFile(): string {
    return "common_zh_70k.jsonl";
  }

  /** Yield one request per conversation. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    yield* fitAll(await textLength(this.params, this.name(), true), this.#conversations(), true);
  }

  /** The dataset's name (in errors). */
  name(): string {
    return "share_gpt_zh";
  }

  async *#conversations(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath ??
      await modelscopeDatasetFile(SHARE_GPT_DATASET, this.defaultFile());
    const filter = !fitsLength(this.params);
    for await (const item of readJsonLines(path)) {
      const messages = conversationMessages(item);
      if (messages.length === 0) continue;
      if (filter && !lastUserFits(this.params, messages[messages.length - 1])) continue;
      yield messages;
    }
  }
}

/** `share_gpt_en`: the English file by default. */
export class ShareGptEnDataset extends ShareGptZhDataset {
  /** The English file. */
  override defaultFile(): string {
    return "common_en_70k.jsonl";
  }
  /** `share_gpt_en`. */
  override name(): string {
    return "share_gpt_en";
  }
}

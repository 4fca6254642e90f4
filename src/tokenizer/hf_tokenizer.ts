/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`) behind the small
 * {@link PromptTokenizer} interface, on `@huggingface/tokenizers` (pure JavaScript, no native
 * code, no network). It owns the run's definitions of prompt length and token counts.
 *
 * @module
 */
import { Tokenizer } from "@huggingface/tokenizers";
import type { Message, PromptTokenizer } from "../plugins/types.ts";
import { type ChatRenderer, chatTemplateSource, compileChatTemplate } from "./chat_template.ts";
import { messagesText } from "./messages_text.ts";

/** The parsed contents of a tokenizer folder. */
export interface TokenizerFiles {
  /** The folder, as given. */
  dir: string;
  /** `tokenizer.json`, parsed. */
  tokenizer: Record<string, unknown>;
  /** `tokenizer_config.json`, parsed (`{}` when the folder has none). */
  config: Record<string, unknown>;
  /** `chat_template.jinja`, when the folder has one. */
  chatTemplate?: string;
}

/** A loaded tokenizer. Build it with `loadTokenizer` (src/tokenizer/load.ts). */
export class HfTokenizer implements PromptTokenizer {
  #tok: Tokenizer;
  #files: TokenizerFiles;
  #render: ChatRenderer | undefined;
  /** Size of the base vocabulary (added tokens not included). */
  readonly vocabSize: number;
  /** Ids of added tokens. */
  readonly addedIds: ReadonlySet<number>;

  /** @param files the parsed folder (see `readTokenizerFiles`) */
  constructor(files: TokenizerFiles) {
    this.#files = files;
    this.#tok = new Tokenizer(files.tokenizer, files.config);
    this.addedIds = new Set(this.#tok.get_added_tokens_decoder().keys());
    this.vocabSize = this.#tok.get_vocab(false).size;
  }

  /** The folder it was loaded from. */
  get dir(): string {
    return this.#files.dir;
  }

  /** Whether prompts are counted through the chat template. */
  get usesChatTemplate(): boolean {
    return this.#render !== undefined;
  }

  /**
   * Count prompts through the chat template from now on. Throws when the folder has no chat
   * template or it is not valid Jinja.
   */
  useChatTemplate(): void {
    const source = this.#files.chatTemplate ?? chatTemplateSource(this.#files.config);
    if (source === undefined) {
      throw new Error("no chat_template in tokenizer_config.json and no chat_template.jinja");
    }
    try {
      this.#render = compileChatTemplate(source, this.#files.config);
    } catch (e) {
      throw new Error(`the chat template is not valid Jinja: ${(e as Error).message}`);
    }
  }

  /** Token ids of `text`, without special tokens. */
  encode(text: string): number[] {
    return this.#tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Token ids of `text` with the special tokens the tokenizer's post-processor adds (BOS...). */
  encodeWithSpecial(text: string): number[] {
    return this.#tok.encode(text, { add_special_tokens: true }).ids;
  }

  /** Text of `ids`, special tokens kept, spaces left as they are. */
  decode(ids: number[]): string {
    if (ids.length === 0) return ""; // the library rejects an empty list
    return this.#tok.decode(ids, { clean_up_tokenization_spaces: false });
  }

  /** The prompt text a chat server tokenizes: the template rendered, generation prompt added. */
  renderChat(messages: Message[]): string {
    if (this.#render === undefined) throw new Error("no chat template in use");
    return this.#render(messages);
  }

  /** See {@link PromptTokenizer.promptLength}. */
  promptLength(messages: Message[]): number {
    return this.promptIds(messages).length;
  }

  /** See {@link PromptTokenizer.promptIds}. */
  promptIds(messages: Message[]): number[] {
    if (this.#render !== undefined) return this.encode(this.#render(messages));
    return this.encode(messagesText(messages));
  }
}

/**
 * Chat templates: the Jinja template a model's `tokenizer_config.json` (or `chat_template.jinja`)
 * carries, rendered with `@huggingface/jinja` the way Hugging Face `apply_chat_template` renders
 * it: `messages`, the special tokens as strings, and `add_generation_prompt`.
 *
 * @module
 */
import { Template } from "@huggingface/jinja";
import type { Message } from "../plugins/types.ts";

/** Renders a message list to the prompt text a chat server tokenizes. */
export type ChatRenderer = (messages: Message[]) => string;

/** Special-token keys of `tokenizer_config.json` passed to templates as strings. */
const SPECIAL_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "pad_token",
  "sep_token",
  "cls_token",
  "mask_token",
] as const;

/**
 * The chat template source from a `tokenizer_config.json` object: a string, or a list of
 * `{name, template}` (the one named `default`), or a map of names to templates (`default`).
 * `undefined` when there is none.
 */
export function chatTemplateSource(config: Record<string, unknown>): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as Array<{ name?: unknown; template?: unknown }>;
    const d = named.find((x) => x?.name === "default") ?? named[0];
    return typeof d?.template === "string" ? d.template : undefined;
  }
  if (t && typeof t === "object") {
    const d = (t as Record<string, unknown>).default;
    return typeof d === "string" ? d : undefined;
  }
  return undefined;
}

/** A special token as text: config values are strings or `{ "content": ... }` objects. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return undefined;
}

/**
 * Compile a chat template. Throws (with the parser's message) when the template is not valid
 * Jinja. Rendering adds the generation prompt, as a chat server does before generating.
 */
export function compileChatTemplate(
  source: string,
  config: Record<string, unknown>,
): ChatRenderer {
  const template = new Template(source);
  const specials: Record<string, string> = {};
  for (const k of SPECIAL_KEYS) {
    const text = tokenText(config[k]);
    if (text !== undefined) specials[k] = text;
  }
  return (messages) => template.render({ ...specials, messages, add_generation_prompt: true });
}

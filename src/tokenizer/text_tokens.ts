/**
 * Token counts from the tokenizer, for responses that carry no `usage`: the prompt as the server
 * sees it and the generated text of each choice. Pure functions over a loaded tokenizer; the run
 * calls them off the request hot path (in the counting worker, see `token_counters.ts`).
 *
 * @module
 */
import type { Message, RequestBody } from "../plugins/types.ts";
import type { HfTokenizer } from "./hf_tokenizer.ts";
import { messagesText } from "./messages_text.ts";

/** The prompt of a request: chat messages, or a plain completions prompt. */
export type PromptSpec =
  | { messages: Message[] }
  | { prompt: string }
  | { none: true };

/**
 * Find the prompt in a request body: `messages` (chat) or `prompt` (plain completions), at the top
 * level or under `input` (as DashScope's native API has them); else `input` itself (the Responses
 * API's messages or text, embeddings' texts) or rerank's `query` with each of its `documents`. A
 * list of prompts counts as one prompt joined by newlines.
 */
export function promptOf(body: RequestBody): PromptSpec {
  for (const o of [body, body.input]) {
    if (!o || typeof o !== "object") continue;
    const r = o as Record<string, unknown>;
    if (Array.isArray(r.messages)) return { messages: r.messages as Message[] };
    if (typeof r.prompt === "string") return { prompt: r.prompt };
    if (Array.isArray(r.prompt) && r.prompt.every((p) => typeof p === "string")) {
      return { prompt: (r.prompt as string[]).join("\n") };
    }
  }
  // The Responses API's `input` (a message list or a text), embeddings' `input` (texts), rerank's
  // query with each document (a cross-encoder reads every pair).
  const input = body.input;
  if (typeof input === "string") return { prompt: input };
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((m) => typeof m?.role === "string")) return { messages: input as Message[] };
    if (input.every((t) => typeof t === "string")) return { prompt: input.join("\n") };
  }
  if (typeof body.query === "string" && Array.isArray(body.documents)) {
    const docs = body.documents.map((d) => typeof d === "string" ? d : String(d?.text ?? ""));
    return { prompt: docs.map((d) => `${body.query}\n${d}`).join("\n") };
  }
  return { none: true };
}

/**
 * Prompt tokens as the server sees them. Chat messages: the chat template rendered (generation
 * prompt added, no special tokens added on top: the template has them) when the tokenizer uses
 * one, else the messages' text; a plain prompt, and chat text without a template, are encoded
 * with the special tokens the tokenizer adds (BOS), as `tokenizer.encode(text)` does.
 */
export function countPrompt(tok: HfTokenizer, spec: PromptSpec): number {
  if ("messages" in spec) {
    if (tok.usesChatTemplate) return tok.encode(tok.renderChat(spec.messages)).length;
    return tok.encodeWithSpecial(messagesText(spec.messages)).length;
  }
  if ("prompt" in spec) return tok.encodeWithSpecial(spec.prompt).length;
  return 0;
}

/** Completion tokens: the tokens of each choice's generated text, summed. */
export function countCompletion(tok: HfTokenizer, texts: string[]): number {
  let n = 0;
  for (const t of texts) if (t) n += tok.encode(t).length;
  return n;
}

/**
 * {@link countPrompt} with a memory of recent prompts: a run with `--prompt`, or one that cycles
 * through a dataset, sends the same prompts again and again, and the prompt is most of the cost.
 * Keeps at most `size` prompts (forgets them all when full: cheap, and runs repeat few prompts or
 * many).
 */
export function promptCounter(tok: HfTokenizer, size = 4096): (spec: PromptSpec) => number {
  const seen = new Map<string, number>();
  return (spec) => {
    const key = "messages" in spec
      ? JSON.stringify(spec.messages)
      : "prompt" in spec
      ? spec.prompt
      : "";
    const hit = seen.get(key);
    if (hit !== undefined) return hit;
    const n = countPrompt(tok, spec);
    if (seen.size >= size) seen.clear();
    seen.set(key, n);
    return n;
  };
}

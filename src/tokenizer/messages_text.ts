/**
 * The text a tokenizer counts in a message list. Its own module, without the tokenizer package:
 * the token counters of every transport worker import it, and a worker that counts with the
 * server's `usage` never loads a tokenizer.
 *
 * @example
 * ```ts
 * messagesText([{ role: "user", content: [{ type: "text", text: "a" }] }, { role: "user", content: "b" }]);
 * // "a\nb"
 * ```
 *
 * @module
 */
import type { Message } from "../plugins/types.ts";

/** The text of a message list: text content (string or text parts), joined by newlines. */
export function messagesText(messages: Message[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    if (typeof m.content === "string") parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const p of m.content as Array<{ type?: string; text?: unknown }>) {
        if (p?.type === "text" && typeof p.text === "string") parts.push(p.text);
      }
    }
  }
  return parts.join("\n");
}

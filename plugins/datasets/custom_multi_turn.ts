/**
 * Built-in dataset `custom_multi_turn` (`--multi-turn`): your own conversations from a JSON Lines
 * file (`--dataset-path`), as evalscope's. Each line is a list of `{role, content}` messages (or
 * an object with such a list in `messages`); it is split into turns at its assistant messages,
 * whose text is dropped: the server's replies take their place in the history (`splitTurns`).
 * A line without an assistant message is one turn.
 *
 * @module
 */
import { DatasetPlugin, type Message, readJsonLines, splitTurns, type Turn } from "../../plugin.ts";

function isMessage(m: unknown): m is Message {
  return m !== null && typeof m === "object" && typeof (m as Message).role === "string" &&
    (typeof (m as Message).content === "string" || Array.isArray((m as Message).content));
}

/** The messages of one line, or why there are none. */
export function lineMessages(item: unknown): Message[] | string {
  const list = Array.isArray(item)
    ? item
    : item !== null && typeof item === "object"
    ? (item as { messages?: unknown }).messages
    : undefined;
  if (!Array.isArray(list)) return "expected a list of {role, content} messages (or {messages})";
  if (!list.every(isMessage)) return "every message needs a role and a content";
  return list;
}

/** Conversations from a JSON Lines file; see the module documentation. */
export default class CustomMultiTurnDataset extends DatasetPlugin {
  async *#lines(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("custom_multi_turn needs --dataset-path: JSON Lines, a message list a line");
    }
    let n = 0;
    for await (const item of readJsonLines(path)) {
      n++;
      const messages = lineMessages(item);
      if (typeof messages === "string") throw new Error(`${path}: conversation ${n}: ${messages}`);
      yield messages;
    }
  }

  /** `--multi-turn`: each line's turns. */
  async *buildConversations(): AsyncGenerator<Turn[]> {
    for await (const messages of this.#lines()) yield splitTurns(messages);
  }

  /** Without `--multi-turn`: each line as one request (its messages as they are). */
  async *buildMessages(): AsyncGenerator<Message[]> {
    yield* this.#lines();
  }
}

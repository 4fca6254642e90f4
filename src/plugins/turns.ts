/**
 * A message list as the turns of a conversation (`--multi-turn`), as evalscope's
 * `custom_multi_turn` splits it: each run of messages between assistant messages is one turn,
 * and the assistant messages themselves are dropped (the server's own replies take their place in
 * the history). A list with no assistant message is one turn.
 *
 * @module
 */
import type { Message, Turn } from "./types.ts";

/**
 * The turns of `messages`: split at assistant messages, which are dropped.
 *
 * @example
 * ```ts
 * import { splitTurns } from "@llmperf/llmperf/plugin";
 * splitTurns([
 *   { role: "system", content: "Be brief." },
 *   { role: "user", content: "Hi" },
 *   { role: "assistant", content: "Hello!" },
 *   { role: "user", content: "Bye" },
 * ]);
 * // [{ messages: [system, user "Hi"] }, { messages: [user "Bye"] }]
 * ```
 */
export function splitTurns(messages: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  let current: Message[] = [];
  for (const m of messages) {
    if (m.role === "assistant") {
      if (current.length > 0) turns.push({ messages: current });
      current = [];
    } else current.push(m);
  }
  if (current.length > 0) turns.push({ messages: current });
  return turns;
}

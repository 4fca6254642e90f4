/**
 * Built-in dataset `agentic_trace` (`--multi-turn`): replays recorded agent conversations whose
 * turns are given by their lengths and delays, not their text, from a JSON Lines file
 * (`--dataset-path`). Each turn's input is synthetic text of the given length: with
 * `--tokenizer-path`, random vocabulary tokens that encode to exactly that many tokens (as the
 * `random` dataset makes its prompts; the chat template's own tokens come on top); without one,
 * 4 characters per token (the rate the mock counts at; random words). Seeded by `--seed`. Its
 * reply is capped at
 * the given output length (`max_tokens`), and it is sent after the given delay (the user's think
 * time or the tool's latency), so that a run reproduces the trace's history growth and its
 * pauses. Two layouts are read, one conversation a line:
 *
 * - `{"turns": [{"input_tokens": 2000, "output_tokens": 150, "delay_ms": 0}, ...]}`
 *   (`delay_ms` optional);
 * - evalscope's `trie_*` records: `{"input_prompt_length", "num_turns",
 *   "assistant_response_length": [...], "tool_call_output_length": [...],
 *   "tool_call_latency": [...] (seconds), "final_assistant_response_length"}`: turn 0 is the
 *   prompt, turn `i` (1 … num_turns) the output of tool call `i − 1`, sent after its latency;
 *   replies are capped at `assistant_response_length[i]`, the last one at
 *   `final_assistant_response_length`.
 *
 * @module
 */
import {
  DatasetPlugin,
  type Message,
  type PromptTokenizer,
  readJsonLines,
  type Turn,
} from "../../plugin.ts";
import { charPrompts, seededExactText } from "./random.ts";

/** Characters of synthetic text per token of a trace's lengths (the mock's rate). */
export const CHARS_PER_TOKEN = 4;

/** One turn of a trace, by its lengths. */
export interface TraceTurn {
  /** Tokens the turn adds to the history. */
  inputTokens: number;
  /** Its reply's length (`max_tokens`); undefined: `--max-tokens`. */
  outputTokens?: number;
  /** Wait before sending it, ms. */
  delayMs?: number;
}

function count(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new Error(`${what}: expected a number >= 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The turns of one trace record (either layout); throws naming the bad field. */
export function traceTurns(item: unknown): TraceTurn[] {
  if (item === null || typeof item !== "object") throw new Error("expected a JSON object");
  const o = item as Record<string, unknown>;
  if (Array.isArray(o.turns)) {
    return o.turns.map((t, i) => {
      const r = (t ?? {}) as Record<string, unknown>;
      const turn: TraceTurn = { inputTokens: count(r.input_tokens, `turns[${i}].input_tokens`) };
      if (r.output_tokens !== undefined) {
        turn.outputTokens = count(r.output_tokens, `turns[${i}].output_tokens`);
      }
      if (r.delay_ms !== undefined) turn.delayMs = count(r.delay_ms, `turns[${i}].delay_ms`);
      return turn;
    });
  }
  if (o.input_prompt_length !== undefined) {
    const n = count(o.num_turns ?? 0, "num_turns");
    const replies = Array.isArray(o.assistant_response_length) ? o.assistant_response_length : [];
    const tools = Array.isArray(o.tool_call_output_length) ? o.tool_call_output_length : [];
    const waits = Array.isArray(o.tool_call_latency) ? o.tool_call_latency : [];
    const out: TraceTurn[] = [];
    for (let i = 0; i <= n; i++) {
      const reply = i < n ? replies[i] : o.final_assistant_response_length ?? replies[i];
      const turn: TraceTurn = {
        inputTokens: i === 0
          ? count(o.input_prompt_length, "input_prompt_length")
          : count(tools[i - 1], `tool_call_output_length[${i - 1}]`),
      };
      if (reply !== undefined) turn.outputTokens = count(reply, `reply length of turn ${i}`);
      if (i > 0 && waits[i - 1] !== undefined) {
        turn.delayMs = count(waits[i - 1], `tool_call_latency[${i - 1}]`) * 1000;
      }
      out.push(turn);
    }
    return out;
  }
  throw new Error("expected 'turns' or evalscope's trie fields (input_prompt_length, num_turns)");
}

/**
 * Makes the text of a turn of `tokens` tokens (at least 1) from `seed`: exactly that many of
 * `tok`'s when given, else {@link CHARS_PER_TOKEN} characters a token.
 */
function textOfTokens(tok: PromptTokenizer | undefined): (tokens: number, seed: number) => string {
  if (tok === undefined) {
    return (tokens, seed) => {
      const chars = Math.max(1, Math.round(tokens * CHARS_PER_TOKEN));
      return charPrompts(chars, chars, 0, seed)();
    };
  }
  const make = seededExactText(tok);
  return (tokens, seed) => make(Math.max(1, Math.round(tokens)), seed);
}

/** Conversations replayed from their lengths and delays; see the module documentation. */
export default class AgenticTraceDataset extends DatasetPlugin {
  async *#traces(): AsyncGenerator<TraceTurn[]> {
    const path = this.params.datasetPath;
    if (!path) throw new Error("agentic_trace needs --dataset-path: JSON Lines, a trace a line");
    let n = 0;
    for await (const item of readJsonLines(path)) {
      n++;
      try {
        yield traceTurns(item);
      } catch (e) {
        throw new Error(`${path}: trace ${n}: ${(e as Error).message}`);
      }
    }
  }

  /** `--multi-turn`: each trace's turns, with text of their lengths. */
  async *buildConversations(): AsyncGenerator<Turn[]> {
    let seed = this.params.seed ?? 42;
    const make = textOfTokens(this.params.tokenizer);
    for await (const trace of this.#traces()) {
      yield trace.map((t) => {
        const text = make(t.inputTokens, seed++);
        const turn: Turn = { messages: [{ role: "user", content: text }] };
        if (t.outputTokens !== undefined) turn.maxTokens = t.outputTokens;
        if (t.delayMs !== undefined) turn.delayMs = t.delayMs;
        return turn;
      });
    }
  }

  /** Without `--multi-turn`: each trace's first turn as one request. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    for await (const c of this.buildConversations()) yield c[0].messages;
  }
}

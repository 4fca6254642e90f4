/**
 * The contract of a mock protocol other than OpenAI's: how the mock server reads a request and
 * formats its reply in one vendor's wire format. The server keeps the timing (token `k` is due at
 * `arrival + ttft + k · itl`, as for OpenAI); a protocol only turns tokens into bytes.
 *
 * @module
 */
import type { ReplyPlan } from "./generator.ts";

/** What the mock needs from a request, whatever its protocol. */
export interface MockCall {
  /** The prompt text: it seeds the reply and gives the prompt token count. */
  prompt: string;
  /** The request's cap on generated tokens. */
  maxTokens?: number;
  /** Whether the reply is streamed (SSE). */
  stream: boolean;
  /** Model name to echo. */
  model: string;
  /** Protocol-specific switches read from the request (result format, incremental output...). */
  flags: Record<string, unknown>;
}

/** A request the protocol refused: HTTP status and message. */
export interface MockRefusal {
  /** HTTP status. */
  status: number;
  /** Why, in the protocol's words. */
  message: string;
}

/** A reply being written. */
export interface MockReply {
  /** Request id. */
  id: string;
  /** Epoch seconds. */
  created: number;
  /** The call it answers. */
  call: MockCall;
  /** Its planned tokens. */
  plan: ReplyPlan;
  /** The mock's token count of the prompt. */
  promptTokens: number;
  /** Whether to report token usage (the mock's `usage` option). */
  usage: boolean;
  /** Text written so far (protocols that repeat the whole text in each event use it). */
  text: string;
  /** Reasoning text written so far (as `text`, for the reasoning part). */
  reasoningText: string;
}

/** One protocol's formatting. */
export interface MockProtocol {
  /** Its name (`--protocol NAME`). */
  readonly name: string;
  /** `label: path` lines for the `llmperf mock` banner. */
  readonly endpoints: readonly string[];
  /** Whether `path` is one of its endpoints. */
  serves(path: string): boolean;
  /** Read a request: its path, headers and JSON body. */
  parse(path: string, headers: Headers, body: unknown): MockCall | MockRefusal;
  /**
   * Optional: whether the reply to `call` can carry reasoning tokens in a field of their own
   * (then the mock's `reasoningTokens` come before the answer, tokens `0 .. plan.reasoning − 1`);
   * without it, replies have no reasoning.
   */
  reasons?(call: MockCall): boolean;
  /** The JSON body of an error reply. */
  errorBody(status: number, message: string): unknown;
  /** The JSON body of a whole (non-streamed) reply. */
  full(r: MockReply): unknown;
  /** The SSE text that carries token `i` (called in order, from 0). */
  event(r: MockReply, i: number): string;
  /** The SSE text after the last token ("" when the protocol just ends the stream). */
  tail(r: MockReply): string;
}

/** The text of a chat message list (string contents and text parts, concatenated). */
export function messagesText(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  let text = "";
  for (const m of messages as Array<{ content?: unknown }>) {
    if (typeof m?.content === "string") text += m.content;
    else if (Array.isArray(m?.content)) {
      for (const p of m.content as Array<{ text?: unknown }>) {
        if (typeof p?.text === "string") text += p.text;
      }
    }
  }
  return text;
}

/** The whole answer text of a reply (all planned tokens after the reasoning ones). */
export function fullText(plan: ReplyPlan): string {
  let text = "";
  for (let i = plan.reasoning; i < plan.tokens; i++) text += plan.token(i, 0);
  return text;
}

/** The whole reasoning text of a reply (its first `plan.reasoning` tokens). */
export function reasoningText(plan: ReplyPlan): string {
  let text = "";
  for (let i = 0; i < plan.reasoning; i++) text += plan.token(i, 0);
  return text;
}

/** A JSON object's field when it is a number. */
export function numberField(o: Record<string, unknown> | undefined, key: string) {
  const v = o?.[key];
  return typeof v === "number" ? v : undefined;
}

/** A value as a JSON object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

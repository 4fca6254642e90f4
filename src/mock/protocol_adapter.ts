/**
 * The contract of a mock protocol: how the mock server reads a request and formats its reply in
 * one vendor's wire format (OpenAI's, DashScope's, ...). An adapter only turns requests into a
 * {@link MockCall} and tokens into bytes; the timing is the engine's (`engine.ts`: token `k` is
 * due at `arrival + ttft + k · itl`, whatever the protocol), and so are `--stamp-times`
 * (`stamps.ts`, a wrapper around any adapter) and the faults (`faults.ts`, around the handler).
 *
 * @module
 */
import type { ReplyPlan } from "./generator.ts";

/** A request's headers, by case-insensitive name (a `Headers` is one). */
export interface MockHeaders {
  /** The value of header `name`, or null. */
  get(name: string): string | null;
}

/** What the mock needs from a request, whatever its protocol. */
export interface MockCall {
  /** The prompt text: it seeds the reply and gives the prompt token count. */
  prompt: string;
  /**
   * The prompt's token count when the protocol counts it itself (an embeddings batch: the sum
   * over its inputs); else the mock's count of {@link prompt}.
   */
  promptTokens?: number;
  /** The request's cap on generated tokens (0 is a reply without tokens). */
  maxTokens?: number;
  /** Choices to generate (OpenAI's `n`); 1 for protocols without it. */
  n: number;
  /** Whether the reply is streamed (SSE). */
  stream: boolean;
  /**
   * Whether the request wants token usage (OpenAI's streams ask with
   * `stream_options.include_usage`); the server's `usage` option can still turn it off.
   */
  usage: boolean;
  /** Model name to echo. */
  model: string;
  /** Which of the protocol's routes it came in on (`chat`, `completions`, ...). */
  route: string;
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
  /** Request id (`mock-N`, N counting the requests the server received). */
  id: string;
  /** Epoch seconds. */
  created: number;
  /** The call it answers. */
  call: MockCall;
  /** Its planned tokens, per choice. */
  plan: ReplyPlan;
  /** The mock's token count of the prompt. */
  promptTokens: number;
  /** Of those, the tokens its prefix cache held. */
  cachedTokens: number;
  /** Whether usage reports {@link cachedTokens} (`prompt_tokens_details.cached_tokens`). */
  reportCached: boolean;
  /** Whether to report token usage (the server's `usage` option and the call's wish). */
  usage: boolean;
  /**
   * Whether the reply reasons: the server has `reasoningTokens` and the protocol gives them a
   * field for this call (tokens `0 .. plan.reasoning − 1` are reasoning, the answer follows).
   */
  reasons: boolean;
  /** The field reasoning goes in where the server may choose it (OpenAI's `reasoningField`). */
  reasoningField: string;
  /** When the request arrived, epoch ms (`performance.timeOrigin + performance.now()`). */
  receivedMs: number;
  /** Text written so far (protocols that repeat the whole text in each event use it). */
  text: string;
  /** Reasoning text written so far (as `text`, for the reasoning part). */
  reasoningText: string;
  /**
   * Text an adapter builds once per reply and reuses in every event (the JSON before a token,
   * say); empty until the adapter fills it.
   */
  memo: string[];
}

/** One protocol's routes and formatting. */
export interface ProtocolAdapter {
  /** Its name (`--protocol NAME`). */
  readonly name: string;
  /** `label: path` lines for the `llmperf mock` banner. */
  readonly endpoints: readonly string[];
  /** The route `path` is (a name passed on to {@link parse}), or undefined when it is none. */
  route(path: string): string | undefined;
  /** Read a request: its route, path, headers and JSON body. */
  parse(route: string, path: string, headers: MockHeaders, body: unknown): MockCall | MockRefusal;
  /**
   * Optional: whether the reply to `call` can carry reasoning tokens in a field of their own;
   * without it, replies have no reasoning.
   */
  reasons?(call: MockCall): boolean;
  /** The JSON body of an error reply. */
  errorBody(status: number, message: string): unknown;
  /** The JSON body of a whole (non-streamed) reply. */
  full(r: MockReply): unknown;
  /**
   * The SSE text that carries token `i` of every choice (called in order, from 0, only for
   * `i < plan.tokens`). Each event is one `data:` line holding one JSON object (after an
   * `event:` line where the protocol types its events), ended by a blank line (what
   * `--stamp-times` and the faults rely on).
   */
  event(r: MockReply, i: number): string;
  /**
   * The SSE text after the last token ("" when the protocol just ends the stream); for a reply
   * of 0 tokens, everything the stream says.
   */
  tail(r: MockReply): string;
}

/**
 * The call of a protocol with one choice, usage always reported and no switches of its own
 * (ZhipuAI, Triton, the Responses API): the fields that differ, the rest filled in.
 */
export function singleCall(
  c: Pick<MockCall, "prompt" | "maxTokens" | "stream" | "model" | "route">,
): MockCall {
  return { ...c, n: 1, usage: true, flags: {} };
}

/** The body's `model` when it names one, else `mock`. */
export function modelOf(b: Record<string, unknown> | undefined): string {
  return typeof b?.model === "string" ? b.model : "mock";
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

/** The whole answer text of choice `c` (all planned tokens after the reasoning ones). */
export function fullText(plan: ReplyPlan, c = 0): string {
  let text = "";
  for (let i = plan.reasoning; i < plan.tokens; i++) text += plan.token(i, c);
  return text;
}

/** The whole reasoning text of choice `c` (its first `plan.reasoning` tokens). */
export function reasoningText(plan: ReplyPlan, c = 0): string {
  let text = "";
  for (let i = 0; i < plan.reasoning; i++) text += plan.token(i, c);
  return text;
}

/** A JSON object's field when it is a number. */
export function numberField(
  o: Record<string, unknown> | undefined,
  key: string,
): number | undefined {
  const v = o?.[key];
  return typeof v === "number" ? v : undefined;
}

/** A value as a JSON object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

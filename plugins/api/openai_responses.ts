/**
 * Built-in API plugin `openai_responses` (also `openai_response`, `responses`): the OpenAI
 * Responses API (`POST /v1/responses`), as OpenAI and vLLM serve it. Written as a user's plugin
 * would be: it imports only the public plugin module.
 *
 * - The body is `{"model", "input": <the messages>, "max_output_tokens", "temperature",
 *   "top_p", "stream"}` (`--max-tokens` becomes `max_output_tokens`; the Responses API has no
 *   `n`, `stop` or `seed`: pass such fields with `--extra-args`). A dataset item that is a whole
 *   body (`line_by_line` JSON objects) is sent as it is, with only the missing fields filled in.
 * - A `--url` ending in `/chat/completions` is sent to `/responses` instead (as evalscope does).
 * - A streamed reply is typed events: TTFT and inter-token latency are measured on the events
 *   that carry generated text with a non-empty `delta`: `response.output_text.delta` and
 *   `response.refusal.delta` (answer), `response.reasoning_text.delta` and
 *   `response.reasoning_summary_text.delta` (reasoning); `response.created`, `…added`, `…done`
 *   and the rest carry none. The stream ends with `response.completed` (no `[DONE]`), whose
 *   `response.usage` gives the counts: `input_tokens`, `output_tokens` and
 *   `output_tokens_details.reasoning_tokens`. A stream that ends without `response.completed`
 *   (or `response.incomplete`) is a protocol failure; `response.failed` and `error` events are
 *   server errors.
 * - A whole reply is the response object: its `output` items' text and its `usage`.
 *
 * @module
 */
import {
  ApiPlugin,
  bodyFields,
  type Message,
  type PluginParams,
  type Prompt,
  type PromptKind,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
} from "../../plugin.ts";

/** Delta events that carry answer text. */
const ANSWER_DELTAS: ReadonlySet<string> = new Set([
  "response.output_text.delta",
  "response.refusal.delta",
]);
/** Delta events that carry reasoning text. */
const REASONING_DELTAS: ReadonlySet<string> = new Set([
  "response.reasoning_text.delta",
  "response.reasoning_summary_text.delta",
]);
/** Events that end a stream with the response's final state (and its usage). */
const FINAL = new Set(["response.completed", "response.incomplete"]);

/** The Responses API's usage object. */
export interface ResponsesUsage {
  /** Prompt tokens. */
  input_tokens?: number;
  /** Generated tokens, reasoning included. */
  output_tokens?: number;
  /** Of them, reasoning tokens. */
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** A payload's JSON object, or undefined when it is not one. */
export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `url` with a trailing `/chat/completions` (before any query) turned into `/responses`. */
export function responsesUrl(url: string): string {
  return url.replace(/\/chat\/completions(\/?)(?=[?#]|$)/, "/responses$1");
}

/** The text of a whole response's `output` items: answer and reasoning. */
export function outputText(
  response: Record<string, unknown>,
): { answer: string; reasoning: string } {
  let answer = "";
  let reasoning = "";
  const output = Array.isArray(response.output) ? response.output : [];
  for (const item of output as Array<Record<string, unknown>>) {
    if (item?.type === "message" && Array.isArray(item.content)) {
      for (const c of item.content as Array<Record<string, unknown>>) {
        if (typeof c?.text === "string") answer += c.text;
        else if (typeof c?.refusal === "string") answer += c.refusal;
      }
    } else if (item?.type === "reasoning") {
      for (const key of ["content", "summary"]) {
        const parts = item[key];
        if (!Array.isArray(parts)) continue;
        for (const c of parts as Array<Record<string, unknown>>) {
          if (typeof c?.text === "string") reasoning += c.text;
        }
      }
    }
  }
  return { answer, reasoning };
}

interface Read {
  contentChunks: number[];
  answerChunks: number[];
  reasoningChunks: number[];
  usage?: ResponsesUsage;
  final: boolean;
  text: { answer: string; reasoning: string };
}

/** Read a Responses reply's payloads (typed events, or one response object). */
export function readResponses(responses: string[], streamed: boolean): Read {
  const out: Read = {
    contentChunks: [],
    answerChunks: [],
    reasoningChunks: [],
    final: false,
    text: { answer: "", reasoning: "" },
  };
  for (let i = 0; i < responses.length; i++) {
    const js = parseJsonObject(responses[i]);
    if (js === undefined) {
      throw new Error(`payload ${i} is not a JSON object: ${responses[i].slice(0, 80)}`);
    }
    const type = js.type;
    if (!streamed || typeof type !== "string") {
      // A whole response object (or a stream event without a type: read it the same way).
      if (js.object === "response" || Array.isArray(js.output)) {
        const t = outputText(js);
        out.text.answer += t.answer;
        out.text.reasoning += t.reasoning;
        if (js.usage && typeof js.usage === "object") out.usage = js.usage as ResponsesUsage;
        out.final = true;
      }
      continue;
    }
    const delta = js.delta;
    if (ANSWER_DELTAS.has(type) || REASONING_DELTAS.has(type)) {
      if (typeof delta !== "string" || delta === "") continue;
      out.contentChunks.push(i);
      if (ANSWER_DELTAS.has(type)) {
        out.answerChunks.push(i);
        out.text.answer += delta;
      } else {
        out.reasoningChunks.push(i);
        out.text.reasoning += delta;
      }
    } else if (FINAL.has(type)) {
      out.final = true;
      const r = js.response as Record<string, unknown> | undefined;
      if (r?.usage && typeof r.usage === "object") out.usage = r.usage as ResponsesUsage;
    }
  }
  return out;
}

/** The OpenAI Responses API. */
export default class OpenAIResponsesApi extends ApiPlugin {
  /** Chat messages, and whole bodies (`line_by_line` JSON objects). */
  readonly accepts: readonly PromptKind[] = ["messages", "body"];

  /** `/chat/completions` becomes `/responses`; any other URL is used as given. */
  requestUrl(url: string): string {
    return responsesUrl(url);
  }

  /** The body: `input` from the messages, or a whole body with its missing fields filled in. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const prompt = messages as Prompt;
    const body: RequestBody = {};
    if (!Array.isArray(prompt) && prompt.kind !== "body") {
      throw new Error(`openai_responses takes chat messages or whole bodies, not ${prompt.kind}`);
    }
    if (Array.isArray(prompt)) body.input = prompt;
    body.model = params.model;
    const f = bodyFields(params, ["max_tokens", "temperature", "top_p"]);
    if (f.max_tokens !== undefined) body.max_output_tokens = f.max_tokens;
    if (f.temperature !== undefined) body.temperature = f.temperature;
    if (f.top_p !== undefined) body.top_p = f.top_p;
    if (params.stream) body.stream = true;
    if (Array.isArray(prompt)) return body;
    return { ...body, ...prompt.body }; // the item's own fields win
  }

  /** Whether a body asks for a stream. */
  isStreaming(body: RequestBody): boolean {
    return body.stream === true;
  }

  /** The start-up check: the same request with the least output OpenAI allows (16 tokens). */
  probeBody(body: RequestBody): RequestBody {
    return body.max_output_tokens === undefined ? { ...body } : { ...body, max_output_tokens: 16 };
  }

  /** Counts from `response.usage` (else estimated), with the delta events marked. */
  parseResponses(responses: string[], request?: RequestBody): TokenCounts {
    const streamed = request !== undefined ? request.stream === true : responses.length > 1;
    const out = readResponses(responses, streamed);
    if (!out.final) {
      throw new Error("the stream ended before response.completed");
    }
    const u = out.usage;
    return tokenCounts(
      { ...out, text: streamed ? undefined : out.text },
      u && {
        prompt: u.input_tokens,
        completion: u.output_tokens,
        reasoning: u.output_tokens_details?.reasoning_tokens ?? undefined,
      },
    );
  }

  /** `response.failed`, an `error` event, or a body whose `error` is set. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"') && !payload.includes("response.failed")) return undefined;
    const js = parseJsonObject(payload);
    if (js === undefined) return undefined;
    let e: unknown;
    if (js.type === "response.failed") {
      e = (js.response as Record<string, unknown> | undefined)?.error ?? "response.failed";
    } else if (js.type === "error") e = js.message ?? js.error ?? js;
    else e = js.error;
    if (e === undefined || e === null) return undefined;
    if (typeof e === "string") return e;
    const m = (e as { message?: unknown }).message;
    return typeof m === "string" ? m : JSON.stringify(e);
  }

  /** The generated text (reasoning, then answer). */
  generatedTexts(responses: string[]): string[] {
    const t = readResponses(responses, responses.length > 1 || isEvent(responses[0])).text;
    return [t.reasoning + t.answer];
  }

  /** The reasoning text. */
  reasoningTexts(responses: string[]): string[] {
    return [readResponses(responses, responses.length > 1 || isEvent(responses[0])).text.reasoning];
  }
}

function isEvent(payload: string | undefined): boolean {
  return payload !== undefined && typeof parseJsonObject(payload)?.type === "string";
}

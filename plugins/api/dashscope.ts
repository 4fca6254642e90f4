/**
 * Built-in API plugin `dashscope`: Alibaba Cloud DashScope's native text-generation API, for
 * `--url https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation`.
 *
 * - Body: `{model, input: {messages}, parameters: {...}}` with `result_format: "message"` and the
 *   model flags that were given under `parameters` (`max_tokens`, `temperature`, `top_p`, `seed`,
 *   `stop`, `n`, `frequency_penalty`, `logprobs`, as evalscope sends them).
 * - Streaming is switched by a header, not the body: `X-DashScope-SSE: enable`, with
 *   `incremental_output: true` so that each event carries only the new text. Events are
 *   `id:`, `event:result`, `:HTTP_STATUS/200`, `data:{...}`; the stream ends without `[DONE]`.
 * - Token counts come from `usage.input_tokens` / `usage.output_tokens` (every event carries the
 *   running totals); an error arrives as `{"code": ..., "message": ...}`.
 * - Thinking models (Qwen3, QwQ) stream their reasoning as `message.reasoning_content`: counted
 *   as output (TTFT), apart from the answer (TTFO), with `output_tokens_details.reasoning_tokens`.
 *
 * @module
 */
import {
  ApiPlugin,
  type BodyField,
  bodyFields,
  declareErrorMarker,
  type Message,
  type MessageText,
  messageText,
  type PluginParams,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
} from "../../plugin.ts";

interface DashScopePayload {
  output?: {
    text?: string;
    choices?: Array<{ message?: unknown }>;
  };
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    output_tokens_details?: { reasoning_tokens?: number } | null;
  };
  code?: string;
  message?: string;
}

function parse(text: string): DashScopePayload | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What one payload generated: `output.text`, or the choices' messages (`content`, tool calls,
 * and `reasoning_content` for thinking models such as Qwen3 and QwQ). */
function outputOf(p: DashScopePayload): MessageText {
  if (typeof p.output?.text === "string") return { answer: p.output.text, reasoning: "" };
  let answer = "";
  let reasoning = "";
  for (const c of p.output?.choices ?? []) {
    const t = messageText(c?.message);
    answer += t.answer;
    reasoning += t.reasoning;
  }
  return { answer, reasoning };
}

/** The body settings DashScope takes under `parameters`, in the order evalscope sends them. */
const DASHSCOPE_FIELDS: readonly BodyField[] = [
  "max_tokens",
  "frequency_penalty",
  "logprobs",
  "n",
  "seed",
  "stop",
  "temperature",
  "top_p",
];

/** DashScope native text generation. */
export default class DashScopeApi extends ApiPlugin {
  /** `{model, input: {messages}, parameters}`. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const p: Record<string, unknown> = {
      result_format: "message",
      ...bodyFields(params, DASHSCOPE_FIELDS),
    };
    if (params.stream) p.incremental_output = true;
    return { model: params.model, input: { messages }, parameters: p };
  }

  /** The SSE switch. */
  requestHeaders(params: PluginParams): Record<string, string> {
    return params.stream ? { "x-dashscope-sse": "enable", accept: "text/event-stream" } : {};
  }

  /** Streamed when `--stream` (the body has no `stream` field). */
  isStreaming(_body: RequestBody, params: PluginParams): boolean {
    return params.stream;
  }

  /**
   * Counts from the last `usage` (reasoning from `output_tokens_details.reasoning_tokens`); else
   * one token per event that carried generated text (the text length of a whole reply).
   */
  parseResponses(responses: string[]): TokenCounts {
    let usage: DashScopePayload["usage"];
    const contentChunks: number[] = [];
    const answerChunks: number[] = [];
    const reasoningChunks: number[] = [];
    const whole = !this.params.stream;
    let answer = "";
    let reasoning = "";
    responses.forEach((r, i) => {
      const p = parse(r);
      if (p === undefined) return;
      if (p.usage) usage = p.usage;
      const t = outputOf(p);
      if (t.answer !== "" || t.reasoning !== "") contentChunks.push(i);
      if (t.answer !== "") answerChunks.push(i);
      if (t.reasoning !== "") reasoningChunks.push(i);
      if (whole) {
        answer += t.answer;
        reasoning += t.reasoning;
      }
    });
    return tokenCounts(
      {
        contentChunks,
        answerChunks,
        reasoningChunks,
        text: whole ? { answer, reasoning } : undefined,
      },
      usage && {
        prompt: usage.input_tokens,
        completion: usage.output_tokens,
        reasoning: usage.output_tokens_details?.reasoning_tokens,
      },
    );
  }

  /** `{"code": "...", "message": "..."}` without an `output`. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"code"')) return undefined;
    const p = parse(payload);
    if (!p || p.output !== undefined || typeof p.code !== "string" || p.code === "") {
      return undefined;
    }
    return `${p.code}: ${p.message ?? ""}`.trim();
  }

  /** The generated text (incremental events concatenated): reasoning, then answer. */
  generatedTexts(responses: string[]): string[] {
    return [this.#texts(responses, (t) => t.reasoning + t.answer)];
  }

  /** The reasoning text. */
  reasoningTexts(responses: string[]): string[] {
    return [this.#texts(responses, (t) => t.reasoning)];
  }

  #texts(responses: string[], pick: (t: MessageText) => string): string {
    let text = "";
    for (const r of responses) {
      const p = parse(r);
      if (p) text += pick(outputOf(p));
    }
    return text;
  }
}

// Every payload its errorInPayload flags holds "code": most responses are searched once, whole.
declareErrorMarker(DashScopeApi.prototype.errorInPayload, '"code"');

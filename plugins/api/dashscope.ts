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
 *
 * @module
 */
import {
  ApiPlugin,
  type Message,
  type PluginParams,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
} from "../../plugin.ts";

interface DashScopePayload {
  output?: {
    text?: string;
    choices?: Array<{ message?: { content?: unknown } }>;
  };
  usage?: { input_tokens?: number; output_tokens?: number };
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

function textOf(p: DashScopePayload): string {
  if (typeof p.output?.text === "string") return p.output.text;
  let text = "";
  for (const c of p.output?.choices ?? []) {
    if (typeof c.message?.content === "string") text += c.message.content;
  }
  return text;
}

/** DashScope native text generation. */
export default class DashScopeApi extends ApiPlugin {
  /** `{model, input: {messages}, parameters}`. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const p: Record<string, unknown> = { result_format: "message" };
    if (params.maxTokens !== undefined) p.max_tokens = params.maxTokens;
    if (params.frequencyPenalty !== undefined) p.frequency_penalty = params.frequencyPenalty;
    if (params.logprobs !== undefined) p.logprobs = params.logprobs;
    if (params.nChoices !== undefined) p.n = params.nChoices;
    if (params.seed !== undefined) p.seed = params.seed;
    if (params.stop !== undefined && params.stop.length > 0) p.stop = params.stop;
    if (params.temperature !== undefined) p.temperature = params.temperature;
    if (params.topP !== undefined) p.top_p = params.topP;
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

  /** Counts from the last `usage`; else one token per event that carried text. */
  parseResponses(responses: string[]): TokenCounts {
    let usage: DashScopePayload["usage"];
    const contentChunks: number[] = [];
    responses.forEach((r, i) => {
      const p = parse(r);
      if (p === undefined) return;
      if (p.usage) usage = p.usage;
      if (textOf(p).length > 0) contentChunks.push(i);
    });
    return tokenCounts(
      contentChunks,
      usage && { prompt: usage.input_tokens, completion: usage.output_tokens },
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

  /** The generated text (incremental events concatenated). */
  generatedTexts(responses: string[]): string[] {
    let text = "";
    for (const r of responses) {
      const p = parse(r);
      if (p) text += textOf(p);
    }
    return [text];
  }
}

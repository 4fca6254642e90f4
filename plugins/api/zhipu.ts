/**
 * Built-in API plugin `zhipu`: ZhipuAI's GLM chat API, for
 * `--url https://open.bigmodel.cn/api/paas/v4/chat/completions` (and `api.z.ai`).
 *
 * - Body: `{model, messages, max_tokens, temperature, top_p, stop, stream}`: the fields the API
 *   takes (it has no `n`, `seed`, `frequency_penalty` or `stream_options`).
 * - Streamed chunks all carry `delta.role`; the last token's chunk carries `finish_reason` and
 *   the `usage`, which Zhipu always sends; the stream ends with `data: [DONE]`.
 * - Errors arrive as `{"error": {"code": "1214", "message": ...}}`.
 * - Thinking models (GLM-4.5 and later) stream their reasoning as `delta.reasoning_content`:
 *   counted as output (TTFT), apart from the answer (TTFO), as for OpenAI-compatible servers.
 *
 * @module
 */
import {
  ApiPlugin,
  bodyFields,
  declareErrorMarker,
  type Message,
  type PluginParams,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
} from "../../plugin.ts";
import { choiceTexts, readChoices, usageCounts } from "./openai.ts";

function parseError(text: string): { code?: string; message?: string } | string | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v.error ?? undefined : undefined;
  } catch {
    return undefined;
  }
}

/** ZhipuAI GLM chat completions. */
export default class ZhipuApi extends ApiPlugin {
  /** The chat body with the flags Zhipu accepts. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const body: RequestBody = {
      model: params.model,
      messages,
      ...bodyFields(params, ["max_tokens", "temperature", "top_p", "stop"]),
    };
    if (params.stream) body.stream = true;
    return body;
  }

  /**
   * Counts from `usage` (reasoning from `completion_tokens_details.reasoning_tokens`); else one
   * token per chunk that carried generated tokens (the text length of a whole reply).
   */
  parseResponses(responses: string[], request?: RequestBody): TokenCounts {
    const whole = request !== undefined ? request.stream !== true : responses.length <= 1;
    const out = readChoices(responses, whole);
    return tokenCounts(
      { ...out, text: whole ? out.text : undefined },
      usageCounts(out.usage),
    );
  }

  /** An `{"error": ...}` payload. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"')) return undefined;
    const e = parseError(payload);
    if (e === undefined || e === null) return undefined;
    if (typeof e === "string") return e;
    return [e.code, e.message].filter((s) => s).join(": ") || JSON.stringify(e);
  }

  /** The generated text of each choice (reasoning, then answer). */
  generatedTexts(responses: string[]): string[] {
    return choiceTexts(responses, (t) => t.reasoning + t.answer);
  }

  /** The reasoning text of each choice. */
  reasoningTexts(responses: string[]): string[] {
    return choiceTexts(responses, (t) => t.reasoning);
  }
}

// Every payload its errorInPayload flags holds "error": most responses are searched once, whole.
declareErrorMarker(ZhipuApi.prototype.errorInPayload, '"error"');

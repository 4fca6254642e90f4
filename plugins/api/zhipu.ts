/**
 * Built-in API plugin `zhipu`: ZhipuAI's GLM chat API, for
 * `--url https://open.bigmodel.cn/api/paas/v4/chat/completions` (and `api.z.ai`).
 *
 * - Body: `{model, messages, max_tokens, temperature, top_p, stop, stream}`: the fields the API
 *   takes (it has no `n`, `seed`, `frequency_penalty` or `stream_options`).
 * - Streamed chunks all carry `delta.role`; the last token's chunk carries `finish_reason` and
 *   the `usage`, which Zhipu always sends; the stream ends with `data: [DONE]`.
 * - Errors arrive as `{"error": {"code": "1214", "message": ...}}`.
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

interface ZhipuPayload {
  choices?: Array<{
    index?: number;
    delta?: { content?: unknown; reasoning_content?: unknown };
    message?: { content?: unknown; reasoning_content?: unknown };
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { code?: string; message?: string } | string;
}

function parse(text: string): ZhipuPayload | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

function choiceText(c: NonNullable<ZhipuPayload["choices"]>[number]): string {
  const m = c.delta ?? c.message;
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  return m ? str(m.reasoning_content) + str(m.content) : "";
}

/** ZhipuAI GLM chat completions. */
export default class ZhipuApi extends ApiPlugin {
  /** The chat body with the flags Zhipu accepts. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const body: RequestBody = { model: params.model, messages };
    if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.topP !== undefined) body.top_p = params.topP;
    if (params.stop !== undefined && params.stop.length > 0) body.stop = params.stop;
    if (params.stream) body.stream = true;
    return body;
  }

  /** Counts from `usage`; else one token per chunk that carried text. */
  parseResponses(responses: string[]): TokenCounts {
    let usage: ZhipuPayload["usage"];
    const contentChunks: number[] = [];
    responses.forEach((r, i) => {
      const p = parse(r);
      if (p === undefined) return;
      if (p.usage) usage = p.usage;
      if ((p.choices ?? []).some((c) => choiceText(c).length > 0)) contentChunks.push(i);
    });
    return tokenCounts(
      contentChunks,
      usage && { prompt: usage.prompt_tokens, completion: usage.completion_tokens },
    );
  }

  /** An `{"error": ...}` payload. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"')) return undefined;
    const e = parse(payload)?.error;
    if (e === undefined || e === null) return undefined;
    if (typeof e === "string") return e;
    return [e.code, e.message].filter((s) => s).join(": ") || JSON.stringify(e);
  }

  /** The generated text of each choice. */
  generatedTexts(responses: string[]): string[] {
    const texts: string[] = [];
    for (const r of responses) {
      for (const c of parse(r)?.choices ?? []) {
        const i = c.index ?? 0;
        texts[i] = (texts[i] ?? "") + choiceText(c);
      }
    }
    return Array.from(texts, (t) => t ?? "");
  }
}

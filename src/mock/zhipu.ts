/**
 * The mock's ZhipuAI protocol: the GLM chat API (`POST /api/paas/v4/chat/completions`). Close to
 * OpenAI's, with these differences: every streamed chunk carries `delta.role` and no `object`
 * field, there is no role-only first chunk, the last token's chunk carries `finish_reason` and
 * the `usage` (always, no `stream_options` needed), and errors are `{"error": {"code": "1214",
 * "message": ...}}`. The stream ends with `data: [DONE]`. Reasoning (the mock's
 * `reasoningTokens`) comes as `delta.reasoning_content`, as GLM-4.5 and later send it.
 *
 * @module
 */
import {
  asObject,
  fullText,
  messagesText,
  type MockProtocol,
  numberField,
} from "./protocol_adapter.ts";
import { reasoningText } from "./protocol_adapter.ts";
import type { MockReply } from "./protocol_adapter.ts";

/** The chat endpoint's path. */
export const ZHIPU_PATH = "/api/paas/v4/chat/completions";

function usageOf(r: MockReply) {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.plan.tokens,
    total_tokens: r.promptTokens + r.plan.tokens,
  };
}

/** ZhipuAI's GLM chat completions. */
export const zhipuProtocol: MockProtocol = {
  name: "zhipu",
  endpoints: [`chat: ${ZHIPU_PATH}`],
  serves: (path) => path === ZHIPU_PATH,
  parse(_path, _headers, body) {
    const b = asObject(body);
    const prompt = messagesText(b?.messages);
    if (prompt === undefined) return { status: 400, message: "messages is required" };
    return {
      prompt,
      maxTokens: numberField(b, "max_tokens"),
      stream: b?.stream === true,
      model: typeof b?.model === "string" ? b.model : "mock",
      flags: {},
    };
  },
  reasons: () => true,
  errorBody: (_status, message) => ({ error: { code: "1214", message } }),
  full(r) {
    const message: Record<string, unknown> = { role: "assistant", content: fullText(r.plan) };
    if (r.plan.reasoning > 0) message.reasoning_content = reasoningText(r.plan);
    const out: Record<string, unknown> = {
      id: r.id,
      request_id: r.id,
      created: r.created,
      model: r.call.model,
      choices: [{
        index: 0,
        finish_reason: "length",
        message,
      }],
    };
    if (r.usage) out.usage = usageOf(r);
    return out;
  },
  event(r, i) {
    const last = i === r.plan.tokens - 1;
    const choice: Record<string, unknown> = {
      index: 0,
      delta: i < r.plan.reasoning
        ? { role: "assistant", reasoning_content: r.plan.token(i, 0) }
        : { role: "assistant", content: r.plan.token(i, 0) },
    };
    if (last) choice.finish_reason = "length";
    const out: Record<string, unknown> = {
      id: r.id,
      created: r.created,
      model: r.call.model,
      choices: [choice],
    };
    if (last && r.usage) out.usage = usageOf(r);
    return `data: ${JSON.stringify(out)}\n\n`;
  },
  tail: () => "data: [DONE]\n\n",
};

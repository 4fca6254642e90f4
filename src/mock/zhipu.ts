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
  type MockReply,
  modelOf,
  numberField,
  type ProtocolAdapter,
  reasoningText,
  singleCall,
} from "./protocol_adapter.ts";

/** The chat endpoint's path. */
export const ZHIPU_PATH = "/api/paas/v4/chat/completions";

function usageOf(r: MockReply) {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.plan.tokens,
    total_tokens: r.promptTokens + r.plan.tokens,
  };
}

/** The chunk's JSON up to its delta's text (built once per reply). */
function head(r: MockReply): string {
  if (r.memo.length === 0) {
    r.memo[0] = `data: {"id":${JSON.stringify(r.id)},"created":${r.created},"model":` +
      `${JSON.stringify(r.call.model)},"choices":[{"index":0,"delta":{"role":"assistant",`;
  }
  return r.memo[0];
}

/** The chunk that ends the reply: its last token (or none), `finish_reason` and usage. */
function last(r: MockReply, field: string, tokenJson: string): string {
  let out = head(r) + `"${field}":${tokenJson}},"finish_reason":"length"}]`;
  if (r.usage) out += `,"usage":${JSON.stringify(usageOf(r))}`;
  return out + "}\n\n";
}

/** ZhipuAI's GLM chat completions. */
export const zhipuProtocol: ProtocolAdapter = {
  name: "zhipu",
  endpoints: [`chat: ${ZHIPU_PATH}`],
  route: (path) => (path === ZHIPU_PATH ? "chat" : undefined),
  parse(route, _path, _headers, body) {
    const b = asObject(body);
    const prompt = messagesText(b?.messages);
    if (prompt === undefined) return { status: 400, message: "messages is required" };
    return singleCall({
      prompt,
      maxTokens: numberField(b, "max_tokens"),
      stream: b?.stream === true,
      model: modelOf(b),
      route,
    });
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
    const field = i < r.plan.reasoning ? "reasoning_content" : "content";
    if (i === r.plan.tokens - 1) return last(r, field, r.plan.tokenJson(i, 0));
    return head(r) + `"${field}":${r.plan.tokenJson(i, 0)}}}]}\n\n`;
  },
  tail: (r) => (r.plan.tokens === 0 ? last(r, "content", '""') : "") + "data: [DONE]\n\n",
};

/**
 * The mock's DashScope protocol: Alibaba Cloud's native text-generation API
 * (`POST /api/v1/services/aigc/text-generation/generation`). The request is
 * `{model, input: {messages | prompt}, parameters: {...}}`; a streamed reply is asked for with the
 * `X-DashScope-SSE: enable` header (or `Accept: text/event-stream`) and comes as SSE events
 * `id:N / event:result / :HTTP_STATUS/200 / data:{...}` with no `[DONE]` at the end. Each event
 * carries the cumulative `usage`, and the text so far, or only the new text when
 * `parameters.incremental_output` is true. `finish_reason` is the string `"null"` until the last
 * event. `parameters.result_format` `"message"` gives `output.choices[].message`, anything else
 * `output.text`. Reasoning (the mock's `reasoningTokens`, `result_format` `"message"` only) comes
 * as `message.reasoning_content` before the answer, and `usage.output_tokens_details` reports it.
 *
 * @module
 */
import {
  asObject,
  fullText,
  messagesText,
  type MockReply,
  numberField,
  type ProtocolAdapter,
  reasoningText,
} from "./protocol_adapter.ts";

/** The generation endpoint's path. */
export const DASHSCOPE_PATH = "/api/v1/services/aigc/text-generation/generation";

function usageOf(r: MockReply, outputTokens: number) {
  const usage: Record<string, unknown> = {
    input_tokens: r.promptTokens,
    output_tokens: outputTokens,
    total_tokens: r.promptTokens + outputTokens,
  };
  if (r.plan.reasoning > 0) {
    usage.output_tokens_details = { reasoning_tokens: Math.min(outputTokens, r.plan.reasoning) };
  }
  return usage;
}

function output(r: MockReply, text: string, reasoning: string, finish: string) {
  if (r.call.flags.resultFormat !== "message") return { text, finish_reason: finish };
  const message: Record<string, unknown> = { role: "assistant", content: text };
  if (r.plan.reasoning > 0) message.reasoning_content = reasoning;
  return { choices: [{ finish_reason: finish, message }] };
}

function payload(
  r: MockReply,
  text: string,
  reasoning: string,
  finish: string,
  outputTokens: number,
) {
  const out: Record<string, unknown> = { output: output(r, text, reasoning, finish) };
  if (r.usage) out.usage = usageOf(r, outputTokens);
  out.request_id = r.id;
  return out;
}

function event(i: number, data: unknown): string {
  return `id:${i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(data)}\n\n`;
}

/** DashScope's native text generation. */
export const dashscopeProtocol: ProtocolAdapter = {
  name: "dashscope",
  endpoints: [`generation: ${DASHSCOPE_PATH}`],
  route: (path) => (path === DASHSCOPE_PATH ? "generation" : undefined),
  parse(route, _path, headers, body) {
    const b = asObject(body);
    const input = asObject(b?.input);
    const params = asObject(b?.parameters);
    const prompt = typeof input?.prompt === "string" ? input.prompt : messagesText(input?.messages);
    if (prompt === undefined) {
      return { status: 400, message: "input.messages or input.prompt is required" };
    }
    const sse = headers.get("x-dashscope-sse")?.toLowerCase() === "enable" ||
      (headers.get("accept") ?? "").includes("text/event-stream");
    return {
      prompt,
      maxTokens: numberField(params, "max_tokens"),
      n: 1,
      stream: sse,
      usage: true,
      model: typeof b?.model === "string" ? b.model : "mock",
      route,
      flags: {
        resultFormat: params?.result_format,
        incremental: params?.incremental_output === true,
      },
    };
  },
  errorBody: (status, message) => ({
    code: status === 400 ? "InvalidParameter" : status === 404 ? "NotFound" : "InternalError",
    message,
    request_id: "mock-error",
  }),
  reasons: (call) => call.flags.resultFormat === "message",
  full: (r) => payload(r, fullText(r.plan), reasoningText(r.plan), "length", r.plan.tokens),
  event(r, i) {
    const token = r.plan.token(i, 0);
    const thinking = i < r.plan.reasoning;
    if (thinking) r.reasoningText += token;
    else r.text += token;
    const last = i === r.plan.tokens - 1;
    const incremental = r.call.flags.incremental;
    const text = incremental ? (thinking ? "" : token) : r.text;
    const reasoning = incremental ? (thinking ? token : "") : r.reasoningText;
    const finish = last ? "length" : "null";
    return event(i, payload(r, text, reasoning, finish, i + 1));
  },
  // A reply of 0 tokens is one finishing event with empty text.
  tail: (r) => (r.plan.tokens === 0 ? event(0, payload(r, "", "", "length", 0)) : ""),
};

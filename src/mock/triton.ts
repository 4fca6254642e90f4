/**
 * The mock's Triton protocol: NVIDIA Triton Inference Server's generate extension, as a
 * TensorRT-LLM model serves it (`POST /v2/models/{model}/generate` for a whole reply,
 * `.../generate_stream` for SSE). The request is `{"text_input": ..., "max_tokens": N, ...}`; each
 * reply or event is `{"model_name", "model_version", "sequence_*", "text_output": ...}`, one
 * token per event when streamed, with no usage and no `[DONE]`. Errors are `{"error": "..."}`.
 * The `custom` API plugin speaks this protocol.
 *
 * @module
 */
import { asObject, fullText, type MockProtocol, numberField } from "./protocol_adapter.ts";
import type { MockReply } from "./protocol_adapter.ts";

const ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?\/(generate|generate_stream)$/;

function payload(r: MockReply, text: string) {
  return {
    model_name: r.call.model,
    model_version: "1",
    sequence_end: false,
    sequence_id: 0,
    sequence_start: false,
    text_output: text,
  };
}

/** Triton's generate / generate_stream. */
export const tritonProtocol: MockProtocol = {
  name: "triton",
  endpoints: [
    "generate:        /v2/models/{model}/generate",
    "generate_stream: /v2/models/{model}/generate_stream",
  ],
  serves: (path) => ROUTE.test(path),
  parse(path, _headers, body) {
    const b = asObject(body);
    if (typeof b?.text_input !== "string") {
      return { status: 400, message: "input 'text_input' is required" };
    }
    const m = ROUTE.exec(path)!;
    return {
      prompt: b.text_input,
      maxTokens: numberField(b, "max_tokens"),
      stream: m[2] === "generate_stream",
      model: decodeURIComponent(m[1]),
      flags: {},
    };
  },
  errorBody: (_status, message) => ({ error: message }),
  full: (r) => payload(r, fullText(r.plan)),
  event: (r, i) => `data: ${JSON.stringify(payload(r, r.plan.token(i, 0)))}\n\n`,
  tail: () => "",
};

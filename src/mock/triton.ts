/**
 * The mock's Triton protocol: NVIDIA Triton Inference Server's generate extension, as a
 * TensorRT-LLM model serves it (`POST /v2/models/{model}/generate` for a whole reply,
 * `.../generate_stream` for SSE). The request is `{"text_input": ..., "max_tokens": N, ...}`
 * (`max_tokens` may also come in the extension's `parameters` object); each reply or event is
 * `{"model_name", "model_version", "sequence_*", "text_output": ...}`, one token per event when
 * streamed, with no usage and no `[DONE]`. Errors are `{"error": "..."}`. The `custom` API plugin
 * speaks this protocol.
 *
 * @module
 */
import {
  asObject,
  fullText,
  type MockReply,
  numberField,
  type ProtocolAdapter,
  singleCall,
} from "./protocol_adapter.ts";

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
export const tritonProtocol: ProtocolAdapter = {
  name: "triton",
  endpoints: [
    "generate:        /v2/models/{model}/generate",
    "generate_stream: /v2/models/{model}/generate_stream",
  ],
  route: (path) => ROUTE.exec(path)?.[2],
  parse(route, path, _headers, body) {
    const b = asObject(body);
    if (typeof b?.text_input !== "string") {
      return { status: 400, message: "input 'text_input' is required" };
    }
    return singleCall({
      prompt: b.text_input,
      maxTokens: numberField(b, "max_tokens") ?? numberField(asObject(b.parameters), "max_tokens"),
      stream: route === "generate_stream",
      model: decodeURIComponent(ROUTE.exec(path)![1]),
      route,
    });
  },
  errorBody: (_status, message) => ({ error: message }),
  full: (r) => payload(r, fullText(r.plan)),
  event(r, i) {
    if (r.memo.length === 0) {
      // JSON.stringify(payload(r, text)) up to the text
      r.memo[0] = `data: {"model_name":${JSON.stringify(r.call.model)},"model_version":"1",` +
        `"sequence_end":false,"sequence_id":0,"sequence_start":false,"text_output":`;
    }
    return r.memo[0] + r.plan.tokenJson(i, 0) + "}\n\n";
  },
  tail: () => "",
};

/**
 * The mock's OpenAI protocol (the default): chat completions (`/v1/chat/completions`) and plain
 * completions (`/v1/completions`), as vLLM and SGLang serve them; also the Responses API
 * (`/v1/responses`, `openai_responses.ts`), embeddings and rerank (`openai_embeddings.ts`). A streamed chat reply is a role
 * chunk, one chunk per token (reasoning tokens in `delta.reasoning` or `delta.reasoning_content`,
 * then `delta.content`), the last carrying `finish_reason`, a usage chunk with empty `choices`
 * when `stream_options.include_usage` asks for it, and `data: [DONE]`; with `n` > 1 every token
 * event has one chunk per choice. Errors are `{"object": "error", "message", "type", "code"}`.
 *
 * A chunk is the same bytes as `JSON.stringify` of its object; the part before each token is
 * built once per reply and the token comes from the generator's JSON table, so a token event
 * costs two string joins.
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
import { inputFull, parseInputCall } from "./openai_embeddings.ts";
import {
  parseResponsesCall,
  responsesEvent,
  responsesFull,
  responsesTail,
} from "./openai_responses.ts";

/** Replies always run to their planned length, as with `ignore_eos`. */
const FINISH = "length";

const ROUTES: Readonly<Record<string, string>> = {
  "/v1/chat/completions": "chat",
  "/chat/completions": "chat",
  "/v1/completions": "completions",
  "/completions": "completions",
  "/v1/responses": "responses",
  "/responses": "responses",
  "/v1/embeddings": "embeddings",
  "/embeddings": "embeddings",
  "/v1/rerank": "rerank",
  "/v1/reranks": "rerank",
  "/rerank": "rerank",
  "/reranks": "rerank",
};

// memo slots of a reply
const HEAD = 0; // `data: {"id":...,"choices":[{"index":`
const ANSWER = 1; // between the choice index and the answer token
const THINK = 2; // between the choice index and a reasoning token

const OPEN = `},"logprobs":null,"finish_reason":null}]}\n\n`;
const LAST = `},"logprobs":null,"finish_reason":"${FINISH}"}]}\n\n`;
const TEXT_OPEN = `,"logprobs":null,"finish_reason":null}]}\n\n`;
const TEXT_LAST = `,"logprobs":null,"finish_reason":"${FINISH}"}]}\n\n`;
const ROLE = `,"delta":{"role":"assistant","content":""` + OPEN;

function objectName(r: MockReply, streamed: boolean): string {
  if (r.call.route === "chat") return streamed ? "chat.completion.chunk" : "chat.completion";
  return "text_completion";
}

function usageOf(r: MockReply) {
  const completion = r.plan.tokens * r.call.n;
  const usage: Record<string, unknown> = {
    prompt_tokens: r.promptTokens,
    completion_tokens: completion,
    total_tokens: r.promptTokens + completion,
  };
  if (r.reportCached) usage.prompt_tokens_details = { cached_tokens: r.cachedTokens };
  if (r.reasons) {
    usage.completion_tokens_details = { reasoning_tokens: r.plan.reasoning * r.call.n };
  }
  return usage;
}

function memo(r: MockReply): string[] {
  const m = r.memo;
  if (m.length === 0) {
    m[HEAD] = `data: {"id":${JSON.stringify(r.id)},"object":"${objectName(r, true)}",` +
      `"created":${r.created},"model":${JSON.stringify(r.call.model)},"choices":[{"index":`;
    m[ANSWER] = r.call.route === "chat" ? `,"delta":{"content":` : `,"text":`;
    m[THINK] = `,"delta":{${JSON.stringify(r.reasoningField)}:`;
  }
  return m;
}

/** Chunks without a token that end every choice of a reply of 0 tokens. */
function finishOnly(r: MockReply): string {
  const m = memo(r);
  let out = "";
  for (let c = 0; c < r.call.n; c++) {
    out += r.call.route === "chat"
      ? m[HEAD] + c + ROLE + m[HEAD] + c + `,"delta":{` + LAST
      : m[HEAD] + c + `,"text":""` + TEXT_LAST;
  }
  return out;
}

/** OpenAI's chat and plain completions. */
export const openaiProtocol: ProtocolAdapter = {
  name: "openai",
  endpoints: [
    "chat:        /v1/chat/completions",
    "completions: /v1/completions",
    "responses:   /v1/responses",
    "embeddings:  /v1/embeddings",
    "rerank:      /v1/rerank",
  ],
  route: (path) => ROUTES[path],
  parse(route, _path, _headers, body) {
    if (route === "responses") return parseResponsesCall(route, body);
    if (route === "embeddings" || route === "rerank") return parseInputCall(route, body);
    const b = asObject(body);
    const prompt = route === "chat"
      ? messagesText(b?.messages)
      : typeof b?.prompt === "string"
      ? b.prompt
      : undefined;
    if (prompt === undefined) {
      return {
        status: 400,
        message: route === "chat" ? "'messages' is required" : "'prompt' is required",
      };
    }
    const stream = b?.stream === true;
    const n = numberField(b, "n");
    return {
      prompt,
      maxTokens: numberField(b, "max_tokens") ?? numberField(b, "max_completion_tokens"),
      n: n === undefined ? 1 : Math.max(1, Math.floor(n)),
      stream,
      usage: !stream || asObject(b?.stream_options)?.include_usage === true,
      model: typeof b?.model === "string" ? b.model : "mock",
      route,
      flags: {},
    };
  },
  // Plain completions have no reasoning field: reasoning models put their thinking in the text.
  reasons: (call) => call.route === "chat" || call.route === "responses",
  errorBody: (status, message) => ({
    object: "error",
    message,
    type: status === 404 ? "NotFound" : status === 405 ? "MethodNotAllowed" : "BadRequestError",
    code: status,
  }),
  full(r) {
    if (r.call.route === "responses") return responsesFull(r);
    if (r.call.route === "embeddings" || r.call.route === "rerank") return inputFull(r);
    const chat = r.call.route === "chat";
    const choices = [];
    for (let c = 0; c < r.call.n; c++) {
      const text = fullText(r.plan, c);
      const message: Record<string, unknown> = { role: "assistant", content: text };
      if (r.plan.reasoning > 0) message[r.reasoningField] = reasoningText(r.plan, c);
      choices.push(
        chat
          ? { index: c, message, logprobs: null, finish_reason: FINISH }
          : { index: c, text, logprobs: null, finish_reason: FINISH },
      );
    }
    const out: Record<string, unknown> = {
      id: r.id,
      object: objectName(r, false),
      created: r.created,
      model: r.call.model,
      choices,
    };
    if (r.usage) out.usage = usageOf(r);
    return out;
  },
  event(r, i) {
    if (r.call.route === "responses") return responsesEvent(r, i);
    const m = memo(r);
    const chat = r.call.route === "chat";
    const last = i === r.plan.tokens - 1;
    const middle = i < r.plan.reasoning ? m[THINK] : m[ANSWER];
    const end = chat ? (last ? LAST : OPEN) : (last ? TEXT_LAST : TEXT_OPEN);
    let out = "";
    for (let c = 0; c < r.call.n; c++) {
      if (chat && i === 0) out += m[HEAD] + c + ROLE;
      out += m[HEAD] + c + middle + r.plan.tokenJson(i, c) + end;
    }
    return out;
  },
  tail(r) {
    if (r.call.route === "responses") return responsesTail(r);
    let out = r.plan.tokens === 0 ? finishOnly(r) : "";
    if (r.usage) {
      out += `data: ${
        JSON.stringify({
          id: r.id,
          object: objectName(r, true),
          created: r.created,
          model: r.call.model,
          choices: [],
          usage: usageOf(r),
        })
      }\n\n`;
    }
    return out + "data: [DONE]\n\n";
  },
};

/**
 * The mock's OpenAI Responses API (`/v1/responses`), as OpenAI and vLLM serve it. A streamed
 * reply is typed SSE events, each an `event:` line and one `data:` line with a JSON object whose
 * `type` repeats it: `response.created` (with the first token), one
 * `response.reasoning_text.delta` per reasoning token, one `response.output_text.delta` per
 * answer token, then `response.output_text.done` and `response.completed`, whose `response`
 * holds the whole output and the `usage` (`input_tokens`, `output_tokens`,
 * `output_tokens_details.reasoning_tokens`). No `data: [DONE]`: `response.completed` is the last
 * event. A whole reply is the `response` object itself. `n` does not exist here: one output.
 *
 * @module
 */
import {
  asObject,
  fullText,
  type MockCall,
  type MockRefusal,
  type MockReply,
  modelOf,
  numberField,
  reasoningText,
  singleCall,
} from "./protocol_adapter.ts";

/** The text of a Responses `input`: a string, or a list of messages and input items. */
export function responsesInputText(input: unknown): string | undefined {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return undefined;
  let text = "";
  for (const item of input as Array<{ content?: unknown; text?: unknown }>) {
    if (typeof item?.content === "string") text += item.content;
    else if (Array.isArray(item?.content)) {
      for (const p of item.content as Array<{ text?: unknown }>) {
        if (typeof p?.text === "string") text += p.text;
      }
    } else if (typeof item?.text === "string") text += item.text;
  }
  return text;
}

/** Read a Responses request (`input`, `max_output_tokens`, `stream`, `model`). */
export function parseResponsesCall(route: string, body: unknown): MockCall | MockRefusal {
  const b = asObject(body);
  const prompt = responsesInputText(b?.input);
  if (prompt === undefined) return { status: 400, message: "'input' is required" };
  return singleCall({
    prompt,
    maxTokens: numberField(b, "max_output_tokens"),
    stream: b?.stream === true,
    model: modelOf(b),
    route,
  });
}

// memo slots of a reply
const TEXT = 0; // the answer delta event, up to its delta
const THINK = 1; // the reasoning delta event, up to its delta

function usage(r: MockReply): Record<string, unknown> {
  return {
    input_tokens: r.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: r.plan.tokens,
    output_tokens_details: { reasoning_tokens: r.reasons ? r.plan.reasoning : 0 },
    total_tokens: r.promptTokens + r.plan.tokens,
  };
}

function response(r: MockReply, status: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: `resp_${r.id}`,
    object: "response",
    created_at: r.created,
    status,
    model: r.call.model,
    output: [],
  };
  if (status !== "completed") return out;
  const output: unknown[] = [];
  if (r.plan.reasoning > 0) {
    output.push({
      id: `rs_${r.id}`,
      type: "reasoning",
      summary: [],
      content: [{ type: "reasoning_text", text: reasoningText(r.plan) }],
    });
  }
  output.push({
    id: `msg_${r.id}`,
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: fullText(r.plan), annotations: [] }],
  });
  out.output = output;
  if (r.usage) out.usage = usage(r);
  return out;
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The whole (non-streamed) Responses reply. */
export function responsesFull(r: MockReply): unknown {
  return response(r, "completed");
}

/** The SSE text of token `i` (the `response.created` event before token 0). */
export function responsesEvent(r: MockReply, i: number): string {
  const m = r.memo;
  if (m.length === 0) {
    const id = JSON.stringify(`msg_${r.id}`);
    m[TEXT] = `event: response.output_text.delta\ndata: {"type":"response.output_text.delta",` +
      `"item_id":${id},"output_index":${r.plan.reasoning > 0 ? 1 : 0},"content_index":0,` +
      `"delta":`;
    m[THINK] = `event: response.reasoning_text.delta\ndata: ` +
      `{"type":"response.reasoning_text.delta","item_id":${JSON.stringify(`rs_${r.id}`)},` +
      `"output_index":0,"content_index":0,"delta":`;
  }
  const head = i === 0 ? event("response.created", { response: response(r, "in_progress") }) : "";
  return head + (i < r.plan.reasoning ? m[THINK] : m[TEXT]) + r.plan.tokenJson(i, 0) + "}\n\n";
}

/** The SSE text after the last token: the text's end and `response.completed`. */
export function responsesTail(r: MockReply): string {
  let out = r.plan.tokens === 0
    ? event("response.created", { response: response(r, "in_progress") })
    : "";
  out += event("response.output_text.done", {
    item_id: `msg_${r.id}`,
    output_index: r.plan.reasoning > 0 ? 1 : 0,
    content_index: 0,
    text: fullText(r.plan),
  });
  return out + event("response.completed", { response: response(r, "completed") });
}

/**
 * Which fields of an OpenAI-style `delta` (streamed) or `message` (whole reply) carry generated
 * tokens, and of which kind. The rule every built-in API plugin follows, exported for plugins of
 * servers that speak a dialect of it:
 *
 * - **answer** tokens: `content` (a string, or a list of parts with `text`), `refusal`, and tool
 *   calls: `tool_calls[].function.name` and `.arguments` (and the legacy `function_call`). The
 *   name counts: the model generated it, and servers send it as soon as it is known;
 * - **reasoning** tokens: `reasoning_content` (DeepSeek, SGLang, older vLLM, DashScope, Zhipu)
 *   and `reasoning` (vLLM since late 2025, OpenRouter). A server that sends both with the same
 *   text (vLLM's compatibility copy) is counted once;
 * - nothing else: `role`, tool call `id`/`type`/`index`, empty strings and `null` are metadata.
 *
 * @module
 */

/** The generated text one `delta` or `message` carried, split by kind. */
export interface MessageText {
  /** Answer text: content, refusal, tool-call names and arguments. */
  answer: string;
  /** Reasoning (thinking) text. */
  reasoning: string;
}

const NONE: MessageText = Object.freeze({ answer: "", reasoning: "" });

function partsText(v: unknown): string {
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) return "";
  let text = "";
  for (const p of v) {
    const t = (p as { text?: unknown } | null)?.text;
    if (typeof t === "string") text += t;
  }
  return text;
}

function callText(f: unknown): string {
  if (!f || typeof f !== "object") return "";
  const { name, arguments: args } = f as { name?: unknown; arguments?: unknown };
  let text = typeof name === "string" ? name : "";
  if (typeof args === "string") text += args;
  else if (args && typeof args === "object") text += JSON.stringify(args);
  return text;
}

/**
 * The answer and reasoning text of an OpenAI-style `delta` or `message` (see the module's rule).
 * Both are `""` when it carried no generated tokens (a role-only or metadata-only chunk).
 *
 * @example
 * ```ts
 * import { messageText } from "@llmperf/llmperf/plugin";
 * messageText({ role: "assistant", content: "" }); // { answer: "", reasoning: "" }
 * messageText({ reasoning: "Let me think" });     // { answer: "", reasoning: "Let me think" }
 * messageText({ tool_calls: [{ index: 0, function: { arguments: "{\"city\"" } }] });
 * // { answer: "{\"city\"", reasoning: "" }
 * ```
 */
export function messageText(m: unknown): MessageText {
  if (!m || typeof m !== "object") return NONE;
  const o = m as Record<string, unknown>;
  let answer = partsText(o.content);
  if (typeof o.refusal === "string") answer += o.refusal;
  const calls = o.tool_calls;
  if (Array.isArray(calls)) {
    for (const c of calls) answer += callText((c as { function?: unknown } | null)?.function);
  }
  if (o.function_call !== undefined) answer += callText(o.function_call);
  const rc = o.reasoning_content;
  const r = o.reasoning;
  let reasoning = typeof rc === "string" ? rc : "";
  if (typeof r === "string" && r !== reasoning) reasoning += r;
  if (answer === "" && reasoning === "") return NONE;
  return { answer, reasoning };
}

/**
 * Built-in API plugin `openai`: OpenAI-compatible chat completions (vLLM, SGLang, TGI, Ollama,
 * OpenAI), and plain completions when the URL's path ends in `/completions` but not
 * `/chat/completions` (as evalscope decides). Written exactly as a user's plugin would be: it
 * imports only the public plugin module.
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

/** Whether a URL is a plain-completions endpoint rather than chat. */
export function isCompletionsUrl(url: string): boolean {
  const path = url.replace(/[?#].*$/, "").replace(/\/+$/, "");
  return path.endsWith("/completions") && !path.endsWith("/chat/completions");
}

/** The prompt text of a message list, for the plain completions endpoint. */
export function promptText(messages: Message[]): string {
  return messages.map((m) => typeof m.content === "string" ? m.content : "").join("\n");
}

/** OpenAI chat completions (or plain completions, chosen by the URL). */
export default class OpenAIApi extends ApiPlugin {
  /** Whether bodies use `prompt` (plain completions) rather than `messages`. */
  readonly completions: boolean;

  /** @param params the run's parameters */
  constructor(params: PluginParams) {
    super(params);
    this.completions = this.usesCompletions(params);
  }

  /** Whether to speak plain completions: by default, when the URL's path says so. */
  usesCompletions(params: PluginParams): boolean {
    return isCompletionsUrl(params.url);
  }

  /** Body from the messages plus every model flag that was given. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const body: RequestBody = this.completions ? { prompt: promptText(messages) } : { messages };
    body.model = params.model;
    if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
    if (params.minTokens !== undefined) body.min_tokens = params.minTokens;
    if (params.frequencyPenalty !== undefined) body.frequency_penalty = params.frequencyPenalty;
    if (params.logprobs !== undefined) body.logprobs = params.logprobs;
    if (params.nChoices !== undefined) body.n = params.nChoices;
    if (params.seed !== undefined) body.seed = params.seed;
    if (params.stop !== undefined && params.stop.length > 0) body.stop = params.stop;
    if (params.stopTokenIds !== undefined && params.stopTokenIds.length > 0) {
      body.stop_token_ids = params.stopTokenIds;
    }
    if (params.stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    if (params.temperature !== undefined) body.temperature = params.temperature;
    if (params.topP !== undefined) body.top_p = params.topP;
    return body;
  }

  /**
   * Token counts from `usage` (the last payload that has one) or, when no payload carries usage,
   * the number of payloads that carried generated text. `contentChunks` lists those payloads.
   * Throws (the request is then recorded as a protocol failure) when a payload is not JSON, or a
   * stream of chunks ended before any choice finished.
   */
  parseResponses(responses: string[]): TokenCounts & { contentChunks: number[] } {
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    const contentChunks: number[] = [];
    let streamed = false;
    let finished = false;
    for (let i = 0; i < responses.length; i++) {
      const js = parseJson(responses[i]);
      if (js === undefined) {
        throw new Error(`payload ${i} is not a JSON object: ${responses[i].slice(0, 80)}`);
      }
      if (js.usage && typeof js.usage === "object") usage = js.usage;
      if (hasContent(js)) contentChunks.push(i);
      if (typeof js.object === "string" && js.object.endsWith(".chunk")) streamed = true;
      if (Array.isArray(js.choices) && (js.choices as Choice[]).some((c) => c?.finish_reason)) {
        finished = true;
      }
    }
    if (streamed && !finished) {
      throw new Error("the stream ended before any choice finished (no finish_reason)");
    }
    return tokenCounts(
      contentChunks,
      usage && { prompt: usage.prompt_tokens, completion: usage.completion_tokens },
    );
  }

  /** An `{"error": ...}` object sent inside a 200 response. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"')) return undefined;
    const js = parseJson(payload);
    if (!js || js.error === undefined || js.error === null) return undefined;
    const e = js.error as { message?: string } | string;
    return typeof e === "string" ? e : e.message ?? JSON.stringify(e);
  }

  /** The generated text of each choice, reassembled from deltas (or read from the body). */
  generatedTexts(responses: string[]): string[] {
    const texts: string[] = [];
    for (const r of responses) {
      const js = parseJson(r);
      if (!js || !Array.isArray(js.choices)) continue;
      for (const c of js.choices as Choice[]) {
        const i = c.index ?? 0;
        texts[i] = (texts[i] ?? "") + choiceText(c);
      }
    }
    return Array.from(texts, (t) => t ?? "");
  }
}

interface Choice {
  index?: number;
  finish_reason?: string | null;
  text?: string;
  delta?: { content?: string | null; reasoning_content?: string | null };
  message?: { content?: string | null; reasoning_content?: string | null };
}

function choiceText(c: Choice): string {
  if (typeof c.text === "string") return c.text;
  const m = c.delta ?? c.message;
  if (!m) return "";
  return (m.reasoning_content ?? "") + (m.content ?? "");
}

function hasContent(js: Record<string, unknown>): boolean {
  const choices = js.choices;
  if (!Array.isArray(choices)) return false;
  for (const c of choices as Choice[]) if (choiceText(c).length > 0) return true;
  return false;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Built-in API plugin `openai`: OpenAI-compatible chat completions (vLLM, SGLang, TGI, Ollama,
 * OpenAI), and plain completions when the URL's path ends in `/completions` but not
 * `/chat/completions` (as evalscope decides). A dataset item that is a whole body (a
 * `line_by_line` line that is a JSON object) is sent as it is, with only the fields it lacks
 * filled in from the flags (as evalscope's `setdefault`). Written exactly as a user's plugin
 * would be: it imports only the public plugin module.
 *
 * @module
 */
import {
  ApiPlugin,
  bodyFields,
  declareErrorMarker,
  imageTokens,
  type Message,
  type MessageText,
  messageText,
  type PluginParams,
  type Prompt,
  type PromptKind,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
  type UsageCounts,
} from "../../plugin.ts";

/** Whether a URL is a plain-completions endpoint rather than chat. */
export function isCompletionsUrl(url: string): boolean {
  const path = url.replace(/[?#].*$/, "").replace(/\/+$/, "");
  return path.endsWith("/completions") && !path.endsWith("/chat/completions");
}

/**
 * The URL `--tokenize-prompt` sends to, as evalscope 2026 rewrites it: a trailing
 * `chat/completions` becomes `completions`; any other URL is kept.
 *
 * @example
 * ```ts
 * tokenizedPromptUrl("http://h/v1/chat/completions"); // "http://h/v1/completions"
 * ```
 */
export function tokenizedPromptUrl(url: string): string {
  return url.replace(/\/chat\/completions(\/?)$/, "/completions$1");
}

/** The prompt text of a message list, for the plain completions endpoint. */
export function promptText(messages: Message[]): string {
  return messages.map((m) => typeof m.content === "string" ? m.content : "").join("\n");
}

/** OpenAI chat completions (or plain completions, chosen by the URL). */
export default class OpenAIApi extends ApiPlugin {
  /** Whether bodies use `prompt` (plain completions) rather than `messages`. */
  readonly completions: boolean;
  /** Chat messages, and whole bodies. */
  readonly accepts: readonly PromptKind[] = ["messages", "body"];

  /** @param params the run's parameters */
  constructor(params: PluginParams) {
    super(params);
    this.completions = this.usesCompletions(params);
  }

  /**
   * Whether to send a prompt rather than messages: always with `--tokenize-prompt` (token ids go
   * to `.../completions`); else as `--[no-]apply-chat-template` says; unset, when the URL's path
   * is plain completions (evalscope's rule).
   */
  usesCompletions(params: PluginParams): boolean {
    if (params.tokenizePrompt === true) return true;
    if (params.applyChatTemplate !== undefined) return !params.applyChatTemplate;
    return isCompletionsUrl(params.url);
  }

  /** `--tokenize-prompt`: a `.../chat/completions` URL becomes `.../completions`. */
  requestUrl(url: string, params: PluginParams): string {
    return params.tokenizePrompt === true ? tokenizedPromptUrl(url) : url;
  }

  /**
   * Body from the messages plus every body setting that is set (`bodyFields`). With
   * `--tokenize-prompt` the prompt is the tokenizer's ids (`promptIds`: through the chat
   * template when it is in use).
   */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const item = messages as Prompt;
    const whole = !Array.isArray(item) && item.kind === "body" ? item.body : undefined;
    const ids = whole === undefined && params.tokenizePrompt === true
      ? params.tokenizer?.promptIds?.(messages)
      : undefined;
    const body: RequestBody = whole !== undefined
      ? {}
      : ids !== undefined
      ? { prompt: ids }
      : this.completions
      ? { prompt: promptText(messages) }
      : { messages };
    body.model = params.model;
    Object.assign(body, bodyFields(params));
    if (params.stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    if (whole === undefined) return body;
    const out: RequestBody = { ...body, ...whole }; // the item's own fields win
    if (whole.stream === false) delete out.stream_options;
    return out;
  }

  /**
   * Token counts from `usage` (the last payload that has one) or, when no payload carries usage,
   * an estimate: one token per payload that carried generated tokens (streamed), or the text
   * length of the reply (a whole body). Generated tokens are answer tokens (`content`, `text`,
   * `refusal`, tool-call names and arguments) and reasoning tokens (`reasoning_content`,
   * `reasoning`): see `messageText`. `contentChunks` lists the payloads that carried any,
   * `answerChunks` those that carried answer tokens; reasoning tokens come from
   * `usage.completion_tokens_details.reasoning_tokens`. Throws (the request is then recorded as
   * a protocol failure) when a payload is not JSON, or a stream of chunks ended before any
   * choice finished.
   */
  parseResponses(
    responses: string[],
    request?: RequestBody,
  ): TokenCounts & { contentChunks: number[] } {
    // Streamed replies are told by the request (plain completions chunks have no `.chunk`
    // object), else by their payloads. A stream's text is not kept: only a body's is counted.
    const whole = request === undefined || request.stream !== true;
    const out = readChoices(responses, whole);
    if (out.chunked && !out.finished) {
      throw new Error("the stream ended before any choice finished (no finish_reason)");
    }
    const streamed = request !== undefined ? !whole : out.chunked || responses.length > 1;
    const counts = tokenCounts(
      { ...out, text: streamed ? undefined : out.text },
      usageCounts(out.usage),
    );
    if (out.usage === undefined && request !== undefined) {
      // No usage: the prompt's images count as evalscope counts them (the text: --tokenizer-path).
      const images = imageTokens(request.messages, this.params.imagePatchSize ?? 28);
      if (images > 0) {
        counts.imageTokens = images;
        counts.promptTokens += images;
      }
    }
    return counts;
  }

  /** An `{"error": ...}` object sent inside a 200 response. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"')) return undefined;
    const js = parseJson(payload);
    if (!js || js.error === undefined || js.error === null) return undefined;
    const e = js.error as { message?: string } | string;
    return typeof e === "string" ? e : e.message ?? JSON.stringify(e);
  }

  /** The generated text of each choice (reasoning, then answer), from deltas or the body. */
  generatedTexts(responses: string[]): string[] {
    return choiceTexts(responses, (t) => t.reasoning + t.answer);
  }

  /** The reasoning text of each choice. */
  reasoningTexts(responses: string[]): string[] {
    return choiceTexts(responses, (t) => t.reasoning);
  }
}

// Every payload its errorInPayload flags holds "error": most responses are searched once, whole.
declareErrorMarker(OpenAIApi.prototype.errorInPayload, '"error"');

/** What the payloads of an OpenAI-style response carried (see {@link readChoices}). */
export interface ChoicesRead {
  /** Payloads that carried generated tokens of any kind. */
  contentChunks: number[];
  /** Payloads that carried answer tokens. */
  answerChunks: number[];
  /** Payloads that carried reasoning tokens. */
  reasoningChunks: number[];
  /** The last `usage` object. */
  usage: Usage | undefined;
  /** Whether a payload was a `.chunk` object (a chat stream). */
  chunked: boolean;
  /** Whether a choice finished (`finish_reason`). */
  finished: boolean;
  /** All the generated text (only when asked to keep it). */
  text: { answer: string; reasoning: string };
}

/** One character of a JSON string literal, exactly as JSON's grammar has it. */
const JSON_CHAR = String.raw`[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}`;
/**
 * Any number of {@link JSON_CHAR}s, written as a run of plain characters between escapes (the
 * same strings: no plain character starts an escape). The engine then takes a run in one loop of
 * one character class instead of choosing among three alternatives at every character: the plain
 * token's test of a mock chunk 0.22–0.28 → 0.17–0.21 µs (alternated in one process).
 */
const JSON_CHARS = String
  .raw`[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*`;
/** A JSON string literal. */
const JSON_STRING = `"${JSON_CHARS}"`;
/** A JSON string literal of one character or more. */
const JSON_NONEMPTY_STRING = `"(?:${JSON_CHAR})${JSON_CHARS}"`;
/** A JSON non-negative integer (no leading zeros). */
const JSON_UINT = String.raw`(?:0|[1-9]\d*)`;

/** A JSON number, exactly as JSON's grammar has it. */
const JSON_NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/** A JSON scalar: a string, a number, `true`, `false` or `null`. */
const JSON_SCALAR = String.raw`(?:${JSON_STRING}|${JSON_NUMBER}|true|false|null)`;

/**
 * The chat chunk nearly every token of vLLM, SGLang and OpenAI-compatible servers arrives in,
 * matched whole: `id`, `object` (`chat.completion.chunk`), `created`, `model`, an optional
 * `system_fingerprint`, then one choice whose delta has a `content` string (or `null`),
 * optionally a role and `null` reasoning/tool fields, `"logprobs":null`, and a `finish_reason`
 * (SGLang's `matched_stop` or vLLM's `stop_reason` after it); then `"usage":null` or other scalar
 * fields (OpenAI's `obfuscation`, `service_tier`; a stamping proxy's times), none named `usage`,
 * `object` or `choices`. Group 1 is the content literal, group 2 the finish reason. A payload it
 * matches is valid JSON whose keys of interest do not repeat, so what {@link readChoices} reads
 * from it (a `.chunk` object; finished when the reason is a non-empty string; answer tokens when
 * the content is) is what `JSON.parse` would give, at a sixth of the cost and without building
 * objects. Anything else is parsed.
 */
export const PLAIN_CHUNK: RegExp = new RegExp(
  plainChunk(String.raw`(${JSON_STRING}|null)`, String.raw`(null|${JSON_STRING})`),
);

/**
 * The commonest plain chunk of all, matched without captures: a non-empty `content` string and a
 * `null` finish reason (a token mid-stream). What {@link PLAIN_CHUNK} matches with those groups,
 * nothing else; testing it first spares the match's array and substrings (0.13–0.16 against
 * 0.19–0.27 µs per payload).
 */
export const PLAIN_TOKEN: RegExp = new RegExp(
  plainChunk(JSON_NONEMPTY_STRING, "null"),
);

/** {@link PLAIN_CHUNK}'s expression with these for the content literal and the finish reason. */
function plainChunk(content: string, finish: string): string {
  return String
    .raw`^\{"id":${JSON_STRING},"object":"chat\.completion\.chunk","created":${JSON_UINT},` +
    String.raw`"model":${JSON_STRING},(?:"system_fingerprint":(?:${JSON_STRING}|null),)?` +
    String.raw`"choices":\[\{"index":${JSON_UINT},"delta":\{(?:"role":(?:${JSON_STRING}|null),)?` +
    String.raw`"content":${content}` +
    String.raw`(?:,"(?:reasoning_content|reasoning|tool_calls|refusal)":null)*\},` +
    String.raw`"logprobs":null,"finish_reason":${finish}` +
    String.raw`(?:,"(?:matched_stop|stop_reason)":(?:null|${JSON_STRING}|${JSON_UINT}))?\}\]` +
    String.raw`(?:,(?:"usage":null|"(?!(?:usage|object|choices)")[A-Za-z_][A-Za-z0-9_]*":` +
    String.raw`${JSON_SCALAR}))*\}$`;
}

/** A JSON string literal with at least one character (not `""`, not `null`). */
function nonEmptyString(literal: string): boolean {
  return literal.length > 2 && literal.charCodeAt(0) === 34;
}

/**
 * Read the payloads of an OpenAI-style response (chat chunks, chat or completions bodies):
 * which carried answer and reasoning tokens (`messageText`'s rule; completions' `text` is
 * answer), the last usage, and, when `keepText`, the generated text. Throws when a payload is
 * not a JSON object. Without `keepText` (a stream), a payload that is the plain chunk of
 * {@link PLAIN_CHUNK} is read from the match instead of parsed.
 */
export function readChoices(responses: string[], keepText: boolean): ChoicesRead {
  const out: ChoicesRead = {
    contentChunks: [],
    answerChunks: [],
    reasoningChunks: [],
    usage: undefined,
    chunked: false,
    finished: false,
    text: { answer: "", reasoning: "" },
  };
  for (let i = 0; i < responses.length; i++) {
    if (!keepText && PLAIN_TOKEN.test(responses[i])) {
      out.chunked = true;
      out.contentChunks.push(i);
      out.answerChunks.push(i);
      continue;
    }
    const plain = keepText ? null : PLAIN_CHUNK.exec(responses[i]);
    if (plain !== null) {
      out.chunked = true;
      if (nonEmptyString(plain[2])) out.finished = true;
      if (nonEmptyString(plain[1])) {
        out.contentChunks.push(i);
        out.answerChunks.push(i);
      }
      continue;
    }
    const js = parseJson(responses[i]);
    if (js === undefined) {
      throw new Error(`payload ${i} is not a JSON object: ${responses[i].slice(0, 80)}`);
    }
    if (js.usage && typeof js.usage === "object") out.usage = js.usage as Usage;
    if (typeof js.object === "string" && js.object.endsWith(".chunk")) out.chunked = true;
    const choices = js.choices;
    if (!Array.isArray(choices)) continue;
    let a = false;
    let r = false;
    for (const c of choices as Choice[]) {
      if (c?.finish_reason) out.finished = true;
      const t = choiceText(c);
      if (t.answer !== "") {
        a = true;
        if (keepText) out.text.answer += t.answer;
      }
      if (t.reasoning !== "") {
        r = true;
        if (keepText) out.text.reasoning += t.reasoning;
      }
    }
    if (a || r) out.contentChunks.push(i);
    if (a) out.answerChunks.push(i);
    if (r) out.reasoningChunks.push(i);
  }
  return out;
}

/** The generated text of each choice, picked from its answer and reasoning text. */
export function choiceTexts(responses: string[], pick: (t: MessageText) => string): string[] {
  const texts: string[] = [];
  for (const r of responses) {
    const js = parseJson(r);
    if (!js || !Array.isArray(js.choices)) continue;
    for (const c of js.choices as Choice[]) {
      const n = c?.index;
      const i = typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 1024 ? n : 0;
      texts[i] = (texts[i] ?? "") + pick(choiceText(c));
    }
  }
  return Array.from(texts, (t) => t ?? "");
}

/** OpenAI's usage in {@link tokenCounts}'s terms (`undefined` when there was none). */
export function usageCounts(u: Usage | undefined): UsageCounts | undefined {
  if (!u) return undefined;
  return {
    prompt: u.prompt_tokens,
    completion: u.completion_tokens,
    reasoning: u.completion_tokens_details?.reasoning_tokens ?? undefined,
    cached: u.prompt_tokens_details?.cached_tokens ?? undefined,
  };
}

/** OpenAI's usage object. */
export interface Usage {
  /** Prompt tokens. */
  prompt_tokens?: number;
  /** Generated tokens, reasoning included. */
  completion_tokens?: number;
  /** OpenAI, DeepSeek, OpenRouter: `reasoning_tokens` among them. */
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  /** vLLM, SGLang, OpenAI: the prompt tokens the prefix cache held. */
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

interface Choice {
  index?: number;
  finish_reason?: string | null;
  text?: unknown;
  delta?: unknown;
  message?: unknown;
}

/** What one choice of a chunk or body generated: completions' `text`, or the delta/message. */
function choiceText(c: Choice): MessageText {
  if (!c || typeof c !== "object") return messageText(undefined);
  if (typeof c.text === "string") return { answer: c.text, reasoning: "" };
  return messageText(c.delta ?? c.message);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plugin contracts. An API plugin turns message lists into request bodies and raw response
 * payloads into token counts; a dataset plugin yields message lists. Any object or class with
 * these methods is a plugin: nothing here has to be imported, so a plugin served from a URL can
 * be plain JavaScript with no imports at all. The base classes are a convenience.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";

/** One chat message. `content` is text, or a list of parts for multimodal prompts. */
export interface Message {
  /** `system`, `user`, `assistant`, ... */
  role: string;
  /** Text, or OpenAI-style content parts. */
  content: string | unknown[];
}

/**
 * What plugins see of the run's tokenizer (`--tokenizer-path`): plain methods over token ids, so a
 * dataset plugin can build prompts of exact token lengths without importing anything. A plugin
 * receives it as `params.tokenizer`; it is absent without `--tokenizer-path`. `promptLength` is
 * the one definition of a prompt's length in tokens that the whole run shares: the
 * `--min/--max-prompt-length` filter, the `random` dataset and the token counts all agree with it.
 */
export interface PromptTokenizer {
  /** Token ids of `text`, without special tokens (no BOS/EOS added). */
  encode(text: string): number[];
  /** Text of `ids` (special tokens kept as text). */
  decode(ids: number[]): string;
  /**
   * A message list's length in tokens: the rendered chat template (generation prompt added)
   * with `--apply-chat-template`, else the text of the messages joined by newlines, both without
   * added special tokens.
   */
  promptLength(messages: Message[]): number;
  /**
   * The token ids {@link promptLength} counts (`--tokenize-prompt` sends them): of the rendered
   * chat template when it is in use, else of the messages' text. Optional for a tokenizer of
   * one's own; the run's tokenizer has it.
   */
  promptIds?(messages: Message[]): number[];
  /** Whether {@link promptLength} renders the chat template (`--apply-chat-template`). */
  readonly usesChatTemplate: boolean;
  /** Size of the base vocabulary: ids `0 … vocabSize − 1`, added tokens not included. */
  readonly vocabSize: number;
  /** Ids of added tokens (special or not, e.g. `<|im_start|>`, `<think>`). */
  readonly addedIds: ReadonlySet<number>;
}

/**
 * The run's parameters as plugins see them: the whole resolved configuration, plus the run's
 * tokenizer when `--tokenizer-path` is given (`tokenizer`, see {@link PromptTokenizer}: how the
 * `random` dataset builds prompts of exact token lengths), and the run's log (`log`: one line a
 * call, absent where the caller gives none).
 */
export type PluginParams = PerfConfig & {
  tokenizer?: PromptTokenizer;
  log?: (line: string) => void;
};

/** A JSON request body. */
export type RequestBody = Record<string, unknown>;

/**
 * A dataset item that is not a chat: `body`, a whole request body (a `line_by_line` line that is
 * a JSON object: the API plugin fills in only the fields it lacks); `texts`, texts to embed (one,
 * or a batch); `rerank`, a query and the documents to rank against it. An API plugin says which
 * kinds it takes in {@link ApiPluginLike.accepts}.
 */
export type PromptItem =
  | { kind: "body"; body: RequestBody }
  | { kind: "texts"; texts: string[] }
  | { kind: "rerank"; query: string; documents: string[] };

/** What a dataset yields: a message list (a chat), or a {@link PromptItem}. */
export type Prompt = Message[] | PromptItem;

/** The kinds of {@link Prompt}: `messages` (a message list) and each {@link PromptItem} kind. */
export type PromptKind = "messages" | PromptItem["kind"];

/** The kind of a prompt. */
export function promptKind(p: Prompt): PromptKind {
  return Array.isArray(p) ? "messages" : p.kind;
}

/** Token counts of one finished request, as an API plugin reports them. */
export interface TokenCounts {
  /** Tokens of the prompt as the server saw it. */
  promptTokens: number;
  /** Tokens generated (all choices), reasoning tokens included. */
  completionTokens: number;
  /**
   * Where the counts came from: `usage` (server-reported), `tokenizer` (`--tokenizer-path`), or
   * an estimate: `chunks` (one token per token-carrying payload of a stream), `text-length` (a
   * whole reply's text length, see `estimateTokens`), `none` (not counted, or not said: the
   * default when absent).
   */
  source?: TokenSource;
  /**
   * Indices of the payloads that carried generated tokens of any kind: answer, reasoning, tool
   * calls (a streamed reply's role-only first chunk or usage-only last chunk does not). TTFT and
   * inter-token latency are measured on these; when absent, every payload counts.
   */
  contentChunks?: number[];
  /**
   * Indices of the payloads that carried answer tokens, that is generated tokens other than
   * reasoning (content, text, refusal, tool calls). The time to first output token (TTFO) is
   * measured on the first; an empty list means no answer came (the reply was all reasoning).
   * When absent, every content chunk is an answer chunk (TTFO = TTFT).
   */
  answerChunks?: number[];
  /**
   * Of `promptTokens`, the tokens of the prompt's images that the plugin counted itself because
   * the response had no usage (`imageTokens`); `--tokenizer-path`, which counts the prompt's
   * text, adds them to its count.
   */
  imageTokens?: number;
  /**
   * Of `completionTokens`, how many were reasoning (thinking) tokens: from the server's usage
   * (`completion_tokens_details.reasoning_tokens`), else counted like `completionTokens`.
   * Absent when unknown (usage without it, and no tokenizer); 0 when the reply had none.
   */
  reasoningTokens?: number;
  /**
   * Of `promptTokens`, how many the server's prefix (KV) cache held: from the server's usage
   * (`usage.prompt_tokens_details.cached_tokens`). Absent when the server does not say.
   */
  cachedTokens?: number;
}

/** Where a request's token counts came from (see {@link TokenCounts.source}). */
export type TokenSource = "usage" | "chunks" | "text-length" | "tokenizer" | "none";

/**
 * An API plugin: builds request bodies and reads token counts from responses.
 *
 * @example A minimal plugin with no imports, for a server that takes `{ "input": "..." }`
 * ```ts
 * export default {
 *   buildRequest(messages: { content: unknown }[], params: { model: string }) {
 *     return { model: params.model, input: messages.map((m) => m.content).join("\n") };
 *   },
 *   parseResponses(responses: string[]) {
 *     const last = JSON.parse(responses[responses.length - 1] ?? "{}");
 *     return { promptTokens: last.usage?.input ?? 0, completionTokens: last.usage?.output ?? 0 };
 *   },
 * };
 * ```
 */
export interface ApiPluginLike {
  /**
   * Build the request body for one message list (or, for a plugin whose {@link accepts} lists
   * them, one {@link PromptItem}). Return `null`/`undefined` to skip it. `params.stream` says
   * whether a streamed response is wanted.
   */
  buildRequest(
    messages: Message[],
    params: PluginParams,
  ): RequestBody | null | undefined | Promise<RequestBody | null | undefined>;
  /**
   * Optional: the kinds of prompt {@link buildRequest} takes (default `["messages"]`): a dataset
   * that yields another kind (texts to embed, rerank pairs, whole bodies) is refused with one
   * line before anything is sent.
   */
  readonly accepts?: readonly PromptKind[];
  /**
   * Token counts from the raw payloads of one successful response: every SSE `data:` payload
   * (without `[DONE]`) when streamed, else the one body. May return a `[prompt, completion]` pair,
   * as evalscope plugins do. `responses` is lent for the call (until the promise it returns
   * settles): llmperf empties the array once the request is finished, so copy what you keep.
   */
  parseResponses(
    responses: string[],
    request: RequestBody,
  ): TokenCounts | [number, number] | Promise<TokenCounts | [number, number]>;
  /** Optional: the URL to send to, given the `--url` flag (default: `--url` unchanged). */
  requestUrl?(url: string, params: PluginParams): string;
  /** Optional: extra headers for every request (for example a protocol's own SSE switch). */
  requestHeaders?(params: PluginParams): Record<string, string>;
  /** Optional: whether a body asks for a streamed response (default: `body.stream === true`). */
  isStreaming?(body: RequestBody, params: PluginParams): boolean;
  /**
   * Optional: the body of the start-up check (one request before the run, skipped with
   * `--no-test-connection`), from the first request's body: the same request made as cheap as the
   * protocol allows, one output token. Default: `defaultProbeBody`, which sets `max_tokens`,
   * `max_completion_tokens`, `max_new_tokens` and `parameters.max_tokens` to 1 where the body
   * has them.
   */
  probeBody?(body: RequestBody, params: PluginParams): RequestBody;
  /**
   * Optional: recognise an error reported inside a 200 response (an SSE event or JSON body).
   * Return the error text, or `undefined` when the payload is not an error. With
   * `declareErrorMarker` (plugin.ts) it may say which text every payload it flags contains.
   */
  errorInPayload?(payload: string): string | undefined;
  /**
   * Optional: the generated text of each choice, for tokenizers and reports: everything the
   * model generated (reasoning, answer, tool-call names and arguments).
   */
  generatedTexts?(responses: string[]): string[];
  /**
   * Optional: the reasoning part of {@link ApiPluginLike.generatedTexts}, per choice, so that
   * `--tokenizer-path` can count reasoning tokens when the server's usage does not report them.
   */
  reasoningTexts?(responses: string[]): string[];
}

/**
 * One turn of a conversation (`--multi-turn`): the messages it adds to the history (user or
 * tool-output text; the replies are appended by llmperf, never taken from the dataset), and what
 * the dataset says of it.
 */
export interface Turn {
  /** The messages this turn adds (not the whole history). */
  messages: Message[];
  /** This turn's `max_tokens` (its reply's length in an agentic trace); default `--max-tokens`. */
  maxTokens?: number;
  /** Wait this long before sending the turn, ms: the user's think time or a tool's latency. */
  delayMs?: number;
}

/**
 * A dataset item that is more than a message list: a replayed trace's request (issue 15 item 3:
 * `workload_trace`, `mooncake`). It gives the prompt as messages or as a whole body, fields to
 * set over the body, and when to send it.
 *
 * @example A trace of two requests, half a second apart, each with its own output length
 * ```ts
 * export default {
 *   timed: true,
 *   *buildMessages() {
 *     yield { atMs: 0, messages: [{ role: "user", content: "hi" }], fields: { max_tokens: 8 } };
 *     yield { atMs: 500, body: { messages: [{ role: "user", content: "yo" }], max_tokens: 4 } };
 *   },
 * };
 * ```
 */
export interface DatasetRequest {
  /** The prompt, built into a body by the API plugin (`--query-template`, `--extra-args`). */
  messages?: Message[];
  /** A whole request body: the run's settings only fill the keys it lacks (evalscope's rule). */
  body?: RequestBody;
  /** Fields set over the body, last (a trace's `max_tokens`, `ignore_eos`). */
  fields?: RequestBody;
  /** When to send it, ms after the run's start (a {@link DatasetPluginLike.timed} dataset). */
  atMs?: number;
  /**
   * Headers sent with this request only (a trace's), over the run's headers of the same name
   * (names compared case-insensitively). Values that carry a credential are kept out of every
   * file and log line, as the run's own are.
   */
  headers?: Record<string, string>;
  /**
   * The dataset's own id of the request (a trace record's `request_id`): kept with its record,
   * in the result DBs' `trace_request_id` column (evalscope 2026's `request_id`).
   */
  requestId?: string;
}

/**
 * What a dataset yields: a message list, a {@link PromptItem} (texts to embed, rerank pairs, a
 * whole body), or a {@link DatasetRequest} (a replayed trace's request).
 */
export type DatasetItem = Prompt | DatasetRequest;

/**
 * A dataset plugin: yields message lists (or other {@link DatasetItem}s: texts to embed, rerank
 * pairs, whole bodies, a trace's timed requests), lazily.
 *
 * @example A plain object is a plugin too
 * ```ts
 * export default {
 *   *buildMessages() {
 *     for (const topic of ["tokens", "latency", "throughput"]) {
 *       yield [{ role: "user", content: `Explain ${topic} in one paragraph.` }];
 *     }
 *   },
 * };
 * ```
 */
export interface DatasetPluginLike {
  /**
   * Optional: the `--dataset-args` keys it takes and each one's type (as evalscope's
   * `args_schema`). When declared, another key or a value of the wrong type is a one-line error
   * (exit 2) before anything is sent; undeclared, the plugin gets `datasetArgs` unchecked.
   */
  readonly argsSchema?: DatasetArgsSchema;
  /**
   * Yield the prompts, one message list each. Called again from the start when the run needs
   * more requests than the dataset holds.
   */
  buildMessages(): Iterable<DatasetItem> | AsyncIterable<DatasetItem>;
  /**
   * Optional: `true` when the items are a trace to replay: each a {@link DatasetRequest} with its
   * own `atMs`, sent then instead of on the `--rate` schedule, and read once (`--number` only
   * truncates it).
   */
  readonly timed?: boolean;
  /**
   * Optional: `true` when the dataset itself makes its prompts' lengths fit
   * `--min/--max-prompt-length` (as `random` does, bounds included), so llmperf does not filter
   * them again. By default every prompt goes through the length filter.
   */
  readonly lengthFiltered?: boolean;
  /**
   * Optional: yield conversations for `--multi-turn`, one list of {@link Turn}s each. Without it,
   * `--multi-turn` splits each message list of {@link buildMessages} into turns at its assistant
   * messages (whose text is dropped: the server's replies take their place), as `splitTurns` does.
   */
  buildConversations?(): Iterable<Turn[]> | AsyncIterable<Turn[]>;
  /**
   * Optional, for a dataset whose requests carry headers of their own
   * ({@link DatasetRequest.headers}): all of them, before the first request is built, so that
   * the run knows every credential among them before it writes anything (a server's error that
   * echoes one is stored redacted).
   */
  requestHeaders?():
    | Iterable<Record<string, string>>
    | AsyncIterable<Record<string, string>>
    | Promise<Iterable<Record<string, string>>>;
}

/**
 * The type of a `--dataset-args` value: `number` (finite), `positive` (a number above 0),
 * `positive-int`, `non-negative-int`, `string`, `boolean`, `string-map` (an object of strings),
 * `length` (a positive whole number, or `[min, max]` of them with min ≤ max), or a list of the
 * strings it may be.
 */
export type DatasetArgType =
  | "number"
  | "positive"
  | "positive-int"
  | "non-negative-int"
  | "string"
  | "boolean"
  | "string-map"
  | "length"
  | readonly string[];

/** One `--dataset-args` key a dataset takes. */
export interface DatasetArgSpec {
  /** Its value's type. */
  readonly type: DatasetArgType;
  /**
   * Set when the key is evalscope's but the plugin does not implement it (yet): giving it is an
   * error that says so, rather than a run that silently differs from evalscope's.
   */
  readonly unsupported?: boolean;
}

/**
 * The `--dataset-args` keys a dataset takes (`{}`: none).
 *
 * @example
 * ```ts
 * import type { DatasetArgsSchema } from "@llmperf/llmperf/plugin";
 * const schema: DatasetArgsSchema = { speed: { type: "positive" }, mode: { type: ["a", "b"] } };
 * ```
 */
export type DatasetArgsSchema = Readonly<Record<string, DatasetArgSpec>>;

/**
 * Base class for API plugins (optional: any object with the methods of {@link ApiPluginLike}
 * works). The constructor receives the run's parameters.
 *
 * @example
 * ```ts
 * import { ApiPlugin, type Message, type PluginParams } from "@llmperf/llmperf/plugin";
 *
 * export default class EchoApi extends ApiPlugin {
 *   buildRequest(messages: Message[], params: PluginParams) {
 *     return { model: params.model, messages, stream: params.stream };
 *   }
 *   parseResponses(responses: string[]) {
 *     return { promptTokens: 0, completionTokens: responses.length };
 *   }
 * }
 * ```
 */
export abstract class ApiPlugin implements ApiPluginLike {
  /** The run's parameters. */
  readonly params: PluginParams;
  /**
   * Keep the run's parameters as {@link ApiPlugin.params}.
   *
   * @param params the run's parameters
   */
  constructor(params: PluginParams) {
    this.params = params;
  }
  /** See {@link ApiPluginLike.buildRequest}. */
  abstract buildRequest(
    messages: Message[],
    params: PluginParams,
  ): RequestBody | null | undefined | Promise<RequestBody | null | undefined>;
  /** See {@link ApiPluginLike.parseResponses}. */
  abstract parseResponses(
    responses: string[],
    request: RequestBody,
  ): TokenCounts | [number, number] | Promise<TokenCounts | [number, number]>;
}

/**
 * Base class for dataset plugins (optional, as for {@link ApiPlugin}).
 *
 * @example
 * ```ts
 * import { DatasetPlugin, readLines } from "@llmperf/llmperf/plugin";
 *
 * export default class Questions extends DatasetPlugin {
 *   async *buildMessages() {
 *     for await (const line of readLines(this.params.datasetPath!)) {
 *       if (line.trim()) yield [{ role: "user", content: line.trim() }];
 *     }
 *   }
 * }
 * ```
 */
export abstract class DatasetPlugin implements DatasetPluginLike {
  /** The run's parameters. */
  readonly params: PluginParams;
  /**
   * Keep the run's parameters as {@link DatasetPlugin.params}.
   *
   * @param params the run's parameters
   */
  constructor(params: PluginParams) {
    this.params = params;
  }
  /** See {@link DatasetPluginLike.buildMessages}. */
  abstract buildMessages(): Iterable<DatasetItem> | AsyncIterable<DatasetItem>;
}

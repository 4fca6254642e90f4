/**
 * The stream of requests to send: message lists from the dataset (or the one `--prompt`),
 * filtered by prompt length, turned into bodies by the API plugin and serialised once, before
 * they are due. The dataset is pulled lazily and, when `--number` asks for more requests than it
 * holds, read again from the start (said once in the log). With `--shard I/N` the source still
 * walks the whole global request list, so that each request keeps its global index, and hands
 * out only the shard's requests (`src/config/shard.ts`); the others are never serialised.
 *
 * With `--multi-turn` each job is a conversation (`--number` counts them): its turns from the
 * dataset's `buildConversations`, or its message lists split at assistant messages
 * (`splitTurns`), cut at `--max-turns`; the API plugin builds the body of its first turn, whose
 * `messages` the sending thread replaces by the history of each turn (`conversation.ts`). Turn `k`
 * of a conversation whose first turn has index `i` has index `i + k`. The length filter does not
 * apply to conversations. With `--rate R` every turn (the first too) waits a fresh exponential
 * gap of mean `1/R` s before it is sent, after its own delay (think time, tool latency), as
 * evalscope 2026 paces turns: relative pacing, the gap drawn from `--seed` and the conversation's
 * number. With `--shard I/N` a shard runs conversations `i` with `i mod N = I`.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import { inShard, type Shard, shardCount } from "../config/shard.ts";
import { errorMessage, RunError, UsageError } from "../errors.ts";
import { warmupCount } from "../config/warmup.ts";
import { drawIntRange } from "../config/schema.ts";
import { hash32, seededRandom } from "../util/rng.ts";
import type { BodyBuilder } from "./template.ts";
import {
  type ApiPluginLike,
  type DatasetItem,
  type DatasetPluginLike,
  type DatasetRequest,
  type Message,
  type Prompt,
  type PromptKind,
  promptKind,
  type RequestBody,
  type Turn,
} from "../plugins/types.ts";
import { splitTurns } from "../plugins/turns.ts";
import type { ConversationOrder } from "../workers/messages.ts";
import type { PreparedRequest } from "../transport/types.ts";
import { VERSION } from "../version.ts";
import { headerProblem } from "../util/http_header.ts";
import { exponential } from "../util/rng.ts";
import { headerSecrets, isSecretHeader } from "../redact.ts";

/** How a usage error names each prompt kind. */
const KIND_NAMES: Readonly<Record<PromptKind, string>> = {
  messages: "chat messages",
  body: "whole request bodies",
  texts: "texts to embed",
  rerank: "rerank queries and documents",
};

/** Whether a dataset's item is a {@link PromptItem} (a kind and its fields). */
function isPromptItem(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case "body":
      return o.body !== null && typeof o.body === "object" && !Array.isArray(o.body);
    case "texts":
      return Array.isArray(o.texts) && o.texts.every((t) => typeof t === "string");
    case "rerank":
      return typeof o.query === "string" && Array.isArray(o.documents);
    default:
      return false;
  }
}

/** One request ready to dispatch. */
export interface Job {
  /** The request's index in the run's global request list (its dispatch order, from 0). */
  index: number;
  /** The body object (kept for the result DB). */
  body: RequestBody;
  /** URL, headers and serialised body. */
  prepared: PreparedRequest;
  /** `--multi-turn`: the conversation (its first turn's body is `body`). */
  conversation?: ConversationOrder;
  /** Trace replay: when to send it, ms after the run's start (the dataset's own time). */
  atMs?: number;
  /** A warmup request (`--warmup-num`): sent before the benchmark, in no statistic or DB. */
  warmup?: true;
  /**
   * A trace's request with headers of its own: the whole header set it is sent with (the run's,
   * overridden by its own of the same name). Absent: the run's (`prepared.headers`).
   */
  headers?: Record<string, string>;
  /** The dataset's own id of the request (a trace record's `request_id`), when it has one. */
  requestId?: string;
}

/** Where prompts come from: a dataset plugin, or one fixed message list. */
export type PromptSource =
  | { kind: "dataset"; name: string; plugin: DatasetPluginLike }
  | { kind: "prompt"; messages: Message[] };

/** Total text length of a message list (text content only). */
export function promptLength(messages: Message[]): number {
  let n = 0;
  for (const m of messages) {
    if (typeof m.content === "string") n += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content as Array<{ type?: string; text?: unknown }>) {
        if (part?.type === "text" && typeof part.text === "string") n += part.text.length;
      }
    }
  }
  return n;
}

/** Headers sent on every request: JSON content type, user agent, plugin's, user's, API key. */
export function requestHeaders(cfg: PerfConfig, api: ApiPluginLike): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": `llmperf/${VERSION}`,
    ...api.requestHeaders?.(cfg),
  };
  for (const [k, v] of Object.entries(cfg.headers)) h[k.toLowerCase()] = v;
  if (cfg.apiKey) h["authorization"] = `Bearer ${cfg.apiKey}`;
  return h;
}

/**
 * `base` with `own` over it, header names compared case-insensitively (an own header replaces
 * the run's of the same name, whatever its case); own names are sent lower-cased.
 *
 * @example
 * ```ts
 * withHeaders({ "x-a": "1", Authorization: "Bearer k" }, { authorization: "Bearer t" });
 * // { "x-a": "1", authorization: "Bearer t" }
 * ```
 */
export function withHeaders(
  base: Record<string, string>,
  own: Record<string, string>,
): Record<string, string> {
  const out = { ...base };
  for (const [name, value] of Object.entries(own)) {
    const lower = name.toLowerCase();
    for (const k in out) if (k.toLowerCase() === lower) delete out[k];
    out[lower] = value;
  }
  return out;
}

/**
 * A dataset's failure as one line naming it: a usage error, unless the cause was outside the
 * command line (a {@link RunError}, such as an unreachable dataset hub), which stays one.
 */
function datasetError(name: string, e: unknown): Error {
  const message = `--dataset '${name}': ${errorMessage(e)}`;
  return e instanceof RunError ? new RunError(message) : new UsageError(message);
}

/** The body keys that hold the prompt: a whole body's own are never joined by built ones. */
const PROMPT_KEYS = ["messages", "prompt", "input"];

function isDatasetRequest(x: unknown): x is DatasetRequest {
  if (x === null || typeof x !== "object") return false;
  const r = x as DatasetRequest;
  const obj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  return (Array.isArray(r.messages) || obj(r.body)) &&
    (r.fields === undefined || obj(r.fields)) &&
    (r.atMs === undefined || (typeof r.atMs === "number" && Number.isFinite(r.atMs))) &&
    (r.headers === undefined ||
      (obj(r.headers) && Object.values(r.headers).every((v) => typeof v === "string"))) &&
    (r.requestId === undefined || typeof r.requestId === "string");
}

/**
 * A `--max-tokens MIN MAX` draw for the request at `position` in the run's global list (warmup
 * first; `--multi-turn`: the list of turns): from a generator of its own, seeded by `seed` and
 * the position, so that it depends neither on what was drawn before it, nor on `--workers`, nor
 * on the shard (every shard walks the global list).
 *
 * @example
 * ```ts
 * const n = maxTokensDraw([10, 20], 42, 7); // the same 10..20 on every run with --seed 42
 * ```
 */
export function maxTokensDraw(
  range: readonly [number, number],
  seed: number,
  position: number,
): number {
  return drawIntRange(range, seededRandom(hash32(`request ${position}`, seed)));
}

/** Pulls prompts and yields {@link Job}s; `next()` is called by one caller at a time. */
export class RequestSource {
  #cfg: PerfConfig;
  #api: ApiPluginLike;
  #prompts: PromptSource;
  #log: (line: string) => void;
  #measure: (messages: Message[]) => number;
  #url: string;
  #headers: Record<string, string>;
  #limit: number; // requests to dispatch; Infinity = one pass over the dataset
  #onePass: boolean;
  #iter: AnyIterator<unknown> | undefined;
  #accepts: readonly PromptKind[];
  #checked = new Set<PromptKind>();
  #passYield = 0; // usable prompts in the current pass
  #passes = 0;
  #shard: Shard | undefined;
  /**
   * Warmup requests, the first of the global list (`--warmup-num`): on top of `--number`, or, for
   * a trace (`timed`), its own first records.
   */
  readonly warmup: number;
  /** Global requests passed so far (with `--shard`, the other shards' ones too). */
  dispatched = 0;
  /** Prompts dropped by the length filter (first pass). */
  filtered = 0;
  /** Builds bodies with `--query-template` / `--extra-args` applied (default: the plugin alone). */
  bodyBuilder?: BodyBuilder;
  /**
   * Receives the credentials in a trace request's own headers (each value once, before the
   * request is sent), so that they are kept out of files and logs as the run's are.
   */
  onSecrets?: (values: string[]) => void;
  #secretSeen = new Set<string>();
  #scanned = false;
  #turnIndex = 0; // request index of the next conversation's first turn
  #turnPosition = 0; // the next first turn's place in the global list of turns (warmup's first)

  /**
   * @param cfg the run's configuration
   * @param api the API plugin that builds bodies
   * @param prompts the dataset plugin or the fixed prompt
   * @param log receives one-line notices (cycling the dataset)
   * @param measure a prompt's length for `--min/--max-prompt-length`: tokens with a tokenizer
   *   (used only when a bound is set; the default filter needs no tokenizing); default characters
   */
  constructor(
    cfg: PerfConfig,
    api: ApiPluginLike,
    prompts: PromptSource,
    log: (line: string) => void,
    measure?: (messages: Message[]) => number,
  ) {
    this.#cfg = cfg;
    this.#api = api;
    this.#prompts = prompts;
    this.#log = log;
    const bounded = cfg.minPromptLength > 0 || cfg.maxPromptLength < Number.MAX_SAFE_INTEGER;
    this.#measure = measure && bounded ? measure : promptLength;
    this.urls = (cfg.urls ?? [cfg.url]).map((u) => api.requestUrl?.(u, cfg) ?? u);
    this.#url = this.urls[0];
    this.#headers = requestHeaders(cfg, api);
    this.#onePass = prompts.kind === "dataset" &&
      (cfg.number === undefined || prompts.plugin.timed === true);
    const warmup = warmupCount(cfg.warmupNum ?? 0, cfg.number);
    const number = cfg.number ?? (prompts.kind === "prompt" ? 1 : Infinity);
    // A trace's warmup is its own first records, within --number (evalscope's workload_trace);
    // other datasets send theirs on top of --number.
    const carved = prompts.kind === "dataset" && prompts.plugin.timed === true;
    this.warmup = carved ? Math.min(warmup, number) : warmup;
    this.#limit = carved ? number : number + warmup;
    this.#shard = cfg.shard;
    this.#accepts = api.accepts ?? ["messages"];
  }

  /**
   * Every endpoint's URL, as the API plugin's `requestUrl` makes it, in `--url` order: the
   * first is every job's `prepared.url`; the sending threads pick among them (`--url-strategy`).
   */
  readonly urls: readonly string[];

  /**
   * The number of benchmark requests the run (this shard) will send, when known in advance
   * (warmup not included).
   */
  get expected(): number | undefined {
    return Number.isFinite(this.#limit)
      ? shardCount(this.#limit - this.warmup, this.#shard)
      : undefined;
  }

  /** Whether the dataset is a trace whose requests say when they go (`timed`). */
  get timed(): boolean {
    return this.#prompts.kind === "dataset" && this.#prompts.plugin.timed === true;
  }

  /** The next job, or `undefined` when the run has dispatched all it should. */
  async next(): Promise<Job | undefined> {
    if (this.#cfg.multiTurn) return await this.#nextConversation();
    if (!this.#scanned) await this.#scanHeaders();
    for (;;) {
      if (this.dispatched >= this.#limit) return undefined;
      const item = await this.#nextMessages();
      if (item === undefined) return undefined;
      const request = isDatasetRequest(item) ? item : undefined;
      const body = request ? await this.#buildItem(request) : await this.#build(item as Prompt);
      if (body == null) continue;
      const global = this.dispatched++;
      if (!inShard(global, this.#shard)) continue; // another shard's request
      const stream = this.#api.isStreaming?.(body, this.#cfg) ?? body.stream === true;
      const warmup = global < this.warmup;
      // Benchmark requests are numbered from 0 after the warmup ones.
      const job: Job = {
        index: warmup ? global : global - this.warmup,
        body,
        prepared: { url: this.#url, headers: this.#headers, body: JSON.stringify(body), stream },
        atMs: request?.atMs,
      };
      if (warmup) job.warmup = true;
      if (request?.headers !== undefined) job.headers = this.#ownHeaders(request.headers);
      if (request?.requestId !== undefined) job.requestId = request.requestId;
      return job;
    }
  }

  /** A dataset's own request headers, all read once ahead for their credentials. */
  async #scanHeaders(): Promise<void> {
    this.#scanned = true;
    const p = this.#prompts;
    if (p.kind !== "dataset" || typeof p.plugin.requestHeaders !== "function") return;
    let sets;
    try {
      sets = await p.plugin.requestHeaders();
    } catch (e) {
      throw datasetError(p.name, e);
    }
    for await (const h of sets) this.#checkHeaders(h);
  }

  /** The header set of a request with headers of its own: checked, its credentials reported. */
  #ownHeaders(own: Record<string, string>): Record<string, string> {
    this.#checkHeaders(own);
    return withHeaders(this.#headers, own);
  }

  /** Refuse headers that cannot be sent; report the credentials not reported yet. */
  #checkHeaders(own: Record<string, string>): void {
    const secrets: string[] = [];
    for (const [name, value] of Object.entries(own)) {
      const problem = headerProblem(name, value);
      if (problem !== undefined) {
        throw new UsageError(`--dataset '${this.#datasetName}': a request's headers: ${problem}`);
      }
      if (isSecretHeader(name) && !this.#secretSeen.has(value)) {
        this.#secretSeen.add(value);
        secrets.push(...headerSecrets(value));
      }
    }
    if (secrets.length > 0) this.onSecrets?.(secrets);
  }

  get #datasetName(): string {
    return this.#prompts.kind === "dataset" ? this.#prompts.name : "--prompt";
  }

  async #nextConversation(): Promise<Job | undefined> {
    const p = this.#prompts;
    if (p.kind === "prompt") {
      throw new UsageError("--multi-turn needs a dataset of conversations, not --prompt");
    }
    for (;;) {
      if (this.dispatched >= this.#limit) return undefined;
      let turns = await this.#nextTurns(p);
      if (turns === undefined) return undefined;
      const max = this.#cfg.maxTurns;
      if (max !== undefined && turns.length > max) turns = turns.slice(0, max);
      const body = await this.#build(turns[0].messages);
      if (body == null) continue;
      if (!Array.isArray(body.messages)) {
        throw new UsageError(
          `--multi-turn: --api '${this.#cfg.api}' builds bodies without a 'messages' list; ` +
            "conversations need a chat API (openai)",
        );
      }
      const global = this.dispatched++;
      // --warmup-num: the first conversations; the benchmark's are numbered from 0 after them.
      const warmup = global < this.warmup;
      if (global === this.warmup) this.#turnIndex = 0;
      const id = warmup ? global : global - this.warmup;
      const firstIndex = this.#turnIndex;
      const position = this.#turnPosition;
      this.#turnIndex += turns.length;
      this.#turnPosition += turns.length;
      if (!inShard(global, this.#shard)) continue; // another shard's conversation
      // --max-tokens MIN MAX: each turn its own draw, as each of evalscope's turn bodies (a turn's
      // own max_tokens, from the dataset, is kept).
      const range = this.#cfg.maxTokens;
      if (Array.isArray(range)) {
        const seed = this.#cfg.seed ?? 42;
        turns = turns.map((t, k) =>
          t.maxTokens !== undefined
            ? t
            : { ...t, maxTokens: maxTokensDraw(range, seed, position + k) }
        );
      }
      if (this.#cfg.rate !== -1) {
        turns = pacedTurns(turns, this.#cfg.rate, this.#cfg.seed ?? 42, global);
      }
      const text = JSON.stringify(body);
      const stream = this.#api.isStreaming?.(body, this.#cfg) ?? body.stream === true;
      const job: Job = {
        index: firstIndex,
        body,
        prepared: { url: this.#url, headers: this.#headers, body: text, stream },
        conversation: { id, firstIndex, base: text, turns },
      };
      if (warmup) job.warmup = true;
      return job;
    }
  }

  /** The next non-empty conversation, the dataset read again when `--number` wants more. */
  async #nextTurns(p: { name: string; plugin: DatasetPluginLike }): Promise<Turn[] | undefined> {
    for (;;) {
      const turns = await this.#nextItem(
        () => this.#openConversations(p),
        "conversations",
        () => `--dataset '${p.name}': no conversations`,
      );
      if (turns === undefined) return undefined;
      if (!Array.isArray(turns) || turns.some((t) => !Array.isArray(t?.messages))) {
        throw new UsageError(
          `--dataset '${p.name}': buildConversations must yield lists of turns ({messages})`,
        );
      }
      const kept = turns.filter((t) => t.messages.length > 0);
      if (kept.length === 0) continue; // an empty conversation does not count
      this.#passYield++;
      return kept;
    }
  }

  #openConversations(p: { name: string; plugin: DatasetPluginLike }): AnyIterator<Turn[]> {
    const plugin = p.plugin;
    if (typeof plugin.buildConversations !== "function") {
      const lists = this.#open(p);
      return {
        async next(): Promise<IteratorResult<Turn[]>> {
          const r = await lists.next();
          if (r.done) return r;
          if (!Array.isArray(r.value)) {
            throw new UsageError(
              `--dataset '${p.name}': --multi-turn needs message lists or buildConversations, ` +
                "not request items ({messages} / {body})",
            );
          }
          return { done: false, value: splitTurns(r.value) };
        },
      };
    }
    return iteratorOf(p.name, "buildConversations", () => plugin.buildConversations!());
  }

  /**
   * The body of a {@link DatasetRequest}: its messages built as any prompt's, or its whole body
   * with the run's settings filling only the keys it lacks (the prompt's keys never: a body
   * with `prompt` gets no `messages`); then its `fields` over it.
   */
  async #buildItem(item: DatasetRequest): Promise<RequestBody | null | undefined> {
    let body: RequestBody | null | undefined;
    if (item.body !== undefined) {
      const given = item.body;
      const messages = Array.isArray(given.messages) ? given.messages as Message[] : [];
      const built = await this.#build(messages);
      if (built == null) return built;
      body = { ...given };
      const hasPrompt = PROMPT_KEYS.some((k) => k in given);
      for (const [k, v] of Object.entries(built)) {
        if (!(k in body) && !(hasPrompt && PROMPT_KEYS.includes(k))) body[k] = v;
      }
    } else {
      body = await this.#build(item.messages ?? []);
    }
    return body == null || item.fields === undefined ? body : { ...body, ...item.fields };
  }

  async #build(messages: Prompt): Promise<RequestBody | null | undefined> {
    // A plugin whose `accepts` lists an item kind receives such items in place of messages.
    const m = messages as Message[];
    try {
      const params = this.#params();
      return await (this.bodyBuilder
        ? this.bodyBuilder(m, params)
        : this.#api.buildRequest(m, params));
    } catch (e) {
      throw new UsageError(`--api '${this.#cfg.api}': buildRequest failed: ${errorMessage(e)}`);
    }
  }

  /**
   * The settings the next body is built with: a `--max-tokens MIN MAX` range drawn for the
   * request that body becomes (its global index), from `--seed` (42 when unset).
   */
  #params(): PerfConfig {
    const range = this.#cfg.maxTokens;
    if (!Array.isArray(range)) return this.#cfg;
    return { ...this.#cfg, maxTokens: maxTokensDraw(range, this.#cfg.seed ?? 42, this.dispatched) };
  }

  /** Refuse, once per kind, a prompt kind the API plugin does not take. */
  #check(p: Prompt, dataset: string): void {
    const kind = promptKind(p);
    if (this.#checked.has(kind)) return;
    if (!this.#accepts.includes(kind)) {
      throw new UsageError(
        `--dataset '${dataset}' yields ${KIND_NAMES[kind]}, which --api '${this.#cfg.api}' ` +
          `does not take (it takes ${this.#accepts.map((k) => KIND_NAMES[k]).join(", ")})`,
      );
    }
    this.#checked.add(kind);
  }

  async #nextMessages(): Promise<DatasetItem | undefined> {
    const p = this.#prompts;
    if (p.kind === "prompt") return p.messages;
    for (;;) {
      const messages = await this.#nextItem(
        () => this.#open(p),
        "usable prompts",
        () =>
          `--dataset '${p.name}': no prompts` +
          (this.filtered > 0
            ? ` (all ${this.filtered} were outside --min/--max-prompt-length)`
            : ""),
      );
      if (messages === undefined) return undefined;
      if (!Array.isArray(messages) && !isPromptItem(messages)) {
        if (!isDatasetRequest(messages)) {
          throw new UsageError(
            `--dataset '${p.name}': buildMessages must yield message lists (or prompt items, or ` +
              "{messages} / {body} items)",
          );
        }
        this.#passYield++;
        return messages; // a trace's request: sent as the trace has it, never length-filtered
      }
      this.#check(messages as Prompt, p.name);
      // Items other than message lists are the dataset's to filter (texts to embed, say).
      if (p.plugin.lengthFiltered === true || !Array.isArray(messages)) {
        this.#passYield++;
        return messages;
      }
      let len: number;
      try {
        len = this.#measure(messages);
      } catch (e) {
        throw new UsageError(`--dataset '${p.name}': cannot measure a prompt: ${errorMessage(e)}`);
      }
      if (outOfBounds(len, this.#cfg)) {
        if (this.#passes === 1) this.filtered++;
        continue;
      }
      this.#passYield++;
      return messages;
    }
  }

  #open(p: { name: string; plugin: DatasetPluginLike }): AnyIterator<DatasetItem> {
    return iteratorOf(p.name, "buildMessages", () => p.plugin.buildMessages());
  }

  /**
   * The next item of the dataset's current pass, a new pass opened when one ends (said once in
   * the log, `noun` naming what it holds): undefined when the run wants one pass and it ended.
   * The caller counts the usable items of a pass in `#passYield`; a pass with none is `none()`.
   */
  async #nextItem<T>(
    open: () => AnyIterator<T>,
    noun: string,
    none: () => string,
  ): Promise<T | undefined> {
    const name = (this.#prompts as { name: string }).name;
    for (;;) {
      if (this.#iter === undefined) {
        if (this.#passes > 0) {
          if (this.#onePass) return undefined;
          if (this.#passYield === 0) throw new UsageError(none());
          if (this.#passes === 1) {
            this.#log(
              `dataset '${name}' has ${this.#passYield} ${noun}, fewer than ` +
                `--number ${this.#limit}: cycling through it again`,
            );
          }
        }
        this.#iter = open();
        this.#passes++;
        this.#passYield = 0;
      }
      let r: IteratorResult<unknown>;
      try {
        r = await this.#iter.next();
      } catch (e) {
        throw datasetError(name, e);
      }
      if (!r.done) return r.value as T;
      this.#iter = undefined;
    }
  }
}

/**
 * `turns` with `--rate`'s gap added to each turn's delay: an exponential gap of mean `1/rate` s,
 * drawn from `seed` and conversation `id` alone (the same on every shard and worker).
 *
 * @example
 * ```ts
 * pacedTurns([{ messages: [] }], 10, 42, 0)[0].delayMs; // about 100 on average
 * ```
 */
export function pacedTurns(turns: Turn[], rate: number, seed: number, id: number): Turn[] {
  const random = seededRandom((seed ^ Math.imul(id + 1, 0x9e3779b9)) >>> 0);
  return turns.map((t) => ({ ...t, delayMs: (t.delayMs ?? 0) + exponential(random, rate) * 1000 }));
}

/** A sync or async iterator. */
type AnyIterator<T> = AsyncIterator<T> | Iterator<T>;

/** The iterator of what a dataset's `method` returns; a usage error naming it when not iterable. */
function iteratorOf<T>(name: string, method: string, call: () => unknown): AnyIterator<T> {
  let it: unknown;
  try {
    it = call();
  } catch (e) {
    throw datasetError(name, e);
  }
  const o = it as Partial<AsyncIterable<T> & Iterable<T>> | null | undefined;
  if (o && typeof o[Symbol.asyncIterator] === "function") return o[Symbol.asyncIterator]!();
  if (o && typeof o[Symbol.iterator] === "function") return o[Symbol.iterator]!();
  throw new UsageError(`--dataset '${name}': ${method} must return an iterable`);
}

/**
 * Whether a prompt of `len` is dropped by `--min-prompt-length` / `--max-prompt-length`: strict
 * bounds as evalscope had them in 2024 (kept when `min < len < max`), inclusive with
 * `--compat 2026` (kept when `min <= len <= max`, `plugin/datasets/base.py:355`).
 */
export function outOfBounds(
  len: number,
  cfg: Pick<PerfConfig, "minPromptLength" | "maxPromptLength" | "compat">,
): boolean {
  if (cfg.compat === "2026") return len < cfg.minPromptLength || len > cfg.maxPromptLength;
  return len <= cfg.minPromptLength || len >= cfg.maxPromptLength;
}

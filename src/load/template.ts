/**
 * `--query-template` and `--extra-args`: how a request body is put together from the API plugin,
 * a JSON template and extra fields, as `evalscope perf` does it.
 *
 * - The template is JSON text or `@path` of a JSON file, one JSON object.
 * - In every string value, `%m` becomes the model and `%p` the prompt (the text of the last user
 *   message).
 * - The dataset's messages replace the template's `messages` (or `input.messages`, DashScope's
 *   place for them).
 * - Precedence, lowest first: defaults of flags that were not given (`--max-tokens 2048`,
 *   `--seed 42`), then the template's fields, then what the API plugin builds from the flags that
 *   were given (the model, the messages, `--temperature`...), then `--extra-args`. Plain objects
 *   are merged key by key at every depth (`{"parameters": {...}}` keeps the plugin's parameters
 *   next to the template's); any other value replaces the one below it.
 * - `"stream": true` or `false` in the template switches streaming, unless `--stream` was given.
 *
 * @module
 */
import { readTextFileLimited } from "../util/text_file.ts";
import { BODY_KEYS, type PerfConfig } from "../config.ts";
import { isJsonObject, jsonKind, type JsonObject, parseJsonObject } from "../config/json_object.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { ApiPluginLike, Message, PromptItem, RequestBody } from "../plugins/types.ts";

export type { JsonObject } from "../config/json_object.ts";

/** Read `--query-template`: JSON text, `@path` of a JSON file, or (from the library) an object. */
export async function loadQueryTemplate(spec: string | JsonObject): Promise<JsonObject> {
  if (typeof spec !== "string") {
    if (!isJsonObject(spec)) {
      throw new UsageError(`--query-template: must be a JSON object, got ${jsonKind(spec)}`);
    }
    return spec;
  }
  if (!spec.startsWith("@")) return parseJsonObject("--query-template", spec);
  const path = spec.slice(1);
  let text: string;
  try {
    text = await readTextFileLimited(path);
  } catch (e) {
    throw new UsageError(`--query-template '@${path}': cannot read the file (${errorMessage(e)})`);
  }
  return parseJsonObject(`--query-template '@${path}'`, text);
}

/**
 * The config with the template's `stream` applied: it switches streaming unless the `stream` key
 * was given (`given` holds the camelCase keys the user set). A new config when it changes
 * anything; `cfg` itself is never changed.
 */
export function withTemplateStream(
  cfg: PerfConfig,
  template: JsonObject | undefined,
  given: ReadonlySet<string>,
): PerfConfig {
  if (template === undefined || given.has("stream")) return cfg;
  const stream = template.stream;
  return typeof stream === "boolean" && stream !== cfg.stream ? { ...cfg, stream } : cfg;
}

/** The text `%p` stands for: the last user message's text (the last message's, if no user's). */
export function promptOf(messages: Message[]): string {
  if (!Array.isArray(messages)) return promptItemText(messages);
  const m = messages.findLast((x) => x.role === "user") ?? messages[messages.length - 1];
  if (m === undefined) return "";
  if (typeof m.content === "string") return m.content;
  let text = "";
  for (const part of m.content as Array<{ type?: string; text?: unknown }>) {
    if (part?.type === "text" && typeof part.text === "string") text += part.text;
  }
  return text;
}

/** `%p` of a prompt item: the texts to embed (joined by newlines), or the rerank query. */
function promptItemText(item: PromptItem): string {
  if (item.kind === "texts") return item.texts.join("\n");
  if (item.kind === "rerank") return item.query;
  return "";
}

/** A deep copy of a JSON value with `%m` and `%p` replaced in every string. */
export function substitute(value: unknown, model: string, prompt: string): unknown {
  if (typeof value === "string") {
    return value.includes("%")
      ? value.replace(/%[mp]/g, (s) => (s === "%m" ? model : prompt))
      : value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, model, prompt));
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, model, prompt);
    return out;
  }
  return value;
}

/** The template for one request: `%m`/`%p` substituted, the messages in the template's place. */
export function fillTemplate(template: JsonObject, model: string, messages: Message[]): JsonObject {
  const out = substitute(template, model, promptOf(messages)) as JsonObject;
  if (!Array.isArray(messages)) return out; // a prompt item: the plugin puts it in the body
  if (Array.isArray(out.messages)) out.messages = messages;
  if (isJsonObject(out.input) && Array.isArray(out.input.messages)) out.input.messages = messages;
  return out;
}

/** `over` merged onto a copy of `base`: plain objects key by key, other values replaced. */
export function mergeBodies(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isJsonObject(v) && isJsonObject(b) ? mergeBodies(b, v) : v;
  }
  return out;
}

/** The config with the body flags that were not given unset (so their defaults drop out). */
export function givenOnly(cfg: PerfConfig, given: ReadonlySet<string>): PerfConfig {
  const out: Record<string, unknown> = { ...cfg };
  let changed = false;
  for (const k of BODY_KEYS) {
    if (!given.has(k) && out[k] !== undefined) {
      out[k] = undefined;
      changed = true;
    }
  }
  return changed ? out as unknown as PerfConfig : cfg;
}

/** What shapes every body besides the API plugin. */
export interface BodyLayers {
  /** The parsed `--query-template`. */
  template?: JsonObject;
  /** The parsed `--extra-args`. */
  extraArgs?: JsonObject;
  /** The camelCase config keys the user gave. */
  given: ReadonlySet<string>;
}

/** Builds the body of one request, for a run with `params`. */
export type BodyBuilder = (
  messages: Message[],
  params: PerfConfig,
) => Promise<RequestBody | null | undefined>;

/**
 * The body builder for a run: the plugin's body with the template and extra args applied, in
 * the order the module documentation gives. `undefined` when there is neither (the plugin's body
 * is used as it is).
 */
export function bodyBuilder(api: ApiPluginLike, layers: BodyLayers): BodyBuilder | undefined {
  const { template, extraArgs } = layers;
  if (template === undefined && extraArgs === undefined) return undefined;
  let last: [PerfConfig, PerfConfig] | undefined; // params and their given-only copy
  return async (messages, params) => {
    const full = await api.buildRequest(messages, params);
    if (full == null) return full;
    let body: JsonObject = full;
    if (template !== undefined) {
      if (last?.[0] !== params) last = [params, givenOnly(params, layers.given)];
      const givenParams = last[1];
      const given = givenParams === params ? full : await api.buildRequest(messages, givenParams);
      body = mergeBodies(
        mergeBodies(full, fillTemplate(template, params.model, messages)),
        given ?? {},
      );
    }
    return extraArgs === undefined ? body : mergeBodies(body, extraArgs);
  };
}

/**
 * Built-in API plugins `openai_embedding` (also `embedding`) and `openai_rerank` (also
 * `rerank`): OpenAI-style embeddings (`POST /v1/embeddings`) and the rerank endpoint vLLM, TEI,
 * Jina and Cohere serve (`POST /v1/rerank`). Neither streams nor generates tokens: what they
 * measure is latency and input tokens, and the summary says so (its input-throughput rows, see
 * `docs/metrics.md`). Written as a user's plugin would be: they import only the public plugin
 * module.
 *
 * - Embeddings: the body is `{"input": text | [texts], "model"}` (and `--extra-args`), from
 *   the `embedding`, `embedding_batch` and `random_embedding` datasets' texts, or from a chat
 *   dataset's messages (their text contents joined by newlines, one input).
 * - Rerank: `{"query", "documents", "model"}` from the `rerank` and `random_rerank` datasets.
 * - Token counts: the reply's `usage.prompt_tokens`, else `usage.total_tokens` (what rerank
 *   servers report); without usage, an estimate from the texts sent (`estimateTokens`; counted
 *   exactly with `--tokenizer-path`). Completion tokens are 0.
 * - The latency runs to the reply's last byte (evalscope stops its clock when the headers
 *   arrive, before a body of vectors is read: `docs/metrics.md` says why llmperf does not).
 *
 * @module
 */
import {
  ApiPlugin,
  estimateTokens,
  type Message,
  type PluginParams,
  type Prompt,
  type PromptKind,
  type RequestBody,
  type TokenCounts,
} from "../../plugin.ts";
import { promptText } from "./openai.ts";
import { parseJsonObject } from "./openai_responses.ts";

/** The texts a request sent, for an estimate when the reply has no usage. */
function sentTexts(request: RequestBody | undefined): string[] {
  if (request === undefined) return [];
  const input = request.input;
  if (typeof input === "string") return [input];
  if (Array.isArray(input)) return input.filter((x): x is string => typeof x === "string");
  const out: string[] = [];
  const docs = Array.isArray(request.documents) ? request.documents : [];
  for (const d of docs) {
    const text = typeof d === "string" ? d : (d as { text?: unknown })?.text;
    // A cross-encoder reads the query with every document.
    if (typeof text === "string") out.push(String(request.query ?? ""), text);
  }
  return out;
}

/** Counts from an input-only reply: usage, else an estimate of the texts sent. */
export function inputCounts(
  responses: string[],
  request: RequestBody | undefined,
  field: "data" | "results",
): TokenCounts {
  const js = parseJsonObject(responses[responses.length - 1]);
  if (js === undefined) throw new Error("the reply is not a JSON object");
  const list = js[field] ?? (field === "results" ? js.data : undefined);
  if (!Array.isArray(list)) throw new Error(`the reply has no '${field}' list`);
  const u = js.usage as { prompt_tokens?: unknown; total_tokens?: unknown } | undefined;
  const n = typeof u?.prompt_tokens === "number"
    ? u.prompt_tokens
    : typeof u?.total_tokens === "number"
    ? u.total_tokens
    : undefined;
  if (n !== undefined) return { promptTokens: n, completionTokens: 0, source: "usage" };
  const estimate = sentTexts(request).reduce((s, t) => s + estimateTokens(t), 0);
  return { promptTokens: estimate, completionTokens: 0, source: "text-length" };
}

/** What embeddings and rerank share: never streamed, probed as they are, errors in the body. */
abstract class InputOnlyApi extends ApiPlugin {
  /** Never streamed. */
  isStreaming(): boolean {
    return false;
  }

  /** The start-up check: the first request as it is (it generates nothing). */
  probeBody(body: RequestBody): RequestBody {
    return { ...body };
  }

  /** An `{"error": ...}` body (or vLLM's `{"object": "error", "message"}`). */
  errorInPayload(payload: string): string | undefined {
    return errorOf(payload);
  }

  /** Nothing is generated (so `--tokenizer-path` counts the input, and 0 output tokens). */
  generatedTexts(): string[] {
    return [""];
  }
}

/** OpenAI-style embeddings. */
export default class OpenAIEmbeddingApi extends InputOnlyApi {
  /** Texts to embed, chat messages (their text) and whole bodies. */
  readonly accepts: readonly PromptKind[] = ["texts", "messages", "body"];

  /** `{"input", "model"}`; a whole body gets only its missing `model`. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const p = messages as Prompt;
    if (Array.isArray(p)) return { input: promptText(p), model: params.model };
    if (p.kind === "texts") {
      return { input: p.texts.length === 1 ? p.texts[0] : p.texts, model: params.model };
    }
    if (p.kind === "body") return { model: params.model, ...p.body };
    throw new Error(`openai_embedding takes texts to embed, not ${p.kind}`);
  }

  /** `usage.prompt_tokens` (else `total_tokens`, else an estimate); 0 completion tokens. */
  parseResponses(responses: string[], request?: RequestBody): TokenCounts {
    return inputCounts(responses, request, "data");
  }
}

/** Rerank: a query and documents. */
export class OpenAIRerankApi extends InputOnlyApi {
  /** Rerank pairs and whole bodies. */
  readonly accepts: readonly PromptKind[] = ["rerank", "body"];

  /** `{"query", "documents", "model"}`; a whole body gets only its missing `model`. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const p = messages as Prompt;
    if (!Array.isArray(p) && p.kind === "rerank") {
      return { query: p.query, documents: p.documents, model: params.model };
    }
    if (!Array.isArray(p) && p.kind === "body") return { model: params.model, ...p.body };
    throw new Error("openai_rerank takes a query and documents (--dataset rerank, random_rerank)");
  }

  /** `usage.total_tokens` (else `prompt_tokens`, else an estimate); 0 completion tokens. */
  parseResponses(responses: string[], request?: RequestBody): TokenCounts {
    return inputCounts(responses, request, "results");
  }
}

function errorOf(payload: string): string | undefined {
  if (!payload.includes('"error"')) return undefined;
  const js = parseJsonObject(payload);
  if (js === undefined) return undefined;
  const e = js.object === "error" ? js.message ?? "error" : js.error;
  if (e === undefined || e === null) return undefined;
  if (typeof e === "string") return e;
  const m = (e as { message?: unknown }).message;
  return typeof m === "string" ? m : JSON.stringify(e);
}

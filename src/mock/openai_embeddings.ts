/**
 * The mock's embeddings (`/v1/embeddings`) and rerank (`/v1/rerank`, `/v1/reranks`, `/rerank`)
 * endpoints, as vLLM serves them. Neither streams nor generates: the reply is whole, sent at
 * `arrival + ttft` (the engine's timing for a reply of 0 tokens), and its usage counts the input
 * with the mock's own token count (`mockTokenCount`): embeddings, the sum over the inputs;
 * rerank, the sum over the documents of the query's tokens plus the document's (each pair is
 * one forward pass, as a cross-encoder reads it). Vectors and scores are deterministic.
 *
 * @module
 */
import { hash32 } from "../util/rng.ts";
import { mockTokenCount } from "./generator.ts";
import { asObject, type MockCall, type MockRefusal, type MockReply } from "./protocol_adapter.ts";

/** Dimensions of a mock embedding vector. */
export const EMBEDDING_DIMENSIONS = 8;

/** The texts of an embeddings `input`: a string, a list of strings (token ids count as text). */
function inputTexts(input: unknown): string[] | undefined {
  if (typeof input === "string") return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  const out: string[] = [];
  for (const x of input) {
    if (typeof x === "string") out.push(x);
    else if (Array.isArray(x)) out.push(" ".repeat(x.length * 4)); // token ids: one token each
    else if (typeof x === "number") return [" ".repeat(input.length * 4)];
    else return undefined;
  }
  return out;
}

function documentText(d: unknown): string | undefined {
  if (typeof d === "string") return d;
  const o = asObject(d);
  return typeof o?.text === "string" ? o.text : undefined;
}

/** Read an embeddings or rerank request. */
export function parseInputCall(route: string, body: unknown): MockCall | MockRefusal {
  const b = asObject(body);
  const model = typeof b?.model === "string" ? b.model : "mock";
  let texts: string[];
  let promptTokens: number;
  if (route === "embeddings") {
    const t = inputTexts(b?.input);
    if (t === undefined) {
      return { status: 400, message: "'input' must be a string or a list of strings" };
    }
    texts = t;
    promptTokens = t.reduce((n, s) => n + mockTokenCount(s), 0);
  } else {
    const query = b?.query;
    const docs = Array.isArray(b?.documents) ? b.documents.map(documentText) : undefined;
    if (typeof query !== "string" || docs === undefined || docs.some((d) => d === undefined)) {
      return {
        status: 400,
        message: "'query' (text) and 'documents' (a list of texts) are required",
      };
    }
    texts = [query, ...docs as string[]];
    const q = mockTokenCount(query);
    promptTokens = (docs as string[]).reduce((n, d) => n + q + mockTokenCount(d), 0);
  }
  return {
    prompt: texts.join("\n"),
    promptTokens,
    maxTokens: 0,
    n: 1,
    stream: false,
    usage: true,
    model,
    route,
    flags: { texts, topN: typeof b?.top_n === "number" ? b.top_n : undefined },
  };
}

function vector(text: string, seed: number): number[] {
  const v: number[] = [];
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) {
    v.push(Math.round(((hash32(text + i, seed) % 2000) / 1000 - 1) * 1e6) / 1e6);
  }
  return v;
}

/** The whole embeddings or rerank reply. */
export function inputFull(r: MockReply): unknown {
  const texts = r.call.flags.texts as string[];
  const usage = { prompt_tokens: r.promptTokens, total_tokens: r.promptTokens };
  if (r.call.route === "embeddings") {
    return {
      id: `embd-${r.id}`,
      object: "list",
      created: r.created,
      model: r.call.model,
      data: texts.map((t, index) => ({ index, object: "embedding", embedding: vector(t, 42) })),
      usage: r.usage ? usage : undefined,
    };
  }
  const [query, ...docs] = texts;
  const results = docs.map((text, index) => ({
    index,
    document: { text },
    relevance_score: (hash32(query + "\n" + text, 42) % 10000) / 10000,
  })).sort((a, b) => b.relevance_score - a.relevance_score);
  const topN = r.call.flags.topN as number | undefined;
  return {
    id: `rerank-${r.id}`,
    model: r.call.model,
    usage: r.usage ? { total_tokens: r.promptTokens } : undefined,
    results: topN !== undefined && topN > 0 ? results.slice(0, topN) : results,
  };
}

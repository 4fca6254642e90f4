/**
 * Built-in API plugin `custom`: a documented example to copy when your server speaks its own
 * protocol. It speaks the one evalscope's `custom` plugin targets, NVIDIA Triton Inference
 * Server's generate extension as TensorRT-LLM serves it:
 *
 * ```sh
 * llmperf perf --api custom --url http://host:8000/v2/models/ensemble/generate --model ensemble \
 *   --stream --dataset openqa
 * ```
 *
 * It shows every part of an API plugin:
 * - `buildRequest` turns a message list into the server's body (here `text_input`), copying the
 *   model flags the protocol knows;
 * - `requestUrl` (optional) picks the endpoint: Triton streams from `.../generate_stream` and
 *   answers whole from `.../generate`, so the URL follows `--stream`;
 * - `parseResponses` reads the raw payloads (each SSE `data:` event, or the one body) and returns
 *   token counts. Triton sends no usage, so a streamed reply counts one token per event that
 *   carried text (TensorRT-LLM streams one token per event) and marks those events as
 *   `contentChunks`, which TTFT and inter-token latency are measured on; a whole reply's tokens
 *   are estimated from its text length (`tokenCounts` does both, and labels the estimate);
 *   `--tokenizer-path` counts exactly;
 * - `errorInPayload` (optional) recognises an error sent inside a 200 response;
 * - `generatedTexts` (optional) returns the text, for tokenizer counts.
 *
 * To write your own, copy this file, change the body and the parsing, and run it with
 * `--api ./my_api.ts`; the import below is the only one it needs, and it may go: any object or
 * class with `buildRequest` and `parseResponses` is a plugin (see docs/plugins.md).
 *
 * @module
 */
import {
  ApiPlugin,
  bodyFields,
  declareErrorMarker,
  type Message,
  type PluginParams,
  type RequestBody,
  type TokenCounts,
  tokenCounts,
} from "../../plugin.ts";

/** One Triton generate payload. */
interface TritonPayload {
  text_output?: unknown;
  error?: unknown;
}

function parse(text: string): TritonPayload | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The prompt text of a message list: the contents joined by newlines. */
export function promptText(messages: Message[]): string {
  return messages.map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");
}

/** Triton (TensorRT-LLM) generate / generate_stream. */
export default class CustomApi extends ApiPlugin {
  /** `{text_input, max_tokens, stream, ...}`. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const body: RequestBody = {
      text_input: promptText(messages),
      bad_words: "",
      stop_words: "",
      // The model flags this protocol knows, under their usual names (see `bodyFields`)...
      ...bodyFields(params, ["max_tokens", "temperature", "top_p"]),
    };
    if (params.stream) body.stream = true;
    // ...and one it names its own way.
    if (params.seed !== undefined) body.random_seed = params.seed;
    return body;
  }

  /** `.../generate_stream` when streaming, `.../generate` otherwise. */
  requestUrl(url: string, params: PluginParams): string {
    const u = new URL(url);
    u.pathname = u.pathname.replace(/\/generate(_stream)?\/?$/, "") +
      (params.stream ? "/generate_stream" : "/generate");
    return u.href;
  }

  /**
   * No usage: one token per streamed event with text; for a whole reply, an estimate from the
   * text's length (`tokenCounts` with `text`: source `text-length`).
   */
  parseResponses(responses: string[], request: RequestBody): TokenCounts {
    const contentChunks: number[] = [];
    let text = "";
    responses.forEach((r, i) => {
      const t = parse(r)?.text_output;
      if (typeof t === "string" && t.length > 0) {
        contentChunks.push(i);
        text += t;
      }
    });
    return tokenCounts({
      contentChunks,
      text: request.stream === true ? undefined : { answer: text },
    });
  }

  /** `{"error": "..."}`. */
  errorInPayload(payload: string): string | undefined {
    if (!payload.includes('"error"')) return undefined;
    const e = parse(payload)?.error;
    if (e === undefined || e === null) return undefined;
    return typeof e === "string" ? e : JSON.stringify(e);
  }

  /** The generated text. */
  generatedTexts(responses: string[]): string[] {
    let text = "";
    for (const r of responses) {
      const t = parse(r)?.text_output;
      if (typeof t === "string") text += t;
    }
    return [text];
  }
}

// Every payload its errorInPayload flags holds "error": most responses are searched once, whole.
declareErrorMarker(CustomApi.prototype.errorInPayload, '"error"');

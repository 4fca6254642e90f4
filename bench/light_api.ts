/**
 * A deliberately cheap API plugin for the bench's scaling rows: OpenAI chat requests, and token
 * counts read from the `usage` of the last payload that has one, without parsing the others. It
 * shows what the transport workers can carry when the main thread's per-payload work is small;
 * the built-in `openai` plugin parses every payload (to find the ones that carry text), which is
 * the main thread's largest cost at high event rates. Used with `--api bench/light_api.ts`.
 *
 * @module
 */
import type { Message, PluginParams, RequestBody, TokenCounts } from "../plugin.ts";

export default {
  /** A chat request, streamed when asked. */
  buildRequest(messages: Message[], params: PluginParams): RequestBody {
    const body: RequestBody = { model: params.model, messages };
    if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
    if (params.stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    return body;
  },
  /** Counts from the last payload with `usage`; only that payload is parsed. */
  parseResponses(responses: string[]): TokenCounts {
    for (let i = responses.length - 1; i >= 0; i--) {
      if (!responses[i].includes('"usage"')) continue;
      const usage = JSON.parse(responses[i]).usage;
      if (usage) {
        return {
          promptTokens: usage.prompt_tokens ?? 0,
          completionTokens: usage.completion_tokens ?? 0,
          source: "usage",
        };
      }
    }
    return { promptTokens: 0, completionTokens: responses.length, source: "chunks" };
  },
};

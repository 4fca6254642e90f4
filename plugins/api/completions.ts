/**
 * Built-in API plugin `completions`: the OpenAI plain completions API (`prompt` in, `text`
 * out), whatever the URL's path. `openai` picks it by itself for URLs ending in `/completions`.
 *
 * @module
 */
import OpenAIApi from "./openai.ts";

/** OpenAI plain completions. */
export default class CompletionsApi extends OpenAIApi {
  /** Always plain completions. */
  override usesCompletions(): boolean {
    return true;
  }
}

/**
 * Built-in dataset `line_by_line`: each non-blank line of a text file, trimmed, is one request,
 * read as today's evalscope reads it:
 *
 * - a JSON array is a message list, sent as it is (`[{"role": "system", ...}, {"role": "user",
 *   ...}]`);
 * - a JSON object is a whole request body: sent as it is, the flags filling in only the fields it
 *   lacks (`model`, `max_tokens`, `stream`...), and left out of the `--min/--max-prompt-length`
 *   filter;
 * - any other line (including one that only looks like JSON) is the text of one user message.
 *
 * `--dataset-args` `target_input_len`, `input_len_mode`, `prefix_file`, `prefix_role` fit each
 * line's text to a length (`text_length.ts`); as in evalscope they take plain-text lines only, so
 * a file with a JSON message list or body line is refused with them (checked before the first
 * line is sent).
 *
 * @module
 */
import { DatasetPlugin, type Message, type Prompt, readLines } from "../../plugin.ts";
import { TEXT_DATASET_ARGS } from "./dataset_args.ts";
import { fitAll, fitsLength, textLength } from "./text_length.ts";

function isMessage(v: unknown): v is Message {
  return v !== null && typeof v === "object" && typeof (v as Message).role === "string";
}

/** What one trimmed, non-blank line is (see the module documentation). */
export function linePrompt(text: string): Prompt {
  const c = text[0];
  if (c === "[" || c === "{") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      v = undefined; // not JSON: a prompt that starts with a bracket
    }
    if (Array.isArray(v) && v.length > 0 && v.every(isMessage)) return v;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      return { kind: "body", body: v as Record<string, unknown> };
    }
  }
  return [{ role: "user", content: text }];
}

/** One request per line of a text file. */
export default class LineByLineDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = TEXT_DATASET_ARGS;
  /** With `target_input_len` the lines are fit to it, not filtered by length. */
  get lengthFiltered(): boolean {
    return fitsLength(this.params);
  }
  /** Yield one request per non-blank line. */
  async *buildMessages(): AsyncGenerator<Prompt> {
    const fit = await textLength(this.params, "line_by_line");
    if (fit === undefined) {
      for await (const p of this.#prompts()) yield p.prompt;
      return;
    }
    // Plain-text lines only: the whole file is checked before the first is yielded.
    let n = 0;
    for await (const p of this.#prompts()) {
      n++;
      if (!p.plain) {
        throw new Error(
          `non-blank line ${n} of ${this.params.datasetPath} is JSON (a message list or a ` +
            "request body): --dataset-args target_input_len takes plain-text lines only " +
            "(as evalscope's)",
        );
      }
    }
    yield* fitAll(fit, this.#texts());
  }

  async *#texts(): AsyncGenerator<Message[]> {
    for await (const p of this.#prompts()) yield p.prompt as Message[];
  }

  async *#prompts(): AsyncGenerator<{ prompt: Prompt; plain: boolean }> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("line_by_line needs --dataset-path (a text file, one prompt a line)");
    }
    for await (const line of readLines(path)) {
      const text = line.trim();
      if (!text) continue;
      const prompt = linePrompt(text);
      yield { prompt, plain: Array.isArray(prompt) && prompt[0].content === text };
    }
  }
}

/**
 * Built-in dataset `openqa`: a JSON Lines file whose items have a `question` field (the format
 * of `open_qa.jsonl` in ModelScope's HC3-Chinese). Each question, trimmed, is one user message.
 * Without `--dataset-path`, that file is downloaded once from the hub `--data-source` names
 * (ModelScope by default) and cached, as evalscope does. `--dataset-args` `target_input_len`,
 * `input_len_mode`, `prefix_file`, `prefix_role` fit each question to a length (`text_length.ts`).
 *
 * @module
 */
import { DatasetPlugin, hubDatasetFile, type Message, readJsonLines } from "../../plugin.ts";
import { TEXT_DATASET_ARGS } from "./dataset_args.ts";
import { fitAll, fitsLength, textLength } from "./text_length.ts";

/** The ModelScope dataset and file read when no `--dataset-path` is given. */
export const OPENQA_DEFAULT = { dataset: "AI-ModelScope/HC3-Chinese", file: "open_qa.jsonl" };

/** Questions from a JSON Lines file. */
export default class OpenQaDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = TEXT_DATASET_ARGS;
  /** With `target_input_len` the questions are fit to it, not filtered by length. */
  get lengthFiltered(): boolean {
    return fitsLength(this.params);
  }
  /** Yield one single-message prompt per item with a non-empty `question`. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    yield* fitAll(await textLength(this.params, "openqa"), this.#questions());
  }
  async *#questions(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath ??
      await hubDatasetFile(this.params.dataSource, OPENQA_DEFAULT.dataset, OPENQA_DEFAULT.file);
    for await (const item of readJsonLines(path)) {
      const q = (item as { question?: unknown })?.question;
      if (typeof q === "string" && q.trim()) yield [{ role: "user", content: q.trim() }];
    }
  }
}

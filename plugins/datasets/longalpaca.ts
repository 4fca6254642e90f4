/**
 * Built-in dataset `longalpaca`: a JSON array whose items have an `instruction` field (the format
 * of LongAlpaca-12k). The array is streamed element by element, never loaded whole. Without
 * `--dataset-path`, `LongAlpaca-12k.json` of `AI-ModelScope/LongAlpaca-12k` is downloaded once
 * from the hub `--data-source` names (ModelScope by default) and cached. `--dataset-args`
 * `target_input_len`, `input_len_mode`, `prefix_file`, `prefix_role` fit each instruction to a
 * length (`text_length.ts`).
 *
 * @module
 */
import { DatasetPlugin, hubDatasetFile, type Message, readJsonArray } from "../../plugin.ts";
import { TEXT_DATASET_ARGS } from "./dataset_args.ts";
import { fitAll, fitsLength, textLength } from "./text_length.ts";

/** The ModelScope dataset and file read when no `--dataset-path` is given. */
export const LONGALPACA_DEFAULT = {
  dataset: "AI-ModelScope/LongAlpaca-12k",
  file: "LongAlpaca-12k.json",
};

/** Long instructions from a JSON array file. */
export default class LongAlpacaDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = TEXT_DATASET_ARGS;
  /** With `target_input_len` the instructions are fit to it, not filtered by length. */
  get lengthFiltered(): boolean {
    return fitsLength(this.params);
  }
  /** Yield one single-message prompt per item with a non-empty `instruction`. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    yield* fitAll(await textLength(this.params, "longalpaca"), this.#instructions());
  }
  async *#instructions(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath ??
      await hubDatasetFile(
        this.params.dataSource,
        LONGALPACA_DEFAULT.dataset,
        LONGALPACA_DEFAULT.file,
      );
    for await (const item of readJsonArray(path)) {
      const text = (item as { instruction?: unknown })?.instruction;
      if (typeof text === "string" && text.trim()) yield [{ role: "user", content: text.trim() }];
    }
  }
}

/**
 * Built-in dataset `longalpaca`: a JSON array whose items have an `instruction` field (the
 * format of LongAlpaca-12k). The array is streamed element by element, never loaded whole.
 *
 * @module
 */
import { DatasetPlugin, type Message, readJsonArray } from "../../plugin.ts";

/** Long instructions from a JSON array file. */
export default class LongAlpacaDataset extends DatasetPlugin {
  /** Yield one single-message prompt per item with a non-empty `instruction`. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("longalpaca needs --dataset-path (a JSON array of {instruction})");
    }
    for await (const item of readJsonArray(path)) {
      const text = (item as { instruction?: unknown })?.instruction;
      if (typeof text === "string" && text.trim()) yield [{ role: "user", content: text.trim() }];
    }
  }
}

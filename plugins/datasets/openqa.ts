/**
 * Built-in dataset `openqa`: a JSON Lines file whose items have a `question` field (the format
 * of `open_qa.jsonl` in ModelScope's HC3-Chinese). Each question, trimmed, is one user message.
 *
 * @module
 */
import { DatasetPlugin, type Message, readJsonLines } from "../../plugin.ts";

/** Questions from a JSON Lines file. */
export default class OpenQaDataset extends DatasetPlugin {
  /** Yield one single-message prompt per item with a non-empty `question`. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) throw new Error("openqa needs --dataset-path (a JSON Lines file of {question})");
    for await (const item of readJsonLines(path)) {
      const q = (item as { question?: unknown })?.question;
      if (typeof q === "string" && q.trim()) yield [{ role: "user", content: q.trim() }];
    }
  }
}

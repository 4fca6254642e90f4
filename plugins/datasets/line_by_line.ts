/**
 * Built-in dataset `line_by_line`: each non-blank line of a text file, trimmed, is one prompt.
 *
 * @module
 */
import { DatasetPlugin, type Message, readLines } from "../../plugin.ts";

/** One prompt per line of a text file. */
export default class LineByLineDataset extends DatasetPlugin {
  /** Yield one single-message prompt per non-blank line. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error("line_by_line needs --dataset-path (a text file, one prompt a line)");
    }
    for await (const line of readLines(path)) {
      const text = line.trim();
      if (text) yield [{ role: "user", content: text }];
    }
  }
}

/**
 * Built-in datasets `share_gpt_zh_multi_turn` and `share_gpt_en_multi_turn` (`--multi-turn`):
 * ShareGPT conversations from a local JSON Lines file (`--dataset-path`; nothing is downloaded),
 * as evalscope reads swift/sharegpt's `common_zh_70k.jsonl` / `common_en_70k.jsonl`: one turn
 * per non-empty human message, the assistant text dropped (the server's replies take its place).
 * Both layouts are read: `{"conversation": [{"human", "assistant"}, ...]}` (swift) and
 * `{"conversations": [{"from": "human" | "gpt", "value"}, ...]}` (the original ShareGPT dumps).
 *
 * `--dataset-args` takes evalscope's `MultiTurnDatasetArgs` keys, which, as in evalscope, change
 * nothing here (the turns are the file's text): a log line says so (`multi_turn_args.ts`).
 *
 * @module
 */
import { DatasetPlugin, type Message, readJsonLines, type Turn } from "../../plugin.ts";
import { MULTI_TURN_DATASET_ARGS } from "./dataset_args.ts";
import { multiTurnArgs } from "./multi_turn_args.ts";

/** The human messages of one ShareGPT record, in order (empty ones left out). */
export function humanMessages(item: unknown): string[] {
  if (item === null || typeof item !== "object") return [];
  const o = item as { conversation?: unknown; conversations?: unknown };
  const out: string[] = [];
  if (Array.isArray(o.conversation)) {
    for (const t of o.conversation as Array<{ human?: unknown } | null>) {
      const h = t?.human;
      if (typeof h === "string" && h.trim() !== "") out.push(h);
    }
  } else if (Array.isArray(o.conversations)) {
    for (const t of o.conversations as Array<{ from?: unknown; value?: unknown } | null>) {
      const from = t?.from;
      const v = t?.value;
      if ((from === "human" || from === "user") && typeof v === "string" && v.trim() !== "") {
        out.push(v);
      }
    }
  }
  return out;
}

/** ShareGPT conversations, one turn per human message; see the module documentation. */
export default class ShareGptMultiTurnDataset extends DatasetPlugin {
  /** evalscope's `--dataset-args` keys of this dataset (`dataset_args.ts`). */
  readonly argsSchema = MULTI_TURN_DATASET_ARGS;
  #noted = false;
  async *#records(): AsyncGenerator<string[]> {
    if (!this.#noted) multiTurnArgs(this.params, this.params.dataset, false);
    this.#noted = true;
    const path = this.params.datasetPath;
    if (!path) {
      throw new Error(
        "share_gpt_*_multi_turn needs --dataset-path: a local ShareGPT JSON Lines file " +
          "(common_zh_70k.jsonl / common_en_70k.jsonl)",
      );
    }
    for await (const item of readJsonLines(path)) {
      const humans = humanMessages(item);
      if (humans.length > 0) yield humans;
    }
  }

  /** `--multi-turn`: one turn per human message. */
  async *buildConversations(): AsyncGenerator<Turn[]> {
    for await (const humans of this.#records()) {
      yield humans.map((content) => ({ messages: [{ role: "user", content }] }));
    }
  }

  /** Without `--multi-turn`: the first human message of each record. */
  async *buildMessages(): AsyncGenerator<Message[]> {
    for await (const humans of this.#records()) yield [{ role: "user", content: humans[0] }];
  }
}

/**
 * The worker of {@link makeOnWorkers} (`parallel_items.ts`): loads the run's tokenizer itself
 * (when the run has one), imports the plugin module, calls the named export with the run's
 * parameters to get a maker of item `i`, makes its share of the indices and sends them back.
 *
 * Message in: one {@link ItemsWorkerIn}. Message out: one {@link ItemsWorkerOut}.
 *
 * @module
 */
import { loadTokenizer } from "../tokenizer/load.ts";
import type { PluginParams } from "./types.ts";

/** What the worker is asked to make: items `first, first + step, …` below `end`. */
export interface ItemsWorkerIn {
  /** URL of the module to import. */
  module: string;
  /** Its export: `(params) => (index) => item` (the maker may be returned through a promise). */
  name: string;
  /** The run's parameters, without the tokenizer and the log. */
  params: Record<string, unknown>;
  /** The tokenizer to load (`--tokenizer-path` and whether the chat template is used). */
  tokenizer?: { dir: string; applyChatTemplate: boolean };
  /** The first index to make. */
  first: number;
  /** The index past the last. */
  end: number;
  /** The distance between indices (the number of workers). */
  step: number;
}

/** The worker's answer: the items in index order, or why there are none. */
export type ItemsWorkerOut =
  | { type: "done"; items: unknown[] }
  | { type: "error"; message: string };

/** The worker's global scope, typed without a `deno.worker` lib directive (JSR refuses those). */
const scope = self as unknown as {
  postMessage(m: ItemsWorkerOut): void;
  onmessage: ((ev: MessageEvent<ItemsWorkerIn>) => void) | null;
};

scope.onmessage = async (ev: MessageEvent<ItemsWorkerIn>) => {
  const m = ev.data;
  try {
    const params = { ...m.params } as unknown as PluginParams;
    if (m.tokenizer) {
      params.tokenizer = await loadTokenizer(m.tokenizer.dir, {
        applyChatTemplate: m.tokenizer.applyChatTemplate,
      });
    }
    const mod = await import(m.module);
    const factory = mod[m.name];
    if (typeof factory !== "function") {
      throw new Error(`${m.module} has no exported function '${m.name}'`);
    }
    const make = (await factory(params)) as (index: number) => unknown;
    const items: unknown[] = [];
    for (let i = m.first; i < m.end; i += m.step) items.push(make(i));
    scope.postMessage({ type: "done", items });
  } catch (e) {
    scope.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) });
  }
};

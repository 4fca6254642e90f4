/**
 * Making a dataset's items on Web Workers (`--num-workers`), for plugins whose items are costly
 * to build up front (`random`'s token-exact prompts): {@link makeOnWorkers} runs a module's
 * exported maker on N workers, each making the indices i ≡ k (mod N), and returns the items in
 * index order; {@link resolveNumWorkers} is evalscope's rule for how many workers.
 *
 * @module
 */
import type { PluginParams } from "./types.ts";
import type { ItemsWorkerIn, ItemsWorkerOut } from "./items_worker.ts";

/**
 * evalscope's `--num-workers` rule (`utils/worker_util.py`) for `total` items: 1 is serial, a
 * value above 1 gives `min(value, total)`, 0 (auto) gives `min(cpus, total, 32, total // 128)`;
 * never below 1. `cpus` defaults to `navigator.hardwareConcurrency` (evalscope: the CPU affinity).
 *
 * @example
 * ```ts
 * resolveNumWorkers(0, 1000, 16); // 7 (1000 // 128)
 * resolveNumWorkers(8, 5); // 5
 * ```
 */
export function resolveNumWorkers(
  requested: number,
  total: number,
  cpus: number = navigator.hardwareConcurrency,
): number {
  if (requested === 1) return 1;
  if (requested > 1) return Math.max(1, Math.min(requested, total));
  return Math.max(1, Math.min(cpus, total, 32, Math.floor(total / 128)));
}

/** What {@link makeOnWorkers} makes, and where it finds the maker. */
export interface WorkerItems {
  /** URL of the module that exports the maker (a plugin passes its own `import.meta.url`). */
  module: string;
  /**
   * The export's name: a function `(params: PluginParams) => (index: number) => T` (or a promise
   * of one), called once on each worker. Items must be structured-cloneable (strings, records).
   */
  name: string;
  /**
   * The run's parameters. Each worker gets them without `log` and functions; with a `tokenizer`,
   * it loads its own from `tokenizerPath` (the chat template used as the run's tokenizer uses it).
   */
  params: PluginParams;
  /** The first index. */
  start: number;
  /** The index past the last. */
  end: number;
  /** How many workers (at least 1; never more than there are items). */
  workers: number;
}

/** The parameters as a worker gets them: plain data only. */
function plainParams(params: PluginParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k !== "tokenizer" && k !== "log" && typeof v !== "function") out[k] = v;
  }
  return out;
}

function runWorker(msg: ItemsWorkerIn): { done: Promise<unknown[]>; worker: Worker } {
  const worker = new Worker(new URL("./items_worker.ts", import.meta.url).href, {
    type: "module",
    name: "llmperf items",
  });
  const done = new Promise<unknown[]>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<ItemsWorkerOut>) => {
      const m = ev.data;
      if (m.type === "done") resolve(m.items);
      else reject(new Error(m.message));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      reject(new Error(ev.message));
    };
  });
  worker.postMessage(msg);
  return { done, worker };
}

/**
 * Make items `start … end − 1` with the maker `name` exported by `module`, on `workers` Web
 * Workers (worker k makes the indices i with i − start ≡ k mod N), and return them in index
 * order. One worker, or a tokenizer without `tokenizerPath` (a worker could not load it), makes
 * them on this thread instead. Rejects with the first worker's error (the others are stopped).
 *
 * @example A dataset plugin making its prompts on `--num-workers` workers
 * ```ts
 * import { DatasetPlugin, makeOnWorkers, type PluginParams } from "@llmperf/llmperf/plugin";
 *
 * export function promptAt(p: PluginParams) {
 *   return (i: number) => `question ${i} of seed ${p.seed}`;
 * }
 *
 * export default class Mine extends DatasetPlugin {
 *   async *buildMessages() {
 *     const prompts = await makeOnWorkers<string>({
 *       module: import.meta.url, name: "promptAt", params: this.params,
 *       start: 0, end: this.params.number ?? 1, workers: 4,
 *     });
 *     for (const content of prompts) yield [{ role: "user" as const, content }];
 *   }
 * }
 * ```
 */
export async function makeOnWorkers<T>(spec: WorkerItems): Promise<T[]> {
  const { start, end, params } = spec;
  const total = Math.max(0, end - start);
  const n = Math.max(1, Math.min(spec.workers, total));
  if (n === 1 || (params.tokenizer && params.tokenizerPath === undefined)) {
    const mod = await import(spec.module);
    const make = (await mod[spec.name](params)) as (index: number) => T;
    return Array.from({ length: total }, (_, i) => make(start + i));
  }
  const tokenizer = params.tokenizer && {
    dir: params.tokenizerPath!,
    applyChatTemplate: params.tokenizer.usesChatTemplate,
  };
  const plain = plainParams(params);
  const runs = Array.from({ length: n }, (_, k) =>
    runWorker({
      module: spec.module,
      name: spec.name,
      params: plain,
      tokenizer,
      first: start + k,
      end,
      step: n,
    }));
  try {
    const parts = await Promise.all(runs.map((r) => r.done));
    const out: T[] = new Array(total);
    for (let k = 0; k < n; k++) {
      const part = parts[k];
      for (let j = 0; j < part.length; j++) out[k + j * n] = part[j] as T;
    }
    return out;
  } finally {
    for (const r of runs) r.worker.terminate();
  }
}

/**
 * The token-counting worker: loads the run's tokenizer once and counts prompts and generated
 * texts for batches of finished requests, so that encoding (a few microseconds per token) never
 * runs on the thread that reads responses and timestamps chunks.
 *
 * Messages in: `init`, `count`, `port` (a channel from another thread, a transport worker's, whose
 * `count` messages are answered on it). Messages out: `ready`, `counted`, `error`.
 *
 * @module
 */
import { countCompletion, promptCounter, type PromptSpec } from "./text_tokens.ts";
import type { HfTokenizer } from "./hf_tokenizer.ts";
import { loadTokenizer } from "./load.ts";

/** One request to count: its prompt, the generated text of each choice, and its reasoning. */
export interface CountItem {
  /** The prompt as found in the request body. */
  prompt: PromptSpec;
  /** Generated text per choice. */
  texts: string[];
  /** Reasoning text per choice, when its tokens are wanted. */
  reasoning?: string[];
}

/** Messages the worker accepts. */
export type CountWorkerIn =
  | { type: "init"; dir: string; applyChatTemplate: boolean }
  | { type: "count"; id: number; items: CountItem[] }
  | { type: "port"; port: MessagePort };

/**
 * Messages the worker sends. `counts` holds prompt, completion, reasoning triples (reasoning 0
 * when not asked for); -1 where counting failed.
 */
export type CountWorkerOut =
  | { type: "ready" }
  | { type: "counted"; id: number; counts: Int32Array; micros: number }
  | { type: "error"; message: string };

let tok: HfTokenizer | undefined;
let countPrompt: ((spec: PromptSpec) => number) | undefined;

/** The worker's global scope, typed without a `deno.worker` lib directive (JSR refuses those). */
const scope = self as unknown as {
  postMessage(m: CountWorkerOut, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<CountWorkerIn>) => void) | null;
};

function post(m: CountWorkerOut, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function count(id: number, items: CountItem[], reply = post): void {
  const t0 = performance.now();
  const counts = new Int32Array(items.length * 3).fill(-1);
  for (let i = 0; i < items.length; i++) {
    try {
      const it = items[i];
      counts[3 * i] = countPrompt!(it.prompt);
      counts[3 * i + 1] = countCompletion(tok!, it.texts);
      counts[3 * i + 2] = it.reasoning ? countCompletion(tok!, it.reasoning) : 0;
    } catch {
      counts[3 * i] = counts[3 * i + 1] = counts[3 * i + 2] = -1;
    }
  }
  reply({ type: "counted", id, counts, micros: (performance.now() - t0) * 1000 }, [counts.buffer]);
}

scope.onmessage = async (ev: MessageEvent<CountWorkerIn>) => {
  const m = ev.data;
  if (m.type === "init") {
    try {
      tok = await loadTokenizer(m.dir, { applyChatTemplate: m.applyChatTemplate });
      countPrompt = promptCounter(tok);
      post({ type: "ready" });
    } catch (e) {
      post({ type: "error", message: (e as Error).message });
    }
  } else if (m.type === "count") {
    count(m.id, m.items);
  } else if (m.type === "port") {
    const port = m.port;
    const reply = (out: CountWorkerOut, transfer: Transferable[] = []) =>
      port.postMessage(out, transfer);
    port.onmessage = (ev: MessageEvent<CountWorkerIn>) => {
      if (ev.data.type === "count") count(ev.data.id, ev.data.items, reply);
    };
  }
};

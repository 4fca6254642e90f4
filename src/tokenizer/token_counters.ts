/**
 * Token counters for finished requests whose response carried no `usage`. The run uses
 * {@link WorkerCounter}: the tokenizer lives in its own Web Worker and counts whole batches there,
 * so the thread that reads responses only copies the prompt and the generated texts into one
 * message per batch. Each transport worker counts through a port of its own to that worker
 * ({@link WorkerCounter.connect}, {@link ChannelCounter}): the texts never pass through the main
 * thread. {@link InlineCounter} counts on the calling thread (tests, small tools).
 *
 * @module
 */
import type { RequestBody } from "../plugins/types.ts";
import { countCompletion, promptCounter, promptOf, type PromptSpec } from "./text_tokens.ts";
import type { CountItem, CountWorkerIn, CountWorkerOut } from "./count_worker.ts";
import type { HfTokenizer } from "./hf_tokenizer.ts";
import { UsageError } from "../errors.ts";

/** Prompt and completion tokens counted by the tokenizer. */
export interface TokenizerCounts {
  /** Tokens of the prompt as the server sees it (0 when no body was given). */
  promptTokens: number;
  /** Tokens of the generated text, all choices. */
  completionTokens: number;
  /** Tokens of the reasoning texts, when they were given. */
  reasoningTokens?: number;
}

/** Counts tokens of finished requests. */
export interface TokenCounter {
  /**
   * Count one request: its body (the prompt is found in it; `undefined`: do not count the
   * prompt), the generated text of each choice and, when given, the reasoning text of each.
   * Resolves to `undefined` when the request cannot be counted (the counter is closed, or the
   * chat template failed on its messages).
   */
  count(
    body: RequestBody | undefined,
    texts: string[],
    reasoning?: string[],
  ): Promise<TokenizerCounts | undefined>;
  /** Release the tokenizer (ends the worker). */
  close(): Promise<void>;
}

/** Time spent counting: requests counted and microseconds of tokenizer work. */
export interface CounterStats {
  /** Requests counted. */
  requests: number;
  /** Microseconds of tokenizer work in total. */
  micros: number;
}

/** Counts on the calling thread. */
export class InlineCounter implements TokenCounter {
  #tok: HfTokenizer;
  #prompt: (spec: PromptSpec) => number;
  /** Counting cost so far. */
  readonly stats: CounterStats = { requests: 0, micros: 0 };

  /** @param tok a loaded tokenizer */
  constructor(tok: HfTokenizer) {
    this.#tok = tok;
    this.#prompt = promptCounter(tok);
  }

  /** See {@link TokenCounter.count}. */
  count(
    body: RequestBody | undefined,
    texts: string[],
    reasoning?: string[],
  ): Promise<TokenizerCounts | undefined> {
    const t0 = performance.now();
    try {
      const counts: TokenizerCounts = {
        promptTokens: this.#prompt(body === undefined ? NO_PROMPT : promptOf(body)),
        completionTokens: countCompletion(this.#tok, texts),
      };
      if (reasoning) counts.reasoningTokens = countCompletion(this.#tok, reasoning);
      return Promise.resolve(counts);
    } catch {
      return Promise.resolve(undefined);
    } finally {
      this.stats.requests++;
      this.stats.micros += (performance.now() - t0) * 1000;
    }
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

type Resolve = (c: TokenizerCounts | undefined) => void;

/** A request waiting for its counts, and whether it asked for reasoning tokens. */
interface Waiting {
  resolve: Resolve;
  reasoning: boolean;
}

const NO_PROMPT: PromptSpec = { none: true };

/** One end of a channel to the counting worker (the `Worker` itself, or a `MessagePort`). */
export interface CountEndpoint {
  /** Post a message to the counting worker. */
  postMessage(m: CountWorkerIn, transfer?: Transferable[]): void;
  /** Receives its answers. */
  onmessage: ((ev: MessageEvent<CountWorkerOut>) => void) | null;
}

/**
 * Counts through a channel to the counting worker; requests made in the same tick go in one
 * message.
 */
export class ChannelCounter implements TokenCounter {
  #end: CountEndpoint;
  #items: CountItem[] = [];
  #waiting: Waiting[] = [];
  #pending = new Map<number, Waiting[]>();
  #nextId = 0;
  #closed = false;
  /** Counting cost so far (measured inside the worker). */
  readonly stats: CounterStats = { requests: 0, micros: 0 };

  /** @param end the channel (its `onmessage` is taken over) */
  constructor(end: CountEndpoint) {
    this.#end = end;
    end.onmessage = (ev) => this.#receive(ev.data);
  }

  /** See {@link TokenCounter.count}. */
  count(
    body: RequestBody | undefined,
    texts: string[],
    reasoning?: string[],
  ): Promise<TokenizerCounts | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      if (this.#items.length === 0) queueMicrotask(() => this.#flush());
      const prompt = body === undefined ? NO_PROMPT : promptOf(body);
      this.#items.push(reasoning ? { prompt, texts, reasoning } : { prompt, texts });
      this.#waiting.push({ resolve, reasoning: reasoning !== undefined });
    });
  }

  #flush(): void {
    if (this.#items.length === 0 || this.#closed) return;
    const id = this.#nextId++;
    this.#pending.set(id, this.#waiting);
    const items = this.#items;
    this.#items = [];
    this.#waiting = [];
    this.#end.postMessage({ type: "count", id, items } satisfies CountWorkerIn);
  }

  #receive(m: CountWorkerOut): void {
    if (m.type !== "counted") return;
    const waiting = this.#pending.get(m.id);
    if (!waiting) return;
    this.#pending.delete(m.id);
    this.stats.requests += waiting.length;
    this.stats.micros += m.micros;
    for (let i = 0; i < waiting.length; i++) {
      const p = m.counts[3 * i], c = m.counts[3 * i + 1], r = m.counts[3 * i + 2];
      const w = waiting[i];
      if (p < 0 || c < 0 || r < 0) w.resolve(undefined);
      else if (w.reasoning) w.resolve({ promptTokens: p, completionTokens: c, reasoningTokens: r });
      else w.resolve({ promptTokens: p, completionTokens: c });
    }
  }

  /** Answer what is pending with `undefined`; count nothing more. */
  close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#pending.values()) for (const r of w) r.resolve(undefined);
    for (const r of this.#waiting) r.resolve(undefined);
    this.#pending.clear();
    this.#waiting = [];
    this.#items = [];
    return Promise.resolve();
  }
}

/** The counting worker: it loads the tokenizer once and counts for every thread that asks. */
export class WorkerCounter extends ChannelCounter implements AsyncDisposable {
  #worker: Worker;

  private constructor(worker: Worker) {
    super(worker as unknown as CountEndpoint);
    this.#worker = worker;
  }

  /**
   * Start a worker that loads the tokenizer in `dir`. Resolves once it is ready; throws
   * {@link UsageError} when the folder cannot be loaded.
   */
  static async start(dir: string, applyChatTemplate: boolean): Promise<WorkerCounter> {
    const worker = new Worker(new URL("./count_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const ready = await new Promise<CountWorkerOut>((resolve) => {
      worker.onmessage = (ev: MessageEvent<CountWorkerOut>) => resolve(ev.data);
      worker.onerror = (ev) => {
        ev.preventDefault();
        resolve({ type: "error", message: ev.message });
      };
      worker.postMessage({ type: "init", dir, applyChatTemplate } satisfies CountWorkerIn);
    });
    if (ready.type !== "ready") {
      worker.terminate();
      throw new UsageError(ready.type === "error" ? ready.message : "tokenizer worker failed");
    }
    const counter = new WorkerCounter(worker);
    worker.onerror = (ev) => {
      ev.preventDefault();
      void counter.close();
    };
    return counter;
  }

  /**
   * A port for another thread (a transport worker) to count through ({@link ChannelCounter}
   * over it): its messages go to the counting worker directly.
   */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.#worker.postMessage({ type: "port", port: port2 } satisfies CountWorkerIn, [port2]);
    return port1;
  }

  /** Answer what is pending with `undefined` and end the worker. */
  override async close(): Promise<void> {
    await super.close();
    this.#worker.terminate();
  }

  /** See {@link WorkerCounter.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

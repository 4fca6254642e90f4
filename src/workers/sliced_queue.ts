/**
 * Work left for later tasks of the event loop, done in short slices between which the loop runs
 * (its reads, its timers): how a sending thread finishes the records of the closed-loop requests
 * that end together once each slot's next request is sent. A paced server ends its streams in
 * waves; finishing a wave's records at once would hold the reads of the streams still open.
 *
 * A slice runs {@link SliceTiming.sliceMs}; while the oldest item waiting has waited
 * {@link SliceTiming.behindMs}, a slice runs {@link SliceTiming.behindSliceMs} instead, so that a
 * thread short of CPU gives the queue a larger share and never reads far ahead of it (its memory,
 * and whatever waits for the records). That longer slice stays well under an inter-token gap: the
 * reads wait for it, with the result DB's and the sinks' slices beside it, and a read that finds two
 * of a stream's events queued gets one kernel stamp for both (at 1,024 paced streams on a slow
 * one-core client, a 20 ms slice with those put 1.5–2.4% of the reads over 40 ms late, an 8 ms one
 * 0–0.6%; docs/performance.md, v19).
 *
 * @example
 * ```ts
 * import { SlicedQueue } from "./sliced_queue.ts";
 * const done: number[] = [];
 * const q = new SlicedQueue<{ n: number; at: number }>((w) => done.push(w.n));
 * q.push({ n: 1, at: performance.now() });
 * q.drain(); // done: [1]
 * ```
 *
 * @module
 */

/** How long slices last, ms. */
export interface SliceTiming {
  /** One slice at most, ms (default 4). */
  sliceMs: number;
  /** The oldest item waiting this long, ms, means behind (default 20). */
  behindMs: number;
  /** One slice at most while behind, ms (default 8). */
  behindSliceMs: number;
}

/** Items queued with the time they were queued (`performance.now()`). */
export interface Queued {
  /** When it was queued. */
  at: number;
}

/** A queue of work done in later tasks, a slice at a time. */
export class SlicedQueue<T extends Queued> {
  /** Queued items; each slot cleared once done, so that a backlog holds only what is left. */
  #items: (T | undefined)[] = [];
  #next = 0;
  #run: (item: T) => void;
  #timing: SliceTiming;

  /** @param run does one item; it must not throw (an item's failure is its own to record) */
  constructor(
    run: (item: T) => void,
    timing: SliceTiming = { sliceMs: 4, behindMs: 20, behindSliceMs: 8 },
  ) {
    this.#run = run;
    this.#timing = timing;
  }

  /** Items not done yet. */
  get size(): number {
    return this.#items.length - this.#next;
  }

  /** Queue `item` (its `at` set by the caller); the first of a batch asks for a later task. */
  push(item: T): void {
    if (this.#items.push(item) === 1) setTimeout(() => this.#slice(false), 0);
  }

  /** Do everything queued, now (a thread closing). */
  drain(): void {
    this.#slice(true);
  }

  #slice(all: boolean): void {
    const start = performance.now();
    const work = this.#items;
    let i = this.#next;
    if (i >= work.length) return;
    const t = this.#timing;
    const slice = start - work[i]!.at >= t.behindMs ? t.behindSliceMs : t.sliceMs;
    while (i < work.length && (all || performance.now() - start < slice)) {
      const item = work[i]!;
      work[i++] = undefined;
      this.#run(item);
    }
    if (i < work.length) {
      this.#next = i;
      setTimeout(() => this.#slice(false), 0);
    } else {
      this.#items = [];
      this.#next = 0;
    }
  }
}

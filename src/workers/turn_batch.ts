/**
 * Messages of one kind grouped by turn of the event loop: the first item added schedules a
 * microtask, and everything added until it runs (the rest of that task, and the microtasks queued
 * before it) goes out with it as one message; an item added later schedules the next. Nothing
 * waits for a timer or for the next task. A burst of records that end together (a paced
 * server ends its streams in waves; a saturated thread finishes dozens per turn) crosses to the
 * other thread as one message instead of dozens: each message costs ~12–17 µs of CPU on the two
 * threads together beyond its contents (docs/performance.md, "Hot path v6").
 *
 * The owner flushes before posting any other message on the same port, so the order of all its
 * messages stays the order they were made in.
 *
 * @example
 * ```ts
 * import { TurnBatch } from "./turn_batch.ts";
 * const sent: number[][] = [];
 * const batch = new TurnBatch<number>((items) => sent.push(items));
 * batch.add(1);
 * batch.add(2);
 * await Promise.resolve(); // the batch's microtask has run
 * console.assert(JSON.stringify(sent) === "[[1,2]]");
 * ```
 *
 * @module
 */

/** Posts the items of one turn (it should not throw: the items are gone from the batch). */
export type FlushBatch<T> = (items: T[]) => void;

/** Items gathered during one turn of the event loop, posted together (see the module doc). */
export class TurnBatch<T> {
  #items: T[] = [];
  #post: FlushBatch<T>;
  #scheduled = false;
  #run = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** @param post sends one batch (never called with none) */
  constructor(post: FlushBatch<T>) {
    this.#post = post;
  }

  /** Add one item; it goes out at the turn's end. */
  add(item: T): void {
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  /** Post what is gathered now (before another message on the same port, to keep the order). */
  flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.#post(items);
  }
}

/**
 * Messages of one kind grouped by turn of the event loop: what is added during one task (its
 * microtasks included) goes out as one message when the microtasks queued so far have run, so
 * nothing waits for a timer or for the next task. A burst of records that end together (a paced
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
 * await Promise.resolve(); // the turn's microtasks run out
 * // sent: [[1, 2]]
 * ```
 *
 * @module
 */

/** Posts the items of one turn, with the buffers they hand over. */
export type FlushBatch<T> = (items: T[], transfer: Transferable[]) => void;

/** Items gathered during one turn of the event loop, posted together (see the module doc). */
export class TurnBatch<T> {
  #items: T[] = [];
  #transfer: Transferable[] = [];
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

  /** Add one item (and the buffers it hands over); it goes out at the turn's end. */
  add(item: T, transfer?: readonly Transferable[]): void {
    this.#items.push(item);
    if (transfer !== undefined) { for (const t of transfer) this.#transfer.push(t); }
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  /** Post what is gathered now (before another message on the same port, to keep the order). */
  flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const transfer = this.#transfer;
    this.#items = [];
    this.#transfer = [];
    this.#post(items, transfer);
  }
}

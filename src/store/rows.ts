/**
 * Rows on their way to the result DB's writer, from whichever thread finished the requests (each
 * transport worker through its own `MessagePort`, the main thread through the writer's own
 * channel): queued and posted in batches, their buffers handed over rather than copied. The
 * messages that cross to the writer are declared here.
 *
 * @module
 */
import { type ResultValues, rowTransfers } from "./schema.ts";

/** Rows to write, and the end of a port's rows: what a port (or the main thread) posts. */
export type RowsMessage =
  /** A batch of rows. */
  | { type: "rows"; rows: ResultValues[] }
  /** This port sends no more rows. */
  | { type: "end" }
  /**
   * More values to keep out of this port's later rows (credentials of a request found after the
   * DB opened): on the same port as the rows, so the writer has them before any row after.
   */
  | { type: "secrets"; secrets: readonly string[] };

/** Takes the rows of finished requests. */
export interface RowSink {
  /** Queue one row (its buffers are handed over: the row must not be used again). */
  add(row: ResultValues): void;
}

/** Rows queued before a batch is posted at once. */
const BATCH_ROWS = 64;
/** Longest a row waits to be posted, ms. */
const BATCH_MS = 20;

/** Queues rows and posts them in batches with `post`. */
export class RowQueue implements RowSink {
  #post: (m: RowsMessage, transfer: Transferable[]) => void;
  #rows: ResultValues[] = [];
  #transfer: Transferable[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param post sends one message (with its transfer list) to the writer */
  constructor(post: (m: RowsMessage, transfer: Transferable[]) => void) {
    this.#post = post;
  }

  /** See {@link RowSink.add}. */
  add(row: ResultValues): void {
    this.#rows.push(row);
    rowTransfers(row, this.#transfer);
    if (this.#rows.length >= BATCH_ROWS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Post what is queued now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    const transfer = this.#transfer;
    this.#rows = [];
    this.#transfer = [];
    this.#post({ type: "rows", rows }, transfer);
  }

  /** Post what is queued, then `secrets`: every row queued later is written without them. */
  secrets(secrets: readonly string[]): void {
    this.flush();
    this.#post({ type: "secrets", secrets }, []);
  }

  /** Post what is queued, then say that no more rows come. */
  end(): void {
    this.flush();
    this.#post({ type: "end" }, []);
  }
}

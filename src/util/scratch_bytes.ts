/**
 * A byte buffer kept and reused for work whose result is copied out before the next use (a
 * pickle turned into base64 text, a response's payloads encoded and then copied to their blob):
 * one allocation for many uses instead of a fresh buffer each, which for buffers of tens of KB
 * costs more than the work (the runtime's allocation, and the collections that external memory
 * provokes). It grows by doubling, up to a size it keeps; a larger request gets a buffer of its
 * own, so that one huge use does not hold memory for the rest of the run.
 *
 * @example
 * ```ts
 * import { ScratchBytes } from "./scratch_bytes.ts";
 * const scratch = new ScratchBytes(1024 * 1024);
 * const buf = scratch.take(100); // 100 bytes, valid until the next take
 * buf.length === 100; // true
 * ```
 *
 * @module
 */

/** A kept buffer (see the module doc). */
export class ScratchBytes {
  #buf = new Uint8Array(0);
  #keepBytes: number;

  /** @param keepBytes the largest buffer kept between uses */
  constructor(keepBytes: number) {
    this.#keepBytes = keepBytes;
  }

  /**
   * `size` bytes to work in: a view of the kept buffer, valid until the next `take` (its bytes
   * are left as the last use left them), or past `keepBytes` a buffer of their own.
   */
  take(size: number): Uint8Array {
    if (size > this.#keepBytes) return new Uint8Array(size);
    if (this.#buf.length < size) {
      this.#buf = new Uint8Array(Math.min(this.#keepBytes, Math.max(size, this.#buf.length * 2)));
    }
    return this.#buf.subarray(0, size);
  }
}

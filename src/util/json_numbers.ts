/**
 * The JSON text of a list of numbers, as `JSON.stringify(Array.from(v))` writes it, four times
 * faster for a typed array: its own `join` (the same number-to-text conversion as JSON's) with
 * no array copy. The result DB writes one per request (its chunk times), so this is on the
 * writer's path for every row. A value that is not finite goes through `JSON.stringify`, which
 * writes `null` for it.
 *
 * @example
 * ```ts
 * jsonNumbers(Float64Array.of(0.5, 1, -0, 2e-7)); // "[0.5,1,0,2e-7]"
 * ```
 *
 * @module
 */

/** `v` as JSON text (see the module doc). */
export function jsonNumbers(v: ArrayLike<number>): string {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) return JSON.stringify(Array.from(v));
  }
  // A typed array's own `join` is V8's fast path (11 µs for 257 epoch times, against 31 µs for
  // `Array.prototype.join.call`, which boxes every element first).
  const join = (v as { join?: (sep: string) => string }).join;
  return `[${typeof join === "function" ? join.call(v, ",") : Array.prototype.join.call(v, ",")}]`;
}

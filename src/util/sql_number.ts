/**
 * A number read back from SQLite or JSON: a finite number (a big integer as a number), or
 * undefined for anything else (NULL, text, NaN).
 *
 * @module
 */

/**
 * `v` as a finite number, or undefined.
 *
 * @example
 * ```ts
 * sqlNumber(3n); // 3
 * sqlNumber(null); // undefined
 * ```
 */
export function sqlNumber(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "bigint"
    ? Number(v)
    : undefined;
}

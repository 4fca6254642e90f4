/**
 * Cells of a result DB read back, whichever layout wrote them: a success flag (evalscope's
 * late-2024 `'True'` / `'False'`, its 2026 `1` / `0`) and a JSON list of numbers
 * (`chunk_times`, `inter_token_latencies`).
 *
 * @module
 */

/**
 * Whether a `success` cell says the request succeeded: `'True'` (late 2024) or `1` (2026).
 *
 * @example
 * ```ts
 * sqlSuccess("True"); // true
 * sqlSuccess(1); // true
 * sqlSuccess(0); // false
 * ```
 */
export function sqlSuccess(v: unknown): boolean {
  return v === "True" || v === "true" || v === 1 || v === "1" || v === 1n;
}

/**
 * The numbers of a JSON-list cell; `[]` for NULL, empty text or anything that is not a list.
 *
 * @example
 * ```ts
 * sqlNumberList("[0.5, 1]"); // [0.5, 1]
 * sqlNumberList(null); // []
 * ```
 */
export function sqlNumberList(v: unknown): number[] {
  if (typeof v !== "string" || v === "") return [];
  try {
    const x = JSON.parse(v);
    return Array.isArray(x) ? x.filter((n) => typeof n === "number") : [];
  } catch {
    return [];
  }
}

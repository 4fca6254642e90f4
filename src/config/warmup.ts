/**
 * How many warmup requests `--warmup-num` asks for, as evalscope 2026 resolves it: a count, or a
 * ratio of `--number`. Pure, at the bottom of the import graph: the request source and the
 * datasets that generate `number + warmup` prompts (`random`) both use it.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/**
 * The warmup requests of a run, as evalscope 2026 resolves `--warmup-num` (on top of
 * `number`): 0 none; 1 or more that many (floored); between 0 and 1 a ratio of `number`, at
 * least 1. A ratio without `number` is a {@link UsageError}.
 *
 * @example
 * ```ts
 * warmupCount(0.1, 40); // 4
 * warmupCount(2.7, 40); // 2
 * ```
 */
export function warmupCount(v: number, number: number | undefined): number {
  if (v <= 0) return 0;
  if (v >= 1) return Math.floor(v);
  if (number === undefined) {
    throw new UsageError(
      `--warmup-num ${v}: a ratio (below 1) needs --number; give a count (1 or more) instead`,
    );
  }
  return Math.max(1, Math.floor(v * number));
}

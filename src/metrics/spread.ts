/**
 * How much a metric varied across repeated runs of the same point: the mean, the sample standard
 * deviation, the 95% confidence interval of the mean (Student t with n − 1 degrees of freedom,
 * exact: `student_t.ts`) and the coefficient of variation.
 *
 * @module
 */
import { tCritical } from "./student_t.ts";

/** The spread of one metric over n runs. */
export interface Spread {
  /** Runs that had a value. */
  n: number;
  /** Their mean. */
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); null for one run. */
  stdev: number | null;
  /** Lower end of the 95% confidence interval of the mean; null for one run. */
  ciLow: number | null;
  /** Upper end of the 95% confidence interval of the mean; null for one run. */
  ciHigh: number | null;
  /** Half-width of that interval (t · s / √n); null for one run. */
  ciHalfWidth: number | null;
  /** Coefficient of variation, stdev / |mean|; null for one run or a zero mean. */
  cv: number | null;
  /** Each run's value, in run order (null where a run had none). */
  values: Array<number | null>;
}

/** The confidence level of {@link spread}'s interval. */
export const CONFIDENCE = 0.95;

/**
 * The spread of `values` (runs without a value are null and left out of the statistics);
 * undefined when no run has a value.
 *
 * @example
 * ```ts
 * spread([10, 12, 11]); // mean 11, stdev 1, CI 11 ± 2.484 (t = 4.303), cv 0.0909
 * ```
 */
export function spread(values: ReadonlyArray<number | null>): Spread | undefined {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) {
    return {
      n,
      mean,
      stdev: null,
      ciLow: null,
      ciHigh: null,
      ciHalfWidth: null,
      cv: null,
      values: [...values],
    };
  }
  const stdev = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (tCritical(CONFIDENCE, n - 1) * stdev) / Math.sqrt(n);
  return {
    n,
    mean,
    stdev,
    ciLow: mean - half,
    ciHigh: mean + half,
    ciHalfWidth: half,
    cv: mean === 0 ? null : stdev / Math.abs(mean),
    values: [...values],
  };
}

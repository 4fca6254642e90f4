/**
 * A server's histogram as its exposition shows it (cumulative `_bucket{le}` counts, `_sum`,
 * `_count`), summed over its label sets; the difference of two scrapes (what happened between
 * them); and quantiles estimated from the buckets as Prometheus' `histogram_quantile` does
 * (linear interpolation inside the bucket that holds the rank). The mean from `_sum / _count` is
 * exact; a quantile is only as fine as the server's buckets.
 *
 * @module
 */
import type { Sample } from "./prometheus_text.ts";

/** A histogram: cumulative counts at each upper bound (`le`, ascending, +Inf last), sum, count. */
export interface HistogramSnapshot {
  /** Upper bounds, ascending; the last is Infinity. */
  le: number[];
  /** Observations at or below each bound (cumulative). */
  counts: number[];
  /** Sum of the observations. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/**
 * The histogram of family `family` in `samples`, its label sets summed (the same bounds, as one
 * metric has); undefined when it has no buckets.
 */
export function histogramOf(
  samples: readonly Sample[],
  family: string,
): HistogramSnapshot | undefined {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let any = false;
  for (const s of samples) {
    if (s.name === `${family}_bucket`) {
      const le = Number(s.labels.le === "+Inf" ? Infinity : s.labels.le);
      if (Number.isNaN(le)) continue;
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
      any = true;
    } else if (s.name === `${family}_sum`) sum += s.value;
    else if (s.name === `${family}_count`) count += s.value;
  }
  if (!any) return undefined;
  const le = [...byLe.keys()].sort((a, b) => a - b);
  if (le[le.length - 1] !== Infinity) {
    le.push(Infinity);
    byLe.set(Infinity, count);
  }
  return { le, counts: le.map((b) => byLe.get(b)!), sum, count };
}

/**
 * What was observed between two scrapes: `later` − `earlier`, bucket by bucket. A server that
 * restarted in between (its counts went down) gives `later` alone.
 */
export function histogramDelta(
  earlier: HistogramSnapshot | undefined,
  later: HistogramSnapshot,
): HistogramSnapshot {
  if (!earlier || later.count < earlier.count) return later;
  const before = new Map(earlier.le.map((b, i) => [b, earlier.counts[i]]));
  return {
    le: [...later.le],
    counts: later.le.map((b, i) => Math.max(0, later.counts[i] - (before.get(b) ?? 0))),
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/** The mean observation (`sum / count`), or null with no observations. */
export function histogramMean(h: HistogramSnapshot): number | null {
  return h.count > 0 ? h.sum / h.count : null;
}

/**
 * The `q` quantile (0–1) estimated from the buckets as Prometheus' `histogram_quantile` does:
 * find the bucket holding rank q · total and interpolate linearly inside it (from 0 for the
 * first bucket); a rank in the +Inf bucket gives the highest finite bound. Null with no
 * observations.
 *
 * @example
 * ```ts
 * histogramQuantile(0.5, { le: [0.1, 0.2, Infinity], counts: [0, 10, 10], sum: 1.5, count: 10 });
 * // 0.15
 * ```
 */
export function histogramQuantile(q: number, h: HistogramSnapshot): number | null {
  const n = h.le.length;
  if (n < 2) return null;
  // Cumulative counts must not go down (Prometheus fixes small float drift the same way).
  const counts = h.counts.slice();
  for (let i = 1; i < n; i++) counts[i] = Math.max(counts[i], counts[i - 1]);
  const total = counts[n - 1];
  if (!(total > 0)) return null;
  let rank = q * total;
  let b = 0;
  while (b < n - 1 && counts[b] < rank) b++;
  if (b === n - 1) return h.le[n - 2];
  if (b === 0 && h.le[0] <= 0) return h.le[0];
  let start = 0;
  let inBucket = counts[b];
  if (b > 0) {
    start = h.le[b - 1];
    inBucket -= counts[b - 1];
    rank -= counts[b - 1];
  }
  if (inBucket <= 0) return h.le[b];
  return start + (h.le[b] - start) * (rank / inBucket);
}

/**
 * Quantiles of Student's t distribution for whole degrees of freedom, computed exactly: the
 * distribution function of t with ν degrees of freedom has a closed form as a finite sum in
 * θ = atan(t/√ν) (Abramowitz & Stegun 26.7.3–26.7.4), and the quantile is found by bisection on
 * it to the last bit. Repeats have n − 1 degrees of freedom, always a whole number, so no normal
 * approximation is needed, even for two runs (t = 12.706 at 95%).
 *
 * Hand-written rather than taken from npm: the one maintained implementation
 * (`@stdlib/stats-base-dists-t-quantile`) brings about 250 packages with native-addon loaders for
 * this one function.
 *
 * @module
 */

/**
 * P(|T| ≤ t) for Student's t with `df` (a whole number ≥ 1) degrees of freedom, t ≥ 0.
 *
 * @example
 * ```ts
 * tTwoSidedCdf(12.706204736174694, 1); // 0.95
 * ```
 */
export function tTwoSidedCdf(t: number, df: number): number {
  if (!(t > 0)) return 0;
  if (t === Infinity) return 1;
  const theta = Math.atan(t / Math.sqrt(df));
  const c2 = Math.cos(theta) ** 2;
  const s = Math.sin(theta);
  if (df % 2 === 1) {
    // (2/π)(θ + sinθ cosθ (1 + 2/3 cos²θ + (2·4)/(3·5) cos⁴θ + ... up to cos^(ν−3)θ))
    if (df === 1) return (2 * theta) / Math.PI;
    let term = 1;
    let sum = 1;
    for (let k = 1; k <= (df - 3) / 2; k++) {
      term *= ((2 * k) / (2 * k + 1)) * c2;
      sum += term;
    }
    return Math.min(1, (2 / Math.PI) * (theta + s * Math.cos(theta) * sum));
  }
  // sinθ (1 + 1/2 cos²θ + (1·3)/(2·4) cos⁴θ + ... up to cos^(ν−2)θ)
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= (df - 2) / 2; k++) {
    term *= ((2 * k - 1) / (2 * k)) * c2;
    sum += term;
  }
  return Math.min(1, s * sum);
}

/**
 * The two-sided critical value t such that P(|T| ≤ t) = `confidence` with `df` degrees of
 * freedom (a whole number ≥ 1): the half-width of a confidence interval of a mean is
 * t · s / √n with df = n − 1. Exact to double precision.
 *
 * @example
 * ```ts
 * tCritical(0.95, 1); // 12.706204736174694
 * tCritical(0.95, 4); // 2.7764451051977987
 * ```
 */
export function tCritical(confidence: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`df must be a whole number ≥ 1`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError("confidence must be in (0, 1)");
  let lo = 0;
  let hi = 1;
  while (tTwoSidedCdf(hi, df) < confidence) hi *= 2;
  // Bisection to the last representable bit (at most ~1,100 halvings, usually ~60).
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (tTwoSidedCdf(mid, df) < confidence) lo = mid;
    else hi = mid;
  }
  return hi;
}

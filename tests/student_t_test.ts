/**
 * Student's t critical values and the spread of repeated runs: the quantiles against published
 * values of R's `qt()` (to every digit they give), the CDF's closed form at its known points,
 * and mean, standard deviation, CI and CV against a computation by hand.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { tCritical, tTwoSidedCdf } from "../src/metrics/student_t.ts";
import { spread } from "../src/metrics/spread.ts";

/** qt(0.975, df) and qt(0.995, df), as R prints them with 15 digits. */
const QT: ReadonlyArray<[df: number, q975: number, q995: number]> = [
  [1, 12.7062047361747, 63.6567411628715],
  [2, 4.30265272974946, 9.92484320091829],
  [3, 3.18244630528371, 5.84090930973335],
  [4, 2.77644510519779, 4.60409487134999],
  [5, 2.57058183563631, 4.03214298355522],
  [9, 2.26215716279820, 3.24983554159213],
  [10, 2.22813885198627, 3.16927267261695],
  [19, 2.09302405440831, 2.86093460646498],
  [29, 2.04522964213270, 2.75638590367061],
  [100, 1.98397151852355, 2.62589052143802],
  [1000, 1.96233908082641, 2.58075469806595],
];

Deno.test("student t: critical values equal R's qt() to 13 significant digits", () => {
  for (const [df, q975, q995] of QT) {
    assertAlmostEquals(tCritical(0.95, df), q975, q975 * 1e-13, `df ${df}, 95%`);
    assertAlmostEquals(tCritical(0.99, df), q995, q995 * 1e-13, `df ${df}, 99%`);
  }
  // Far in the tail and with many degrees of freedom it tends to the normal's 1.959964.
  assertAlmostEquals(tCritical(0.95, 100_000), 1.959988, 1e-6);
});

Deno.test("student t: the two-sided CDF's closed forms at known points", () => {
  assertAlmostEquals(tTwoSidedCdf(1, 1), 0.5, 1e-15); // Cauchy: P(|T|<=1) = 1/2
  assertAlmostEquals(tTwoSidedCdf(1, 2), 1 / Math.sqrt(3), 1e-15); // df 2: t/√(2+t²)
  assertEquals(tTwoSidedCdf(0, 5), 0);
  assertEquals(tTwoSidedCdf(Infinity, 5), 1);
  for (let df = 1; df < 40; df++) {
    let prev = 0;
    for (let t = 0.1; t < 50; t *= 1.5) {
      const p = tTwoSidedCdf(t, df);
      assert(p >= prev - 1e-15 && p <= 1, `monotone in t at df ${df}, t ${t}`);
      prev = p;
    }
  }
  assertThrows(() => tCritical(0.95, 0), RangeError);
  assertThrows(() => tCritical(0.95, 2.5), RangeError);
  assertThrows(() => tCritical(1, 3), RangeError);
});

Deno.test("spread: mean, sample stdev, t-based 95% CI and CV, by hand", () => {
  // 10, 12, 11: mean 11, deviations -1 1 0, s = sqrt(2/2) = 1, half = 4.30265 / sqrt(3).
  const s = spread([10, 12, 11])!;
  assertEquals([s.n, s.mean, s.stdev], [3, 11, 1]);
  const half = 4.30265272974946 / Math.sqrt(3);
  assertAlmostEquals(s.ciHalfWidth!, half, 1e-12);
  assertAlmostEquals(s.ciLow!, 11 - half, 1e-12);
  assertAlmostEquals(s.ciHigh!, 11 + half, 1e-12);
  assertAlmostEquals(s.cv!, 1 / 11, 1e-15);
  // Two runs: t = 12.706, the interval is wide, as it should be.
  const two = spread([100, 110])!;
  assertAlmostEquals(two.ciHalfWidth!, 12.7062047361747 * Math.sqrt(50) / Math.sqrt(2), 1e-9);
  // One run: a mean and nothing else; runs without a value are left out but kept in place.
  const one = spread([null, 5])!;
  assertEquals([one.n, one.mean, one.stdev, one.ciLow, one.cv], [1, 5, null, null, null]);
  assertEquals(one.values, [null, 5]);
  assertEquals(spread([null, null]), undefined);
  assertEquals(spread([0, 0])!.cv, null, "no CV for a zero mean");
});

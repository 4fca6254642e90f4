/**
 * Arrival schedules for `--rate`: a Poisson process (exponential gaps between arrivals, mean
 * `1/rate`), seeded so the same seed gives the same schedule; or, for `--rate -1`, every arrival
 * at time 0.
 *
 * @module
 */
import { exponential, seededRandom } from "../util/rng.ts";

/**
 * Offsets in milliseconds from the start of the run at which requests should be sent, one per
 * request, forever (the caller stops pulling). `rate` is in requests per second; -1 gives zeros.
 */
export function* arrivalOffsets(rate: number, seed: number): Generator<number> {
  if (rate === -1) {
    for (;;) yield 0;
  }
  const random = seededRandom(seed);
  let t = 0;
  for (;;) {
    yield t; // the first request goes at once, as in evalscope and vLLM's benchmark
    t += exponential(random, rate) * 1000;
  }
}

/**
 * Arrival schedules for `--rate`: a Poisson process (exponential gaps between arrivals, mean
 * `1/rate`), seeded so the same seed gives the same schedule; or, for `--rate -1`, every arrival
 * at time 0. A shard (`--shard I/N`) gets the global schedule thinned: the send times of global
 * requests I, I + N, I + 2N, ..., so that the shards' union is the global schedule.
 *
 * @module
 */
import { type Shard, shardItems } from "../config/shard.ts";
import { exponential, seededRandom } from "../util/rng.ts";

/**
 * Offsets in milliseconds from the start of the run at which requests should be sent, one per
 * request, forever (the caller stops pulling). `rate` is in requests per second; -1 gives zeros.
 * With `shard`, only the shard's requests' offsets on the global schedule.
 */
export function arrivalOffsets(rate: number, seed: number, shard?: Shard): Generator<number> {
  return shard === undefined
    ? globalOffsets(rate, seed)
    : shardItems(globalOffsets(rate, seed), shard);
}

function* globalOffsets(rate: number, seed: number): Generator<number> {
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

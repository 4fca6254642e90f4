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

/**
 * `--open-loop` (evalscope 2026): the offsets in ms of `count` requests on an absolute schedule.
 * `count` exponential gaps (mean `1/rate`, seeded) are summed and the sums rescaled so that the
 * last request is due at exactly `count / rate` seconds; the first is due at the first gap, not
 * at 0. With `shard`, only the shard's requests' offsets on the global schedule.
 *
 * @example
 * ```ts
 * const t = [...absoluteOffsets(2, 4, 42)]; // 4 offsets, t[3] === 2000
 * ```
 */
export function absoluteOffsets(
  rate: number,
  count: number,
  seed: number,
  shard?: Shard,
): Generator<number> {
  const random = seededRandom(seed);
  const sums: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) sums.push(t += exponential(random, rate));
  const scale = t > 0 ? (count / rate) / t : 0;
  const all = sums.map((s) => s * scale * 1000)[Symbol.iterator]();
  const gen = (function* () {
    yield* all;
  })();
  return shard === undefined ? gen : shardItems(gen, shard);
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

/**
 * Arrival schedules for `--rate`: a Poisson process (exponential gaps between arrivals, mean
 * `1/rate`), seeded so the same seed gives the same schedule; or, for `--rate -1`, every arrival
 * at time 0. A shard (`--shard I/N`) gets the global schedule thinned: the send times of global
 * requests I, I + N, I + 2N, ..., so that the shards' union is the global schedule.
 *
 * Shapes beyond Poisson, as vLLM's `bench serve` has them ({@link ArrivalShape}):
 * `--burstiness B` draws the gaps from a gamma distribution of shape B and mean `1/rate`
 * (B = 1 is the exponential, the Poisson process; B < 1 burstier; B > 1 more regular; the gaps'
 * coefficient of variation is `1/√B`), `--burstiness inf` makes them all `1/rate` (constant
 * rate), and `--ramp-up-strategy linear|exponential` moves the rate from
 * `--ramp-up-start-rps` to `--ramp-up-end-rps` over the run's requests. Every shape is one
 * absolute schedule of offsets from the run's start, computed from `--seed` alone, so that it
 * is the same in every worker and every shard.
 *
 * @module
 */
import { type Shard, shardItems } from "../config/shard.ts";
import { exponential, gamma, type Random, seededRandom } from "../util/rng.ts";

/** How the rate ramps up (vLLM's `--ramp-up-strategy`). */
export interface RampUp {
  /** `linear`: the rate grows by equal steps; `exponential`: by equal ratios. */
  strategy: "linear" | "exponential";
  /** The rate of the first request, requests per second. */
  startRps: number;
  /** The rate of the last request, requests per second. */
  endRps: number;
  /** The run's requests (all shards): request `i` is at progress `i / (total − 1)`. */
  total: number;
}

/** The shape of the gaps between arrivals, beyond their mean rate. */
export interface ArrivalShape {
  /** Gamma shape of the gaps: 1 exponential (Poisson), `Infinity` constant gaps. */
  burstiness: number;
  /** Ramp the rate up (or down) over the run instead of holding `rate`. */
  rampUp?: RampUp;
}

/**
 * Offsets in milliseconds from the start of the run at which requests should be sent, one per
 * request, forever (the caller stops pulling). `rate` is in requests per second; -1 gives zeros
 * (unless `shape` ramps up: its rates are used then). With `shard`, only the shard's requests'
 * offsets on the global schedule. Without `shape` (or burstiness 1 and no ramp-up) it is the
 * Poisson schedule of earlier releases, offset for offset.
 *
 * @example
 * ```ts
 * import { arrivalOffsets } from "./arrivals.ts";
 * const constant = arrivalOffsets(10, 42, undefined, { burstiness: Infinity });
 * constant.next().value; // 0
 * constant.next().value; // 100
 * ```
 */
export function arrivalOffsets(
  rate: number,
  seed: number,
  shard?: Shard,
  shape?: ArrivalShape,
): Generator<number> {
  const global = isPlainPoisson(shape)
    ? globalOffsets(rate, seed)
    : shapedOffsets(rate, seed, shape!);
  return shard === undefined ? global : shardItems(global, shard);
}

function isPlainPoisson(shape: ArrivalShape | undefined): boolean {
  return shape === undefined || (shape.burstiness === 1 && shape.rampUp === undefined);
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

/** The rate (req/s) for request `i` of a ramp: vLLM's `_get_current_request_rate`. */
export function rampRate(ramp: RampUp, i: number): number {
  const progress = Math.min(1, i / Math.max(ramp.total - 1, 1));
  return ramp.strategy === "linear"
    ? ramp.startRps + (ramp.endRps - ramp.startRps) * progress
    : ramp.startRps * (ramp.endRps / ramp.startRps) ** progress;
}

/** One gap in seconds at `rate`: gamma of shape `burstiness` and mean `1/rate`. */
function gap(random: Random, rate: number, burstiness: number): number {
  if (burstiness === Infinity) return 1 / rate;
  if (burstiness === 1) return exponential(random, rate);
  return gamma(random, burstiness) / (burstiness * rate);
}

/**
 * The shaped schedule: request 0 at once, then the gap before request `i` drawn at request `i`'s
 * rate (as vLLM draws its delays, without its first one: the first request goes at once here).
 */
function* shapedOffsets(rate: number, seed: number, shape: ArrivalShape): Generator<number> {
  if (rate === -1 && shape.rampUp === undefined) {
    for (;;) yield 0;
  }
  const random = seededRandom(seed);
  let t = 0;
  for (let i = 1;; i++) {
    yield t;
    const r = shape.rampUp ? rampRate(shape.rampUp, i) : rate;
    t += gap(random, r, shape.burstiness) * 1000;
  }
}

/** What a schedule's first requests look like (printed at the start of a `--rate` run). */
export interface ScheduleStats {
  /** Requests counted. */
  requests: number;
  /** From the first to the last send, seconds. */
  spanS: number;
  /** Gaps per second of span: `(requests − 1) / spanS`; 0 with no span. */
  meanRate: number;
  /** The gaps' coefficient of variation (sample standard deviation over mean); 0 with < 2 gaps. */
  gapCv: number;
}

/** The statistics of a list of send offsets (ms, ascending). */
export function scheduleStats(offsetsMs: readonly number[]): ScheduleStats {
  const n = offsetsMs.length;
  const spanS = n < 2 ? 0 : (offsetsMs[n - 1] - offsetsMs[0]) / 1000;
  const gaps = n - 1;
  let cv = 0;
  if (gaps >= 2) {
    const mean = (offsetsMs[n - 1] - offsetsMs[0]) / gaps;
    let ss = 0;
    for (let i = 1; i < n; i++) ss += (offsetsMs[i] - offsetsMs[i - 1] - mean) ** 2;
    cv = mean > 0 ? Math.sqrt(ss / (gaps - 1)) / mean : 0;
  }
  return { requests: n, spanS, meanRate: spanS > 0 ? gaps / spanS : 0, gapCv: cv };
}

/** The first `n` offsets of the global schedule (for {@link scheduleStats}). */
export function firstOffsets(
  rate: number,
  seed: number,
  n: number,
  shape?: ArrivalShape,
): number[] {
  const it = arrivalOffsets(rate, seed, undefined, shape);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = it.next().value!;
  return out;
}

/**
 * One line describing the schedule of a `--rate` (or ramp-up) run of `n` requests: its shape,
 * the mean rate and the gaps' coefficient of variation (with the value the shape's definition
 * gives: `1/√B` for gamma gaps, 0 for constant ones).
 */
export function describeSchedule(
  rate: number,
  seed: number,
  n: number,
  shape: ArrivalShape,
): string {
  const s = scheduleStats(firstOffsets(rate, seed, n, shape));
  const b = shape.burstiness;
  const kind = b === Infinity
    ? "constant gaps"
    : b === 1
    ? "Poisson"
    : `gamma gaps, burstiness ${b}`;
  const ramp = shape.rampUp
    ? `, ${shape.rampUp.strategy} ramp ${shape.rampUp.startRps} → ${shape.rampUp.endRps} req/s`
    : "";
  const expect = shape.rampUp
    ? ""
    : ` (expected ${(b === Infinity ? 0 : 1 / Math.sqrt(b)).toFixed(2)})`;
  return `arrival schedule: ${kind}${ramp}; ${s.requests} requests over ${s.spanS.toFixed(2)} s, ` +
    `mean rate ${s.meanRate.toFixed(2)} req/s, CV of the gaps ${s.gapCv.toFixed(2)}${expect}`;
}

/** The settings that shape the arrivals (a subset of `PerfConfig`). */
export interface ShapeSettings {
  /** `--burstiness`. */
  burstiness: number | "inf";
  /** `--ramp-up-strategy`. */
  rampUpStrategy?: string;
  /** `--ramp-up-start-rps`. */
  rampUpStartRps?: number;
  /** `--ramp-up-end-rps`. */
  rampUpEndRps?: number;
  /** `--number` (the ramp's length). */
  number?: number;
}

/** The run's {@link ArrivalShape}, or `undefined` for the plain Poisson schedule. */
export function arrivalShape(cfg: ShapeSettings): ArrivalShape | undefined {
  const burstiness = cfg.burstiness === "inf" ? Infinity : cfg.burstiness;
  const s = cfg.rampUpStrategy;
  const rampUp: RampUp | undefined = (s === "linear" || s === "exponential") &&
      cfg.rampUpStartRps !== undefined && cfg.rampUpEndRps !== undefined &&
      cfg.number !== undefined
    ? { strategy: s, startRps: cfg.rampUpStartRps, endRps: cfg.rampUpEndRps, total: cfg.number }
    : undefined;
  const shape: ArrivalShape = { burstiness, rampUp };
  return isPlainPoisson(shape) ? undefined : shape;
}

/**
 * Shards: one run split over several client machines (`--shard I/N`). Shard `I` of `N` takes
 * the run's global requests `i` with `i mod N = I`: every N-th request of the dataset and of
 * `--number` from the I-th, its share of `--parallel` (the lanes dealt out the same way, so the
 * shares add up to `--parallel`), and, with `--rate`, the same requests' send times on the
 * global arrival schedule (the schedule thinned, not a slower one). The union of the shards is
 * the unsharded run's request list, in the same global indices, on the same schedule.
 *
 * `--shard auto/N` takes `I` from `$JOB_COMPLETION_INDEX`, which a Kubernetes Indexed Job sets in
 * each of its pods, so that one pod spec serves every shard.
 *
 * This module is the grammar and the arithmetic, pure but for reading that one variable; the
 * request source, the arrival schedule and the merge use it.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** Shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  /** Which shard, from 0. */
  readonly index: number;
  /** How many shards the run is split into. */
  readonly count: number;
}

/** The environment variable `--shard auto/N` reads the index from (a Kubernetes Indexed Job's). */
export const SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX";

/** The most shards: far more than any run needs, few enough that a typo is caught. */
export const MAX_SHARDS = 10_000;

const FORM = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/;

function indexFromEnv(flag: string, count: number): number {
  let text: string | undefined;
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: SHARD_INDEX_ENV }).state !== "granted"
    ) {
      throw new UsageError(`${flag} auto/${count}: needs --allow-env to read $${SHARD_INDEX_ENV}`);
    }
    text = Deno.env.get(SHARD_INDEX_ENV)?.trim();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    text = undefined;
  }
  if (!text) {
    throw new UsageError(
      `${flag} auto/${count}: $${SHARD_INDEX_ENV} is not set (a Kubernetes Indexed Job sets it ` +
        `in each pod); elsewhere give the index: ${flag} 0/${count}`,
    );
  }
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${flag} auto/${count}: $${SHARD_INDEX_ENV} is '${text}', not an index`);
  }
  return Number(text);
}

/**
 * A shard from its text, `I/N` or `auto/N` (`auto`: `I` from `$JOB_COMPLETION_INDEX`). Throws a
 * {@link UsageError} naming `flag` for anything else, or an index not below the count.
 *
 * @example
 * ```ts
 * parseShard("--shard", "1/3"); // { index: 1, count: 3 }
 * ```
 */
export function parseShard(flag: string, text: string): Shard {
  const m = FORM.exec(text);
  if (!m) {
    throw new UsageError(`${flag}: expected I/N (shard I of N, from 0) or auto/N, got '${text}'`);
  }
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) {
    throw new UsageError(`${flag}: the number of shards must be 1 to ${MAX_SHARDS}, got ${count}`);
  }
  const index = m[1] === "auto" ? indexFromEnv(flag, count) : Number(m[1]);
  if (index >= count) {
    throw new UsageError(
      `${flag}: shard ${index} of ${count} does not exist (shards are 0 to ${count - 1})`,
    );
  }
  return { index, count };
}

/** Why a value given as a shard object is not one (one line), or undefined. */
export function shardProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== "object") return `expected I/N or {index, count}, got ${v}`;
  const { index, count } = v as Record<string, unknown>;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_SHARDS) {
    return `the number of shards must be 1 to ${MAX_SHARDS}, got ${count}`;
  }
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= (count as number)) {
    return `shard ${index} of ${count} does not exist (shards are 0 to ${(count as number) - 1})`;
  }
  return undefined;
}

/** `1/3`: a shard as `--shard` spells it. */
export function shardText(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** Whether global request `index` belongs to the shard (every one does without a shard). */
export function inShard(index: number, shard: Shard | undefined): boolean {
  return shard === undefined || index % shard.count === shard.index;
}

/**
 * How many of `total` things numbered 0 to total − 1 fall to the shard: requests of `--number`,
 * or lanes of `--parallel` (shard I gets `⌊total/N⌋`, plus one when `I < total mod N`, so the
 * shares add up to `total`). `total` itself without a shard.
 *
 * @example
 * ```ts
 * [0, 1, 2].map((index) => shardCount(8, { index, count: 3 })); // [3, 3, 2]
 * ```
 */
export function shardCount(total: number, shard: Shard | undefined): number {
  if (shard === undefined) return total;
  return Math.floor(total / shard.count) + (shard.index < total % shard.count ? 1 : 0);
}

/**
 * The shard's items of a global sequence (items `i` with `i mod N = I`, in order): the thinned
 * arrival schedule. Every item without a shard.
 */
export function* shardItems<T>(items: Iterator<T>, shard: Shard | undefined): Generator<T> {
  for (let i = 0;; i++) {
    const r = items.next();
    if (r.done) return;
    if (inShard(i, shard)) yield r.value;
  }
}

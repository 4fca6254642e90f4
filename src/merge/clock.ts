/**
 * How well the shards' schedules line up in time. The merge puts every row on one time axis by
 * its epoch timestamps, so a shard whose load began late (or whose clock is off) shifts its share
 * of the schedule against the others'. Each shard records when its load began on its own clock
 * (`load_started_at`, after any `--start-at` wait); the offset of each is that time less
 * `--start-at`, or, without `--start-at`, less the earliest shard's. Without a recorded start
 * (a DB from an older llmperf), the first send times stand in for it.
 *
 * What no shard can see is how far its machine's clock is from the others': that is NTP's
 * accuracy (a millisecond or less on a synchronised cluster; `chronyc tracking` says), and it
 * adds to the offsets measured here.
 *
 * @module
 */
import { shardText } from "../config/shard.ts";
import type { RunInput } from "./inputs.ts";
import { sqlNumber } from "../util/sql_number.ts";

/** Offsets beyond which the merge warns, in milliseconds. */
export const CLOCK_WARN_MS = 5;

/** Each shard's start against the reference. */
export interface StartOffsets {
  /** Milliseconds after the reference, per input (in order); NaN when unknown. */
  offsetsMs: number[];
  /** What the offsets are of: the recorded load starts, or the first sends. */
  basis: "load start" | "first send";
  /** What they are measured from. */
  reference: "--start-at" | "the earliest shard";
}

/** The shards' start offsets (see the module doc). */
export function startOffsets(runs: readonly RunInput[]): StartOffsets {
  const loadStarts = runs.map((r) => sqlNumber(r.run?.load_started_at));
  const basis = loadStarts.every((t) => t !== undefined) ? "load start" : "first send";
  const starts = basis === "load start" ? loadStarts as number[] : runs.map((r) => r.firstSendS);
  const startAt = sqlNumber(runs[0]?.args.start_at);
  const known = starts.filter((t): t is number => t !== undefined);
  const useStartAt = startAt !== undefined && basis === "load start";
  const ref = useStartAt ? startAt : Math.min(...known);
  return {
    offsetsMs: starts.map((t) => (t === undefined ? NaN : (t - ref) * 1000)),
    basis,
    reference: useStartAt ? "--start-at" : "the earliest shard",
  };
}

/**
 * One line when a shard's offset is beyond {@link CLOCK_WARN_MS} (the merged schedule is off by
 * as much), else undefined.
 */
export function clockWarning(runs: readonly RunInput[], o: StartOffsets): string | undefined {
  const known = o.offsetsMs.filter((x) => Number.isFinite(x));
  if (known.length < 2 && o.reference !== "--start-at") return undefined;
  const worst = Math.max(...known.map(Math.abs));
  if (!(worst > CLOCK_WARN_MS)) return undefined;
  const each = runs.map((r, i) => {
    const name = r.shard ? shardText(r.shard) : `'${r.label}'`;
    const ms = o.offsetsMs[i];
    return `${name} ${Number.isFinite(ms) ? `${ms >= 0 ? "+" : ""}${ms.toFixed(1)} ms` : "?"}`;
  });
  const fix = o.reference === "--start-at"
    ? "a shard started late"
    : "give every shard the same --start-at";
  return `the shards' ${o.basis}s are up to ${worst.toFixed(1)} ms apart from ${o.reference} ` +
    `(${each.join(", ")}): the merged schedule is off by as much (${fix}; the machines' clocks ` +
    "may differ besides: keep them NTP-synchronised)";
}

/**
 * `--start-at <epoch seconds>`: the load starts at a given wall-clock instant, so that shards on
 * several machines (or pods that a Job started seconds apart) begin their schedules together.
 * The run prepares first (plugins, dataset, the start-up check, the sending threads), then waits.
 *
 * The instant is mapped once onto this process's monotonic clock through
 * `performance.timeOrigin`, the same mapping that turns every recorded time into epoch time, so
 * the schedule's time zero and the records agree exactly; the clock's own accuracy is what NTP
 * gives the machine.
 *
 * A start time already past by more than {@link START_AT_SLACK_S} is an error, not a late start:
 * a shard that began late would send its share on a schedule shifted against the others' (or,
 * catching up, in a burst), and the merged run would describe a load that never ran. Late by
 * less, the run starts at once on the schedule as given (the requests already due go at once)
 * and says how late it was.
 *
 * @module
 */
import { settingKey } from "../config.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { sleepUntil } from "../util/sleep.ts";

/** How far in the past `--start-at` may be when the load starts, in seconds. */
export const START_AT_SLACK_S = 1;

/** Lateness past which a start is reported (ms): a timer's wake-up is well under it. */
export const LATE_START_MS = 5;

/** `--start-at` on this process's `performance.now()` clock (ms). */
export function startAtMs(epochS: number): number {
  return epochS * 1000 - performance.timeOrigin;
}

/**
 * Why `epochS` cannot be the start any more (one line, for a {@link UsageError}), or undefined:
 * it passed more than {@link START_AT_SLACK_S} ago. `when` says when it was checked.
 */
export function startAtProblem(epochS: number, when = ""): string | undefined {
  const lateS = (performance.now() - startAtMs(epochS)) / 1000;
  if (lateS <= START_AT_SLACK_S) return undefined;
  return `--start-at ${epochS}: that was ${lateS.toFixed(1)} s ago${when}; nothing was sent. ` +
    `Give every shard the same later time (allow for image pulls and start-up)`;
}

/**
 * Wait until `--start-at` (aborting ends the wait at once). Resolves to the schedule's time zero
 * on the `performance.now()` clock, which is the start instant itself, also when the wait ended
 * a little late. Throws a {@link UsageError} when the instant passed too long ago.
 */
export async function waitForStartAt(
  epochS: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<number> {
  const problem = startAtProblem(epochS, ", when the load was ready to start");
  if (problem !== undefined) throw new UsageError(problem);
  const zero = startAtMs(epochS);
  const waitS = (zero - performance.now()) / 1000;
  if (waitS > 0) {
    log(`waiting ${waitS.toFixed(1)} s, until --start-at ${epochS} (${isoTime(epochS)})`);
  }
  await sleepUntil(zero, signal);
  const lateMs = performance.now() - zero;
  if (lateMs > LATE_START_MS && !signal?.aborted) {
    log(
      `warning: the load started ${lateMs.toFixed(1)} ms after --start-at; the requests due ` +
        "before now go at once",
    );
  }
  return zero;
}

function isoTime(epochS: number): string {
  try {
    return new Date(epochS * 1000).toISOString();
  } catch {
    return "?";
  }
}

/**
 * `input` without `--start-at` (in any of its spellings): a run after the first of a sweep or of
 * `--repeat` starts when the one before has finished, not at the shared instant.
 *
 * @example
 * ```ts
 * withoutStartAt({ parallel: 4, "start-at": 1767225600 }); // { parallel: 4 }
 * ```
 */
export function withoutStartAt<T extends Record<string, unknown>>(input: T): T {
  const out = { ...input };
  for (const k of Object.keys(out)) if (settingKey(k) === "startAt") delete out[k];
  return out;
}

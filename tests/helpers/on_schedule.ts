/**
 * `assertOnSchedule`: requests reached a server when the run's schedule said, judged request by
 * request against the result DB's `scheduled_time` (whose offsets a test checks against the
 * schedule's definition to 0.01 ms): never before it (less a few ms of clock difference between
 * the test's process and the run's), and at most `lateMs` after it, the client's timing error on
 * a loaded machine. Absolute times, so one late request does not shift the others' checks.
 *
 * @module
 */
import { assert } from "../assert.ts";

/** How much earlier than due an arrival may look: the two processes' epoch clocks differ. */
const SKEW_MS = 5;

/**
 * `arrivedMs[i]` (epoch ms, the server's stamp) against `dueS[i]` (epoch seconds, the DB's
 * `scheduled_time` of the same request).
 */
export function assertOnSchedule(arrivedMs: number[], dueS: number[], lateMs = 500): void {
  assert(arrivedMs.length === dueS.length, `${arrivedMs.length} arrivals, ${dueS.length} rows`);
  arrivedMs.forEach((at, i) => {
    const late = at - dueS[i] * 1000;
    assert(late >= -SKEW_MS, `request ${i} arrived ${-late} ms before it was due`);
    assert(late <= lateMs, `request ${i} arrived ${late} ms after it was due`);
  });
}

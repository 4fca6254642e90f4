/**
 * Sleeping until a point on the monotonic clock.
 *
 * @module
 */

/** The longest delay one timer takes (2^31-1 ms, about 24.8 days); longer ones overflow. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolve once `performance.now() >= due` (at once if it already is, or when aborted). Never
 * early: a timer may fire a fraction of a millisecond before its delay is up, so it is re-armed
 * for what is left. Long waits are correct too: a timer delay above 2^31-1 ms would overflow (and
 * fire after 1 ms), so each timer waits at most {@link MAX_TIMER_MS} and is re-armed.
 */
export function sleepUntil(due: number, signal?: AbortSignal): Promise<void> {
  const wait = due - performance.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const check = () => {
      const left = due - performance.now();
      if (left > 0) id = setTimeout(check, Math.min(left, MAX_TIMER_MS));
      else done();
    };
    let id = setTimeout(check, Math.min(wait, MAX_TIMER_MS));
    signal?.addEventListener("abort", done, { once: true });
  });
}

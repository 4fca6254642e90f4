/**
 * Sleeping until a point on the monotonic clock.
 *
 * @module
 */

/**
 * Resolve once `performance.now() >= due` (at once if it already is, or when aborted). Never
 * early: a timer may fire a fraction of a millisecond before its delay is up, so it is re-armed
 * for what is left.
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
      if (left > 0) id = setTimeout(check, left);
      else done();
    };
    let id = setTimeout(check, wait);
    signal?.addEventListener("abort", done, { once: true });
  });
}

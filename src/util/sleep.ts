/**
 * Sleeping until a point on the monotonic clock.
 *
 * @module
 */

/** Resolve once `performance.now() >= due` (at once if it already is, or when aborted). */
export function sleepUntil(due: number, signal?: AbortSignal): Promise<void> {
  const wait = due - performance.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, wait);
    signal?.addEventListener("abort", done, { once: true });
  });
}

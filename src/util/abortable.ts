/**
 * Making a stage that knows nothing of signals stop at once when the run is interrupted: a
 * dataset plugin reading a huge file, a download, a tokenizer load.
 *
 * @module
 */
import { Interrupted } from "../errors.ts";

/**
 * `work`, or an {@link Interrupted} rejection as soon as `signal` aborts (at once if it already
 * has), naming `stage`. The work itself is not stopped: its result, or error, is dropped.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const text = await abortable(Deno.readTextFile("data.txt"), ac.signal, "reading the data");
 * ```
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, stage: string) {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new Interrupted(stage));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new Interrupted(stage));
    signal.addEventListener("abort", stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

/**
 * `--max-error-rate`: a result sink that watches the failure rate of the last
 * {@link ERROR_WINDOW} finished requests and, once that window is full and its rate exceeds the
 * limit, calls its stop hook once with the reason (the run aborts sending through its own stop
 * signal). Requests the run itself cancelled are not counted: they say nothing of the server.
 *
 * Why a window of the last 30 requests, as GuideLLM's `max_error_rate` has by default: a rate over
 * the whole run would react later and later as the run grows (an endpoint that breaks after
 * 10,000 good requests would be hammered for thousands more), while a window of requests rather
 * than of seconds means the same at 1 request/s and at 1,000; and waiting for a full window keeps
 * one early failure from stopping a run (1 failure in the first 3 is 33%).
 *
 * @module
 */
import type { FinishedRequest, ResultSink } from "../records/finished.ts";

/** Finished requests the rate is taken over. */
export const ERROR_WINDOW = 30;

/** Stops a run when the recent failure rate exceeds a limit. */
export class ErrorRateGuard implements ResultSink {
  readonly #limit: number;
  readonly #onExceeded: (reason: string) => void;
  readonly #window = new Uint8Array(ERROR_WINDOW);
  #seen = 0;
  #failed = 0;
  /** Why the run was stopped, once it was. */
  reason: string | undefined;

  /**
   * @param limit the highest failure rate allowed, 0–1
   * @param onExceeded called once, with the reason, when the window's rate exceeds `limit`
   */
  constructor(limit: number, onExceeded: (reason: string) => void) {
    this.#limit = limit;
    this.#onExceeded = onExceeded;
  }

  /** See {@link ResultSink.write}. */
  write(batch: FinishedRequest[]): void {
    if (this.reason !== undefined) return;
    for (const { record } of batch) {
      if (record.failure?.kind === "cancelled") continue;
      const slot = this.#seen++ % ERROR_WINDOW;
      this.#failed -= this.#window[slot];
      this.#window[slot] = record.success ? 0 : 1;
      this.#failed += this.#window[slot];
      if (this.#seen < ERROR_WINDOW) continue;
      const rate = this.#failed / ERROR_WINDOW;
      if (rate > this.#limit) {
        this.reason = `${this.#failed} of the last ${ERROR_WINDOW} requests failed ` +
          `(${pct(rate)}), above --max-error-rate ${pct(this.#limit)}`;
        this.#onExceeded(this.reason);
        return;
      }
    }
  }
}

function pct(f: number): string {
  return `${Math.round(f * 1000) / 10}%`;
}

/**
 * Which endpoint a request goes to when a run has several (`--url` given more than once, replicas
 * behind no load balancer), decided on the main thread as it dispatches: it hands every request to
 * the sending threads and learns when each one ends, so it alone sees what is in flight at every
 * endpoint across all the workers. `round-robin` takes them in turn, in dispatch order (the split
 * is exact: request i goes to endpoint i mod N); `least-in-flight` takes the one with the fewest
 * requests in flight, ties broken in turn, so a faster replica, which frees its requests sooner,
 * gets more of them.
 *
 * @module
 */
import type { UrlStrategy } from "../config.ts";

/** Picks each request's endpoint; told when each request ends. */
export class EndpointPicker {
  #inFlight: Int32Array;
  #next = 0;
  #least: boolean;

  /**
   * @param count how many endpoints
   * @param strategy `--url-strategy` (default round-robin)
   */
  constructor(count: number, strategy: UrlStrategy = "round-robin") {
    this.#inFlight = new Int32Array(count);
    this.#least = strategy === "least-in-flight";
  }

  /**
   * The endpoint of the next request, by index; it counts as in flight there until
   * {@link EndpointPicker.done}.
   *
   * @example
   * ```ts
   * const p = new EndpointPicker(2);
   * [p.pick(), p.pick(), p.pick()]; // [0, 1, 0]
   * ```
   */
  pick(): number {
    const n = this.#inFlight.length;
    let best = this.#next;
    if (this.#least) {
      // From the one after the last pick, so that ties go round in turn.
      for (let k = 1; k < n; k++) {
        const i = (this.#next + k) % n;
        if (this.#inFlight[i] < this.#inFlight[best]) best = i;
      }
    }
    this.#next = (best + 1) % n;
    this.#inFlight[best]++;
    return best;
  }

  /** The request sent to endpoint `i` has ended. */
  done(i: number): void {
    this.#inFlight[i]--;
  }

  /** Requests in flight at each endpoint now. */
  inFlight(): number[] {
    return Array.from(this.#inFlight);
  }
}

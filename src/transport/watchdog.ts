/**
 * Timeouts without a timer per read: each in-flight request keeps the time of its last byte in a
 * plain field (one store per read on the hot path) and one shared interval checks them all.
 * Resolution is a tenth of the shortest timeout (at most half a second), so a 120 s read timeout
 * fires between 120 and 120.5 s of silence.
 *
 * A response that has been silent for {@link SETTLE_MS} (or the read timeout, if shorter) is
 * asked whether it is already complete ({@link Watched.settle}): a stream whose choices all
 * finished, on a connection the server keeps open, then ends as a success. A stream known to be
 * complete (`[DONE]` came) whose body has not ended is given up after {@link DONE_TAIL_MS} of
 * silence the same way: no timer per request.
 *
 * Cancelling: the run's abort signal gets one listener per watchdog ({@link Watchdog.cancelOn}),
 * which expires every watched request as `cancelled`; a request never adds a listener of its own.
 *
 * @module
 */
import type { FailureKind } from "../records/record.ts";
import { DONE_TAIL_MS, SETTLE_MS } from "./stream_end.ts";
import type { TransportTimeouts } from "./types.ts";

/** One watched request. The transport updates `last` whenever bytes arrive. */
export interface Watched {
  /** `performance.now()` when the request was sent. */
  started: number;
  /** `performance.now()` of the last bytes received (or of the send). */
  last: number;
  /** Whether the response headers have arrived. */
  headers: boolean;
  /** Whether the connection is known to be established (transports that can tell). */
  connected: boolean;
  /** Whether the response is known to be complete (`[DONE]` came) though its body goes on. */
  complete?: boolean;
  /** Called once when a timeout expires. */
  expire(kind: FailureKind, message: string): void;
  /**
   * The response went silent after its headers: if it is already complete, end it (a success)
   * and return true. Called again after each new silence; must be cheap when nothing changed.
   */
  settle?(): boolean;
}

/** Shared timeout checker for one transport. */
export class Watchdog {
  #active = new Set<Watched>();
  #signals = new WeakSet<AbortSignal>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #t: TransportTimeouts;
  #tickMs: number;
  #connectKnown: boolean;

  /**
   * @param timeouts the limits
   * @param connectKnown whether the transport sets `connected` (a raw socket does; `fetch` cannot,
   *   so for it the connect limit and the read limit together bound the wait for headers)
   */
  constructor(timeouts: TransportTimeouts, connectKnown: boolean) {
    this.#t = timeouts;
    this.#connectKnown = connectKnown;
    const shortest = Math.min(timeouts.connectMs, timeouts.readMs, timeouts.totalMs);
    this.#tickMs = Math.max(1, Math.min(SETTLE_MS / 2, Math.floor(shortest / 10)));
  }

  /** Start watching a request. */
  add(w: Watched): void {
    this.#active.add(w);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), this.#tickMs);
    }
  }

  /** Stop watching a request (it finished). */
  delete(w: Watched): void {
    this.#active.delete(w);
    if (this.#active.size === 0) this.stop();
  }

  /** Expire every watched request now (`kind`, `message`), and forget them. */
  expireAll(kind: FailureKind, message: string): void {
    const all = [...this.#active];
    this.#active.clear();
    this.stop();
    for (const w of all) w.expire(kind, message);
  }

  /**
   * Cancel every watched request when `signal` aborts: one listener per signal for the life of
   * the watchdog, however many requests it watches. Returns whether `signal` has already aborted
   * (then the caller cancels its request itself).
   */
  cancelOn(signal: AbortSignal): boolean {
    if (signal.aborted) return true;
    if (!this.#signals.has(signal)) {
      this.#signals.add(signal);
      signal.addEventListener("abort", () => this.expireAll("cancelled", "cancelled"), {
        once: true,
      });
    }
    return false;
  }

  /** Stop the shared timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const now = performance.now();
    const t = this.#t;
    const quiet = Math.min(SETTLE_MS, t.readMs);
    const tail = Math.min(DONE_TAIL_MS, quiet);
    for (const w of this.#active) {
      if (
        w.headers && w.settle !== undefined && now - w.last > (w.complete ? tail : quiet) &&
        w.settle()
      ) {
        this.#active.delete(w);
        continue;
      }
      const kind = expired(w, now, t, this.#connectKnown);
      if (kind) {
        this.#active.delete(w);
        w.expire(kind[0], kind[1]);
      }
    }
    if (this.#active.size === 0) this.stop();
  }
}

function expired(
  w: Watched,
  now: number,
  t: TransportTimeouts,
  connectKnown: boolean,
): [FailureKind, string] | undefined {
  if (now - w.started > t.totalMs) {
    return ["total-timeout", `no complete response within ${t.totalMs / 1000} s`];
  }
  if (connectKnown) {
    if (!w.connected) {
      if (now - w.started > t.connectMs) {
        return ["connect-timeout", `no connection within ${t.connectMs / 1000} s`];
      }
      return undefined;
    }
  } else if (!w.headers) {
    if (now - w.started > t.connectMs + t.readMs) {
      return [
        "connect-timeout",
        `no response headers within ${(t.connectMs + t.readMs) / 1000} s (connect + read timeout)`,
      ];
    }
    return undefined;
  }
  if (now - w.last > t.readMs) {
    return ["read-timeout", `no data for ${t.readMs / 1000} s`];
  }
  return undefined;
}

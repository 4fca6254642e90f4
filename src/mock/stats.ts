/**
 * The mock server's own counts, as a real server would keep them: requests received, requests in
 * flight and streams open, now and at their peak. Every POST counts (the completion routes, the
 * ones refused, the ones a fault answers): the mock does not know which client sent it or why.
 * The peaks are the ground truth for "the client kept N requests in flight".
 *
 * @module
 */

/** A read-only view of the counts. */
export interface MockStatsView {
  /** POST requests received. */
  readonly requests: number;
  /** Requests received whose reply has not ended (streams being written included). */
  readonly inFlight: number;
  /** The most requests that were in flight at once. */
  readonly peakInFlight: number;
  /** Streamed replies being written now. */
  readonly openStreams: number;
  /** The most streamed replies that were being written at once. */
  readonly peakOpenStreams: number;
}

/** The mock's counters. */
export class MockStats implements MockStatsView {
  /** POST requests received. */
  requests = 0;
  /** Requests in flight now. */
  inFlight = 0;
  /** Peak of {@link inFlight}. */
  peakInFlight = 0;
  /** Streams open now. */
  openStreams = 0;
  /** Peak of {@link openStreams}. */
  peakOpenStreams = 0;

  /** A request arrived (at `arrival`, `performance.now()`): count it, and hold it in flight. */
  enter(arrival: number): Exchange {
    this.requests++;
    if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    return new Exchange(this, this.requests, arrival);
  }

  /** A stream opened. */
  openStream(): void {
    if (++this.openStreams > this.peakOpenStreams) this.peakOpenStreams = this.openStreams;
  }

  /** A stream ended. */
  closeStream(): void {
    this.openStreams--;
  }
}

/**
 * One request at the mock: its number and arrival, and what keeps it in flight. The server holds
 * it until its handler returns; a stream writing its reply (and a fault rewriting that stream)
 * each hold it too, until they end. It leaves the in-flight count when the last hold is released.
 */
export class Exchange {
  #stats: MockStats;
  #holds = 1;
  /** Its number: 1 for the first request the server received. */
  readonly seq: number;
  /** When it arrived (`performance.now()`). */
  readonly arrival: number;

  /** Made by {@link MockStats.enter}. */
  constructor(stats: MockStats, seq: number, arrival: number) {
    this.#stats = stats;
    this.seq = seq;
    this.arrival = arrival;
  }

  /** Keep it in flight until a matching {@link release}. */
  hold(): void {
    this.#holds++;
  }

  /** Release one hold (once per {@link hold}, and once for the server's). */
  release(): void {
    if (--this.#holds === 0) this.#stats.inFlight--;
  }
}

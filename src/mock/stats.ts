/**
 * The mock server's own counts, as a real server would keep them: requests received, requests in
 * flight and streams open, now and at their peak. Every POST counts (the completion routes, the
 * ones refused, the ones a fault answers): the mock does not know which client sent it or why.
 * The peaks are the ground truth for "the client kept N requests in flight".
 *
 * @module
 */
import { MockServerMetrics } from "./server_metrics.ts";

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
  /** The prefix cache's counts: prompt tokens looked up (`prefixQueries`) and found (`prefixHits`). */
  readonly server: Readonly<Pick<MockServerMetrics, "prefixQueries" | "prefixHits">>;
}

/** The mock's counters. */
export class MockStats implements MockStatsView {
  /** What `/metrics` says (vLLM's names): histograms, token counters, caches. */
  readonly server: MockServerMetrics;
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

  /** @param prefixCacheBlocks the prefix cache's size in blocks (see `MockOptions`) */
  constructor(prefixCacheBlocks?: number) {
    this.server = new MockServerMetrics(prefixCacheBlocks);
  }

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
  /** KV-cache tokens it holds once scheduled (see {@link scheduled}). */
  #held = 0;
  #firstToken = false;

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
    if (--this.#holds !== 0) return;
    this.#stats.inFlight--;
    if (this.#held === 0) return; // never scheduled (refused, or answered by a fault)
    const m = this.#stats.server;
    m.release(this.#held);
    m.e2e.observe((performance.now() - this.arrival) / 1000);
  }

  /**
   * The engine scheduled it: `/metrics` counts its tokens and holds them in the KV cache.
   * Returns the prompt tokens the prefix cache held.
   */
  scheduled(prompt: string, promptTokens: number, replyTokens: number): number {
    const s = this.#stats.server.schedule(prompt, promptTokens, replyTokens);
    this.#held = s.held;
    return s.cached;
  }

  /** Its first token was written (or, for a whole reply, was due) at `at` (`performance.now()`). */
  firstToken(at: number): void {
    if (this.#firstToken) return;
    this.#firstToken = true;
    this.#stats.server.ttft.observe((at - this.arrival) / 1000);
  }
}

/**
 * The bench's ground truth: with `llmperf mock --stamp-times`, every chunk carries the wall-clock
 * time the mock received the request and the time it wrote the chunk. Comparing them with the
 * client's own times says how much delay the client added, without trusting the mock's pacing:
 *
 * - event delay: arrival of a chunk (client clock) − when the mock wrote it;
 * - TTFT delay: the same for the first token chunk (what a late read adds to TTFT);
 * - TTFT error: client TTFT (first token − send) − mock TTFT (first token written − request
 *   received): both ends of the client, plus the network and the mock's accept queue; reported
 *   apart for the first wave of a closed loop, whose requests each open a connection (connect
 *   time is part of their TTFT, and costs the client ~0.1 ms of CPU per connection here);
 * - send delay: request received by the mock − client start: the send side of that error alone;
 * - ITL error: |client gap between two tokens − mock gap between writing them|;
 * - mock lateness: when the mock wrote token k − when it was due (received + TTFT + k·ITL), which
 *   says whether the mock kept up.
 *
 * Clocks: both processes read `performance.timeOrigin + performance.now()`, which on Linux agree
 * with the system clock, and so with each other, to about 20 µs.
 *
 * @module
 */
import type { FinishedRequest, ResultSink } from "../src/records/finished.ts";
import { unpackPayloads } from "../src/records/payloads.ts";

const STAMPS = /"mock_received_ms":([0-9.]+),"mock_sent_ms":([0-9.]+)\}\s*$/;

/** Mean, 99th percentile and maximum of a set of values, ms. */
export interface Stat {
  /** Values. */
  n: number;
  /** Mean. */
  mean: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Largest. */
  max: number;
}

/** Summarise values. */
export function stat(values: number[]): Stat {
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { n, mean: sum / n, p99: s[Math.min(n - 1, Math.ceil(0.99 * n) - 1)], max: s[n - 1] };
}

/** What the ground truth measured over a run. */
export interface TruthReport {
  /** Requests seen. */
  requests: number;
  /** Successful requests. */
  succeeded: number;
  /** Payloads (SSE events, or whole bodies) received. */
  events: number;
  /** Payloads that carried stamps. */
  stamped: number;
  /** Event delay, ms. */
  eventDelay: Stat;
  /** TTFT delay (first token chunk), ms. */
  ttftDelay: Stat;
  /** TTFT error (both ends), ms, of requests sent on kept-alive connections. */
  ttftError: Stat;
  /** Send side of that error: mock received − client start (network, mock accept queue), ms. */
  sendDelay: Stat;
  /** TTFT error of the first wave (each opened its connection: connect time included), ms. */
  coldTtftError: Stat;
  /** ITL error, ms. */
  itlError: Stat;
  /** Mock lateness, ms. */
  mockLate: Stat;
  /** Milliseconds this sink spent on the main thread (to subtract from the client's CPU). */
  sinkMs: number;
}

/** Mock timing of the scenario, to compute when each token was due. */
export interface MockTiming {
  /** Time to first token, ms. */
  ttftMs: number;
  /** Time between tokens, ms. */
  itlMs: number;
  /** Tokens per reply. */
  tokens: number;
  /** Requests of the first wave (the closed loop's `parallel`): they open new connections. */
  firstWave: number;
  /**
   * Whether the server stamps its payloads (the mock's `--stamp-times`; default true). The blast
   * server does not: the payloads then stay off the main thread, as in a user's run.
   */
  stamps?: boolean;
}

/** A result sink that checks every finished request against the mock's stamps. */
export class GroundTruth implements ResultSink {
  #timing: MockTiming;
  #requests = 0;
  #succeeded = 0;
  #events = 0;
  #stamped = 0;
  #eventDelay: number[] = [];
  #ttftDelay: number[] = [];
  #ttftError: number[] = [];
  #sendDelay: number[] = [];
  #coldTtftError: number[] = [];
  #itlError: number[] = [];
  #mockLate: number[] = [];
  #sinkMs = 0;

  /**
   * The mock's stamps are in the payloads: this sink needs them on the main thread (a user's run
   * sends them there only with `--debug`), unless the server stamps none.
   */
  readonly needs: { payloads: boolean };

  /** @param timing the mock's settings */
  constructor(timing: MockTiming) {
    this.#timing = timing;
    this.needs = { payloads: timing.stamps !== false };
  }

  /** See {@link ResultSink.write}. */
  write(batch: FinishedRequest[]): void {
    const t0 = performance.now();
    for (const f of batch) this.#add(f);
    this.#sinkMs += performance.now() - t0;
  }

  #add(f: FinishedRequest): void {
    const rec = f.record;
    this.#requests++;
    if (!rec.success) return;
    this.#succeeded++;
    if (f.payloads === undefined) {
      // No stamps to read (the blast server): count the events, as a user's run has no such sink.
      this.#events += rec.chunkTimesMs.length;
      return;
    }
    const origin = rec.timeOriginMs;
    const { ttftMs, itlMs, tokens } = this.#timing;
    const content = f.counts?.contentChunks;
    let next = 0; // position in `content` of the next token chunk
    let prevArrival = NaN;
    let prevSent = NaN;
    const payloads = unpackPayloads(f.payloads);
    for (let i = 0; i < rec.chunkTimesMs.length; i++) {
      this.#events++;
      let k = -1; // token index of this payload, -1 when it carries no token
      if (!rec.stream) k = Math.max(0, tokens - 1);
      else if (content === undefined) k = i;
      else if (content[next] === i) k = next++;
      const m = STAMPS.exec(payloads[i] ?? "");
      if (!m) continue;
      this.#stamped++;
      const received = Number(m[1]);
      const sent = Number(m[2]);
      const arrival = origin + rec.chunkTimesMs[i];
      this.#eventDelay.push(arrival - sent);
      if (k === -1) continue;
      this.#mockLate.push(sent - (received + ttftMs + k * itlMs));
      if (!rec.stream) continue;
      if (k === 0) {
        this.#ttftDelay.push(arrival - sent);
        const error = (arrival - (origin + rec.startMs)) - (sent - received);
        if (rec.index < this.#timing.firstWave) this.#coldTtftError.push(error);
        else {
          this.#ttftError.push(error);
          this.#sendDelay.push(received - (origin + rec.startMs));
        }
      } else if (!Number.isNaN(prevArrival)) {
        this.#itlError.push(Math.abs((arrival - prevArrival) - (sent - prevSent)));
      }
      prevArrival = arrival;
      prevSent = sent;
    }
  }

  /** The measurements so far. */
  report(): TruthReport {
    return {
      requests: this.#requests,
      succeeded: this.#succeeded,
      events: this.#events,
      stamped: this.#stamped,
      eventDelay: stat(this.#eventDelay),
      ttftDelay: stat(this.#ttftDelay),
      ttftError: stat(this.#ttftError),
      sendDelay: stat(this.#sendDelay),
      coldTtftError: stat(this.#coldTtftError),
      itlError: stat(this.#itlError),
      mockLate: stat(this.#mockLate),
      sinkMs: this.#sinkMs,
    };
  }
}

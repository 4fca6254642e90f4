/**
 * One streamed reply of the mock engine, written to a {@link StreamSink}: the mock's own HTTP/1.1
 * server (`http1_server.ts`) writes it straight to the socket, one write per due batch of tokens;
 * the `Response` form (`Deno.serve`, and the faults, which rewrite bodies) reads it as a
 * `ReadableStream` ({@link streamBody}).
 *
 * The pacing is exact: token `k` is due at `arrival + ttft + k · itl`. Paced (`itl` > 0), the
 * shared {@link Pacer} calls the stream when its next token is due, and every token due by then
 * goes out in that one write, so a late timer never pushes the tokens after it back. Unpaced
 * (`itl` 0), every token is due at `arrival + ttft`, and the sink's owner asks for more
 * ({@link ReplyStream.pump}) as fast as the client takes them.
 *
 * @module
 */
import type { Pacer } from "./pacer.ts";
import type { MockReply, ProtocolAdapter } from "./protocol_adapter.ts";
import { bytesOf } from "./slab.ts";
import type { Exchange, MockStats } from "./stats.ts";

/** Where a streamed reply's text goes. */
export interface StreamSink {
  /**
   * How much an unpaced stream writes per {@link ReplyStream.pump}: 0 for one event, else events
   * until their text reaches this many characters.
   */
  readonly batchChars: number;
  /** Write `text` (never empty). Returns false when the client has gone: the stream stops. */
  write(text: string): boolean;
  /** Write `text` (possibly empty) and end the body. */
  end(text: string): void;
}

/** What a stream needs from its engine. */
export interface StreamContext {
  /** The protocol. */
  adapter: ProtocolAdapter;
  /** The server's counters (streams open). */
  stats: MockStats;
  /** The engine's timer. */
  pacer: Pacer;
  /** The streams being written (the engine ends them when the server closes). */
  open: Set<ReplyStream>;
}

/**
 * A streamed reply being written. It counts as an open stream, and holds its request in flight,
 * from its construction until it has ended, been cancelled or been aborted.
 */
export class ReplyStream {
  #c: StreamContext;
  #r: MockReply;
  #x: Exchange;
  #itl: number;
  #first: number;
  #tokens: number;
  #k = 0; // the next token
  #begun = false;
  #closed = false;
  #sink: StreamSink | undefined;

  /**
   * @param c the engine's parts
   * @param r the reply
   * @param x its request (held until the stream ends)
   * @param ttftMs time to first token
   * @param itlMs time between tokens (0: unpaced)
   */
  constructor(c: StreamContext, r: MockReply, x: Exchange, ttftMs: number, itlMs: number) {
    this.#c = c;
    this.#r = r;
    this.#x = x;
    this.#itl = itlMs;
    this.#first = x.arrival + ttftMs;
    this.#tokens = r.plan.tokens;
    c.stats.openStream();
    c.open.add(this);
    x.hold();
  }

  /** Whether the pacer drives it (else its sink's owner calls {@link pump}). */
  get paced(): boolean {
    return this.#itl > 0;
  }

  /** Whether it has ended (written, cancelled or aborted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Start writing to `sink` (once). */
  start(sink: StreamSink): void {
    this.#sink = sink;
    if (this.#closed) return;
    if (this.#itl > 0) this.#c.pacer.at(this.#first, this.#emit);
  }

  /**
   * Unpaced: write the next event (or, with the sink's `batchChars`, the next events), or end the
   * stream after its last; waits for the first token's due time first.
   */
  async pump(): Promise<void> {
    if (this.#closed || this.#itl > 0) return;
    if (!this.#begun) {
      this.#begun = true;
      if (this.#first > performance.now()) await this.#c.pacer.until(this.#first);
      if (this.#closed) return;
    }
    const tokens = this.#tokens;
    if (this.#k === tokens) return this.#end("");
    const p = this.#c.adapter;
    const r = this.#r;
    const batch = this.#sink!.batchChars;
    let text = p.event(r, this.#k++);
    while (this.#k < tokens && text.length < batch) text += p.event(r, this.#k++);
    this.#x.firstToken(performance.now()); // once: later calls return at once
    if (batch > 0 && this.#k === tokens) return this.#end(text);
    if (!this.#sink!.write(text)) this.#finish();
  }

  /** The client went away: stop. */
  cancel(): void {
    this.#finish();
  }

  /** The server is closing: end the body where it is. */
  abort(): void {
    if (this.#closed) return;
    this.#finish();
    this.#sink?.end("");
  }

  // Paced: called by the pacer when token k is due; every token due by now in one write.
  #emit = (): void => {
    if (this.#closed) return;
    const now = performance.now();
    const p = this.#c.adapter;
    const r = this.#r;
    const tokens = this.#tokens;
    const first = this.#first;
    const itl = this.#itl;
    let k = this.#k;
    let text = "";
    while (k < tokens && first + k * itl <= now) text += p.event(r, k++);
    this.#k = k;
    if (k > 0) this.#x.firstToken(now);
    if (k === tokens) return this.#end(text);
    if (!this.#sink!.write(text)) return this.#finish();
    this.#c.pacer.at(first + k * itl, this.#emit);
  };

  #end(text: string): void {
    if (this.#closed) return;
    const last = text + this.#c.adapter.tail(this.#r);
    this.#finish();
    this.#sink!.end(last);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#c.stats.closeStream();
    this.#c.open.delete(this);
    this.#x.release();
  }
}

/**
 * A stream's body as a `ReadableStream` of UTF-8 bytes (for a `Response`): unpaced, one event per
 * read, as the reader pulls; paced, each due write as one chunk.
 */
export function streamBody(s: ReplyStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      s.start({
        batchChars: 0,
        write(text) {
          try {
            c.enqueue(bytesOf(text));
            return true;
          } catch {
            return false; // the client went away, or the server is closing
          }
        },
        end(text) {
          try {
            if (text !== "") c.enqueue(bytesOf(text)); // an empty chunk would end the body early
            c.close();
          } catch { /* the client went away, or the server is closing */ }
        },
      });
    },
    pull: () => s.pump(),
    cancel() {
      s.cancel();
    },
  }, { highWaterMark: 0 });
}

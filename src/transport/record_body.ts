/**
 * What every transport does with a response once it has its bytes: the same record, whichever
 * way the bytes came. An SSE body is split into events with {@link SseParser}: each `data:`
 * payload goes into `rec.payloads` with its arrival time; `[DONE]` (the {@link StreamEndRule}'s
 * `done` data) is not a payload but completes the response (its time is `rec.endMs`); a `last`
 * event type (`response.completed`) is a payload and completes it too; nothing after either
 * counts; an `event: error` marks the request failed (the payload is still kept). A
 * non-200 status is an `http` failure with a body excerpt; any other body is one payload.
 *
 * @module
 */
import type { Failure, RequestRecord } from "../records/record.ts";
import { isJson } from "./media_type.ts";
import { SseParser } from "./sse.ts";
import { DEFAULT_STREAM_END, FinishTracker, type StreamEndRule } from "./stream_end.ts";

/** Fills one record from the text of its SSE body, fed as it arrives. */
export class EventRecorder {
  #rec: RequestRecord;
  #parser: SseParser;
  #rule: StreamEndRule;
  #done = false;
  #finish: FinishTracker | undefined;

  /**
   * @param rec the record to fill (payloads, chunk times, end, failure)
   * @param rule what completes the stream
   * @param flag its `complete` is set when the `done` event arrives (a field, not a callback:
   *   nothing to allocate per request)
   */
  constructor(
    rec: RequestRecord,
    rule: StreamEndRule = DEFAULT_STREAM_END,
    flag?: { complete?: boolean },
  ) {
    this.#rec = rec;
    this.#rule = rule;
    const payloads = rec.payloads;
    const times = rec.chunkTimesMs;
    const done = rule.done.length === 1 ? rule.done[0] : undefined;
    const last = rule.last ?? [];
    this.#parser = new SseParser((data, type, time) => {
      if (this.#done) return; // nothing counts after [DONE]
      if (done !== undefined ? data === done : rule.done.includes(data)) {
        rec.endMs = time;
        this.#done = true;
        if (flag !== undefined) flag.complete = true;
        return;
      }
      if (type === "error" && !rec.failure) {
        rec.failure = { kind: "server-error", message: "error event in the stream", body: data };
      }
      payloads.push(data);
      times.push(time);
      if (type !== "" && last.length > 0 && last.includes(type)) {
        rec.endMs = time; // the stream's last event (kept: it carries the usage)
        this.#done = true;
        if (flag !== undefined) flag.complete = true;
      }
    });
  }

  /** Feed text that arrived at `time` (`performance.now()`). */
  push(text: string, time: number): void {
    this.#parser.push(text, time);
  }

  /**
   * Feed one read's text that arrived at `time`, as `Utf8Chunks.decodeNarrow` gives it: one
   * string, or its pieces in order.
   */
  pushRead(text: string | readonly string[], time: number): void {
    if (typeof text === "string") this.#parser.push(text, time);
    else for (const piece of text) this.#parser.push(piece, time);
  }

  /** The body ended at `time`: dispatch a last unterminated event; `rec.endMs` if no `[DONE]`. */
  end(time: number): void {
    this.#parser.end(time);
    if (!this.#done) this.#rec.endMs = time;
  }

  /**
   * Whether the stream is complete although its body has not ended: `[DONE]` came, or every
   * choice finished. Cheap when asked again: each payload is scanned once.
   */
  complete(): boolean {
    if (this.#done) return true;
    this.#finish ??= new FinishTracker(this.#rule);
    return this.#finish.finished(this.#rec.payloads);
  }

  /**
   * The connection ended, or was given up, after the stream was {@link complete}: an unfinished
   * last event is dropped, and without `[DONE]` the response ends at its last event.
   */
  endComplete(time: number): void {
    if (this.#done) return;
    const times = this.#rec.chunkTimesMs;
    this.#rec.endMs = times.length > 0 ? times[times.length - 1] : time;
  }
}

/** Longest response-body excerpt kept in a failure. */
export const BODY_EXCERPT = 500;

/**
 * The failure of a non-200 response; a redirect names where it points (redirects are not
 * followed: a benchmark measures the URL it was given).
 */
export function httpFailure(
  status: number,
  statusText: string,
  body: string,
  location?: string | null,
): Failure {
  const to = status >= 300 && status < 400 && location ? `, redirected to ${location}` : "";
  return {
    kind: "http",
    message: `HTTP ${status}${statusText ? " " + statusText : ""}${to}`,
    body: body.slice(0, BODY_EXCERPT),
  };
}

/**
 * Record a whole (non-SSE) 200 body that ended at `time`: one payload. When a stream was asked
 * for, a JSON body is still a complete answer (the server ignored `stream`); anything else is a
 * `protocol` failure.
 */
export function recordWholeBody(
  rec: RequestRecord,
  stream: boolean,
  contentType: string,
  text: string,
  time: number,
): void {
  rec.endMs = time;
  rec.payloads.push(text);
  rec.chunkTimesMs.push(time);
  if (stream && !isJson(contentType)) {
    rec.failure = {
      kind: "protocol",
      message: `expected text/event-stream, got '${contentType || "no content type"}'`,
      body: text.slice(0, BODY_EXCERPT),
    };
  }
}

/**
 * What every transport does with a response once it has its bytes: the same record, whichever
 * way the bytes came. An SSE body is split into events with {@link SseParser}: each `data:`
 * payload goes into `rec.payloads` with its arrival time; `[DONE]` is not a payload but ends the
 * response (its time is `rec.end`); nothing after it counts; an `event: error` marks the request
 * failed (the payload is still kept). A non-200 status is an `http` failure with a body excerpt;
 * any other body is one payload.
 *
 * @module
 */
import type { Failure, RequestRecord } from "../records/record.ts";
import { SseParser } from "./sse.ts";

/** Fills one record from the text of its SSE body, fed as it arrives. */
export class EventRecorder {
  #rec: RequestRecord;
  #parser: SseParser;
  #done = false;

  /** @param rec the record to fill (payloads, chunk times, end, failure) */
  constructor(rec: RequestRecord) {
    this.#rec = rec;
    const payloads = rec.payloads;
    const times = rec.chunkTimes;
    this.#parser = new SseParser((data, type, time) => {
      if (this.#done) return; // nothing counts after [DONE]
      if (data === "[DONE]") {
        rec.end = time;
        this.#done = true;
        return;
      }
      if (type === "error" && !rec.failure) {
        rec.failure = { kind: "server-error", message: "error event in the stream", body: data };
      }
      payloads.push(data);
      times.push(time);
    });
  }

  /** Feed text that arrived at `time` (`performance.now()`). */
  push(text: string, time: number): void {
    this.#parser.push(text, time);
  }

  /** The body ended at `time`: dispatch a last unterminated event; `rec.end` if no `[DONE]`. */
  end(time: number): void {
    this.#parser.end(time);
    if (!this.#done) this.#rec.end = time;
  }
}

/** Longest response-body excerpt kept in a failure. */
export const BODY_EXCERPT = 500;

/** The failure of a non-200 response. */
export function httpFailure(status: number, statusText: string, body: string): Failure {
  return {
    kind: "http",
    message: `HTTP ${status}${statusText ? " " + statusText : ""}`,
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
  rec.end = time;
  rec.payloads.push(text);
  rec.chunkTimes.push(time);
  if (stream && !contentType.includes("json")) {
    rec.failure = {
      kind: "protocol",
      message: `expected text/event-stream, got '${contentType || "no content type"}'`,
      body: text.slice(0, BODY_EXCERPT),
    };
  }
}

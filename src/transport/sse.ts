/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream format), fed text as it arrives.
 * It handles every way the text can be cut across reads: LF, CR and CRLF line ends (a CRLF cut
 * between two reads included), `data:` with or without its one leading space, comments, multi-line
 * data, and a last event with no blank line after it (dispatched by {@link SseParser.end}).
 *
 * This is on the request hot path: one call per network read, no allocation per line beyond the
 * substrings an event's data is made of, and the caller's callback receives plain arguments.
 *
 * @module
 */

/** Called once per dispatched event: its data (lines joined by `\n`), its `event:` type ("" if
 * none), and the time passed with the text that completed it. */
export type SseEventHandler = (data: string, type: string, time: number) => void;

const LF = 10;

/** Default bound on one event's size (characters): memory stays bounded whatever a server sends. */
export const MAX_EVENT_CHARS = 64 * 1024 * 1024;

/** An event (or a line) grew past the parser's bound. */
export class SseLimitError extends Error {
  constructor(limit: number) {
    super(`protocol error: an SSE event is larger than ${limit} characters`);
    this.name = "SseLimitError";
  }
}

/** Incremental SSE parser. Feed it text with {@link push}, then call {@link end}. */
export class SseParser {
  #onEvent: SseEventHandler;
  #limit: number;
  #line = ""; // an unfinished line carried over from the previous push
  #data = "";
  #hasData = false;
  #type = "";
  #skipLF = false; // the previous push ended in CR: a leading LF belongs to it

  /**
   * @param onEvent receives each event as it completes
   * @param maxEventChars bound on one event's size; past it {@link push} throws {@link SseLimitError}
   */
  constructor(onEvent: SseEventHandler, maxEventChars = MAX_EVENT_CHARS) {
    this.#onEvent = onEvent;
    this.#limit = maxEventChars;
  }

  /** Feed one block of text that arrived at `time` (from `performance.now()`). */
  push(text: string, time: number): void {
    let pos = 0;
    const n = text.length;
    if (n === 0) return;
    if (this.#skipLF) {
      this.#skipLF = false;
      if (n > 0 && text.charCodeAt(0) === LF) pos = 1;
    }
    // Set in a branch, not as `const hasCR = text.indexOf(...) !== -1`: V8's optimizing compiler
    // (V8 15.0) schedules that pure expression inside the loop below, where it is used, so the
    // whole text was scanned again for every event (0.3-0.7 us per event, 4-10x the parser's
    // own cost: bench/sse_parse.ts).
    let hasCR = false;
    if (text.indexOf("\r", pos) !== -1) hasCR = true;
    while (pos < n) {
      // Fast path for nearly every event of an LLM stream: a whole `data:` line and the blank
      // line after it, with nothing carried over: one slice and one dispatch per event.
      if (!hasCR && !this.#hasData && this.#line.length === 0 && text.startsWith("data:", pos)) {
        const eol = text.indexOf("\n", pos);
        if (eol !== -1 && eol + 1 < n && text.charCodeAt(eol + 1) === LF) {
          const from = text.charCodeAt(pos + 5) === 32 && pos + 5 < eol ? pos + 6 : pos + 5;
          if (eol - from > this.#limit) throw new SseLimitError(this.#limit);
          const type = this.#type;
          this.#type = "";
          this.#onEvent(text.slice(from, eol), type, time);
          pos = eol + 2;
          continue;
        }
      }
      let eol = text.indexOf("\n", pos);
      let next: number;
      if (hasCR) {
        const cr = text.indexOf("\r", pos);
        if (cr !== -1 && (eol === -1 || cr < eol)) {
          eol = cr;
          if (cr + 1 < n) next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
          else {
            next = n;
            this.#skipLF = true;
          }
        } else next = eol + 1;
      } else next = eol + 1;
      if (eol === -1) {
        this.#line += text.slice(pos);
        if (this.#line.length + this.#data.length > this.#limit) {
          throw new SseLimitError(this.#limit);
        }
        return;
      }
      if (this.#line.length > 0) {
        const line = this.#line + text.slice(pos, eol);
        this.#line = "";
        this.#processLine(line, time);
      } else {
        this.#processLine(text.slice(pos, eol), time);
      }
      pos = next;
    }
  }

  /** The stream ended at `time`: dispatch a last event that had no blank line after it. */
  end(time: number): void {
    if (this.#line.length > 0) {
      const line = this.#line;
      this.#line = "";
      this.#processLine(line, time);
    }
    this.#processLine("", time);
  }

  #processLine(line: string, time: number): void {
    if (line.length === 0) {
      if (this.#hasData) {
        const data = this.#data;
        const type = this.#type;
        this.#data = "";
        this.#hasData = false;
        this.#type = "";
        this.#onEvent(data, type, time);
      } else {
        this.#type = "";
      }
      return;
    }
    const c0 = line.charCodeAt(0);
    if (c0 === 58 /* : */) return; // comment
    // Fast path: "data:" lines are nearly all of an LLM stream.
    let field: string;
    let value: string;
    if (c0 === 100 /* d */ && line.startsWith("data:")) {
      field = "data";
      value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    } else {
      const colon = line.indexOf(":");
      if (colon === -1) {
        field = line;
        value = "";
      } else {
        field = line.slice(0, colon);
        value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
      }
    }
    if (field === "data") {
      if (this.#data.length + value.length > this.#limit) throw new SseLimitError(this.#limit);
      if (this.#hasData) this.#data += "\n" + value;
      else {
        this.#data = value;
        this.#hasData = true;
      }
    } else if (field === "event") {
      this.#type = value;
    }
    // "id" and "retry" do not matter to a benchmark; unknown fields are ignored by the spec.
  }
}

/** Convenience for tests and tools: parse a whole text into `[type, data]` pairs. */
export function parseSseText(text: string): Array<{ type: string; data: string }> {
  const out: Array<{ type: string; data: string }> = [];
  const p = new SseParser((data, type) => out.push({ type, data }));
  p.push(text, 0);
  p.end(0);
  return out;
}

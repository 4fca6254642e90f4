/**
 * When a streamed response is complete, whatever its connection does next. Plain data, so the
 * rule crosses to transport workers inside the `TransportSpec` (workers have no API plugin).
 *
 * - A `done` event (`data: [DONE]`) completes the stream at once: the transport stops reading
 *   the body, waits a short bounded time for its framing to end (so the connection can be reused),
 *   and never fails the request for what the connection does after it.
 * - A `last` event type (`event: response.completed`: the OpenAI Responses API ends its streams
 *   so, with no `[DONE]`) completes the stream just as `done` does, but its payload is kept (it
 *   carries the usage): the response ends at that event.
 * - Streams without `[DONE]` (DashScope, Triton, a server that leaves it out) are complete when
 *   every choice they streamed has finished: a `finish` path of some payload holds a value other
 *   than `null`, `""` or `"null"` (DashScope's placeholder). The check is lazy: it runs only
 *   when the stream ends without its framing (the connection closed or was reset) or has been
 *   silent for {@link SETTLE_MS}, never per read, and it scans each payload at most once
 *   ({@link FinishTracker}). It cannot end the stream at the finishing event itself, because
 *   OpenAI-compatible servers send a usage-only chunk after the chunk with `finish_reason`.
 *
 * @module
 */

/** What completes a stream (plain data). */
export interface StreamEndRule {
  /** Event data that completes the stream at once. */
  done: string[];
  /**
   * SSE event types (`event:` field) whose event is the stream's last: kept as a payload, then
   * the stream is complete (the Responses API's `response.completed`).
   */
  last?: string[];
  /**
   * Dotted paths to the field that says a choice finished. `*` steps into each element of a
   * list: the elements are choices, keyed by their numeric `index` field or else their position;
   * a path without `*` speaks for choice 0. `path=value` finishes only when the field holds that
   * string, and otherwise says nothing (`type=response.completed`).
   */
  finish: string[];
}

/**
 * The rule of every built-in protocol: `[DONE]` (OpenAI, Zhipu); the Responses API's last events
 * (`response.completed`, `response.incomplete`, `response.failed`), or a `type` field saying so
 * when a server sends no `event:` lines; OpenAI's
 * `choices[].finish_reason`; DashScope's `output.finish_reason` (text format) and
 * `output.choices[].finish_reason` (message format); TGI's `details.finish_reason`. Triton's
 * `generate_stream` has no end marker: only the end of its body completes it.
 */
export const DEFAULT_STREAM_END: StreamEndRule = {
  done: ["[DONE]"],
  last: ["response.completed", "response.incomplete", "response.failed"],
  finish: [
    "type=response.completed",
    "type=response.incomplete",
    "type=response.failed",
    "choices.*.finish_reason",
    "output.finish_reason",
    "output.choices.*.finish_reason",
    "details.finish_reason",
  ],
};

/**
 * How long a stream must be silent before the transport asks whether it is already complete
 * (every choice finished) and, if so, ends it as a success instead of waiting for the read
 * timeout. Long enough for the usage chunk that follows the finishing one; short enough that a
 * server that keeps the connection open after the last event costs a second, not two minutes.
 */
export const SETTLE_MS = 1000;

/**
 * How long, after `[DONE]`, the transport waits at least for the end of the body's framing (the
 * last zero-length chunk) before giving the connection up (the shared watchdog does it, so up to
 * one watchdog tick more). Servers send it at once; a server that keeps the body open after
 * `[DONE]` costs each request this long, and a fresh connection.
 */
export const DONE_TAIL_MS = 200;

/** A parsed `finish` entry: the path, and the value it must hold (any set value if none). */
interface Path {
  steps: string[];
  value?: string;
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "" && v !== "null" && v !== false;
}

/**
 * Whether a stream's choices have all finished, from its payloads, scanning each payload once
 * however often it is asked.
 */
export class FinishTracker {
  #paths: Path[];
  #scanned = 0;
  // choice key → finished (sticky: a later chunk without the field does not unfinish it)
  #choices = new Map<number, boolean>();
  #unfinished = 0;

  /** @param rule the rule whose `finish` paths to read */
  constructor(rule: StreamEndRule) {
    this.#paths = rule.finish.map((p) => {
      const eq = p.indexOf("=");
      return eq === -1
        ? { steps: p.split(".") }
        : { steps: p.slice(0, eq).split("."), value: p.slice(eq + 1) };
    });
  }

  /** Whether every choice seen in `payloads` (the stream so far) has finished. */
  finished(payloads: readonly string[]): boolean {
    for (; this.#scanned < payloads.length; this.#scanned++) {
      let v: unknown;
      try {
        v = JSON.parse(payloads[this.#scanned]);
      } catch {
        continue; // not JSON: says nothing about choices
      }
      if (v === null || typeof v !== "object") continue;
      for (const p of this.#paths) this.#walk(v, p, 0, 0);
    }
    return this.#choices.size > 0 && this.#unfinished === 0;
  }

  #walk(v: unknown, path: Path, at: number, key: number): void {
    if (at === path.steps.length) {
      if (v === undefined) return; // no such field: it says nothing
      if (path.value !== undefined) {
        if (v === path.value) this.#finish(key);
        return;
      }
      if (isSet(v)) this.#finish(key);
      else this.#see(key);
      return;
    }
    if (v === null || typeof v !== "object") return;
    const step = path.steps[at];
    if (step !== "*") {
      this.#walk((v as Record<string, unknown>)[step], path, at + 1, key);
      return;
    }
    if (!Array.isArray(v)) return;
    for (let i = 0; i < v.length; i++) {
      const c = v[i];
      if (c === null || typeof c !== "object") continue;
      const index = typeof c.index === "number" ? c.index : i;
      this.#see(index); // a choice is streaming from its first element on
      this.#walk(c, path, at + 1, index);
    }
  }

  #see(key: number): void {
    if (this.#choices.has(key)) return;
    this.#choices.set(key, false);
    this.#unfinished++;
  }

  #finish(key: number): void {
    const was = this.#choices.get(key);
    if (was === true) return;
    this.#choices.set(key, true);
    if (was === false) this.#unfinished--;
  }
}

/**
 * Error markers: an API plugin may declare, for its `errorInPayload`, a text that every payload
 * that function flags contains (`openai`'s `"error"`). A response none of whose payloads holds the
 * text is then searched once, joined, instead of payload by payload (one search of a 44 KB text
 * costs 26 µs, 6.5 by {@link holdsMarker}, where 258 short ones cost 65). The marker belongs to
 * the function, not to the plugin: a subclass, a copy or a wrapper that brings its own
 * `errorInPayload` has none until it declares one, so it can never inherit a marker its own test
 * does not keep.
 *
 * @example
 * ```ts
 * import { ApiPlugin, declareErrorMarker } from "@llmperf/llmperf/plugin";
 *
 * class MyApi extends ApiPlugin {
 *   // ...
 *   errorInPayload(payload: string): string | undefined {
 *     if (!payload.includes('"error"')) return undefined;
 *     return JSON.parse(payload).error?.message;
 *   }
 * }
 * declareErrorMarker(MyApi.prototype.errorInPayload, '"error"');
 * ```
 *
 * @module
 */

/** The declared markers, by the function they speak for. */
const markers = new WeakMap<object, string>();

/** A plugin's `errorInPayload` method. */
export type ErrorInPayload = (payload: string) => string | undefined;

/**
 * Declare that every payload `fn` flags as an error contains `marker` (a non-empty string);
 * returns `fn`. Throws a `TypeError` for anything else.
 */
export function declareErrorMarker<F extends ErrorInPayload>(fn: F, marker: string): F {
  if (typeof fn !== "function") throw new TypeError("declareErrorMarker: not a function");
  if (typeof marker !== "string" || marker === "") {
    throw new TypeError("declareErrorMarker: the marker must be a non-empty string");
  }
  markers.set(fn, marker);
  return fn;
}

/** The marker declared for `fn`, if any. */
export function errorMarkerOf(fn: ErrorInPayload | undefined): string | undefined {
  return fn === undefined ? undefined : markers.get(fn);
}

/**
 * Whether `text` contains `marker`: `text.includes(marker)`, quicker for markers that start with
 * JSON's commonest characters. V8 steps through the text from each occurrence of the pattern's
 * first character, and JSON has a quote every few characters: so the search starts at the
 * marker's first character that is not among the commonest (`"error"` from `rror"`, `"code"` from
 * `de"`), and each hit checks the characters before it. In a 256-token reply's 42 KB: `"error"`
 * 26–31 µs, `rror"` 6–8; `"code"` 54–59, `de"` 10–16.
 *
 * @example
 * ```ts
 * holdsMarker('{"id":1,"error":{}}', '"error"'); // true
 * holdsMarker('{"id":1,"terror":2}', '"error"'); // false
 * ```
 */
export function holdsMarker(text: string, marker: string): boolean {
  let k = 0; // where the search starts in the marker
  while (k < marker.length - 1 && COMMON.includes(marker[k])) k++;
  if (k === 0) return text.includes(marker);
  const tail = marker.slice(k);
  for (let at = text.indexOf(tail, k); at !== -1; at = text.indexOf(tail, at + 1)) {
    let i = 0;
    while (i < k && text.charCodeAt(at - k + i) === marker.charCodeAt(i)) i++;
    if (i === k) return true;
  }
  return false;
}

/** The characters JSON payloads are most made of (quotes, the letters of common keys). */
const COMMON = '"eoctainls';

/**
 * JSON-object values (`--extra-args`, `--query-template`, and later `--dataset-args`,
 * `--sla-params`): JSON text or an object, checked to be one JSON object, with one-line errors
 * that name the flag. Pure: the config validates with it, the request templates read with it.
 *
 * @module
 */
import { errorMessage, UsageError } from "../errors.ts";

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** What a JSON value is, for messages: `null`, `an array`, `a number`, ... */
export function jsonKind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

/** Parse JSON text that must be one object; `flag` names it in errors. */
export function parseJsonObject(flag: string, text: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag}: not valid JSON (${errorMessage(e)})`);
  }
  if (!isJsonObject(v)) throw new UsageError(`${flag}: must be a JSON object, got ${jsonKind(v)}`);
  return v;
}

/**
 * A JSON-object setting as given (its JSON text, or an object from the library or a config
 * file), as an object. Throws {@link UsageError} naming `flag`.
 */
export function jsonObjectValue(flag: string, value: unknown): JsonObject {
  if (typeof value === "string") return parseJsonObject(flag, value);
  if (!isJsonObject(value)) {
    throw new UsageError(`${flag}: must be a JSON object, got ${jsonKind(value)}`);
  }
  return value;
}

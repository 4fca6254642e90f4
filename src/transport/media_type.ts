/**
 * Content types compared as RFC 9110 says media types are: case-insensitively, without their
 * parameters (`Text/Event-Stream; charset=utf-8` is an event stream).
 *
 * @module
 */

/** The media type of a `Content-Type` value, lower-cased, without parameters (`""` if none). */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** Whether a `Content-Type` value is `text/event-stream`. */
export function isEventStream(contentType: string): boolean {
  return mediaType(contentType) === "text/event-stream";
}

/** Whether a `Content-Type` value is a JSON type (`application/json`, `...+json`, NDJSON). */
export function isJson(contentType: string): boolean {
  return mediaType(contentType).includes("json");
}

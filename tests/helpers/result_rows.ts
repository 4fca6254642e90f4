/**
 * A plain `result` row for `ResultDb.add` or a `ResultWriter`'s `rows`, in the column order of
 * `RESULT_COLUMNS`: a request body, one payload, one chunk time, success, `start_time` = `i`.
 *
 * @module
 */
import { RESULT_COLUMNS } from "../../src/store/schema.ts";

/** The row numbered `i`, with request body `body` (default `{"i":i}`). */
export function plainRow(i: number, body = `{"i":${i}}`): unknown[] {
  return RESULT_COLUMNS.map((c) => {
    switch (c.encoding) {
      case "pickle-request":
        return body;
      case "pickle-payloads":
        return { utf8: new TextEncoder().encode(`{"i":${i}}`), count: 1 };
      case "json":
        return c.name === "chunk_times" ? new Float64Array([1]) : null;
      case "true-false":
        return true;
      case "failure":
        return null;
      default:
        return c.name === "start_time" ? i : null;
    }
  });
}

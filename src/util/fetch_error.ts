/**
 * A short reason for a failed `fetch` of a file (a plugin, a dataset): Deno rejects with
 * "fetch failed" and puts the cause (connection refused, DNS failure...) in `cause`.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";

/** One short line saying why a `fetch` failed. */
export function fetchErrorText(e: unknown): string {
  if ((e as Error)?.name === "TimeoutError") return "no answer in time";
  const cause = (e as { cause?: unknown })?.cause;
  const msg = cause === undefined ? errorMessage(e) : errorMessage(cause);
  if (/connection refused/i.test(msg)) return "connection refused";
  if (/dns error|failed to lookup|name or service not known|nodename nor servname/i.test(msg)) {
    return "cannot resolve the host name";
  }
  if (/certificate|tls|handshake/i.test(msg)) return `TLS error (${msg})`;
  return msg;
}

/**
 * The start-up check: one small test request before the run, so a wrong URL, a dead server, a
 * TLS problem or a rejected key is one clear line (exit 1) within the connect timeout instead of
 * a run full of failures. A server that answers 429/5xx (still loading the model, say) is asked
 * again every second until the connect timeout.
 *
 * @module
 */
import { RunError } from "../errors.ts";
import { newRecord, type RequestRecord } from "../records/record.ts";
import type { PreparedRequest, Transport } from "../transport/types.ts";

/** Header marking the test request (the mock server leaves it out of its counts and faults). */
export const PREFLIGHT_HEADER = "x-llmperf-preflight";

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function excerpt(rec: RequestRecord): string {
  const body = rec.failure?.body?.replace(/\s+/g, " ").trim();
  return body ? `: ${body.slice(0, 200)}` : "";
}

/** One line saying why the test request failed, or undefined when it is worth retrying. */
export function explainFailure(
  rec: RequestRecord,
  url: string,
  timeoutS: number,
): string | undefined {
  const f = rec.failure;
  if (!f) return undefined;
  const msg = f.message;
  switch (f.kind) {
    case "http": {
      const s = rec.status;
      if (s === 401 || s === 403) {
        return `the server at ${url} refused the request (HTTP ${s})${
          excerpt(rec)
        }; check --api-key and --headers`;
      }
      if (s === 404) return `HTTP 404 from ${url}${excerpt(rec)}; check --url and --model`;
      if (s === 429 || s >= 500) return undefined; // busy or starting: retry
      return `the server at ${url} rejected the test request (HTTP ${s})${excerpt(rec)}`;
    }
    case "connect":
      if (/refused/i.test(msg)) return `cannot connect to ${hostOf(url)}: connection refused`;
      if (/lookup|dns|name or service|not known|nodename|no address/i.test(msg)) {
        return `unknown host '${new URL(url).hostname}' (${msg})`;
      }
      if (/certificate|tls|ssl|handshake|x509|issuer/i.test(msg)) {
        return `TLS handshake with ${hostOf(url)} failed: ${msg}`;
      }
      return `cannot connect to ${hostOf(url)}: ${msg}`;
    case "connect-timeout":
    case "read-timeout":
    case "total-timeout":
      return `no answer from ${url} within ${timeoutS} s (--connect-timeout)`;
    case "cancelled":
      return "interrupted";
    case "network":
      if (/certificate|tls|ssl|handshake|x509/i.test(msg)) {
        return `TLS handshake with ${hostOf(url)} failed: ${msg}`;
      }
      return undefined; // a dropped connection: retry
    default:
      return `the test request to ${url} failed (${f.kind}): ${msg}${excerpt(rec)}`;
  }
}

/**
 * Send `req` (a small request) until it succeeds, a definite failure comes back, or
 * `timeoutS` passes. Throws {@link RunError} with one line on failure.
 */
export async function checkEndpoint(
  transport: Transport,
  req: PreparedRequest,
  timeoutS: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutS * 1000;
  const marked: PreparedRequest = { ...req, headers: { ...req.headers, [PREFLIGHT_HEADER]: "1" } };
  for (;;) {
    const rec = newRecord(-1, {}, req.stream);
    await transport.send(marked, rec, signal);
    if (rec.success) return;
    const why = explainFailure(rec, req.url, timeoutS);
    if (why !== undefined) throw new RunError(why);
    if (performance.now() + 1000 > deadline) {
      throw new RunError(
        `the server at ${req.url} kept failing the test request for ${timeoutS} s ` +
          `(last: ${rec.failure?.message}${
            excerpt(rec)
          }); use --no-test-connection to skip the check`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

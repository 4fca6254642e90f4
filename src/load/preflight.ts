/**
 * The start-up check: one small test request before the run, so a wrong URL, a dead server, a
 * TLS problem or a rejected key is one clear line (exit 1) within the connect timeout instead of
 * a run full of failures. A server that answers 429/5xx (still loading the model, say) is asked
 * again every second until the connect timeout.
 *
 * The line says what to do where the failure tells: the proxy (not the target) when a proxy from
 * the environment cannot be reached, `--transport fetch` for a server that may speak only
 * HTTP/2, `--ca-cert` for an unknown certificate issuer, the `Location` of a redirect. The
 * transports put the same hints in each request's recorded failure.
 *
 * @module
 */
import { errorMessage, RunError, UsageError } from "../errors.ts";
import { defaultProbeBody } from "../plugins/probe_body.ts";
import type { ApiPluginLike, PluginParams } from "../plugins/types.ts";
import { newRecord, type RequestRecord } from "../records/record.ts";
import { HTTP2_HINT } from "../transport/hints.ts";
import type { PreparedRequest, Transport } from "../transport/types.ts";
import type { Job } from "./requests.ts";

/** Header marking the test request, so a server operator can tell it apart (servers treat it as any request). */
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

/** `proxy HOST (from VAR): why` → the proxy as named, and why (one clause). */
function splitProxy(msg: string): [string, string] {
  const m = /^proxy (.*?\)): (.*)$/.exec(msg);
  if (m === null) return [msg.slice(6), "unreachable"];
  const why = /refused/i.test(m[2]) ? "connection refused" : m[2];
  return [m[1], why];
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
      if (s >= 300 && s < 400) {
        const to = /, redirected to (.*)$/.exec(msg)?.[1];
        return to === undefined
          ? `the server at ${hostOf(url)} answered with a redirect (HTTP ${s}) without a Location`
          : `the server at ${hostOf(url)} redirects the request to ${to} (HTTP ${s}); ` +
            "use that URL as --url (redirects are not followed)";
      }
      if (s === 429 || s >= 500) return undefined; // busy or starting: retry
      return `the server at ${url} rejected the test request (HTTP ${s})${excerpt(rec)}`;
    }
    case "connect":
      if (msg.startsWith("proxy ")) {
        const [proxy, why] = splitProxy(msg);
        return `cannot connect to the proxy ${proxy}: ${why}; fix the proxy variable, ` +
          `or list ${new URL(url).hostname} in NO_PROXY`;
      }
      if (/refused/i.test(msg)) return `cannot connect to ${hostOf(url)}: connection refused`;
      if (/lookup|dns|name or service|not known|nodename|no address/i.test(msg)) {
        return `unknown host '${new URL(url).hostname}' (${msg})`;
      }
      if (/certificate|tls|ssl|handshake|x509|issuer|alert/i.test(msg)) {
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
      if (msg.includes(HTTP2_HINT)) return `the test request to ${hostOf(url)} failed: ${msg}`;
      return undefined; // a dropped connection: retry
    default:
      return `the test request to ${url} failed (${f.kind}): ${msg}${excerpt(rec)}`;
  }
}

/**
 * The start-up check's request: the first job, its body made small by the API plugin's
 * `probeBody` (default {@link defaultProbeBody}: one output token). A `probeBody` that throws is
 * a {@link UsageError} naming the plugin.
 */
export function probeRequest(api: ApiPluginLike, job: Job, params: PluginParams): PreparedRequest {
  let body;
  try {
    body = api.probeBody ? api.probeBody({ ...job.body }, params) : defaultProbeBody(job.body);
  } catch (e) {
    throw new UsageError(`--api '${params.api}': probeBody failed: ${errorMessage(e)}`);
  }
  // A trace's request goes with its own headers (a tenant's key the run does not have).
  return {
    ...job.prepared,
    headers: job.headers ?? job.prepared.headers,
    body: JSON.stringify(body),
  };
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
    const rec = newRecord(-1, req.stream);
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

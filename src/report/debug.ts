/**
 * `--debug`: each request's body and each response event with its time, logged after the request
 * finishes (never on the hot path). The body line carries the wall-clock time the request was
 * sent; each event line its arrival, in seconds after that. Headers are not logged, and the run's
 * secrets (API key, W&B key, credential headers' values) are scrubbed from every line, wherever
 * they appear (a query template could put one in the body).
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { FinishedRequest, ResultSink } from "../records/pipeline.ts";
import { epochSeconds } from "../records/record.ts";
import { isSecretHeader, scrub } from "../redact.ts";

const MAX_EVENT = 2000;

/** The secret strings of a config: API keys and the values of credential-bearing headers. */
export function configSecrets(
  cfg: Pick<PerfConfig, "apiKey" | "wandbApiKey" | "headers">,
): string[] {
  const out: string[] = [];
  if (cfg.apiKey) out.push(cfg.apiKey);
  if (cfg.wandbApiKey) out.push(cfg.wandbApiKey);
  for (const [k, v] of Object.entries(cfg.headers ?? {})) {
    if (isSecretHeader(k) && v) out.push(v, v.replace(/^(Bearer|Basic|Token)\s+/i, ""));
  }
  return out;
}

/** A sink that logs every request and response event, with `secrets` scrubbed. */
export function debugSink(log: Logger, secrets: string[] = []): ResultSink {
  const say = secrets.length > 0 ? (line: string) => log(scrub(line, secrets)) : log;
  return {
    write(batch: FinishedRequest[]) {
      for (const { record: r, metrics: m } of batch) {
        const sent = new Date(epochSeconds(r, r.start) * 1000).toISOString();
        say(`request #${r.index} body (sent ${sent}): ${JSON.stringify(r.body)}`);
        const t0 = r.start;
        r.payloads.forEach((p, i) => {
          const at = ((r.chunkTimes[i] - t0) / 1000).toFixed(6);
          const text = p.length > MAX_EVENT ? p.slice(0, MAX_EVENT) + `... (${p.length} chars)` : p;
          say(`request #${r.index} +${at}s event ${i}: ${text}`);
        });
        say(
          `request #${r.index} ${r.success ? "ok" : "FAILED"} status ${r.status} ` +
            `latency ${m.latency.toFixed(6)}s` +
            (r.failure ? ` ${r.failure.kind}: ${r.failure.message}` : ""),
        );
      }
    },
  };
}

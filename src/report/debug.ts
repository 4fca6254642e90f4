/**
 * `--debug`: each request's body and each response event with its time, logged after the request
 * finishes (never on the hot path). The body line carries the wall-clock time the request was
 * sent; each event line its arrival, in seconds after that. Headers are not logged, and every
 * line goes through the run's redaction (its secrets, wherever they appear: a query template
 * could put one in the body, a server could echo one; credentials in URLs) before it is cut to
 * length, so no part of a secret survives.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { FinishedRequest, ResultSink } from "../records/finished.ts";
import { unpackPayloads } from "../records/payloads.ts";
import { epochSeconds } from "../records/record.ts";

const MAX_EVENT = 2000;

/** A sink that logs every request and response event, each line passed through `redact`. */
export function debugSink(log: Logger, redact: (text: string) => string = (t) => t): ResultSink {
  return {
    needs: { payloads: true, bodyText: true }, // the only sink that reads them both
    write(batch: FinishedRequest[]) {
      for (const { record: r, metrics: m, bodyText, payloads } of batch) {
        const sent = new Date(epochSeconds(r, r.startMs) * 1000).toISOString();
        log(`request #${r.index} body (sent ${sent}): ${redact(bodyText ?? "")}`);
        const t0 = r.startMs;
        (payloads ? unpackPayloads(payloads) : []).forEach((raw, i) => {
          const at = ((r.chunkTimesMs[i] - t0) / 1000).toFixed(6);
          const p = redact(raw);
          const text = p.length > MAX_EVENT ? p.slice(0, MAX_EVENT) + `... (${p.length} chars)` : p;
          log(`request #${r.index} +${at}s event ${i}: ${text}`);
        });
        log(redact(
          `request #${r.index} ${r.success ? "ok" : "FAILED"} status ${r.status} ` +
            `latency ${m.latencyS.toFixed(6)}s` +
            (r.failure ? ` ${r.failure.kind}: ${r.failure.message}` : ""),
        ));
      }
    },
  };
}

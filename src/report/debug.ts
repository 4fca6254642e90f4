/**
 * `--debug`: each request's body and each response event with its time, logged after the request
 * finishes (never on the hot path). Headers are not logged; API keys never appear.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { FinishedRequest, ResultSink } from "../records/pipeline.ts";

const MAX_EVENT = 2000;

/** A sink that logs every request and response event. */
export function debugSink(log: Logger): ResultSink {
  return {
    write(batch: FinishedRequest[]) {
      for (const { record: r, metrics: m } of batch) {
        log(`request #${r.index} body: ${JSON.stringify(r.body)}`);
        const t0 = r.start;
        r.payloads.forEach((p, i) => {
          const at = ((r.chunkTimes[i] - t0) / 1000).toFixed(6);
          const text = p.length > MAX_EVENT ? p.slice(0, MAX_EVENT) + `... (${p.length} chars)` : p;
          log(`request #${r.index} +${at}s event ${i}: ${text}`);
        });
        log(
          `request #${r.index} ${r.success ? "ok" : "FAILED"} status ${r.status} ` +
            `latency ${m.latency.toFixed(6)}s` +
            (r.failure ? ` ${r.failure.kind}: ${r.failure.message}` : ""),
        );
      }
    },
  };
}

/**
 * A finished request made from a hand-built transport record, as a sending thread finishes it
 * (`finishRequest`), with the payloads and body kept on it: for tests of sinks.
 *
 * @module
 */
import { finishRequest } from "../../src/records/finish_request.ts";
import type { FinishedRequest } from "../../src/records/finished.ts";
import type { RequestRecord } from "../../src/records/record.ts";
import type { TokenCounts } from "../../src/plugins/types.ts";

/** `rec` finished, its counts those given (none: zero, from no source). */
export function finishedOf(
  rec: RequestRecord,
  opts: { counts?: TokenCounts; body?: string } = {},
): FinishedRequest {
  const api = {
    buildRequest: () => ({}),
    parseResponses: () => opts.counts ?? { promptTokens: 0, completionTokens: 0 },
  };
  const f = finishRequest(
    { api, needs: { payloads: true, bodyText: true } },
    rec,
    opts.body ?? "{}",
  );
  if (f instanceof Promise) throw new Error("finishing without a counter is synchronous");
  return f;
}

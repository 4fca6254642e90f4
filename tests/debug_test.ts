/**
 * `--debug`: each request's body with its send time, each response event with its arrival after
 * that, the outcome line, and the run's secrets scrubbed even where they sit in the body.
 */
import { assert, assertEquals } from "./assert.ts";
import { debugSink } from "../src/report/debug.ts";
import { newRecord } from "../src/records/record.ts";
import { finishedOf } from "./helpers/finished.ts";
import { REDACTED, Redactor, runSecrets } from "../src/redact.ts";

Deno.test("debug: body with send time, timed events, outcome; secrets scrubbed", async () => {
  const secrets = runSecrets({
    apiKey: "sk-SECRET-1234",
    wandbApiKey: "wb-SECRET-5678",
    headers: { Authorization: "Bearer tok-SECRET-9", "X-Team": "visible" },
  });
  assertEquals(secrets.includes("tok-SECRET-9") && !secrets.includes("visible"), true);
  const redactor = new Redactor(secrets);
  const rec = newRecord(7, true);
  const body = JSON.stringify({ model: "m", note: "key sk-SECRET-1234 tok-SECRET-9" });
  rec.timeOriginMs = Date.UTC(2026, 0, 2, 3, 4, 5);
  rec.startMs = 1000;
  rec.chunkTimesMs = [1012.5, 1020];
  rec.payloads = ['{"choices":[{"delta":{"content":"hi"}}]}', '{"usage":{}}'];
  rec.endMs = 1021;
  rec.status = 200;
  rec.success = true;
  const lines: string[] = [];
  await debugSink((l) => lines.push(l), (t) => redactor.text(t)).write([
    finishedOf(rec, { body }),
  ]);
  assertEquals(lines, [
    `request #7 body (sent 2026-01-02T03:04:06.000Z): {"model":"m","note":"key ${REDACTED} ${REDACTED}"}`,
    'request #7 +0.012500s event 0: {"choices":[{"delta":{"content":"hi"}}]}',
    'request #7 +0.020000s event 1: {"usage":{}}',
    "request #7 ok status 200 latency 0.021000s",
  ]);
  assert(lines.every((l) => !l.includes("SECRET")));
});

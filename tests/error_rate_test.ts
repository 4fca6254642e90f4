/**
 * `--max-error-rate`: the sliding window (the last 30 finished requests, checked once full,
 * cancellations not counted) by itself, and end to end against the mock failing half its
 * requests: a 20% limit stops the run early with the reason in the summary and exit code 3; a
 * 90% limit lets it finish.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { ERROR_WINDOW, ErrorRateGuard } from "../src/slo/error_rate.ts";
import type { FinishedRequest } from "../src/records/finished.ts";

function finished(kind: "ok" | "http" | "cancelled"): FinishedRequest {
  return {
    record: {
      success: kind === "ok",
      failure: kind === "ok" ? undefined : { kind, message: kind },
    },
  } as unknown as FinishedRequest;
}

Deno.test("error rate: fires once the window of 30 is full and above the limit, once", () => {
  const reasons: string[] = [];
  const g = new ErrorRateGuard(0.2, (r) => reasons.push(r));
  // 29 failures: the window is not full yet (one early failure never stops a run).
  g.write(Array.from({ length: ERROR_WINDOW - 1 }, () => finished("http")));
  assertEquals(reasons, []);
  g.write([finished("cancelled")]); // the run's own doing: not counted
  assertEquals(reasons, []);
  g.write([finished("ok")]);
  assertEquals(reasons, ["29 of the last 30 requests failed (96.7%), above --max-error-rate 20%"]);
  g.write([finished("http")]);
  assertEquals(reasons.length, 1, "once");

  // 24 good then 6 failures: 20%, not above the limit; one more failure slides a good one out
  // of the window: 7 of 30 (23.3%) stops it.
  const h = new ErrorRateGuard(0.2, (r) => reasons.push(r));
  h.write(Array.from({ length: 24 }, () => finished("ok")));
  h.write(Array.from({ length: 6 }, () => finished("http")));
  assertEquals(h.reason, undefined);
  h.write([finished("http")]);
  assertEquals(h.reason, "7 of the last 30 requests failed (23.3%), above --max-error-rate 20%");
});

Deno.test("error rate e2e: half the requests fail, --max-error-rate 20% stops early, exit 3", async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 2,
    itlMs: 0,
    outputTokens: 4,
    faults: { faults: [{ mode: "http-500", amount: 0.5 }], skip: 1, seed: 7 },
  });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 400, parallel: 4, maxErrorRate: "20%", noGpuTelemetry: true },
    });
    assertEquals(r.code, 3, r.stderr);
    const reason = r.summary["Stopped early"] as string;
    assert(/^\d+ of the last 30 requests failed \(.*\), above --max-error-rate 20%$/.test(reason));
    assert(r.stderr.includes(`stopping: ${reason}; no more requests are sent`), r.stderr);
    assert(r.stdout.includes(`Stopped early: ${reason}`), r.stdout);
    const total = r.summary["Total requests"] as number;
    assert(total >= 30 && total < 400, `stopped after ${total} of 400`);

    await using ok = await perfRun({
      server: mock,
      flags: { number: 100, parallel: 4, maxErrorRate: 0.9, noGpuTelemetry: true },
    });
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(ok.summary["Total requests"], 100);
    assertEquals(ok.summary["Stopped early"], undefined);
  } finally {
    await mock.close();
  }
});

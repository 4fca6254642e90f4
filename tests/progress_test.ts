/**
 * Progress: the running numbers from batches (with a fake clock), the log line every
 * `--log-every-n-query` requests off a terminal, the live line on one (drawn by a timer, cleared
 * around log lines, ended with a newline), and `--json` keeping stdout to one JSON document.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { perfArgs, perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import {
  formatDuration,
  formatProgressBar,
  formatProgressLine,
  ProgressDisplay,
  ProgressTracker,
} from "../src/report/progress.ts";

function done(ok: boolean, ttft = 0.1, tokens = 10): FinishedRequest {
  const metrics = { success: ok, ttftS: ttft, completionTokens: tokens } as RequestMetrics;
  return { metrics } as FinishedRequest;
}

Deno.test("progress tracker: done, failed, rate, remaining time, mean TTFT, output rate", () => {
  let now = 0;
  const t = new ProgressTracker({ total: 100, windowS: 10, now: () => now });
  t.start();
  now = 2000;
  t.write([done(true, 0.1), done(true, 0.3), done(false)]);
  now = 4000;
  t.write([done(true, 0.2), done(false)]);
  const p = t.snapshot();
  assertEquals([p.done, p.failed, p.total, p.elapsedS], [5, 2, 100, 4]);
  assertEquals(p.rate, 5 / 4);
  assertEquals(p.remainingS, 95 / (5 / 4));
  assertEquals(Math.round(p.meanTtftMs! * 1000) / 1000, 200);
  assertEquals(p.outputTokensPerS, 30 / 4);
  // Only the last 10 s count for the rate.
  now = 13_000;
  const later = t.snapshot();
  assertEquals(later.rate, 2 / 10);
  assertEquals(new ProgressTracker().snapshot().meanTtftMs, null);
});

Deno.test("progress formats: durations, the log line, the bar within the terminal width", () => {
  assertEquals([formatDuration(0), formatDuration(75), formatDuration(3725)], [
    "0:00",
    "1:15",
    "1:02:05",
  ]);
  const p = {
    done: 40,
    failed: 1,
    total: 100,
    elapsedS: 12,
    remainingS: 18,
    rate: 3.33,
    meanTtftMs: 123.45,
    outputTokensPerS: 512.3,
  };
  assertEquals(
    formatProgressLine(p),
    "40/100 requests done (40%), 1 failed, 0:12 elapsed, ~0:18 left, 3.3 req/s, " +
      "mean TTFT 123.5 ms, 512.3 output tok/s",
  );
  const bar = formatProgressBar(p, 140);
  assert(bar.startsWith("40/100 [############------------------]  40% |"), bar);
  assert(bar.includes("0:12, 0:18 left | 3.3 req/s | TTFT 123.5 ms | 512 tok/s | 1 failed"), bar);
  assert(formatProgressBar(p, 60).length <= 60);
  const open = formatProgressBar({ ...p, total: undefined, remainingS: null }, 140);
  assert(open.startsWith("40 done | 0:12 | "), open);
});

Deno.test("progress display, log mode: one line each time --log-every-n-query requests pass", () => {
  const lines: string[] = [];
  const t = new ProgressTracker({ total: 12 });
  const d = new ProgressDisplay(t, { mode: "log", every: 5, log: (l) => lines.push(l) });
  const sinks = [t, d];
  for (const n of [3, 3, 1, 5]) {
    const batch = Array.from({ length: n }, () => done(true));
    for (const s of sinks) s.write(batch);
  }
  assertEquals(lines.map((l) => l.split(" requests")[0]), ["6/12", "12/12"]);
  d.close();
});

Deno.test("progress display, bar mode: timer redraws, logs clear the line, close ends it", async () => {
  const out: string[] = [];
  const logged: string[] = [];
  const t = new ProgressTracker({ total: 4 });
  const d = new ProgressDisplay(t, {
    mode: "bar",
    every: 1,
    log: (l) => logged.push(l),
    write: (s) => out.push(s),
    columns: () => 120,
    intervalMs: 10,
  });
  d.start();
  t.write([done(true), done(true)]);
  d.write();
  await new Promise((r) => setTimeout(r, 60));
  assert(out.length >= 3, `timer redraws (${out.length})`);
  assert(out.every((s) => s.startsWith("\r\x1b[2K")), "each draw clears the line");
  assert(out.at(-1)!.includes("2/4 ["), out.at(-1));
  assertEquals(logged, [], "bar mode logs no progress lines");
  const log = d.wrapLogger((l) => {
    out.push(`LOG:${l}`);
  });
  const before = out.length;
  log("hello");
  assertEquals(out[before], "\r\x1b[2K", "the line is cleared before the log line");
  assertEquals(out[before + 1], "LOG:hello");
  assert(out[before + 2].includes("2/4"), "and redrawn after it");
  d.close();
  assertEquals(out.at(-1), "\n", "the last draw is ended by a newline");
  const n = out.length;
  await new Promise((r) => setTimeout(r, 40));
  assertEquals(out.length, n, "no draws after close");
});

Deno.test("progress CLI: off a terminal, log lines every n; --json prints only JSON", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 20, parallel: 2, stream: true, logEveryNQuery: 5, json: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const counts = [...r.stderr.matchAll(/INFO: (\d+)\/20 requests done \(\d+%\), (\d+) failed, /g)]
      .map((m) => Number(m[1]));
    assert(counts.length >= 2 && counts.at(-1) === 20, r.stderr);
    assert(counts.every((c, i) => i === 0 || c > counts[i - 1]), `increasing: ${counts}`);
    // Every 5: each line comes once 5 more requests have passed (a batch may pass several).
    const fives = counts.map((c) => Math.floor(c / 5));
    assert(fives.every((f, i) => f > (i === 0 ? 0 : fives[i - 1])), `a line per 5: ${counts}`);
    assert(r.stderr.includes("elapsed") && r.stderr.includes("output tok/s"), r.stderr);
    assert(!r.stderr.includes("\x1b[2K"), "no live line off a terminal");
    const out = JSON.parse(r.stdout);
    assertEquals(out.summary["Total requests"], 20);
    assertEquals(out.requestPercentiles.length, 10);
    assert(typeof out.outputDir === "string");
    assert(!r.stdout.includes("Benchmarking summary"), "no tables with --json");
  } finally {
    await mock.close();
  }
});

const HAS_SCRIPT = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "progress CLI: on a terminal (a pty from script(1)), a live line instead of log lines",
  ignore: !HAS_SCRIPT || Deno.build.os !== "linux",
  async fn() {
    const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 5, outputTokens: 8 });
    await using tmp = await tempDir();
    try {
      const args = perfArgs({
        server: mock,
        flags: { number: 30, parallel: 2, stream: true, logEveryNQuery: 5 },
      });
      const cmd = [Deno.execPath(), "run", "-A", `${ROOT_DIR}/main.ts`, ...args, "--outputs-dir"]
        .concat(tmp.path).map((a) => `'${a}'`).join(" ");
      const out = await new Deno.Command("script", {
        args: ["-qefc", `${cmd} 2>&1 >/dev/null`, "/dev/null"],
        env: { NO_COLOR: "1", TERM: "xterm" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, text);
      assert(text.includes("\r\x1b[2K"), "the live line is redrawn in place");
      assert(/30\/30 \[#+\] 100% \|/.test(text), text.slice(-400));
      assert(!/\d+\/30 requests done/.test(text), "no progress log lines on a terminal");
    } finally {
      await mock.close();
    }
  },
});

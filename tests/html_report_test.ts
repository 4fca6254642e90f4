/**
 * `report.html`: bounded chart data for a 100k-request run (samples, doubling time buckets,
 * thinned timeline), the series' arithmetic, and the real page in headless Chromium (Debian's
 * `chromium`, driven by playwright-core): it loads offline with no console errors, fetches
 * nothing, and every chart draws; screenshots go to `outputs/test-screenshots/` (not committed).
 * The Chromium test is skipped where /usr/bin/chromium is missing, except in CI (`CI` set),
 * where `.ci/run` installs it.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { cdf, histogram, Reservoir } from "../src/report/html/distribution.ts";
import { TimeBuckets } from "../src/report/html/timeseries.ts";
import { ReportDataSink } from "../src/report/html/data.ts";
import { escapeHtml, renderRunReport } from "../src/report/html/page.ts";
import { UPLOT_JS } from "../src/report/html/uplot.ts";

Deno.test("distributions: histogram bins, CDF points, reservoir bounded and exact below capacity", () => {
  const h = histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5);
  assertEquals(h.counts, [2, 2, 2, 2, 2]);
  assertEquals(h.edges, [0, 2, 4, 6, 8]);
  assertEquals(histogram([3, 3, 3]).counts, [3]);
  const c = cdf([1, 2, 3, 4, 5], 4);
  assertEquals(c, { x: [1, 2, 3, 4, 5], p: [0, 25, 50, 75, 100] });
  const r = new Reservoir(100);
  for (let i = 0; i < 50; i++) r.add(i);
  assertEquals(r.values().length, 50);
  for (let i = 50; i < 100_000; i++) r.add(i);
  assertEquals([r.values().length, r.seen], [100, 100_000]);
  const mean = r.values().reduce((a, b) => a + b, 0) / 100;
  assert(mean > 30_000 && mean < 70_000, `a uniform sample (mean ${mean})`);
});

Deno.test("distributions: the reservoir's sample is uniform over the stream, and reproducible", () => {
  // 2,000 of 1,000,000 values: each tenth of the stream should hold a tenth of the sample (200,
  // binomial sd ~13); over 20 seeds, each tenth's total is 4,000 with sd ~60.
  const totals = new Array(10).fill(0);
  for (let seed = 1; seed <= 20; seed++) {
    const r = new Reservoir(2_000, seed);
    for (let i = 0; i < 1_000_000; i++) r.add(i);
    const tenths = new Array(10).fill(0);
    for (const v of r.values()) tenths[Math.floor(v / 100_000)]++;
    for (const [i, n] of tenths.entries()) {
      assert(n > 130 && n < 270, `seed ${seed}: tenth ${i} holds ${n} of 2,000`);
      totals[i] += n;
    }
    assertEquals(new Set(r.values()).size, 2_000, "no value kept twice");
  }
  for (const t of totals) assert(t > 3_750 && t < 4_250, `a tenth holds ${t} of 40,000`);
  const again = (seed: number) => {
    const r = new Reservoir(50, seed);
    for (let i = 0; i < 10_000; i++) r.add(i);
    return [...r.values()];
  };
  assertEquals(again(7), again(7));
});

Deno.test("distributions: addAll keeps the same sample as adding each value, arrays and typed arrays", () => {
  const values = Array.from({ length: 5_000 }, (_, i) => (i * 7919) % 5_003);
  const one = new Reservoir(300, 3);
  for (const v of values) one.add(v);
  const all = new Reservoir(300, 3);
  all.addAll(values.slice(0, 2_000));
  all.addAll(Float64Array.from(values.slice(2_000)));
  all.addAll([NaN, Infinity]); // skipped, as add skips them
  assertEquals([all.seen, [...all.values()]], [one.seen, [...one.values()]]);
  assertEquals(all.seen, 5_000);
});

Deno.test("time buckets: throughput and in-flight sums are exact; width doubles when outgrown", () => {
  const b = new TimeBuckets(8, 1);
  b.add(0, 1, 2, 100, true); // 100 tokens over [1, 2]
  b.add(1, 1.5, 3, 30, true);
  b.add(2.5, 3, 3, 0, false);
  let s = b.series();
  assertEquals(s.bucketS, 1);
  assertEquals(s.t, [0, 1, 2, 3]);
  assertEquals(s.outputTokensPerS.slice(0, 3), [0, 100 + 10, 20]);
  assertEquals(s.inFlight.slice(0, 3), [1, 2, 1.5]);
  assertEquals(s.requestsPerS.slice(0, 3), [0, 0, 1]);
  b.add(10, 11, 20, 10, true); // outgrows 8 × 1 s: buckets of 4 s
  s = b.series();
  assertEquals(s.bucketS, 4);
  const tokens = s.outputTokensPerS.reduce((a, v, i) => a + v * (i === s.t.length - 1 ? 0 : 4), 0);
  assertAlmostEquals(tokens + s.outputTokensPerS.at(-1)! * (20 - 16), 140, 1e-9, "tokens kept");
});

function fake(i: number): FinishedRequest {
  const start = 1_000 + i * 0.01;
  const ok = i % 50 !== 0;
  const metrics = {
    index: i,
    success: ok,
    stream: true,
    startEpochS: start,
    completedEpochS: start + 1.5,
    latencyS: 1.5,
    ttftS: 0.2 + (i % 7) * 0.01,
    tpotS: 0.01,
    itlS: Array.from({ length: 20 }, () => 0.01),
    completionTokens: 21,
  } as unknown as RequestMetrics;
  return { metrics } as FinishedRequest;
}

Deno.test("report data: a 100k-request run keeps bounded samples, buckets and timeline rows", () => {
  const sink = new ReportDataSink({ origin: 1_000 });
  for (let i = 0; i < 100_000; i += 500) {
    sink.write(Array.from({ length: 500 }, (_, k) => fake(i + k)));
  }
  const c = sink.charts();
  assertEquals(c.distributions.ttft.count, 98_000);
  assert(c.distributions.ttft.sampled && c.distributions.itl.sampled);
  assertEquals(c.distributions.itl.count, 98_000 * 20);
  assertEquals(c.distributions.itl.histogram.counts.reduce((a, b) => a + b, 0), 20_000);
  assert(c.series.t.length <= 512 && c.series.t.length >= 256, `${c.series.t.length} buckets`);
  const inflight = c.series.inFlight.slice(10, -10);
  const mean = inflight.reduce((a, b) => a + b, 0) / inflight.length;
  assertAlmostEquals(mean, 150, 3, "1.5 s requests started every 10 ms: 150 in flight");
  assert(c.timeline.start.length <= 2000 && c.timeline.start.length >= 1000);
  assertEquals(c.timeline.total, 100_000);
  assert(c.timeline.start.every((s, i) => i === 0 || s >= c.timeline.start[i - 1]), "sorted");
  const html = renderRunReport({
    name: "big <run>",
    createdAt: new Date(0),
    settings: { model: "m", parallel: 150 },
    summary: { "Total requests": 100_000 },
    requestSummary: {},
    requestPercentiles: [],
    failures: { http: 2000 },
    interrupted: false,
    charts: c,
  });
  assert(html.length < UPLOT_JS.length + 400_000, `report of ${html.length} chars`);
  assert(html.includes("llmperf report: big &#60;run&#62;"), "names are escaped");
  assert(!/<script[^>]+src=/.test(html) && !/<link[^>]+href=/.test(html), "nothing external");
  assertEquals(escapeHtml(`<a href="x">'&`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;");
});

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

interface PageCheck {
  errors: string[];
  requests: string[];
  charts: Array<{ id: string; points: number; inked: number }>;
  containers: number;
}

/** Each drawn chart's id, data points, and non-transparent pixels on its canvas. */
const INK = `globalThis.llmperfCharts.map(({ id, points }) => {
  const canvas = document.querySelector("#" + id + " canvas");
  let inked = 0;
  if (canvas) {
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) inked++;
  }
  return { id, points, inked };
})`;

/** Open `file` offline in headless Chromium; report errors, requests and each chart's ink. */
async function openInChromium(file: string, screenshot: string): Promise<PageCheck> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${file}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 20_000 });
    // Page-side code as text: this file is type-checked without the DOM library.
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(null)))");
    const charts = await page.evaluate(INK) as PageCheck["charts"];
    const containers = await page.evaluate('document.querySelectorAll(".chart").length') as number;
    await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, requests, charts, containers };
  } finally {
    await browser.close();
  }
}

Deno.test({
  name: "report.html in headless Chromium: loads offline, no console errors, every chart draws",
  ignore: !HAS_CHROMIUM && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const mock = startMockServer({ port: 0, ttftMs: 30, itlMs: 3, outputTokens: 10 });
    const shots = `${ROOT_DIR}/outputs/test-screenshots`;
    await Deno.mkdir(shots, { recursive: true });
    try {
      await using r = await perfRun({
        server: mock,
        telemetry: true,
        flags: {
          prompt: "tell me a story",
          stream: true,
          parallel: [2, 4],
          number: [10, 40],
          name: "html",
          slo: "ttft_p99<60s",
          sleepInterval: 0,
        },
      });
      assertEquals(r.code, 0, r.stderr);
      const run = await openInChromium(
        `${r.outputs}/html/parallel_4_number_40/report.html`,
        `${shots}/run_report.png`,
      );
      assertEquals(run.errors, []);
      assertEquals(run.requests, [], "the page fetches nothing");
      // 11 of the client's, and 2 of the mock's /metrics (server requests, KV cache).
      assertEquals(run.containers, 13);
      assertEquals(run.charts.length, 13, "every chart container has a drawn chart");
      for (const c of run.charts) {
        assert(c.points > 0, `${c.id} has data`);
        assert(c.inked > 500, `${c.id} drew (${c.inked} pixels)`);
      }
      const sweep = await openInChromium(
        `${r.outputs}/html/report.html`,
        `${shots}/sweep_report.png`,
      );
      assertEquals(sweep.errors, []);
      assertEquals(sweep.requests, []);
      assertEquals(sweep.containers, 4);
      assertEquals(sweep.charts.map((c) => [c.id, c.points]), [
        ["chart-sweep-ttft", 2],
        ["chart-sweep-tpot", 2],
        ["chart-sweep-latency", 2],
        ["chart-sweep-rate", 2],
      ]);
      for (const c of sweep.charts) assert(c.inked > 500, `${c.id} drew (${c.inked} pixels)`);
    } finally {
      await mock.close();
    }
  },
});

Deno.test({
  name:
    "report.html in headless Chromium: a sweep with --repeat draws error bars, each repeat report its runs",
  ignore: !HAS_CHROMIUM && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 2, outputTokens: 6 });
    const shots = `${ROOT_DIR}/outputs/test-screenshots`;
    await Deno.mkdir(shots, { recursive: true });
    try {
      await using r = await perfRun({
        server: mock,
        flags: {
          stream: true,
          parallel: [1, 2],
          number: [6, 12],
          repeat: 2,
          sleepInterval: 0,
          name: "htmlrep",
        },
      });
      assertEquals(r.code, 0, r.stderr);
      const sweep = await openInChromium(
        `${r.outputs}/htmlrep/report.html`,
        `${shots}/sweep_repeat_report.png`,
      );
      assertEquals(sweep.errors, []);
      assertEquals(sweep.charts.map((c) => [c.id, c.points]), [
        ["chart-sweep-ttft", 2],
        ["chart-sweep-tpot", 2],
        ["chart-sweep-latency", 2],
        ["chart-sweep-rate", 2],
      ]);
      const html = await Deno.readTextFile(`${r.outputs}/htmlrep/report.html`);
      assert(html.includes('"ci":{"requestThroughput":['), "the points carry their CIs");
      const rep = await openInChromium(
        `${r.outputs}/htmlrep/parallel_2_number_12/report.html`,
        `${shots}/repeat_report.png`,
      );
      assertEquals(rep.errors, []);
      assert(rep.charts.length >= 10, `${rep.charts.length} run-by-run charts`);
      for (const c of rep.charts) {
        assertEquals(c.points, 2, c.id);
        assert(c.inked > 300, `${c.id} drew (${c.inked} pixels)`);
      }
    } finally {
      await mock.close();
    }
  },
});

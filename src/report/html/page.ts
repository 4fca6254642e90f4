/**
 * `report.html`: one self-contained page per run (and per sweep) with the summary tables and the
 * charts, uPlot and the drawing script inline and the data as JSON, so it opens offline from disk
 * or as an e-mail attachment. Nothing on the page is fetched.
 *
 * @module
 */
import type { PercentileRow, Summary } from "../../metrics/collector.ts";
import type { SloReport } from "../../slo/evaluate.ts";
import type { SweepRow } from "../../results/sweep.ts";
import type { RunCharts } from "./data.ts";
import type { TelemetryData } from "../../telemetry/types.ts";
import { telemetryCharts } from "./telemetry_charts.ts";
import { UPLOT_CSS, UPLOT_JS } from "./uplot.ts";
import pageScript from "./page_script.js" with { type: "text" };

/** What a run's report shows. */
export interface RunReportInput {
  /** Run name. */
  name: string;
  /** When the report was made. */
  createdAt: Date;
  /** The run's settings, secrets already redacted (as in `benchmark_args.json`). */
  settings: Record<string, unknown>;
  /** evalscope's summary rows. */
  summary: Summary;
  /** The per-request summary (throughputs, means, goodput). */
  requestSummary: Summary;
  /** Per-request percentile rows. */
  requestPercentiles: PercentileRow[];
  /** Failed requests by kind. */
  failures: Record<string, number>;
  /** The SLO check, when `--slo` was given. */
  slo?: SloReport;
  /** Whether the run was interrupted. */
  interrupted: boolean;
  /** The charts' data. */
  charts: RunCharts;
  /** The server's side from its `/metrics` (when scraped). */
  serverSummary?: Summary;
  /** The server's and the GPUs' series (when recorded). */
  telemetry?: TelemetryData;
  /** Why the run stopped early (`--max-error-rate`), when it did. */
  stoppedEarly?: string;
}

/** What a sweep's report shows. */
export interface SweepReportInput {
  /** Sweep name. */
  name: string;
  /** When the report was made. */
  createdAt: Date;
  /** The sweep's shared settings, secrets redacted. */
  settings: Record<string, unknown>;
  /** One row per point, in run order. */
  rows: SweepRow[];
}

/** HTML-escape text. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A value as table-cell text: rounded numbers, escaped text, `n/a` for none. */
export function cell(v: unknown, digits = 3): string {
  if (v === null || v === undefined) return "n/a";
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : String(Math.round(v * 10 ** digits) / 10 ** digits);
  }
  if (typeof v === "object") return escapeHtml(JSON.stringify(v));
  return escapeHtml(String(v));
}

/** An HTML table of `rows` under `headers`. */
export function table(headers: string[], rows: unknown[][]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A chart's figure: its title and the container the page script draws into. */
export function chart(id: string, title: string): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
    `<div class="chart" id="${id}"></div></figure>`;
}

/** JSON safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script");
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #0f172a; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #475569; margin-bottom: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #cbd5e1; padding: 3px 8px; text-align: right; }
th { background: #f1f5f9; } td:first-child, th:first-child { text-align: left; }
.pass { color: #15803d; font-weight: 600; } .fail { color: #b91c1c; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.chart { min-height: 260px; } .chart.empty { color: #94a3b8; padding: 20px; }
.wide { grid-column: 1 / -1; }
.note { color: #64748b; font-size: 12px; }
details { margin: 8px 0; }
`;

/** A whole self-contained page: styles, `body`, the data as JSON, uPlot and the page script. */
export function page(title: string, body: string, data: unknown): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${UPLOT_CSS}</style>
<style>${STYLE}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${inlineScript(UPLOT_JS)}</script>
<script>${inlineScript(pageScript)}</script>
</body>
</html>
`;
}

function sloSection(slo: SloReport | undefined): string {
  if (!slo) return "";
  const rows = slo.goals.map((g) => [
    g.goal,
    g.value === null ? null : `${cell(g.value)}${g.unit}`,
    g.passed ? "pass" : "FAIL",
  ]);
  const t = table(["Goal", "Measured", "Result"], rows)
    .replace(/<td>pass<\/td>/g, '<td class="pass">pass</td>')
    .replace(/<td>FAIL<\/td>/g, '<td class="fail">FAIL</td>');
  return `<h2>SLO: <span class="${slo.passed ? "pass" : "fail"}">${
    slo.passed ? "all goals met" : "some goals failed"
  }</span></h2>\n${t}\n<p>Goodput: ${cell(slo.goodput)} req/s (${slo.goodRequests} requests ` +
    "met every per-request goal)</p>";
}

/** The settings, folded. */
export function settingsSection(settings: Record<string, unknown>): string {
  const rows = Object.entries(settings).map(([k, v]) => [k, v]);
  return `<details><summary>Settings</summary>${table(["Setting", "Value"], rows)}</details>`;
}

/** The server's summary and charts, when its `/metrics` was scraped. */
function serverSection(summary: Summary | undefined, charts: boolean): string {
  if (!summary && !charts) return "";
  const rows = Object.entries(summary ?? {}).map(([k, v]) => [k, v]);
  return `<h2>Server metrics</h2>
${rows.length > 0 ? table(["Metric", "Value"], rows) : ""}
<p class="note">From the server's /metrics, scraped once a second: counts and histograms are the
change from the first scrape (before the load) to the last (after it). The TTFT mean is exact
(sum / count); its percentiles are interpolated inside the server's histogram buckets, as
Prometheus' histogram_quantile does, and are only as fine as those buckets. The client's TTFT
minus the server's is the network, HTTP and client time.</p>
${
    charts
      ? `<div class="grid">
${chart("chart-server-requests", "Server running and waiting requests, and the client's in flight")}
${chart("chart-server-cache", "Server KV-cache use and prefix-cache hit rate (%)")}
</div>`
      : ""
  }`;
}

/** This host's GPUs, when a GPU tool was read. */
function gpuSection(gpu: { tool: string; gpus: unknown[] } | undefined): string {
  if (!gpu) return "";
  return `<h2>GPUs (${escapeHtml(gpu.tool)}, ${gpu.gpus.length} on this host)</h2>
<div class="grid">
${chart("chart-gpu-util", "GPU utilisation (%)")}
${chart("chart-gpu-memory", "GPU memory used (GiB)")}
${chart("chart-gpu-power", "GPU power (W)")}
${chart("chart-gpu-clock", "SM clock (MHz)")}
</div>`;
}

/** The run report's HTML. */
export function renderRunReport(r: RunReportInput): string {
  const s = r.settings;
  const meta = [
    `model ${cell(s.model)}`,
    `parallel ${cell(s.parallel)}`,
    s.rate !== undefined && s.rate !== -1 ? `rate ${cell(s.rate)} req/s` : "",
    `${cell(r.summary["Total requests"])} requests`,
    r.createdAt.toISOString(),
    r.interrupted ? "<b>interrupted</b>" : "",
    r.stoppedEarly ? `<b>stopped early: ${escapeHtml(r.stoppedEarly)}</b>` : "",
  ].filter((x) => x !== "").join(" · ");
  const tc = telemetryCharts(r.telemetry, r.charts.originEpochS, r.charts.series);
  const summaryRows = Object.entries(r.requestSummary).map(([k, v]) => [k, v]);
  for (const k of ["Succeed requests", "Failed requests"]) summaryRows.push([k, r.summary[k]]);
  const pctHeaders = r.requestPercentiles.length > 0 ? Object.keys(r.requestPercentiles[0]) : [];
  const failures = Object.entries(r.failures);
  const t = r.charts.timeline;
  const body = `
<h1>llmperf report: ${escapeHtml(r.name)}</h1>
<div class="meta">${meta}</div>
<h2>Summary</h2>
${table(["Metric", "Value"], summaryRows)}
${sloSection(r.slo)}
<h2>Per-request percentiles</h2>
${
    pctHeaders.length > 0
      ? table(pctHeaders, r.requestPercentiles.map((row) => pctHeaders.map((h) => row[h])))
      : "<p>No successful requests.</p>"
  }
${failures.length > 0 ? `<h2>Failures</h2>\n${table(["Reason", "Requests"], failures)}` : ""}
<h2>Distributions</h2>
<div class="grid">
${chart("chart-ttft-hist", "TTFT histogram (ms)")}
${chart("chart-ttft-cdf", "TTFT CDF (ms)")}
${chart("chart-tpot-hist", "TPOT histogram (ms)")}
${chart("chart-tpot-cdf", "TPOT CDF (ms)")}
${chart("chart-itl-hist", "ITL histogram (ms)")}
${chart("chart-itl-cdf", "ITL CDF (ms)")}
${chart("chart-latency-hist", "Latency histogram (s)")}
${chart("chart-latency-cdf", "Latency CDF (s)")}
</div>
<p class="note">Distributions of successful requests${
    r.charts.distributions.itl.sampled || r.charts.distributions.ttft.sampled
      ? "; drawn from a uniform sample of the values (the tables above use all of them)"
      : ""
  }.</p>
<h2>Over time</h2>
<div class="grid">
${chart("chart-throughput", "Throughput")}
${chart("chart-inflight", "Requests in flight")}
</div>
<p class="note">Buckets of ${cell(r.charts.series.bucketS)} s; each request's output tokens are
spread evenly from its first token to its end.</p>
${serverSection(r.serverSummary, tc.server !== undefined)}
${gpuSection(tc.gpu)}
<h2>Per-request timeline</h2>
<div class="grid">
<div class="wide">${
    chart(
      "chart-timeline",
      "Requests (grey: waiting for the first token, blue: " +
        "streaming, red: failed)",
    )
  }</div>
</div>
<p class="note">${
    t.start.length < t.total
      ? `${t.start.length} of ${t.total} requests, evenly thinned in completion order.`
      : `All ${t.total} requests.`
  }</p>
${settingsSection(r.settings)}
`;
  return page(`llmperf: ${r.name}`, body, { kind: "run", charts: r.charts, telemetry: tc });
}

/** The sweep report's HTML: the comparison table, curves across points, links to each point. */
export function renderSweepReport(r: SweepReportInput): string {
  const headers = [
    "Point",
    "Parallel",
    "Number",
    "Rate",
    "Req/s",
    "Output tok/s",
    "TTFT p50 (ms)",
    "TTFT p99 (ms)",
    "TPOT p50 (ms)",
    "TPOT p99 (ms)",
    "Latency p50 (s)",
    "Latency p99 (s)",
    "Succeeded",
    "Failed",
    "Goodput (req/s)",
    "SLO",
  ];
  const rows = r.rows.map((p) => [
    p.point,
    p.parallel,
    p.number,
    p.rate === -1 ? "max" : p.rate,
    p.requestThroughput,
    p.outputThroughput,
    p.ttftP50,
    p.ttftP99,
    p.tpotP50,
    p.tpotP99,
    p.latencyP50,
    p.latencyP99,
    p.succeeded,
    p.failed,
    p.goodput,
    p.sloPassed === null ? "" : p.sloPassed ? "pass" : "FAIL",
  ]);
  const links = r.rows.map((p) =>
    `<li><a href="${encodeURI(p.folder)}/report.html">${escapeHtml(p.point)}</a></li>`
  ).join("\n");
  const body = `
<h1>llmperf sweep: ${escapeHtml(r.name)}</h1>
<div class="meta">model ${
    cell(r.settings.model)
  } · ${r.rows.length} points · ${r.createdAt.toISOString()}</div>
<h2>Comparison</h2>
${table(headers, rows)}
${
    r.rows.some((p) => p.repeats !== undefined)
      ? `<p class="note">Each point ran ${
        r.rows[0].repeats
      } times (--repeat): the numbers are the runs' means; the charts' error bars are their 95%
confidence intervals (Student t), in sweep_summary.json as <code>ci</code>; each point's report
has its runs.</p>`
      : ""
  }
<h2>Throughput versus latency</h2>
<div class="grid">
${chart("chart-sweep-ttft", "TTFT against output throughput")}
${chart("chart-sweep-tpot", "TPOT against output throughput")}
${chart("chart-sweep-latency", "Latency against output throughput")}
${chart("chart-sweep-rate", "Request throughput and goodput by point")}
</div>
<h2>Each point's report</h2>
<ul>
${links}
</ul>
${settingsSection(r.settings)}
`;
  return page(`llmperf sweep: ${r.name}`, body, { kind: "sweep", points: r.rows });
}

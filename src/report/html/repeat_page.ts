/**
 * The `report.html` of a repeated point (`--repeat N`): each metric's mean, standard deviation,
 * 95% confidence interval and coefficient of variation, each run's value, a chart of the key
 * metrics run by run with their mean and interval, and links to each run's own report.
 *
 * @module
 */
import { REPEAT_TABLE_METRICS, type RepeatSummary } from "../../results/repeat.ts";
import { cell, chart, escapeHtml, page, settingsSection, table } from "./page.ts";

/** What a repeat report shows. */
export interface RepeatReportInput {
  /** Name of the repeated point. */
  name: string;
  /** When the report was made. */
  createdAt: Date;
  /** The settings, secrets redacted. */
  settings: Record<string, unknown>;
  /** The spread of every metric. */
  summary: RepeatSummary;
}

/** The repeat report's HTML. */
export function renderRepeatReport(r: RepeatReportInput): string {
  const s = r.summary;
  const pct = (v: number | null) => (v === null ? null : `${cell(v * 100, 2)}%`);
  const rows = Object.entries(s.metrics).map(([k, m]) => [
    k,
    m.mean,
    m.stdev,
    m.ciLow === null ? null : `${cell(m.ciLow)} .. ${cell(m.ciHigh)}`,
    pct(m.cv),
    ...m.values,
  ]);
  const runHeaders = s.runs.map((_, i) => `run ${i + 1}`);
  const links = s.runs.map((run, i) =>
    `<li><a href="${encodeURI(run.folder)}/report.html">run ${i + 1}</a>${
      run.stoppedEarly ? ` (stopped early: ${escapeHtml(run.stoppedEarly)})` : ""
    }${run.interrupted ? " (interrupted)" : ""}${
      run.sloPassed === false ? ' <span class="fail">SLO failed</span>' : ""
    }</li>`
  ).join("\n");
  const shown = REPEAT_TABLE_METRICS.filter((k) => s.metrics[k] && s.metrics[k].n > 0);
  const body = `
<h1>llmperf repeats: ${escapeHtml(r.name)}</h1>
<div class="meta">model ${
    cell(r.settings.model)
  } · ${s.repeats} runs of the same point · ${r.createdAt.toISOString()}</div>
<h2>Across the runs</h2>
<p class="note">Mean, sample standard deviation, 95% confidence interval of the mean (Student t
with ${Math.max(0, s.repeats - 1)} degrees of freedom: mean ± t · s / √n) and coefficient of
variation (s / mean). With few runs the interval is wide: that is what they can tell.</p>
${table(["Metric", "Mean", "Std dev", "95% CI", "CV", ...runHeaders], rows)}
<h2>Run by run</h2>
<div class="grid">
${shown.map((k, i) => chart(`chart-repeat-${i}`, k)).join("\n")}
</div>
<h2>Each run's report</h2>
<ul>
${links}
</ul>
${settingsSection(r.settings)}
`;
  const charts = shown.map((k, i) => ({ id: `chart-repeat-${i}`, metric: k, ...s.metrics[k] }));
  return page(`llmperf repeats: ${r.name}`, body, { kind: "repeat", charts });
}

/**
 * The Prometheus text parser and histogram arithmetic: escapes, special values, timestamps,
 * OpenMetrics exemplars and `# EOF`, bad lines skipped rather than fatal, the filter of known
 * families, histograms summed over label sets, the delta of two scrapes, and quantiles computed
 * as Prometheus' `histogram_quantile` does (worked by hand below).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { familyOf, parsePrometheusText } from "../src/telemetry/prometheus_text.ts";
import {
  histogramDelta,
  histogramMean,
  histogramOf,
  histogramQuantile,
} from "../src/telemetry/histogram.ts";
import { sampleFilter, serverKind } from "../src/telemetry/server_families.ts";
import { ServerScraper } from "../src/telemetry/server_scraper.ts";
import { serverSummary } from "../src/telemetry/server_summary.ts";

/** A vLLM 0.11 page, cut down: two engines, labelled histograms, counters with _created. */
const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-8B"} 3.0
vllm:num_requests_running{engine="1",model_name="Qwen/Qwen3-8B"} 5.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 2.0
vllm:num_requests_waiting{engine="1",model_name="Qwen/Qwen3-8B"} 0.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="Qwen/Qwen3-8B"} 0.75
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="Qwen/Qwen3-8B"} 1000.0
vllm:prefix_cache_queries_created{engine="0",model_name="Qwen/Qwen3-8B"} 1.7591e+09
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="Qwen/Qwen3-8B"} 400.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.25",model_name="Qwen/Qwen3-8B"} 6.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-8B"} 8.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="Qwen/Qwen3-8B"} 8.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="Qwen/Qwen3-8B"} 1.6
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.25",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_count{engine="1",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_sum{engine="1",model_name="Qwen/Qwen3-8B"} 0.1
# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 12345.0
`;

Deno.test("prometheus text: labels with escapes, special values, timestamps, exemplars, EOF", () => {
  const text = [
    'a{path="C:\\\\x",msg="say \\"hi\\"\\nbye",} 1.5 1700000000000',
    "b NaN",
    "c +Inf",
    "d -Inf",
    'e_total{k="v"} 7 # {trace_id="abc"} 1.0 1700000000.1',
    "f_created 1.7e9",
    "this line is { not a sample",
    'g{k="unterminated} 1',
    "h",
    "# EOF",
    "i 1",
  ].join("\r\n");
  const { samples, bad } = parsePrometheusText(text);
  assertEquals(samples.map((s) => s.name), ["a", "b", "c", "d", "e_total"]);
  assertEquals(samples[0].labels, { path: "C:\\x", msg: 'say "hi"\nbye' });
  assertEquals(samples[0].value, 1.5);
  assert(Number.isNaN(samples[1].value));
  assertEquals([samples[2].value, samples[3].value, samples[4].value], [Infinity, -Infinity, 7]);
  assertEquals(bad, 3, "three bad lines, skipped; the scrape survives");
  assertEquals(
    familyOf("vllm:time_to_first_token_seconds_bucket"),
    "vllm:time_to_first_token_seconds",
  );
  assertEquals(familyOf("vllm:num_requests_running"), "vllm:num_requests_running");
});

Deno.test("server families: the known ones are kept, others only when asked for", () => {
  const keep = sampleFilter();
  const { samples, types } = parsePrometheusText(VLLM, keep);
  assert(!samples.some((s) => s.name.startsWith("python_")), "unknown families are dropped");
  assert(!samples.some((s) => s.name.endsWith("_created")), "_created is never kept");
  assertEquals(types.get("vllm:time_to_first_token_seconds"), "histogram");
  assertEquals(serverKind(samples.map((s) => s.name)), "vLLM");
  const all = parsePrometheusText(VLLM, sampleFilter(["python_gc*"])).samples;
  assert(all.some((s) => s.name === "python_gc_objects_collected_total"));
  assertEquals(parsePrometheusText(VLLM, sampleFilter(["*"])).samples.length, samples.length + 1);
  assert(sampleFilter()("sglang:num_queue_reqs") && sampleFilter()("tgi_queue_size"));
});

Deno.test("histogram: label sets summed; Prometheus' histogram_quantile by hand", () => {
  const h = histogramOf(parsePrometheusText(VLLM).samples, "vllm:time_to_first_token_seconds")!;
  // Engines summed: le 0.1 → 4, 0.25 → 8, +Inf → 10; sum 1.7, count 10.
  assertEquals(h.le, [0.1, 0.25, Infinity]);
  assertEquals(h.counts, [4, 8, 10]);
  assertAlmostEquals(h.sum, 1.7, 1e-12);
  assertEquals(h.count, 10);
  assertAlmostEquals(histogramMean(h)!, 0.17, 1e-12);
  // p50: rank 5 falls in (0.1, 0.25] which holds 4 (ranks 4..8): 0.1 + 0.15 · (5−4)/4 = 0.1375.
  assertAlmostEquals(histogramQuantile(0.5, h)!, 0.1375, 1e-12);
  // p25: rank 2.5 in the first bucket, from 0: 0.1 · 2.5/4 = 0.0625.
  assertAlmostEquals(histogramQuantile(0.25, h)!, 0.0625, 1e-12);
  // p99: rank 9.9 is in +Inf: the highest finite bound.
  assertEquals(histogramQuantile(0.99, h), 0.25);
  assertEquals(
    histogramQuantile(0.5, { le: [1, Infinity], counts: [0, 0], sum: 0, count: 0 }),
    null,
  );
});

Deno.test("histogram: the delta of two scrapes is what happened between them", () => {
  const a = { le: [0.1, 1, Infinity], counts: [5, 9, 10], sum: 3, count: 10 };
  const b = { le: [0.1, 1, Infinity], counts: [5, 19, 20], sum: 8, count: 20 };
  const d = histogramDelta(a, b);
  assertEquals(d, { le: [0.1, 1, Infinity], counts: [0, 10, 10], sum: 5, count: 10 });
  assertAlmostEquals(histogramQuantile(0.5, d)!, 0.1 + 0.9 * 0.5, 1e-12);
  assertEquals(histogramDelta(b, a), a, "a server that restarted: the later scrape alone");
});

Deno.test("server scraper: role series from two scrapes, prefix hit rate of the interval", () => {
  const s = new ServerScraper("http://x/metrics");
  assert(s.fold(100, VLLM).ok);
  const later = VLLM
    .replace(
      'queries_total{engine="0",model_name="Qwen/Qwen3-8B"} 1000.0',
      'queries_total{engine="0",model_name="Qwen/Qwen3-8B"} 1500.0',
    )
    .replace(
      'hits_total{engine="0",model_name="Qwen/Qwen3-8B"} 400.0',
      'hits_total{engine="0",model_name="Qwen/Qwen3-8B"} 800.0',
    );
  const r = s.fold(101, later);
  assert(r.ok && r.rows.length > 10 && r.rows.every((x) => x.time === 101));
  assertEquals(r.ok && r.rows[0].labels, '{"engine":"0","model_name":"Qwen/Qwen3-8B"}');
  const d = s.data();
  assertEquals(d.server, "vLLM");
  assertEquals(d.series.running, [8, 8], "running summed over engines");
  assertEquals(d.series.waiting, [2, 2]);
  assertEquals(d.series.kvUsage, [0.5, 0.5], "KV use averaged over engines");
  assertEquals(d.series.prefixHitRate, [null, 400 / 500]);
  const sum = serverSummary(d, { mean: 180, p50: 140, p99: 300 });
  assertEquals(sum["Server prefix-cache hit rate (%)"], 80);
  assertEquals(sum["Server peak running requests"], 8);
  assertEquals(sum["Server mean KV-cache use (%)"], 50);
  // The same histogram at both scrapes: nothing observed over the run, so no TTFT rows.
  assertEquals(sum["Server mean TTFT (ms)"], undefined);
  assertEquals(s.fold(102, "<html>not metrics</html>"), { ok: false, why: "not Prometheus text" });
});

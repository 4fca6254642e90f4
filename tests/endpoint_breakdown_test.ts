import { assertEquals } from "./assert.ts";
import { EndpointBreakdown } from "../src/metrics/endpoint_breakdown.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";

/** A request's metrics as far as the breakdown reads them. */
function req(start: number, end: number, ttftS: number, tokens: number, success = true) {
  return {
    success,
    startEpochS: start,
    completedEpochS: end,
    ttftS,
    latencyS: end - start,
    completionTokens: tokens,
  } as RequestMetrics;
}

Deno.test("endpoint breakdown: counts, shares of the run's throughput, means and p99", () => {
  const b = new EndpointBreakdown(["http://b/v1", "http://a/v1"]);
  b.add("http://a/v1", req(100, 101, 0.1, 10));
  b.add("http://a/v1", req(101, 102, 0.3, 30));
  b.add("http://b/v1", req(100, 104, 1, 20));
  b.add("http://b/v1", req(102, 103, 0, 0, false));
  b.add(undefined, req(103, 103.5, 0.2, 5)); // an older row that does not say
  assertEquals(b.size, 3);
  const rows = b.rows();
  // --url order first, then the rest by name; throughput over the run's 4 s.
  assertEquals(rows.map((r) => r["Endpoint"]), ["http://b/v1", "http://a/v1", "unknown"]);
  assertEquals(rows.map((r) => r["Requests"]), [2, 2, 1]);
  assertEquals(rows.map((r) => r["Failed"]), [1, 0, 0]);
  assertEquals(rows.map((r) => r["Output token throughput (tok/s)"]), [5, 10, 1.25]);
  assertEquals(rows.map((r) => r["Request throughput (req/s)"]), [0.25, 0.5, 0.25]);
  assertEquals(rows[1]["Mean TTFT (ms)"], 200);
  // numpy's linear rule: 100 + (300 - 100) * 0.99.
  assertEquals(Math.round((rows[1]["P99 TTFT (ms)"] as number) * 1e6) / 1e6, 298);
  assertEquals(rows[0]["Mean latency (s)"], 4);
});

Deno.test("endpoint breakdown: an endpoint with only failures has no timings", () => {
  const b = new EndpointBreakdown();
  b.add("http://x/", req(1, 2, 0, 0, false));
  const [row] = b.rows();
  assertEquals(row["Failed"], 1);
  assertEquals(row["Mean TTFT (ms)"], null);
  assertEquals(row["P99 latency (s)"], null);
  assertEquals(row["Output token throughput (tok/s)"], 0);
});

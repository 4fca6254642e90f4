/**
 * End to end: the real CLI against the mock server with known timing, over both transports
 * (`--transport socket` and `--transport fetch`), https included. Tolerances are stated
 * per check; they are loose enough for a loaded 2-core CI machine and tight enough to catch a
 * wrong definition (an off-by-one token, ms vs s, a missing TTFT).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";
import { poissonOffsetsMs } from "./helpers/poisson.ts";
import { type PerfFlags, perfRun, type Summary } from "./helpers/perf_run.ts";
import { makeTestCerts } from "./helpers/tls.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount } from "../src/mock/generator.ts";

const TTFT_MS = 100;
const ITL_MS = 20;
const TOKENS = 12;
const PROMPT = "Tell me about benchmarks, please.";

const TRANSPORTS = ["socket", "fetch"] as const;
type Transport = typeof TRANSPORTS[number];

/** A streamed or whole-reply run against the mock; a failed run throws with its stderr. */
async function perf(mockUrl: string, transport: Transport, flags: PerfFlags) {
  const r = await perfRun({
    url: `${mockUrl}/v1/chat/completions`,
    flags: { model: "mock-model", prompt: PROMPT, transport, ...flags },
  });
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}`);
  return r;
}

function checkTruth(s: Summary, n: number, stream: boolean) {
  const latency = (TTFT_MS + (TOKENS - 1) * ITL_MS) / 1000;
  assertEquals(s["Total requests"], n);
  assertEquals(s["Succeed requests"], n);
  assertEquals(s["Failed requests"], 0);
  assertEquals(s["Expected number of requests"], n);
  assertEquals(s["Average output tokens per request"], TOKENS);
  assertEquals(s["Average input tokens per request"], mockTokenCount(PROMPT));
  assertEquals(s["Token counts from"], "usage");
  // Latency: the mock's exact schedule plus client and scheduling overhead. The bound above is
  // loose (a loaded 2-core CI machine runs other tests beside this one: 64 fetch streams there
  // were seen 0.4 s late); what it catches is a wrong definition — seconds vs milliseconds (the
  // bound above) or a missing TTFT (the bound below); an off-token count shows in TPOT below.
  const avgLatency = s["Average latency"] as number;
  assert(avgLatency >= latency - 0.002, `latency ${avgLatency} below the mock's ${latency}`);
  assert(avgLatency < latency + 1, `latency ${avgLatency} far above the mock's ${latency}`);
  if (stream) {
    const ttft = s["Mean TTFT (ms)"] as number;
    assert(ttft >= TTFT_MS - 2, `TTFT ${ttft} below the mock's ${TTFT_MS}`);
    assert(ttft < TTFT_MS + 1000, `TTFT ${ttft} far above the mock's ${TTFT_MS}`);
    assertAlmostEquals(
      s["Average time to first token"] as number,
      ttft / 1000,
      0.005,
      "legacy TTFT",
    );
    // TPOT = (latency − TTFT) / (tokens − 1) = ITL exactly, for the mock.
    assertAlmostEquals(s["Mean TPOT (ms)"] as number, ITL_MS, 8, "mean TPOT");
    assertAlmostEquals(s["Mean ITL (ms)"] as number, ITL_MS, 8, "mean ITL");
    // evalscope's packages: role chunk + 12 token chunks + usage chunk = 14 chunks → 12 packages.
    assertEquals(s["Average package per request"], TOKENS);
  }
}

for (const transport of TRANSPORTS) {
  Deno.test(`e2e [${transport}]: --parallel 1, streamed, numbers match the mock's truth`, async () => {
    const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, outputTokens: TOKENS });
    try {
      await using r = await perf(mock.url, transport, { parallel: 1, number: 12, stream: true });
      checkTruth(r.summary, 12, true);
      assertEquals(r.summary["Number of concurrency"], 1);
      // 12 sequential requests take at least 12 × latency.
      assert((r.summary["Time taken for tests (senconds)"] as number) >= 12 * 0.32);
      assertEquals(r.percentiles.length, 10);
      assertEquals(r.percentiles[0]["Percentile"], "10%");
      assert(r.stdout.includes("Benchmarking summary:"));
      assert(r.stdout.includes("Percentile results:"));
      assert(r.stdout.includes("| Time taken for tests (senconds)"));
      assert(r.stdout.includes("Per-request percentiles:"));
      assertEquals(mock.stats.requests, 12 + 1, "the 12 requests and the start-up check");
    } finally {
      await mock.close();
    }
  });

  Deno.test(`e2e [${transport}]: --parallel 64 keeps 64 in flight and measures the same per-request truth`, async () => {
    const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, outputTokens: TOKENS });
    try {
      await using r = await perf(mock.url, transport, { parallel: 64, number: 128, stream: true });
      checkTruth(r.summary, 128, true);
      // Measured where it happens: the mock saw 64 requests (and 64 streams) at once, never more.
      assertEquals(mock.stats.peakInFlight, 64, "requests in flight at the mock, at the peak");
      assertEquals(mock.stats.peakOpenStreams, 64, "streams open at the mock, at the peak");
      assertEquals(mock.stats.requests, 128 + 1, "the 128 requests and the start-up check");
      // Two waves of 64: about 2 × 0.32 s; sequential would be 41 s.
      const t = r.summary["Time taken for tests (senconds)"] as number;
      assert(t >= 0.64 && t < 3, `duration ${t}`);
    } finally {
      await mock.close();
    }
  });

  Deno.test(`e2e [${transport}]: non-streamed requests`, async () => {
    const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, outputTokens: TOKENS });
    try {
      await using r = await perf(mock.url, transport, { parallel: 4, number: 8 });
      checkTruth(r.summary, 8, false);
      // Without streaming, the first chunk is the whole reply.
      assertEquals(r.summary["Average time to first token"], r.summary["Average latency"]);
    } finally {
      await mock.close();
    }
  });

  Deno.test(`e2e [${transport}]: --rate sends on a Poisson schedule, capped by --parallel`, async () => {
    const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, outputTokens: TOKENS });
    try {
      // 40 req/s of 0.32 s requests would want ~13 in flight: a cap of 8 binds.
      await using r = await perf(mock.url, transport, {
        rate: 40,
        parallel: 8,
        number: 40,
        stream: true,
        seed: 7,
      });
      checkTruth(r.summary, 40, true);
      // Arrivals span about 1 s (seeded); capped at 8 × 1/0.32 s = 25 req/s, 40 take ~1.6 s.
      const t = r.summary["Time taken for tests (senconds)"] as number;
      assert(t > 1.2 && t < 4, `duration ${t}`);
      const rows = r.sql<{ due: number; start: number; end: number }>(
        "SELECT scheduled_time AS due, start_time AS start, completed_time AS end FROM result " +
          "ORDER BY request_id",
      );
      assertEquals(rows.length, 40);
      // Due times: the seeded schedule's offsets from the first (its definition, recomputed).
      const offsets = poissonOffsetsMs(40, 7, 40);
      rows.forEach((row, i) => {
        assertAlmostEquals((row.due - rows[0].due) * 1000, offsets[i], 0.01, `request ${i} due`);
        assert(row.start >= row.due, `request ${i} was sent ${row.due - row.start} s early`);
      });
      // The first request, with the cap free, goes when due; later ones wait for a slot.
      assert(
        rows[0].start - rows[0].due < 0.25,
        `request 0 late by ${rows[0].start - rows[0].due}`,
      );
      assert(rows[39].start - rows[39].due > 0.2, "the cap held the last requests back");
      // In flight at once, from the records: reaches the cap, never more.
      const edges = rows.flatMap((row) => [[row.start, 1], [row.end, -1]])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let inFlight = 0, peak = 0;
      for (const [, d] of edges) peak = Math.max(peak, inFlight += d);
      assertEquals(peak, 8, "peak in flight");
      assertEquals(mock.stats.requests, 40 + 1, "the 40 requests and the start-up check");
    } finally {
      await mock.close();
    }
  });

  Deno.test(`e2e [${transport}]: https with a self-signed CA given by --ca-cert`, async () => {
    await using dir = await tempDir();
    const certs = await makeTestCerts(dir.path);
    const mock = startMockServer({
      port: 0,
      ttftMs: TTFT_MS,
      itlMs: ITL_MS,
      outputTokens: TOKENS,
      tls: { cert: certs.cert, key: certs.key },
    });
    try {
      assert(mock.url.startsWith("https://"));
      // Two connections, each paying one TLS handshake, over twelve requests.
      await using r = await perf(mock.url, transport, {
        parallel: 2,
        number: 12,
        stream: true,
        caCert: certs.caPath,
      });
      checkTruth(r.summary, 12, true);
      // Without the CA the certificate is refused: the start-up check says so, exit 1, and
      // leaves no run folder.
      await using refused = await perfRun({
        server: mock,
        flags: { prompt: PROMPT, transport },
      });
      assertEquals(refused.code, 1, refused.stderr);
      const errors = refused.stderr.trim().split("\n").filter((l) => l.includes("error"));
      assertEquals(errors.length, 1, refused.stderr);
      assert(/certificate|UnknownIssuer/i.test(errors[0]), errors[0]);
      assert(errors[0].includes("--ca-cert"), `the line says what to do: ${errors[0]}`);
      assertEquals(refused.entries, [], "no run folder");
      assertEquals(mock.stats.requests, 12 + 1, "no request of the refused run was served");
    } finally {
      await mock.close();
    }
  });
}

Deno.test("e2e: the demo runs and exits 0", async () => {
  await using tmp = await tempDir();
  const r = await runCli(["demo"], { cwd: tmp.path });
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("| Succeed requests                             | 15"), r.stdout);
});

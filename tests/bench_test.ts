/**
 * The bench harness stays usable: the ground truth's arithmetic on known stamps, scenario
 * selection (the quick subset, the name filter, the targets' scenarios), the targets' verdicts
 * from known rows, one real client process against a mock with `--stamp-times`, the floor's read
 * paths and the peer (vLLM's client loop, where a Python with aiohttp is found) against the same
 * kind of mock, small enough for CI. The full bench never runs here.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";
import { GroundTruth, stat } from "../bench/ground_truth.ts";
import { inFlight, SCENARIOS } from "../bench/scenarios.ts";
import {
  type BenchRow,
  clientArgv,
  medianRow,
  peerPython,
  pinning,
  selectScenarios,
} from "../bench/run.ts";
import { evaluateTargets, median, TARGETS, targetScenarios } from "../bench/targets.ts";
import type { FloorArgs } from "../bench/floor_client.ts";
import type { ClientReport } from "../bench/client_process.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { newRecord } from "../src/records/record.ts";
import { finishedOf } from "./helpers/finished.ts";
import { startMockServer } from "../src/mock/server.ts";

/** A streamed record whose chunk `k` was sent by the mock at `sent[k]` and arrived `late[k]` after. */
function stamped(index: number, received: number, sent: number[], late: number[]): FinishedRequest {
  const origin = 1_000_000;
  const rec = newRecord(index, true);
  rec.timeOriginMs = origin;
  rec.startMs = received - origin - 0.5; // sent 0.5 ms before the mock received it
  rec.success = true;
  for (let k = 0; k < sent.length; k++) {
    rec.payloads.push(
      `{"choices":[{"delta":{"content":"w"}}],"mock_received_ms":${received},"mock_sent_ms":${
        sent[k]
      }}`,
    );
    rec.chunkTimesMs.push(sent[k] + late[k] - origin);
  }
  rec.endMs = rec.chunkTimesMs[rec.chunkTimesMs.length - 1];
  return finishedOf(rec, {
    counts: {
      promptTokens: 1,
      completionTokens: sent.length,
      contentChunks: sent.map((_, i) => i),
    },
  });
}

/** Run a bench client (`program argv... '<args as JSON>'`); its report, the last line it prints. */
async function runClientScript(
  program: string,
  argv: string[],
  args: unknown,
): Promise<ClientReport> {
  const out = await new Deno.Command(program, {
    args: [...argv, JSON.stringify(args)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assertEquals(out.code, 0, dec.decode(out.stderr));
  return JSON.parse(dec.decode(out.stdout).trim().split("\n").pop()!) as ClientReport;
}

Deno.test("bench: the ground truth's delays, errors and lateness from known stamps", () => {
  const truth = new GroundTruth({ ttftMs: 100, itlMs: 10, tokens: 3, firstWave: 1 });
  const received = 2_000_000;
  // Request 0 opened its connection (first wave); request 1 reused one.
  truth.write([
    stamped(0, received, [received + 100, received + 110, received + 121], [2, 1, 1]),
    stamped(1, received, [received + 101, received + 110, received + 120], [1, 3, 1]),
  ]);
  const r = truth.report();
  assertEquals([r.requests, r.succeeded, r.events, r.stamped], [2, 2, 6, 6]);
  assertAlmostEquals(r.eventDelay.mean, 9 / 6, 1e-9, "event delay");
  assertEquals(r.eventDelay.max, 3);
  assertEquals(r.ttftDelay.n, 2);
  assertAlmostEquals(r.ttftDelay.mean, 1.5, 1e-9, "TTFT delay");
  // Request 1: client TTFT = 101 + 1 + 0.5 = 102.5; mock TTFT = 101: error 1.5, send side 0.5.
  assertEquals(r.ttftError.n, 1);
  assertAlmostEquals(r.ttftError.mean, 1.5, 1e-6, "TTFT error (warm)");
  assertAlmostEquals(r.sendDelay.mean, 0.5, 1e-6, "send side");
  assertAlmostEquals(r.coldTtftError.mean, 2.5, 1e-6, "first wave TTFT error");
  // ITL errors: |(111−102) − 10| = 1, |(122−111) − 11| = 0, |(113−102) − 9| = 2, |(121−113) − 10| = 2
  assertEquals(r.itlError.n, 4);
  assertAlmostEquals(r.itlError.mean, 5 / 4, 1e-6, "ITL error");
  // Lateness against received + 100 + 10k: 0, 0, 1 and 1, 0, 0.
  assertAlmostEquals(r.mockLate.mean, 2 / 6, 1e-9, "mock lateness");
  assertEquals(stat([]).n, 0);
  assertEquals(stat([3, 1, 2]).p99, 3);
});

Deno.test("bench: scenario selection, the quick subset, averages in flight, medians, pinning", () => {
  const names = (xs: { name: string }[]) => xs.map((s) => s.name);
  assertEquals(names(selectScenarios("paced-64,c512", false)), ["unthrottled-c512", "paced-64"]);
  const quick = selectScenarios(undefined, true);
  assert(quick.length > 0 && quick.length < SCENARIOS.length);
  for (const s of quick) assertEquals(s.number, SCENARIOS.find((x) => x.name === s.name)!.quick);
  assertEquals(selectScenarios("nothing-like-this", false), []);
  for (const s of SCENARIOS) {
    if (s.rate === undefined) assertEquals(inFlight(s), s.parallel);
  }
  const poisson = SCENARIOS.find((s) => s.name === "paced-4096-poisson")!;
  assertEquals(inFlight(poisson), 4096);
  const row = (events: number) => ({ client: { truth: { events }, seconds: 1 } }) as BenchRow;
  assertEquals(medianRow([row(5), row(1), row(9)]).client.truth.events, 5);
  assertEquals(pinning(2, true).client, ["taskset", "-c", "0"]);
  assertEquals(pinning(2, true).server, ["taskset", "-c", "1"]);
  assertEquals(pinning(1, true).client, []);
  assertEquals(pinning(8, false).server, []);
});

Deno.test("bench: --v8-flags reach the client's deno run, before its script, and nothing else", () => {
  const args: FloorArgs = { url: "http://x/", parallel: 1, number: 1, reader: "deno", body: "" };
  const plain = clientArgv("floor_client.ts", args, ["taskset", "-c", "0"]);
  assertEquals(plain.slice(0, 3), ["taskset", "-c", "0"]);
  assertEquals(plain.slice(3), [
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT_DIR}/bench/floor_client.ts`,
    JSON.stringify(args),
  ]);
  const flagged = clientArgv("client_process.ts", args, [], "--max-semi-space-size=4,--trace-gc");
  assertEquals(flagged.slice(0, 4), [
    Deno.execPath(),
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=4,--trace-gc",
  ]);
  assert(flagged[4].endsWith("/bench/client_process.ts"));
});

Deno.test("bench: one client process against a stamping mock reports cost and ground truth", async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 20,
    itlMs: 5,
    outputTokens: 4,
    stampTimes: true,
  });
  try {
    const args = {
      url: `${mock.url}/v1/chat/completions`,
      stream: true,
      parallel: 4,
      number: 8,
      db: false,
      firstWave: 4,
      timing: { ttftMs: 20, itlMs: 5, tokens: 4 },
    };
    const run = (a: typeof args & { timing: { stamps?: boolean } }) =>
      runClientScript(Deno.execPath(), ["run", "-A", `${ROOT_DIR}/bench/client_process.ts`], a);
    // A `truth: false` scenario's run: the events counted, no payload asked for, no stamp read.
    const bare = await run({ ...args, timing: { ...args.timing, stamps: false } });
    assertEquals([bare.truth.requests, bare.truth.events, bare.truth.stamped], [8, 8 * 6, 0]);
    assertEquals(bare.truth.ttftDelay.n, 0);
    const report = await run(args);
    assertEquals(report.truth.requests, 8);
    assertEquals(report.truth.succeeded, 8);
    assertEquals(report.truth.events, 8 * 6); // role chunk, 4 tokens, usage chunk
    assertEquals(report.truth.stamped, report.truth.events);
    assertEquals(report.truth.ttftDelay.n, 8);
    assert(report.truth.eventDelay.mean >= 0, "a chunk cannot arrive before it was sent");
    assert(report.cpuSeconds > 0 && report.peakRssMb > report.rssBeforeMb);
    assertEquals(report.client.transport, "socket");
    assert(report.threads.length > 0);
  } finally {
    await mock.close();
  }
});

Deno.test("bench targets: the scenarios they need, figures per round, medians and verdicts", () => {
  const names = targetScenarios();
  const needed = [
    "paced-1024",
    "paced-1",
    "floor-1024",
    "floor-1024-node",
    "floor-1024-epoll",
    "blast-w1",
    "blast-w2",
    "peer-vllm-1024",
    "peer-vllm-blast-c64",
    "peer-vllm-c64",
    "peer-vllm-1024-timing",
    "paced-1024-bare",
    "unthrottled-c64-bare",
    "paced-1024-long",
    "floor-1024-long",
  ];
  for (const n of needed) {
    assert(names.includes(n), n);
  }
  for (const n of names) assert(SCENARIOS.some((s) => s.name === n), `${n} is a scenario`);
  assertEquals(
    selectScenarios(undefined, false, names).map((s) => s.name).sort(),
    [...names].sort(),
  );
  // Known rows: llmperf 24–30 µs per paced event, the floors 20 and 13 µs.
  const truth = (ttft: number, itl: number) => ({
    ttftDelay: { n: 1, mean: ttft, p99: ttft * 4, max: ttft * 4 },
    itlError: { n: 1, mean: itl, p99: itl, max: itl },
    mockLate: { n: 1, mean: 0.5, p99: 3, max: 3 },
  });
  const mk = (events: number, seconds: number, cpu: number, rss = 100, t = truth(1, 0.5)) =>
    ({
      client: { truth: { events, ...t }, seconds, cpuSeconds: cpu, peakRssMb: rss },
    }) as unknown as BenchRow;
  const round = (pacedCpu: number) =>
    new Map<string, BenchRow>([
      ["paced-1024", mk(1e5, 5, pacedCpu, 119, truth(2.5, 0.2))],
      ["floor-1024", mk(1e5, 5, 2)],
      ["floor-1024-node", mk(1e5, 5, 1.3)],
      ["floor-1024-epoll", mk(1e5, 5, 1.6)],
      ["paced-1", mk(34, 2, 0.4)],
      ["blast-w1", mk(1e6, 2, 4)],
      ["blast-w2", mk(1e6, 1.1, 4)],
      ["unthrottled-c64", mk(1e5, 1, 1, 113)],
      ["peer-vllm-1024", mk(1e5, 5, 5, 58)],
      ["peer-vllm-blast-c64", mk(1e6, 5, 20, 81)],
      ["peer-vllm-c64", mk(1e5, 1, 0.7, 47)],
      ["peer-vllm-1024-timing", mk(1e5, 5, 5.5, 70, truth(18, 5))],
      ["paced-1024-bare", mk(1e5, 5, 2.2, 101)],
      ["unthrottled-c64-bare", mk(1e5, 1, 0.9, 99)],
      // Three times as long: 2e5 more events for 3 more CPU-s (15 µs each; the floor's 1.2: 6 µs).
      ["paced-1024-long", mk(3e5, 15, pacedCpu + 3, 150)],
      ["floor-1024-long", mk(3e5, 15, 3.2)],
    ]);
  const results = evaluateTargets([round(2.5), round(3), round(2.4)]);
  const by = (what: string) => results.find((r) => r.target.what.startsWith(what))!;
  const ratio = by("client CPU per paced event ÷ the Deno floor");
  assertEquals(ratio.rounds.map((v) => Math.round(v * 100) / 100), [1.25, 1.5, 1.2]);
  assertAlmostEquals(ratio.median, 1.25, 1e-9);
  assertEquals(ratio.met, true, "1.25 is within 1.3×");
  assertEquals(by("unthrottled SSE events").median, 250_000);
  assertEquals(by("unthrottled SSE events").met, true);
  assertAlmostEquals(by("--workers 2").median, 2 / 1.1, 1e-9);
  assertEquals(by("--workers 2").met, true);
  assertEquals(by("TTFT delay mean").met, false, "2.5 ms is not under 2");
  assertEquals(by("ITL error mean").met, true);
  assertEquals(by("peak RSS, 64 unthrottled").met, false, "113 MB is over 1.5 × 75");
  assertEquals(by("peak RSS, 1,024 paced").met, true, "119 MB is under 1.5 × 80");
  assertEquals(by("  the same ÷ the node:net floor").met, undefined, "shown beside, no verdict");
  // Less the one-request run's 0.4 CPU-s: (2.5 − 0.4) / 1e5 events = 21 µs against the floor's 20.
  assertEquals(
    by("  the same less a one-request run").rounds.map((v) => Math.round(v * 1000) / 1000),
    [1.05, 1.3, 1],
  );
  assertAlmostEquals(by("  the same ÷ the FFI epoll floor").median, 2.5 / 1.6, 1e-9);
  // Once warm: (pacedCpu + 3 − pacedCpu) / 2e5 = 15 µs per event beyond the short run's, against
  // the floor's (3.2 − 2) / 2e5 = 6 µs; whatever the round's short run cost.
  assertEquals(
    by("  once warm: CPU per event beyond").rounds.map((v) => Math.round(v * 1000) / 1000),
    [2.5, 2.5, 2.5],
  );
  assertEquals(by("  once warm: CPU per event beyond").met, undefined);
  // The longer run whole: (pacedCpu + 3) / 3e5 events against the floor's 3.2 / 3e5.
  const whole = by("  the same over a 3× longer run").rounds;
  [5.5 / 3.2, 6 / 3.2, 5.4 / 3.2].forEach((v, i) => assertAlmostEquals(whole[i], v, 1e-9));
  assertEquals(by("  the same over a 3× longer run").met, undefined);
  assertAlmostEquals(by("  once warm: client CPU per paced event").median, 15, 1e-9);
  assertEquals(by("  the same in the 3× longer run").median, 150);
  // The peer: 25 µs per paced event against its 50; 4 µs unthrottled against its 20.
  assertAlmostEquals(by("  the same ÷ vLLM's client loop, µs per paced").median, 0.5, 1e-9);
  assertEquals(by("  the same ÷ vLLM's client loop, µs per paced").met, undefined);
  assertAlmostEquals(by("  the same as CPU per event ÷ vLLM's").median, 0.2, 1e-9);
  assertEquals(by("  vLLM's client loop's peak RSS (no dataset").median, 47);
  assertEquals(by("  vLLM's client loop's peak RSS, 1,024 paced").median, 58);
  assertEquals(by("  vLLM's client loop on the same streams: its TTFT delay mean").median, 18);
  assertEquals(by("  its TTFT delay p99").median, 72);
  assertEquals(by("  its ITL error mean").median, 5);
  // Without the bench's ground truth: 22 µs per paced event against the floor's 20.
  assertAlmostEquals(
    by("  llmperf without the bench's ground truth (as vLLM's loop runs) ÷").median,
    1.1,
    1e-9,
  );
  assertEquals(
    by("  llmperf without the bench's ground truth (as vLLM's loop runs): 64").median,
    99,
  );
  assertEquals(by("  the same, 1,024 paced streams (beside)").median, 101);
  // A round without a scenario gives NaN for its targets, and the median skips it.
  const partial = evaluateTargets([new Map([["blast-w1", mk(1e6, 2, 4)]])], TARGETS);
  assertEquals(partial.find((r) => r.target.what.startsWith("--workers"))!.met, undefined);
  assertEquals(median([3, NaN, 1]), 2);
});

Deno.test("bench floor: every read path reads a stamping mock's streams and counts its events", async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 10,
    itlMs: 5,
    outputTokens: 4,
    stampTimes: true,
  });
  try {
    // The epoll reader is Linux's alone (epoll, libc through FFI).
    const readers = Deno.build.os === "linux"
      ? ["deno", "node", "epoll"] as const
      : ["deno", "node"] as const;
    for (const reader of readers) {
      const args: FloorArgs = {
        url: `${mock.url}/v1/chat/completions`,
        parallel: 3,
        number: 7,
        reader,
        body: JSON.stringify({
          messages: [{ role: "user", content: "q" }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      };
      const report = await runClientScript(
        Deno.execPath(),
        ["run", "-A", `${ROOT_DIR}/bench/floor_client.ts`],
        args,
      );
      assertEquals(report.truth.requests, 7, reader);
      assertEquals(report.truth.events, 7 * 6, `${reader}: role chunk, 4 tokens, usage chunk`);
      assertEquals(report.client.transport, `floor-${reader}`);
      assert(report.reads! >= 7, `${reader}: ${report.reads} reads`);
      // CPU time comes from /proc in 10 ms ticks: seven short requests may take less than one.
      assert(report.cpuSeconds >= 0, `${reader}: ${report.cpuSeconds} CPU-s`);
    }
    assertEquals(
      mock.stats.requests,
      readers.length * (7 + 1),
      "7 requests and one to count events, each",
    );
  } finally {
    await mock.close();
  }
});

const peerPythonFound = await peerPython();

/** Run `bench/peer_vllm.py` as the bench does; its report (it must exit 0). */
async function runPeerScript(args: FloorArgs): Promise<ClientReport> {
  return await runClientScript(peerPythonFound!, [`${ROOT_DIR}/bench/peer_vllm.py`], args);
}

Deno.test({
  name: "bench peer: vLLM's client loop reads a mock's streams and counts its events",
  ignore: peerPythonFound === undefined, // needs aiohttp (.ci/run installs python3-aiohttp)
  async fn() {
    const mock = startMockServer({
      port: 0,
      ttftMs: 5,
      itlMs: 2,
      outputTokens: 4,
      stampTimes: true,
    });
    try {
      const args: FloorArgs = {
        url: `${mock.url}/v1/chat/completions`,
        parallel: 3,
        number: 7,
        reader: "deno",
        body: JSON.stringify({
          messages: [{ role: "user", content: "q" }],
          stream: true,
          stream_options: { include_usage: true },
        }),
        truth: true,
      };
      const report = await runPeerScript(args);
      assertEquals(report.truth.requests, 7);
      assertEquals(report.truth.succeeded, 7);
      assertEquals(report.truth.events, 7 * 6, "role chunk, 4 tokens, usage chunk");
      assertEquals(report.client.transport, "peer-vllm");
      assertEquals(report.failures, {});
      const c = report.client.concurrency!;
      assertEquals([c.target, c.closedLoop], [3, true]);
      assert(c.achieved > 0 && c.achieved <= 3 + 1e-9, `${c.achieved} in flight of 3`);
      // The mock's stamps, checked: every event stamped, one TTFT per request (the first wave of
      // 3 opened its connections), 3 gaps between its 4 token chunks.
      const t = report.truth;
      assertEquals(t.stamped, 42);
      assertEquals(t.eventDelay.n, 42);
      assertEquals(t.ttftDelay.n, 7);
      assertEquals([t.coldTtftError.n, t.ttftError.n, t.sendDelay.n], [3, 4, 4]);
      assertEquals(t.itlError.n, 7 * 3);
      assert(t.eventDelay.mean > -5 && t.eventDelay.mean < 100, `event delay ${t.eventDelay.mean}`);
      assert(t.itlError.mean >= 0 && t.itlError.mean < 100, `ITL error ${t.itlError.mean}`);
      assert(report.peakRssMb > 5 && report.peakRssMb < 500, `${report.peakRssMb} MB`);
      assert(report.cpuSeconds > 0, `${report.cpuSeconds} CPU-s`);
      assertEquals(mock.stats.requests, 7);
    } finally {
      await mock.close();
    }
  },
});

Deno.test({
  name: "bench peer: a request the server fails is counted as failed, not lost",
  ignore: peerPythonFound === undefined,
  async fn() {
    const mock = startMockServer({
      port: 0,
      ttftMs: 0,
      itlMs: 0,
      outputTokens: 4,
      faults: { faults: [{ mode: "http-500", amount: 2 }, { mode: "disconnect-mid", amount: 1 }] },
    });
    try {
      const args: FloorArgs = {
        url: `${mock.url}/v1/chat/completions`,
        parallel: 1,
        number: 4,
        reader: "deno",
        body: JSON.stringify({ messages: [{ role: "user", content: "q" }], stream: true }),
      };
      const report = await runPeerScript(args);
      assertEquals([report.truth.requests, report.truth.succeeded], [4, 1]);
      assertEquals(report.failures, { http: 2, network: 1 });
    } finally {
      await mock.close();
    }
  },
});

/**
 * The bench's client process: one llmperf run (`runPerfBenchmark`, exactly what `llmperf perf`
 * runs) with the ground-truth sink, then one JSON line on stdout with what it measured about
 * itself: wall time, CPU time of the whole process (every thread) during the run, memory.
 *
 * Run by `bench/run.ts`: `deno run -A bench/client_process.ts '<ClientArgs as JSON>'`.
 *
 * @module
 */
import { silentLogger } from "../src/log.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import { GroundTruth, type MockTiming, type TruthReport } from "./ground_truth.ts";
import type { ClientCheck } from "../src/workers/self_check.ts";
import type { TransportChoice } from "../src/transport/create.ts";
import { processCpuSeconds, statusMb, threadTimes } from "./process_stats.ts";

/** What the client is asked to do. */
export interface ClientArgs {
  /** Endpoint. */
  url: string;
  /** Streamed or not. */
  stream: boolean;
  /** Requests in flight. */
  parallel: number;
  /** Requests in all. */
  number: number;
  /** Poisson arrivals at this rate (requests/s), when set. */
  rate?: number;
  /** `--transport`. */
  transport?: TransportChoice;
  /** `--workers`. */
  workers?: number;
  /** `--api` (a built-in name or a plugin file, relative to the repository root). */
  api?: string;
  /** Write the result DB (as a user's run does). */
  db: boolean;
  /** Requests that open their own connection (the first wave). */
  firstWave: number;
  /** The server's timing, for the ground truth. */
  timing: Omit<MockTiming, "firstWave">;
}

/** What the client reports. */
export interface ClientReport {
  /** Run time from the first send to the last response, s. */
  seconds: number;
  /** CPU seconds of the whole process during the run (all threads), minus the bench's own sink. */
  cpuSeconds: number;
  /** Resident memory before the run, MB. */
  rssBeforeMb: number;
  /** Peak resident memory of the process, MB. */
  peakRssMb: number;
  /** Failed requests by kind. */
  failures: Record<string, number>;
  /** The ground truth. */
  truth: TruthReport;
  /**
   * What read the streams: llmperf's self-check (its transport, workers, whether it was
   * saturated), or for the floor (`bench/floor_client.ts`) the read path as `floor-<reader>`.
   */
  client: Pick<ClientCheck, "workers" | "saturated"> & Partial<Omit<ClientCheck, "transport">> & {
    transport: string;
  };
  /** CPU seconds of each OS thread of the process over its life, user and system (Linux). */
  threads: Array<{ name: string; user: number; sys: number }>;
  /** Reads (or `data` events) the floor took; llmperf does not count them. */
  reads?: number;
}

if (import.meta.main) {
  const args = JSON.parse(Deno.args[0]) as ClientArgs;
  const outputs = await Deno.makeTempDir({ prefix: "llmperf-bench-" });
  const truth = new GroundTruth({ ...args.timing, firstWave: args.firstWave });
  const rssBeforeMb = statusMb("VmRSS");
  const cpu0 = processCpuSeconds();
  const result = await runPerfBenchmark({
    url: args.url,
    model: "bench",
    prompt: "Tell me about load testing.",
    number: args.number,
    parallel: args.parallel,
    rate: args.rate,
    stream: args.stream,
    transport: args.transport,
    workers: args.workers,
    outputsDir: outputs,
    api: args.api === undefined || !args.api.includes("/")
      ? args.api
      : decodeURIComponent(new URL(`../${args.api}`, import.meta.url).pathname),
    logEveryNQuery: 1_000_000,
  }, { log: silentLogger, sinks: [truth], resultDb: args.db });
  const cpuSeconds = processCpuSeconds() - cpu0;
  const report = truth.report();
  const out: ClientReport = {
    seconds: result.summary["Time taken for tests (senconds)"] as number,
    cpuSeconds: cpuSeconds - report.sinkMs / 1000,
    rssBeforeMb,
    peakRssMb: statusMb("VmHWM"),
    failures: result.failures,
    truth: report,
    client: result.client,
    threads: threadTimes(),
  };
  await Deno.remove(outputs, { recursive: true }).catch(() => {});
  console.log(JSON.stringify(out));
}

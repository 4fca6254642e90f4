/**
 * `deno task bench`: llmperf's own cost and timing error, measured. Each scenario starts a server
 * in its own process (the mock with `--stamp-times`, or the near-free blast server) pinned to the
 * last core, warms it up, runs the client (`bench/client_process.ts`, i.e. `runPerfBenchmark`,
 * for the `floor-*` rows a bare read loop, `bench/floor_client.ts`, and for the `peer-vllm-*` rows
 * vLLM's benchmark client's request loop, `bench/peer_vllm.py`, skipped without a Python that has
 * aiohttp) pinned to the first, and prints one row: requests/s, SSE events/s, client CPU per
 * event, events per client CPU-second, peak memory, the client's timing error against the mock's
 * stamps, and the mock's own lateness and CPU per event. With `--repeat N` the scenarios run round by round (each once per round, in
 * order), so that every round's rows shared the machine's state; each row printed last is the
 * median run by client CPU per event. `--targets` runs the scenarios issue 13's targets need and
 * prints, per target, its figure in each round (ratios within a round), the median and met / not
 * met (`bench/targets.ts`).
 *
 * ```
 * deno task bench                      # every scenario (a few minutes)
 * deno task bench --quick              # a small subset, fewer requests (under a minute)
 * deno task bench --targets            # issue 13's targets, 3 rounds (a few minutes)
 * deno task bench --only paced-1024,c64 --transport fetch --workers 2 --json out.json
 * deno task bench --only blast --repeat 5    # median of 5 runs per row (noisy machines)
 * deno task bench --only paced-1024 --v8-flags=--max-semi-space-size=4   # llmperf's client only
 * deno task bench --list
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ClientArgs, ClientReport } from "./client_process.ts";
import type { FloorArgs } from "./floor_client.ts";
import { spawnListening } from "./listening_process.ts";
import { inFlight, type Scenario, SCENARIOS } from "./scenarios.ts";
import {
  cpuPerEventUs,
  evaluateTargets,
  formatTargets,
  type TargetResult,
  TARGETS,
  targetScenarios,
} from "./targets.ts";
import type { TransportChoice } from "../src/transport/create.ts";
import { SocketTransport } from "../src/transport/socket.ts";
import { procCpuTimes } from "../src/workers/loop_monitor.ts";
import { newRecord } from "../src/records/record.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** One measured scenario. */
export interface BenchRow {
  /** The scenario. */
  scenario: Scenario;
  /** Requests sent. */
  requests: number;
  /** What the client reported. */
  client: ClientReport;
  /** The server's CPU seconds during the run (its whole process). */
  serverCpuSeconds: number;
  /** Wall seconds of the client process. */
  wallSeconds: number;
}

/**
 * Of several runs of one scenario, the one with the median `key` (default: events/s; the table
 * uses client CPU per event, the steadier figure on a noisy machine).
 */
export function medianRow(
  runs: BenchRow[],
  key: (r: BenchRow) => number = (r) => r.client.truth.events / r.client.seconds,
): BenchRow {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}

/** Cores for the server and the client: the last and first core when there are two or more. */
export function pinning(
  cores: number,
  hasTaskset: boolean,
): { server: string[]; client: string[]; all: string[] } {
  if (!hasTaskset || cores < 2) return { server: [], client: [], all: [] };
  const all = ["taskset", "-c", `0-${cores - 1}`];
  return { server: ["taskset", "-c", String(cores - 1)], client: ["taskset", "-c", "0"], all };
}

/**
 * Select scenarios by comma-separated name fragments (all when empty); `exact` names match whole
 * (the targets' list).
 */
export function selectScenarios(
  only: string | undefined,
  quick: boolean,
  exact: readonly string[] = [],
): Scenario[] {
  const parts = (only ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  let list = SCENARIOS.filter((s) =>
    (parts.length === 0 && exact.length === 0) || parts.some((p) => s.name.includes(p)) ||
    exact.includes(s.name)
  );
  if (quick) {
    list = list.filter((s) => s.quick !== undefined).map((s) => ({ ...s, number: s.quick! }));
  }
  return list;
}

function pidCpuSeconds(pid: number): number {
  const t = procCpuTimes(`/proc/${pid}/stat`);
  return t === null ? NaN : t.user + t.sys;
}

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(s: Scenario, pin: string[]): Promise<Server> {
  const t = s.timing;
  const args = s.server === "mock"
    ? [
      "run",
      "-A",
      `${ROOT}/main.ts`,
      "mock",
      "--port",
      "0",
      "--ttft-ms",
      String(t.ttftMs),
      "--itl-ms",
      String(t.itlMs),
      "--output-tokens",
      String(t.tokens),
      "--stamp-times",
    ]
    : ["run", "-A", `${ROOT}/bench/blast_server.ts`, "0", String(t.tokens)];
  const { child, url, drain } = await spawnListening(
    [...pin, Deno.execPath(), ...args],
    `${s.server} server`,
  );
  drain();
  return {
    url,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

/**
 * Warm the server up (its JIT, its first connections) so that its start-up is not charged to the
 * client: `min(parallel, 256)` short requests in flight, twice, from this process.
 */
async function warmUp(s: Scenario, url: string): Promise<void> {
  const transport = new SocketTransport({
    timeouts: { connectMs: 30_000, readMs: 30_000, totalMs: Infinity },
  });
  const body = JSON.stringify({
    model: "bench",
    messages: [{ role: "user", content: "warm up" }],
    max_tokens: Math.min(16, s.timing.tokens),
    stream: s.stream,
  });
  const lanes = Math.min(s.parallel, 256);
  try {
    for (let round = 0; round < 2; round++) {
      await Promise.all(Array.from({ length: lanes }, () =>
        transport.send(
          { url, headers: { "content-type": "application/json" }, body, stream: s.stream },
          newRecord(0, s.stream),
        )));
    }
  } finally {
    await transport.close();
  }
}

async function runClient(
  script: "client_process.ts" | "floor_client.ts",
  args: ClientArgs | FloorArgs,
  pin: string[],
  v8Flags = "",
): Promise<{ report: ClientReport; wall: number }> {
  return await runArgv(clientArgv(script, args, pin, v8Flags));
}

let python: Promise<string | undefined> | undefined;

/**
 * The Python that runs the peer (`bench/peer_vllm.py`): the first of `python3` on the path and
 * Debian's `/usr/bin/python3` that is 3.9 or later and imports aiohttp; undefined when neither is.
 */
export function peerPython(): Promise<string | undefined> {
  return python ??= (async () => {
    for (const exe of ["python3", "/usr/bin/python3"]) {
      try {
        const out = await new Deno.Command(exe, {
          args: ["-c", "import sys, aiohttp; assert sys.version_info >= (3, 9)"],
          stdout: "null",
          stderr: "null",
        }).output();
        if (out.code === 0) return exe;
      } catch { /* not there */ }
    }
    return undefined;
  })();
}

async function runPeer(
  args: FloorArgs,
  pin: string[],
): Promise<{ report: ClientReport; wall: number }> {
  const exe = await peerPython();
  if (exe === undefined) {
    throw new Error("no python3 with aiohttp (apt-get install python3-aiohttp)");
  }
  // Its session trusts the environment (as vLLM's does): no proxy, as llmperf's socket transport.
  return await runArgv([...pin, exe, `${ROOT}/bench/peer_vllm.py`, JSON.stringify(args)], {
    no_proxy: "*",
    NO_PROXY: "*",
  });
}

async function runArgv(
  argv: string[],
  env?: Record<string, string>,
): Promise<{ report: ClientReport; wall: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const wall = (performance.now() - t0) / 1000;
  const dec = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`the client failed (exit ${out.code}):\n${dec.decode(out.stderr)}`);
  }
  const line = dec.decode(out.stdout).trim().split("\n").pop()!;
  return { report: JSON.parse(line) as ClientReport, wall };
}

/**
 * The command line of a client process: pinned by `pin` (a `taskset` prefix, or none), with V8
 * flags when given (`--v8-flags`: a comma-separated list, as `deno run --v8-flags=` takes it).
 */
export function clientArgv(
  script: "client_process.ts" | "floor_client.ts",
  args: ClientArgs | FloorArgs,
  pin: readonly string[],
  v8Flags = "",
): string[] {
  const flags = v8Flags === "" ? [] : [`--v8-flags=${v8Flags}`];
  return [
    ...pin,
    Deno.execPath(),
    "run",
    "-A",
    ...flags,
    `${ROOT}/bench/${script}`,
    JSON.stringify(args),
  ];
}

/** What the floor sends: the body llmperf's `openai` plugin sends in the bench's runs. */
const FLOOR_BODY = JSON.stringify({
  messages: [{ role: "user", content: "Tell me about load testing." }],
  model: "bench",
  stream: true,
  stream_options: { include_usage: true },
});

/** Run one scenario. */
export async function runScenario(
  s: Scenario,
  opts: {
    transport?: TransportChoice;
    workers?: number;
    db: boolean;
    pin: ReturnType<typeof pinning>;
    /** V8 flags for llmperf's client process (not the floor's, not the server's). */
    v8Flags?: string;
  },
): Promise<BenchRow> {
  const server = await startServer(s, s.clientAllCores ? [] : opts.pin.server);
  try {
    const path = "/v1/chat/completions";
    await warmUp(s, server.url + path);
    const cpu0 = pidCpuSeconds(server.pid);
    const pin = s.clientAllCores ? opts.pin.all : opts.pin.client;
    const floorArgs = (reader: FloorArgs["reader"]): FloorArgs => ({
      url: server.url + path,
      parallel: s.parallel,
      number: s.number,
      reader,
      body: FLOOR_BODY,
    });
    const { report, wall } = s.peer !== undefined
      ? await runPeer({ ...floorArgs("deno"), truth: s.peerTruth === true }, pin)
      : s.floor !== undefined
      ? await runClient("floor_client.ts", floorArgs(s.floor), pin)
      : await runClient(
        "client_process.ts",
        {
          url: server.url + path,
          stream: s.stream,
          parallel: s.parallel,
          number: s.number,
          rate: s.rate,
          firstWave: inFlight(s),
          transport: opts.transport ?? s.transport,
          workers: opts.workers ?? s.workers,
          api: s.api,
          db: opts.db,
          // Without truth the sink only counts events (the mock stamps them all the same).
          timing: { ...s.timing, stamps: s.server === "mock" && s.truth !== false },
        },
        pin,
        opts.v8Flags,
      );
    return {
      scenario: s,
      requests: report.truth.requests,
      client: report,
      serverCpuSeconds: pidCpuSeconds(server.pid) - cpu0,
      wallSeconds: wall,
    };
  } finally {
    await server.stop();
  }
}

const f = (v: number, d = 1) => Number.isFinite(v) ? v.toFixed(d) : "-";

function table(head: string[], lines: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [row(head), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n");
}

/**
 * The main table: what each row cost the client and the server, and the timing error against the
 * mock's stamps with the mock's own lateness beside it.
 */
export function formatRows(rows: BenchRow[]): string {
  const head = [
    "scenario",
    "client",
    "workers",
    "req/s",
    "events/s",
    "client µs/event",
    "events per client CPU-s",
    "peak RSS MB",
    "TTFT delay mean/p99 ms",
    "ITL err mean ms",
    "mock late mean/p99 ms",
    "server µs/event",
    "saturated",
    "failed",
  ];
  const lines = rows.map((r) => {
    const c = r.client;
    const t = c.truth;
    const events = t.events;
    const failed = Object.values(c.failures).reduce((a, b) => a + b, 0);
    return [
      r.scenario.name,
      c.client.transport,
      String(c.client.workers),
      f(r.requests / c.seconds, 0),
      f(events / c.seconds, 0),
      f(cpuPerEventUs(r), 2),
      f(events / c.cpuSeconds, 0),
      f(c.peakRssMb, 0),
      `${f(t.ttftDelay.mean, 2)} / ${f(t.ttftDelay.p99, 2)}`,
      f(t.itlError.mean, 3),
      `${f(t.mockLate.mean, 2)} / ${f(t.mockLate.p99, 2)}`,
      f((r.serverCpuSeconds / events) * 1e6, 2),
      c.client.saturated ? "yes" : "no",
      String(failed),
    ];
  });
  return table(head, lines);
}

/**
 * The timing detail: the rest of the ground truth, events per read (the floor counts its reads),
 * memory per stream, the server's CPU share.
 */
export function formatDetail(rows: BenchRow[]): string {
  const head = [
    "scenario",
    "TTFT err mean/p99 ms",
    "send delay mean/p99 ms",
    "1st-wave TTFT err ms",
    "event delay mean/p99 ms",
    "events/read",
    "KB/stream",
    "server CPU %",
  ];
  const lines = rows.map((r) => {
    const c = r.client;
    const t = c.truth;
    return [
      r.scenario.name,
      `${f(t.ttftError.mean, 2)} / ${f(t.ttftError.p99, 2)}`,
      `${f(t.sendDelay.mean, 2)} / ${f(t.sendDelay.p99, 2)}`,
      f(t.coldTtftError.mean, 1),
      `${f(t.eventDelay.mean, 2)} / ${f(t.eventDelay.p99, 2)}`,
      c.reads === undefined ? "-" : f(t.events / c.reads, 2),
      f(((c.peakRssMb - c.rssBeforeMb) * 1024) / inFlight(r.scenario), 1),
      f((r.serverCpuSeconds / c.seconds) * 100, 0),
    ];
  });
  return table(head, lines);
}

async function hasTaskset(): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output();
    return out.code === 0;
  } catch {
    return false;
  }
}

/** `parseArgs`, with a bad command line said in one line (exit 2) instead of a stack trace. */
function parseOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    console.error(`error: ${(e as Error).message.replace(/\s*\n\s*/g, " ")}`);
    Deno.exit(2);
  }
}

if (import.meta.main) {
  const { values } = parseOrExit(() =>
    parseArgs({
      args: Deno.args,
      options: {
        only: { type: "string" },
        quick: { type: "boolean", default: false },
        targets: { type: "boolean", default: false },
        transport: { type: "string" },
        workers: { type: "string" },
        "no-db": { type: "boolean", default: false },
        json: { type: "string" },
        list: { type: "boolean", default: false },
        repeat: { type: "string" },
        "v8-flags": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    })
  );
  if (values.help) {
    console.log(
      "deno task bench [--quick] [--targets] [--only name,...] [--transport socket|fetch] " +
        "[--workers N] [--no-db] [--v8-flags LIST] [--repeat N] [--json file] [--list]",
    );
    Deno.exit(0);
  }
  const scenarios = selectScenarios(
    values.only,
    values.quick,
    values.targets ? targetScenarios() : [],
  );
  if (values.list || scenarios.length === 0) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(24)} ${s.about}`);
    Deno.exit(scenarios.length === 0 && !values.list ? 2 : 0);
  }
  const cores = navigator.hardwareConcurrency || 1;
  const pin = pinning(cores, await hasTaskset());
  const repeat = Math.max(1, Number(values.repeat ?? (values.targets ? 3 : 1)));
  console.error(
    `bench: ${scenarios.length} scenario(s) × ${repeat} round(s), ${cores} cores, ` +
      (pin.client.length > 0 ? "server on the last core, client on the first" : "no pinning") +
      `, result DB ${values["no-db"] ? "off" : "on"}`,
  );
  const runs = new Map<string, BenchRow[]>(scenarios.map((s) => [s.name, []]));
  const rounds: Array<Map<string, BenchRow>> = [];
  for (let i = 0; i < repeat; i++) {
    const round = new Map<string, BenchRow>();
    for (const s of scenarios) {
      if (s.peer !== undefined && await peerPython() === undefined) {
        if (i === 0) {
          console.error(
            `bench: ${s.name}: skipped: no python3 with aiohttp (apt-get install python3-aiohttp)`,
          );
        }
        continue;
      }
      console.error(`bench: round ${i + 1}: ${s.name}: ${s.about} (${s.number} requests)`);
      const row = await runScenario(s, {
        transport: values.transport as TransportChoice | undefined,
        workers: values.workers === undefined ? undefined : Number(values.workers),
        db: !values["no-db"],
        v8Flags: values["v8-flags"],
        pin,
      });
      runs.get(s.name)!.push(row);
      round.set(s.name, row);
      console.error(formatRows([row]).split("\n").slice(2).join("\n"));
    }
    rounds.push(round);
  }
  const rows = scenarios.filter((s) => runs.get(s.name)!.length > 0).map((s) =>
    medianRow(runs.get(s.name)!, cpuPerEventUs)
  );
  if (repeat > 1) {
    console.error(`bench: each row is the median of ${repeat} runs by client CPU per event`);
  }
  console.log(formatRows(rows));
  console.log();
  console.log(formatDetail(rows));
  let targets: TargetResult[] | undefined;
  if (values.targets) {
    targets = evaluateTargets(rounds, TARGETS);
    console.log();
    if (values["no-db"]) console.log("(the result DB was off: the targets are set with it on)");
    console.log(formatTargets(targets));
  }
  if (values.json) {
    const out = {
      rows,
      rounds: rounds.map((r) => Object.fromEntries(r)),
      targets: targets?.map((t) => ({
        what: t.target.what,
        limit: t.target.limit,
        rounds: t.rounds,
        median: t.median,
        met: t.met,
      })),
    };
    await Deno.writeTextFile(values.json, JSON.stringify(out, null, 2));
  }
}

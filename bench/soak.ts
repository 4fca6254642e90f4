/**
 * Soak: a long run at many streams against a mock server that injects about 1% faults. Checks
 * that the client's memory stays flat and that no row is lost: DB rows = requests sent = the
 * summary's total, every failure with a reason. Not part of CI.
 *
 *   deno run -A bench/soak.ts [--minutes 10] [--parallel 512] [--fault-rate 0.01]
 *
 * The mock runs in its own process (pinned to core 1 when there are two cores), the client (the
 * real CLI) in another (core 0). The client's RSS is sampled every 5 s from /proc.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { openForReading } from "../src/store/open_read.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    parallel: { type: "string", default: "512" },
    "fault-rate": { type: "string", default: "0.01" },
    "ttft-ms": { type: "string", default: "50" },
    "itl-ms": { type: "string", default: "20" },
    tokens: { type: "string", default: "32" },
  },
});
const minutes = Number(values.minutes);
const parallel = Number(values.parallel);
const faultRate = Number(values["fault-rate"]);
const ttft = Number(values["ttft-ms"]),
  itl = Number(values["itl-ms"]),
  tokens = Number(values.tokens);
const main = new URL("../main.ts", import.meta.url).pathname;
const two = navigator.hardwareConcurrency >= 2;
const pin = (core: number, args: string[]) =>
  two
    ? ["taskset", ["-c", String(core), Deno.execPath(), ...args]] as const
    : [Deno.execPath(), args] as const;

// Faults spread over the modes that fail a request and those that only disturb it.
const modes = [
  "http-500",
  "http-429",
  "stall-mid",
  "disconnect-mid",
  "malformed-json",
  "error-event",
  "no-done",
  "split-utf8",
];
const port = 19000 + Math.floor(Math.random() * 1000);
const [mockCmd, mockArgs] = pin(1, [
  "run",
  "-A",
  main,
  "mock",
  "--port",
  String(port),
  "--ttft-ms",
  String(ttft),
  "--itl-ms",
  String(itl),
  "--output-tokens",
  String(tokens),
  "--stall-ms",
  "600000",
  ...modes.flatMap((m) => ["--fault", `${m}=${faultRate / modes.length}`]),
]);
// The mock logs every injected disconnect: its stderr must not be a pipe nobody reads (a full pipe
// blocks the writer, and the mock with it), so it goes to /dev/null.
const mock = new Deno.Command(mockCmd, { args: [...mockArgs], stdout: "null", stderr: "null" })
  .spawn();
await new Promise((r) => setTimeout(r, 2000));

const perRequestS = (ttft + (tokens - 1) * itl) / 1000;
const number = Math.round((minutes * 60 * parallel) / perRequestS);
const outputs = await Deno.makeTempDir({ prefix: "llmperf-soak-" });
const [cliCmd, cliArgs] = pin(0, [
  "run",
  "-A",
  main,
  "perf",
  `http://127.0.0.1:${port}/v1/chat/completions`,
  "--model",
  "soak",
  "--prompt",
  "soak test",
  "--parallel",
  String(parallel),
  "-n",
  String(number),
  "--stream",
  "--read-timeout",
  "2",
  "--log-every-n-query",
  String(Math.max(1000, Math.round(number / 20))),
  "--outputs-dir",
  outputs,
  "--no-test-connection",
]);
const t0 = performance.now();
const client = new Deno.Command(cliCmd, { args: [...cliArgs], stdout: "piped", stderr: "piped" })
  .spawn();

/** RSS in MB of the deno process under `pid` (taskset execs into it, so it is the same pid). */
function rssMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return undefined;
  }
}
const samples: Array<[number, number]> = [];
const sampler = setInterval(() => {
  const mb = rssMb(client.pid);
  if (mb !== undefined) samples.push([(performance.now() - t0) / 1000, mb]);
}, 5000);
const out = await client.output();
clearInterval(sampler);
mock.kill();
await mock.status;
const wall = (performance.now() - t0) / 1000;

const stdout = new TextDecoder().decode(out.stdout);
const total = Number(/\| Total requests +\| (\d+)/.exec(stdout)?.[1]);
const ok = Number(/\| Succeed requests +\| (\d+)/.exec(stdout)?.[1]);
const failed = Number(/\| Failed requests +\| (\d+)/.exec(stdout)?.[1]);
let rows = NaN, rowsFailedWithReason = NaN;
for (const e of Deno.readDirSync(outputs)) {
  const db = openForReading(`${outputs}/${e.name}/benchmark_data.db`);
  rows = (db.prepare("SELECT COUNT(*) AS c FROM result").get() as { c: number }).c;
  rowsFailedWithReason = (db.prepare(
    "SELECT COUNT(*) AS c FROM result WHERE success='False' AND json_extract(error, '$.kind') IS NOT NULL",
  ).get() as { c: number }).c;
  db.close();
}
await Deno.remove(outputs, { recursive: true });

const firstMinute = samples.filter(([t]) => t >= 30 && t <= 90).map(([, m]) => m);
const lastHalf = samples.filter(([t]) => t >= wall / 2).map(([, m]) => m);
const fmt = (xs: number[]) =>
  xs.length ? `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} MB` : "n/a";
console.log(
  `soak: ${minutes} min target, ${parallel} streams, ${(faultRate * 100).toFixed(1)}% faults ` +
    `(${modes.join(", ")}), ttft ${ttft} ms, itl ${itl} ms, ${tokens} tokens`,
);
console.log(`exit code ${out.code}, wall ${wall.toFixed(0)} s, requests planned ${number}`);
console.log(
  `total ${total} = succeeded ${ok} + failed ${failed}; DB rows ${rows}; failed rows with a reason ${rowsFailedWithReason}`,
);
console.log(
  `client RSS: 0:30–1:30 ${fmt(firstMinute)}; second half ${fmt(lastHalf)}; peak ${
    fmt(samples.map(([, m]) => m))
  }`,
);
console.log(`failure table:\n${stdout.slice(stdout.indexOf("Failures:"))}`);
console.log(
  `RSS samples (s, MB): ${samples.map(([t, m]) => `${t.toFixed(0)}:${m.toFixed(0)}`).join(" ")}`,
);
const lost = total !== rows || total !== ok + failed || failed !== rowsFailedWithReason;
if (lost) {
  console.error("ROWS LOST OR UNACCOUNTED");
  Deno.exit(1);
}

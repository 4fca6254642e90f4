/**
 * What writing the result DB costs the request loop: the same run with and without the DB,
 * alternated, against a mock server in its own process (pinned to the other core when there are
 * two). Prints requests/s, mean latency, TTFT and ITL, and the main thread's time in the DB sink
 * per row. Unpaced by default (the worst case: rows as fast as the mock can make them); with
 * --ttft-ms/--itl-ms it shows whether writing moves the timings of a paced run.
 *
 *   deno run -A bench/db_write.ts [--requests 50000] [--parallel 64] [--rounds 3] [--stream]
 *     [--ttft-ms 0] [--itl-ms 0] [--tokens 8]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runPerfBenchmark } from "../mod.ts";
import { ResultDb } from "../src/store/result_db.ts";
import { silentLogger } from "../src/log.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "50000" },
    parallel: { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
    stream: { type: "boolean", default: false },
    "ttft-ms": { type: "string", default: "0" },
    "itl-ms": { type: "string", default: "0" },
    tokens: { type: "string", default: "8" },
  },
});
const port = 18000 + Math.floor(Math.random() * 1000);
const cores = navigator.hardwareConcurrency;
const mockArgs = [
  "run",
  "-A",
  new URL("../main.ts", import.meta.url).pathname,
  "mock",
  "--port",
  String(port),
  "--output-tokens",
  values.tokens,
  "--ttft-ms",
  values["ttft-ms"],
  "--itl-ms",
  values["itl-ms"],
];
const mock = new Deno.Command(cores >= 2 ? "taskset" : Deno.execPath(), {
  args: cores >= 2 ? ["-c", "1", Deno.execPath(), ...mockArgs] : mockArgs,
  stdout: "null",
  stderr: "null",
}).spawn();
await new Promise((r) => setTimeout(r, 1500));

// Time spent on the main thread queueing rows for the DB writer: with transport workers the
// rows go from the workers to the writer directly, so this is 0 unless --workers 0.
let sinkMs = 0;
const add = ResultDb.prototype.add;
ResultDb.prototype.add = function (row) {
  const t = performance.now();
  add.call(this, row);
  sinkMs += performance.now() - t;
};

const outputs = await Deno.makeTempDir({ prefix: "llmperf-bench-db-" });
const rows: string[] = [];
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const resultDb of [true, false]) {
      sinkMs = 0;
      const t0 = performance.now();
      const r = await runPerfBenchmark({
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        model: "m",
        prompt: "hello",
        number: Number(values.requests),
        parallel: Number(values.parallel),
        stream: values.stream,
        outputsDir: outputs,
        logEveryNQuery: 1_000_000,
      }, { log: silentLogger, resultDb });
      const wall = (performance.now() - t0) / 1000;
      const n = r.summary["Total requests"] as number;
      rows.push(
        `| ${round + 1} | ${resultDb ? "yes" : "no"} | ${(n / wall).toFixed(0)} | ` +
          `${((r.summary["Average latency"] as number) * 1000).toFixed(2)} | ` +
          `${(r.requestSummary["Mean TTFT (ms)"] as number).toFixed(2)} | ` +
          `${(r.requestSummary["Mean ITL (ms)"] as number ?? NaN).toFixed(2)} | ` +
          `${resultDb ? ((sinkMs * 1000) / n).toFixed(2) : "-"} |`,
      );
    }
  }
} finally {
  mock.kill();
  await Deno.remove(outputs, { recursive: true });
}
console.log(
  `${values.requests} requests, --parallel ${values.parallel}, ` +
    `${values.stream ? "streamed" : "not streamed"}, mock: ${values.tokens} tokens, ` +
    `TTFT ${values["ttft-ms"]} ms, ITL ${values["itl-ms"]} ms`,
);
console.log(
  "| round | DB | requests/s | mean latency (ms) | mean TTFT (ms) | mean ITL (ms) | " +
    "main-thread µs per row in the DB sink |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);

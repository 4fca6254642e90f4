/**
 * `llmperf export`: the per-request CSV read back by Python's `csv` module (an RFC 4180 reader
 * written by others) and checked against the result DB row by row, a failure's message with a
 * comma and quotes quoted right, the summary CSV equal to `benchmark_summary.json`, and the
 * Parquet file read back by another library (hyparquet) with the same values.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { runCli } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { csvText } from "../src/report/csv.ts";
import { EXPORT_COLUMNS } from "../src/report/export_table.ts";
import { parquetReadObjects } from "hyparquet";

/** Rows of a CSV file as Python's csv.DictReader reads them. */
async function pythonCsv(path: string): Promise<Array<Record<string, string>>> {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import csv, json, sys\n" +
      "print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("csv: RFC 4180 quoting", () => {
  assertEquals(
    csvText(["a", "b,c"], [[1.5, 'say "hi"'], [null, "x\ny"], [true, ""]]),
    'a,"b,c"\r\n1.5,"say ""hi"""\r\n,"x\ny"\r\ntrue,\r\n',
  );
});

Deno.test("export e2e: CSV and Parquet hold the DB's requests; the summary CSV its summary", async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 15,
    itlMs: 2,
    outputTokens: 5,
    faults: { faults: [{ mode: "http-500", amount: 2 }], skip: 1 },
  });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 10, parallel: 2, stream: true, noGpuTelemetry: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const ex = await runCli(["export", r.dir, "--csv", "--parquet"]);
    assertEquals(ex.code, 0, ex.stderr);
    assert(ex.stderr.includes("10 requests:"), ex.stderr);
    const csv = await pythonCsv(`${r.dir}/requests.csv`);
    assertEquals(Object.keys(csv[0]), EXPORT_COLUMNS.map((c) => c.name));
    const db = r.sql<Record<string, number | string | null>>(
      "SELECT request_id, success, status_code, ttft, latency, completion_tokens, start_time " +
        "FROM result ORDER BY rowid",
    );
    assertEquals(csv.length, db.length);
    csv.forEach((row, i) => {
      const d = db[i];
      assertEquals(Number(row.request_id), d.request_id);
      assertEquals(row.success, d.success === "True" ? "true" : "false");
      assertEquals(Number(row.status_code), d.status_code);
      assertEquals(Number(row.start_time_s), d.start_time);
      if (d.success === "True") {
        assertAlmostEquals(Number(row.ttft_ms), (d.ttft as number) * 1000, 1e-9);
        assertAlmostEquals(Number(row.latency_s), d.latency as number, 1e-12);
        assertEquals(Number(row.completion_tokens), d.completion_tokens);
      } else {
        assertEquals([row.ttft_ms, row.failure_kind], ["", "http 500"]);
        assert(row.failure_message.length > 0);
      }
    });
    assertEquals(csv.filter((x) => x.success === "false").length, 2);

    const summary = (await pythonCsv(`${r.dir}/summary.csv`))[0];
    for (const [k, v] of Object.entries(r.summary)) {
      if (typeof v === "number") assertAlmostEquals(Number(summary[k]), v, Math.abs(v) * 1e-9, k);
    }
    // The server's TTFT histogram counts the 8 that got a first token, not the two 500s.
    assertEquals(Number(summary["Server requests observed"]), 8);

    const pq = await parquetReadObjects({
      file: (await Deno.readFile(`${r.dir}/requests.parquet`)).buffer,
    });
    assertEquals(pq.length, csv.length);
    pq.forEach((row, i) => {
      assertEquals(row.request_id, BigInt(csv[i].request_id));
      assertEquals(row.success, csv[i].success === "true");
      assertEquals(row.ttft_ms, csv[i].ttft_ms === "" ? null : Number(csv[i].ttft_ms));
      assertEquals(row.failure_kind, csv[i].failure_kind === "" ? null : csv[i].failure_kind);
    });

    const out = await runCli(["export", `${r.dir}/benchmark_data.db`, "--output", "-"]);
    assertEquals(out.code, 0, out.stderr);
    assertEquals(out.stdout, await Deno.readTextFile(`${r.dir}/requests.csv`));
    const bad = await runCli(["export", r.dir, "--parquet", "--output", "-"]);
    assertEquals([bad.code, bad.stderr.trim()], [
      2,
      "llmperf export: error: --output -: only CSV goes to stdout",
    ]);
  } finally {
    await mock.close();
  }
});

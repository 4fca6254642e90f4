import { assertEquals } from "./assert.ts";
import { gridTable } from "../src/report/grid_table.ts";
import { formatPercentiles, formatSummary, roundForPrint } from "../src/report/tables.ts";
import { SUMMARY_KEYS } from "../src/metrics/collector.ts";

// Expected texts are what Python's tabulate 0.9 prints for the same rows with tablefmt="grid".
Deno.test("grid table: tabulate's grid layout, numbers aligned on the decimal point", () => {
  const t = gridTable(["Percentile", "Latency", "X"], [["10%", 0.5, null], ["50%", 12.25, 3]]);
  assertEquals(
    t,
    [
      "+--------------+-----------+-----+",
      "| Percentile   |   Latency |   X |",
      "+==============+===========+=====+",
      "| 10%          |      0.5  |     |",
      "+--------------+-----------+-----+",
      "| 50%          |     12.25 |   3 |",
      "+--------------+-----------+-----+",
    ].join("\n"),
  );
});

Deno.test("grid table: a column with any text is left-aligned", () => {
  const t = gridTable(["Key", "Value"], [["a", 1], ["path", "/x/y"], ["c", 0.12345]]);
  assertEquals(
    t,
    [
      "+-------+---------+",
      "| Key   | Value   |",
      "+=======+=========+",
      "| a     | 1       |",
      "+-------+---------+",
      "| path  | /x/y    |",
      "+-------+---------+",
      "| c     | 0.12345 |",
      "+-------+---------+",
    ].join("\n"),
  );
});

Deno.test("tables: summary rows in evalscope's order, rounded as it rounds", () => {
  const summary: Record<string, number | string | null> = {};
  for (const k of Object.values(SUMMARY_KEYS)) summary[k] = 1.23456789;
  summary[SUMMARY_KEYS.dbPath] = "outputs/x/benchmark_data.db";
  const text = formatSummary(summary);
  const keys = text.split("\n").filter((l) => l.startsWith("| ")).map((l) =>
    l.split("|")[1].trim()
  );
  assertEquals(keys, ["Key", ...Object.values(SUMMARY_KEYS)]);
  assertEquals(text.startsWith("Benchmarking summary:\n+"), true);
  assertEquals(text.includes("| 1.235 "), true);
  assertEquals(text.includes("| 1.23457 "), true); // time per output token: 5 decimals
  assertEquals(roundForPrint("x", 2.0005), 2.001);
});

Deno.test("tables: too little data for percentiles says so, as evalscope does", () => {
  assertEquals(
    formatPercentiles([]),
    "Percentile results:\nToo little data to calculate quantiles",
  );
});

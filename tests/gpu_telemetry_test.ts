/**
 * GPU telemetry: the vendor tools' output parsed (recordings of nvidia-smi on two H100s, rocm-smi
 * and amd-smi on MI300X), and end to end with a stub `nvidia-smi` on PATH that checks its
 * arguments and prints the recording frame by frame: every `gpu_metrics` row is a recorded line,
 * both GPUs are there, `[N/A]` is NULL, the report draws the GPU charts. A tool that fails at once
 * (no driver) and no tool at all are each one info line.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { findGpuTool, NVIDIA_ARGS, parseAmdCsv, parseNvidiaLine } from "../src/telemetry/gpu.ts";

const FIXTURES = `${ROOT_DIR}/tests/fixtures/gpu`;
const RECORDING = `${FIXTURES}/nvidia_smi_h100x2.csv`;

Deno.test("gpu: an nvidia-smi line, [N/A] as null, other lines refused", () => {
  assertEquals(parseNvidiaLine("0, 97, 71302, 81559, 612.34, 1980"), {
    index: 0,
    utilizationPct: 97,
    memoryUsedMiB: 71302,
    memoryTotalMiB: 81559,
    powerW: 612.34,
    smClockMHz: 1980,
  });
  const na = parseNvidiaLine("1, [N/A], 71046, 81559, [N/A], 1980")!;
  assertEquals([na.utilizationPct, na.powerW, na.smClockMHz], [null, null, 1980]);
  assertEquals(parseNvidiaLine("index, utilization.gpu [%], memory.used [MiB]"), undefined);
  assertEquals(parseNvidiaLine(""), undefined);
});

Deno.test("gpu: rocm-smi and amd-smi CSV tables (bytes to MiB, card0 is GPU 0)", async () => {
  const rocm = parseAmdCsv(await Deno.readTextFile(`${FIXTURES}/rocm_smi_mi300x.csv`));
  assertEquals(rocm.map((g) => [g.index, g.utilizationPct, g.powerW, g.smClockMHz]), [
    [0, 97, 552, 2100],
    [1, 96, 548, 2098],
  ]);
  assertEquals(rocm[0].memoryTotalMiB, 206141652992 / 2 ** 20);
  assertEquals(rocm[0].memoryUsedMiB, 152604086272 / 2 ** 20);
  const amd = parseAmdCsv(await Deno.readTextFile(`${FIXTURES}/amd_smi_mi300x.csv`));
  assertEquals(amd, [
    {
      index: 0,
      utilizationPct: 97,
      memoryUsedMiB: 145536,
      memoryTotalMiB: 196592,
      powerW: 552,
      smClockMHz: 2100,
    },
    {
      index: 1,
      utilizationPct: 96,
      memoryUsedMiB: 144301,
      memoryTotalMiB: 196592,
      powerW: 548,
      smClockMHz: 2098,
    },
  ]);
  assertEquals(parseAmdCsv("no table here"), []);
});

/** A folder with a stub `nvidia-smi`: `body` is its bash script after the argument check. */
async function stubTool(body: string) {
  const dir = await tempDir();
  const path = `${dir.path}/nvidia-smi`;
  const expected = NVIDIA_ARGS.join(" ");
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash
if [ "$*" != "${expected}" ]; then echo "stub nvidia-smi: unexpected arguments: $*" >&2; exit 64; fi
${body}
`,
  );
  await Deno.chmod(path, 0o755);
  return dir;
}

/** Prints the recording two lines (one frame: both GPUs) every 0.25 s, over and over, as -lms. */
const REPLAY = `while true; do
  while IFS= read -r a && IFS= read -r b; do echo "$a"; echo "$b"; sleep 0.25; done < "${RECORDING}"
done`;

Deno.test("gpu telemetry e2e: a stub nvidia-smi's recorded lines land in gpu_metrics", async () => {
  await using tool = await stubTool(REPLAY);
  assertEquals(findGpuTool(tool.path)?.tool, "nvidia-smi");
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 20, outputTokens: 40 });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 8, parallel: 2, stream: true, noServerMetrics: true },
      env: { PATH: `${tool.path}:${Deno.env.get("PATH")}` },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("GPU telemetry: reading nvidia-smi"), r.stderr);
    const rows = r.sql<Record<string, number | string | null>>(
      "SELECT * FROM gpu_metrics ORDER BY rowid",
    );
    assert(rows.length >= 4, `${rows.length} rows`);
    assertEquals(new Set(rows.map((x) => x.gpu)), new Set([0, 1]));
    const recorded = new Set(
      (await Deno.readTextFile(RECORDING)).trim().split("\n").map((l) =>
        l.split(",").map((c) => c.trim()).map((c) => c === "[N/A]" ? "null" : String(Number(c)))
          .join(",")
      ),
    );
    for (const x of rows) {
      const line = [
        x.gpu,
        x.utilization_pct,
        x.memory_used_mib,
        x.memory_total_mib,
        x.power_w,
        x.sm_clock_mhz,
      ].map(String).join(",");
      assert(recorded.has(line), `a row that is no recorded line: ${line}`);
      assertEquals(x.tool, "nvidia-smi");
    }
    const html = await r.text("report.html");
    assert(html.includes('id="chart-gpu-util"') && html.includes("GPUs (nvidia-smi, 2 on"));
  } finally {
    await mock.close();
  }
});

Deno.test("gpu telemetry: a tool that fails at once, and no tool, are one info line each", async () => {
  await using broken = await stubTool(
    `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
exit 9`,
  );
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 2, noServerMetrics: true },
      env: { PATH: `${broken.path}:${Deno.env.get("PATH")}` },
    });
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.includes("GPU telemetry"));
    assertEquals(lines.length, 1, r.stderr);
    assert(
      lines[0].endsWith(
        "GPU telemetry: nvidia-smi exited with code 9: NVIDIA-SMI has failed because it " +
          "couldn't communicate with the NVIDIA driver. (off)",
      ),
      lines[0],
    );
    await using none = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 2, noServerMetrics: true },
      env: { PATH: "/usr/bin:/bin" },
    });
    const noneLines = none.stderr.split("\n").filter((l) => l.includes("GPU telemetry"));
    assertEquals(noneLines.length, 1, none.stderr);
    assert(
      noneLines[0].endsWith("GPU telemetry: no nvidia-smi, amd-smi or rocm-smi on PATH (off)"),
    );
    await using off = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 2, noServerMetrics: true, noGpuTelemetry: true },
      env: { PATH: `${broken.path}:${Deno.env.get("PATH")}` },
    });
    assert(!off.stderr.includes("GPU telemetry"), off.stderr);
  } finally {
    await mock.close();
  }
});

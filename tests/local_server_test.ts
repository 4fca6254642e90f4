/**
 * evalscope's local APIs: `--api local_vllm` starts `vllm serve` (here a fake `vllm` on PATH
 * that starts the mock server on the port it is given), waits until it answers, runs against it
 * and stops it; without vLLM installed it is a one-line error; `--api local` is refused with
 * what to do instead.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { nvidiaSmiGpuCount, visibleDeviceCount } from "../src/run/local_server.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function answers(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("--api local: refused in one line that says what to do instead", async () => {
  await using r = await perfRun({ flags: { api: "local", number: 1 } });
  assertEquals(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0].includes("--api local (evalscope's in-process transformers server)"));
  assert(lines[0].includes("give its --url, or use --api local_vllm"), lines[0]);
});

Deno.test("--api local_vllm: without vLLM, a one-line error (exit 2)", async () => {
  await using bin = await tempDir(); // a PATH with no vllm and no python3
  await using r = await perfRun({
    flags: { api: "local_vllm", number: 1 },
    env: { PATH: bin.path },
  });
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("--api local_vllm: vLLM is not installed"), r.stderr);
});

Deno.test("--api local_vllm e2e: starts vllm serve on --port, waits, runs, stops it", async () => {
  await using bin = await tempDir();
  const port = freePort();
  const log = `${bin.path}/vllm_args.txt`;
  // The fake vllm records its arguments and starts the mock on the port it is given.
  await Deno.writeTextFile(
    `${bin.path}/vllm`,
    `#!/bin/sh
echo "$@" > "${log}"
port=0
while [ $# -gt 0 ]; do
  case "$1" in --port) port="$2"; shift;; esac
  shift
done
sleep 1
exec "${Deno.execPath()}" run -A "${ROOT_DIR}/main.ts" mock --port "$port" --ttft-ms 1 --itl-ms 1
`,
  );
  await Deno.chmod(`${bin.path}/vllm`, 0o755);
  await using r = await perfRun({
    url: undefined,
    flags: { model: "org/tiny", api: "local_vllm", number: 3, parallel: 1 },
    args: ["--port", String(port)],
    // Two GPUs visible: evalscope's tensor parallel size is torch's device count.
    env: { PATH: `${bin.path}:${Deno.env.get("PATH") ?? ""}`, CUDA_VISIBLE_DEVICES: "0,1" },
    killAfterMs: 120_000,
  });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.summary["Succeed requests"], 3);
  // evalscope's arguments (utils/local_server.py; the reference: tp = GPU count, max-model-len
  // 32768), the model also its served name, on the --port given.
  assertEquals(
    (await Deno.readTextFile(log)).trim(),
    `serve org/tiny --served-model-name org/tiny --tensor-parallel-size 2 --max-model-len 32768 ` +
      `--gpu-memory-utilization 0.9 --host 127.0.0.1 --port ${port}`,
  );
  assert(r.stderr.includes(`the server answers at http://127.0.0.1:${port}`), r.stderr);
  assert(!await answers(port), "the server was stopped after the run");
});

Deno.test("--api local_vllm: the GPU count as torch sees it (CUDA_VISIBLE_DEVICES, nvidia-smi -L)", () => {
  assertEquals(visibleDeviceCount("0,1,2"), 3);
  assertEquals(visibleDeviceCount("3"), 1);
  assertEquals(visibleDeviceCount(""), 0);
  assertEquals(visibleDeviceCount("-1"), 0);
  assertEquals(visibleDeviceCount("0,-1,2"), 1); // torch stops at the first invalid entry
  assertEquals(
    nvidiaSmiGpuCount(
      "GPU 0: NVIDIA H200 (UUID: GPU-1b2c)\nGPU 1: NVIDIA H200 (UUID: GPU-3d4e)\n" +
        "  MIG 1g.18gb Device 0: (UUID: MIG-5f6a)\n",
    ),
    2,
  );
  assertEquals(nvidiaSmiGpuCount(""), 0);
});

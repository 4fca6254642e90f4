/**
 * evalscope's local APIs. `--api local_vllm` starts a vLLM OpenAI-compatible server for
 * `--model` on `127.0.0.1:--port` (`vllm serve`, or `python3 -m vllm.entrypoints.openai.
 * api_server` when there is no `vllm` command but Python has the package) with evalscope's
 * arguments (tensor parallel over every visible GPU, a 32768-token context), waits until it answers
 * `GET /v1/models`, points the run at it (`/v1/chat/completions`, or `/v1/completions` for the
 * `speed_benchmark` datasets, as evalscope does) with the `openai` plugin, and stops it after the
 * run. `--api local` (evalscope's in-process transformers server) is refused with what to do
 * instead. Its log goes to stderr.
 *
 * @module
 */
import type { PerfConfigInput } from "../config.ts";
import { RunError, UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** A started local server. */
export interface LocalServer {
  /** The endpoint the run uses. */
  url: string;
  /** Stop it (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** The longest wait for the server to answer (model loading can take minutes). */
const READY_LIMIT_MS = 30 * 60_000;

/** Whether `name` is an executable file in a `$PATH` folder; its path. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const st = Deno.statSync(path);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Whether `python3` can import vllm. */
async function pythonHasVllm(): Promise<boolean> {
  if (onPath("python3") === undefined) return false;
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", "import vllm"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * The GPUs a `CUDA_VISIBLE_DEVICES` value makes visible, as torch counts them: its entries up to
 * the first that is not a device (`-1`, or empty), so `""` and `"-1"` hide every GPU.
 */
export function visibleDeviceCount(value: string): number {
  let n = 0;
  for (const entry of value.split(",")) {
    const e = entry.trim();
    if (e === "" || e.startsWith("-")) break;
    n++;
  }
  return n;
}

/** The GPUs `nvidia-smi -L` lists (`GPU 0: NVIDIA H100 ... (UUID: ...)`, one a line). */
export function nvidiaSmiGpuCount(listing: string): number {
  return listing.split("\n").filter((l) => /^GPU \d+:/.test(l.trim())).length;
}

/**
 * This host's GPU count, as evalscope's `torch.cuda.device_count()` sees it:
 * `CUDA_VISIBLE_DEVICES` when set, else the GPUs `nvidia-smi -L` lists, else 0.
 */
export async function gpuCount(): Promise<number> {
  const visible = Deno.env.get("CUDA_VISIBLE_DEVICES");
  if (visible !== undefined) return visibleDeviceCount(visible);
  if (onPath("nvidia-smi") === undefined) return 0;
  try {
    const out = await new Deno.Command("nvidia-smi", { args: ["-L"], stderr: "null" }).output();
    return out.success ? nvidiaSmiGpuCount(new TextDecoder().decode(out.stdout)) : 0;
  } catch {
    return 0;
  }
}

/** The context length evalscope gives the vLLM server it starts (`--max-model-len`). */
export const LOCAL_VLLM_MAX_MODEL_LEN = 32768;

/**
 * The command that starts vLLM for `model` on `port` across `gpus` GPUs, or undefined when vLLM
 * is not installed. The arguments are evalscope's (`utils/local_server.py`): the model (also as
 * its served name, the `model` every request sends), `--tensor-parallel-size` the GPU count (at
 * least 1: vLLM refuses 0), `--max-model-len 32768`, `--gpu-memory-utilization 0.9` and the
 * port; it listens on 127.0.0.1 only (evalscope: every interface).
 */
export async function vllmCommand(
  model: string,
  port: number,
  gpus = 1,
): Promise<[string, string[]] | undefined> {
  const common = [
    "--served-model-name",
    model,
    "--tensor-parallel-size",
    String(Math.max(1, gpus)),
    "--max-model-len",
    String(LOCAL_VLLM_MAX_MODEL_LEN),
    "--gpu-memory-utilization",
    "0.9",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ];
  const vllm = onPath("vllm");
  if (vllm !== undefined) return [vllm, ["serve", model, ...common]];
  if (await pythonHasVllm()) {
    return ["python3", ["-m", "vllm.entrypoints.openai.api_server", "--model", model, ...common]];
  }
  return undefined;
}

/**
 * For `--api local` and `--api local_vllm`: refuse, or start the server and return the input
 * pointed at it (with the server, to stop after the run). Any other `--api`: the input as it is.
 */
export async function startLocalServer(
  input: PerfConfigInput,
  log: Logger,
): Promise<{ input: PerfConfigInput; server?: LocalServer }> {
  const api = input.api;
  if (api === "local") {
    throw new UsageError(
      "--api local (evalscope's in-process transformers server) is not supported: start a " +
        "server yourself (vllm serve MODEL, sglang, TGI, ollama) and give its --url, or use " +
        "--api local_vllm",
    );
  }
  if (api !== "local_vllm") return { input };
  const model = typeof input.model === "string" ? input.model : undefined;
  if (model === undefined) throw new UsageError("--api local_vllm: needs --model (what to serve)");
  const port = typeof input.port === "number" ? input.port : 8877;
  const command = await vllmCommand(model, port, await gpuCount());
  if (command === undefined) {
    throw new UsageError(
      "--api local_vllm: vLLM is not installed (no vllm command, and python3 cannot import " +
        "vllm): pip install vllm, or start a server yourself and give its --url",
    );
  }
  const speed = typeof input.dataset === "string" && input.dataset.startsWith("speed_benchmark");
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/v1/${speed ? "completions" : "chat/completions"}`;
  log(`--api local_vllm: starting ${command[0]} ${command[1].join(" ")}`);
  const child = new Deno.Command(command[0], {
    args: command[1],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const server: LocalServer = {
    url,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        return; // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone meanwhile
        }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
    },
  };
  try {
    await waitUntilReady(`${base}/v1/models`, child.status);
  } catch (e) {
    await server.stop();
    throw e;
  }
  log(`--api local_vllm: the server answers at ${base}`);
  return { input: { ...input, api: "openai", url }, server };
}

/** Poll `url` until it answers 200, the process exits (an error), or the limit passes. */
async function waitUntilReady(url: string, exited: Promise<Deno.CommandStatus>): Promise<void> {
  let status: Deno.CommandStatus | undefined;
  exited.then((s) => status = s);
  const limit = performance.now() + READY_LIMIT_MS;
  while (performance.now() < limit) {
    if (status !== undefined) {
      throw new RunError(
        `--api local_vllm: the vLLM server exited (code ${status.code}) before answering`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new RunError(`--api local_vllm: the vLLM server did not answer ${url} in 30 minutes`);
}

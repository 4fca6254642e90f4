/**
 * This host's GPUs during a run, read from the vendor's tool when it is on PATH: `nvidia-smi`
 * as one child process that prints a CSV line per GPU every second (`-lms 1000`), else AMD's
 * `amd-smi` or `rocm-smi`, run once a second for a CSV table. Utilisation, memory, power and the
 * SM (graphics) clock per GPU; a value the tool cannot give (`[N/A]`) is null. No tool, or one
 * that fails at once (a driver that is not loaded), is one info line and nothing else.
 *
 * The AMD tools' CSV columns are matched by name, as their documented formats give them; they
 * are tested with recorded output only.
 *
 * @module
 */
import { MAX_POINTS } from "./server_scraper.ts";
import type { GpuSeries, GpuTelemetry } from "./types.ts";

/** One GPU's reading. */
export interface GpuSample {
  /** The tool's index of the GPU. */
  index: number;
  /** Utilisation, %. */
  utilizationPct: number | null;
  /** Memory used, MiB. */
  memoryUsedMiB: number | null;
  /** Memory in all, MiB. */
  memoryTotalMiB: number | null;
  /** Power draw, W. */
  powerW: number | null;
  /** SM (graphics) clock, MHz. */
  smClockMHz: number | null;
}

/** The tools looked for, in order. */
export const GPU_TOOLS = ["nvidia-smi", "amd-smi", "rocm-smi"] as const;

/** A GPU tool. */
export type GpuTool = typeof GPU_TOOLS[number];

/** What `nvidia-smi` is asked for (one CSV line per GPU per second). */
export const NVIDIA_ARGS: readonly string[] = [
  "--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,clocks.sm",
  "--format=csv,noheader,nounits",
  "-lms",
  "1000",
];

/** What the AMD tools are asked for, once a second. */
export const AMD_ARGS: Readonly<Record<"amd-smi" | "rocm-smi", readonly string[]>> = {
  "amd-smi": ["metric", "--usage", "--power", "--clock", "--mem-usage", "--csv"],
  "rocm-smi": ["--showuse", "--showpower", "--showclocks", "--showmeminfo", "vram", "--csv"],
};

/** The first GPU tool on `PATH` (an executable file), or undefined. */
export function findGpuTool(path = envPath()): { tool: GpuTool; path: string } | undefined {
  const dirs = path.split(Deno.build.os === "windows" ? ";" : ":").filter((d) => d !== "");
  for (const tool of GPU_TOOLS) {
    for (const dir of dirs) {
      const file = `${dir}/${tool}${Deno.build.os === "windows" ? ".exe" : ""}`;
      try {
        const st = Deno.statSync(file);
        if (st.isFile && (st.mode === null || (st.mode & 0o111) !== 0)) return { tool, path: file };
      } catch { /* not there */ }
    }
  }
  return undefined;
}

function envPath(): string {
  try {
    return Deno.env.get("PATH") ?? "";
  } catch {
    return "";
  }
}

/** A number from a tool's cell (`312.45`, `1980Mhz`, `(1980Mhz)`, `87 %`), or null (`[N/A]`). */
export function cellNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.replace(/^\s*card/i, ""));
  if (!m || /N\/A|not supported/i.test(text)) return null;
  const v = Number(m[0]);
  return Number.isFinite(v) ? v : null;
}

/**
 * One line of `nvidia-smi` with {@link NVIDIA_ARGS}: `0, 87, 70213, 81559, 312.45, 1980`;
 * undefined for a line that is not one.
 */
export function parseNvidiaLine(line: string): GpuSample | undefined {
  const cells = line.split(",").map((c) => c.trim());
  if (cells.length < 6) return undefined;
  const index = cellNumber(cells[0]);
  if (index === null || !Number.isInteger(index)) return undefined;
  return {
    index,
    utilizationPct: cellNumber(cells[1]),
    memoryUsedMiB: cellNumber(cells[2]),
    memoryTotalMiB: cellNumber(cells[3]),
    powerW: cellNumber(cells[4]),
    smClockMHz: cellNumber(cells[5]),
  };
}

/** Split one CSV line (quoted cells allowed, as the AMD tools write them). */
function csvCells(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.map((c) => c.trim());
}

/** Which header names hold what, for the AMD tools (first match wins). */
const AMD_COLUMNS: Record<keyof GpuSample, RegExp[]> = {
  index: [/^gpu$/i, /^device$/i],
  utilizationPct: [/^gfx_activity$/i, /^gfx_usage$/i, /^GPU use \(%\)$/i],
  memoryUsedMiB: [/^used_vram$/i, /^vram_used$/i, /^VRAM Total Used Memory \(B\)$/i],
  memoryTotalMiB: [/^total_vram$/i, /^vram_total$/i, /^VRAM Total Memory \(B\)$/i],
  powerW: [/^socket_power$/i, /^power_usage$/i, /Power \(W\)$/i],
  smClockMHz: [/^gfx_0_clk$/i, /^gfx_clk$/i, /^sclk clock speed:?$/i],
};

/**
 * The GPUs in one CSV table from `amd-smi` or `rocm-smi` (a header row, then a row per GPU).
 * Memory given in bytes (rocm-smi's `(B)` columns) is turned into MiB.
 */
export function parseAmdCsv(text: string): GpuSample[] {
  const lines = text.split(/\r?\n/).filter((l) => l.includes(","));
  if (lines.length < 2) return [];
  const header = csvCells(lines[0]);
  const col = (k: keyof GpuSample) => {
    for (const re of AMD_COLUMNS[k]) {
      const i = header.findIndex((h) => re.test(h));
      if (i >= 0) return i;
    }
    return -1;
  };
  const at = Object.fromEntries(
    (Object.keys(AMD_COLUMNS) as Array<keyof GpuSample>).map((k) => [k, col(k)]),
  ) as Record<keyof GpuSample, number>;
  if (at.index < 0) return [];
  const bytes = (k: keyof GpuSample) => at[k] >= 0 && /\(B\)$/.test(header[at[k]]);
  const out: GpuSample[] = [];
  for (const line of lines.slice(1)) {
    const cells = csvCells(line);
    const get = (k: keyof GpuSample) => at[k] < 0 ? null : cellNumber(cells[at[k]]);
    const index = get("index");
    if (index === null || !Number.isInteger(index)) continue;
    const mib = (k: "memoryUsedMiB" | "memoryTotalMiB") => {
      const v = get(k);
      return v !== null && bytes(k) ? v / (1 << 20) : v;
    };
    out.push({
      index,
      utilizationPct: get("utilizationPct"),
      memoryUsedMiB: mib("memoryUsedMiB"),
      memoryTotalMiB: mib("memoryTotalMiB"),
      powerW: get("powerW"),
      smClockMHz: get("smClockMHz"),
    });
  }
  return out;
}

/** Each GPU's series, built sample by sample and thinned evenly past {@link MAX_POINTS}. */
export class GpuSeriesSet {
  readonly #tool: string;
  readonly #gpus = new Map<number, GpuSeries>();

  /** @param tool the tool read */
  constructor(tool: string) {
    this.#tool = tool;
  }

  /** Add GPU readings taken at `time` (epoch seconds). */
  add(time: number, samples: readonly GpuSample[]): void {
    for (const s of samples) {
      let g = this.#gpus.get(s.index);
      if (!g) {
        g = {
          index: s.index,
          t: [],
          utilizationPct: [],
          memoryUsedMiB: [],
          memoryTotalMiB: [],
          powerW: [],
          smClockMHz: [],
        };
        this.#gpus.set(s.index, g);
      }
      g.t.push(time);
      g.utilizationPct.push(s.utilizationPct);
      g.memoryUsedMiB.push(s.memoryUsedMiB);
      g.memoryTotalMiB.push(s.memoryTotalMiB);
      g.powerW.push(s.powerW);
      g.smClockMHz.push(s.smClockMHz);
      if (g.t.length > MAX_POINTS) {
        for (const k of Object.keys(g) as Array<keyof GpuSeries>) {
          const a = g[k];
          if (!Array.isArray(a)) continue;
          let j = 0;
          for (let i = 0; i < a.length; i += 2) a[j++] = a[i];
          a.length = j;
        }
      }
    }
  }

  /** The series so far. */
  data(): GpuTelemetry {
    return { tool: this.#tool, gpus: [...this.#gpus.values()].sort((a, b) => a.index - b.index) };
  }
}

/** A running reader of one GPU tool. */
export interface GpuReader {
  /** The tool read. */
  readonly tool: GpuTool;
  /** Stop reading (the child process is ended). */
  stop(): Promise<void>;
}

/** How long the first reading may take before the tool counts as working anyway, ms. */
const FIRST_READING_MS = 3_000;

/**
 * Start reading `tool` at `path`; `onSamples` gets each reading. Resolves once the first reading
 * came (or the tool runs without one yet): the reader, or the one line that says why it failed.
 */
export async function startGpuReader(
  found: { tool: GpuTool; path: string },
  onSamples: (time: number, samples: GpuSample[]) => void,
  intervalMs = 1000,
): Promise<GpuReader | string> {
  return found.tool === "nvidia-smi"
    ? await startNvidia(found.path, onSamples)
    : await startAmd(found.tool, found.path, onSamples, intervalMs);
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}

async function startNvidia(
  path: string,
  onSamples: (time: number, samples: GpuSample[]) => void,
): Promise<GpuReader | string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: [...NVIDIA_ARGS],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return `nvidia-smi could not start: ${(e as Error).message}`;
  }
  let stderr = "";
  const errDone = (async () => {
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (stderr.length < 4096) stderr += t;
    }
  })().catch(() => {});
  let resolveFirst: () => void = () => {};
  const first = new Promise<void>((r) => resolveFirst = r);
  const outDone = (async () => {
    let rest = "";
    for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += t;
      let nl: number;
      const batch: GpuSample[] = [];
      while ((nl = rest.indexOf("\n")) >= 0) {
        const s = parseNvidiaLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
        if (s) batch.push(s);
      }
      if (batch.length > 0) {
        onSamples(Date.now() / 1000, batch);
        resolveFirst();
      }
    }
  })().catch(() => {});
  const status = child.status;
  const exited = status.then((s) => s);
  const timer = new Promise<"slow">((r) => setTimeout(() => r("slow"), FIRST_READING_MS));
  const got = await Promise.race([first.then(() => "first" as const), exited, timer]);
  if (typeof got === "object") {
    await Promise.all([errDone, outDone]);
    const why = firstLine(stderr);
    return `nvidia-smi exited with code ${got.code}${why ? `: ${why}` : ""}`;
  }
  let stopped = false;
  return {
    tool: "nvidia-smi",
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await status.catch(() => {});
      await Promise.all([errDone, outDone]);
    },
  };
}

async function startAmd(
  tool: "amd-smi" | "rocm-smi",
  path: string,
  onSamples: (time: number, samples: GpuSample[]) => void,
  intervalMs: number,
): Promise<GpuReader | string> {
  const read = async (): Promise<GpuSample[] | string> => {
    try {
      const out = await new Deno.Command(path, {
        args: [...AMD_ARGS[tool]],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success) {
        const why = firstLine(new TextDecoder().decode(out.stderr)) || firstLine(text);
        return `${tool} exited with code ${out.code}${why ? `: ${why}` : ""}`;
      }
      const samples = parseAmdCsv(text);
      return samples.length > 0 ? samples : `${tool} printed no GPU table`;
    } catch (e) {
      return `${tool} could not start: ${(e as Error).message}`;
    }
  };
  const first = await read();
  if (typeof first === "string") return first;
  onSamples(Date.now() / 1000, first);
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    loop = (async () => {
      const s = await read();
      if (stopped) return;
      if (typeof s !== "string") onSamples(Date.now() / 1000, s);
      timer = setTimeout(tick, intervalMs);
    })();
  };
  timer = setTimeout(tick, intervalMs);
  return {
    tool,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await loop;
    },
  };
}

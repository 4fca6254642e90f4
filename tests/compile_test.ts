/**
 * What a `deno compile`d llmperf needs, checked without compiling (the build machines cannot
 * download `denort`): the compile task goes through `tools/compile.ts`, and every module or file
 * that the code loads at run time is embedded — worker modules (`new Worker(new URL(...))`) and
 * data files (`new URL(..., import.meta.url)`) by an `--include`, text and JSON imports
 * (`import x from "./f.js" with { type: "text" }`) by the static module graph of `main.ts` or of
 * an included module. The scan reads the code itself, so a new worker or data file that is not
 * added to `COMPILE_INCLUDES` fails here.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";
import {
  COMPILE_INCLUDES,
  compileArgs,
  outputPath,
  RELEASE_TARGETS,
  targetArg,
} from "../tools/compile.ts";

/** Where the code is scanned: the CLI's and library's modules and the built-in plugins. */
const SCANNED = ["main.ts", "mod.ts", "plugin.ts", "src", "plugins"];

const CODE_EXT = /\.(ts|js|mjs|mts)$/;

async function codeFiles(): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    const info = await Deno.stat(`${ROOT_DIR}/${rel}`);
    if (info.isFile) {
      if (CODE_EXT.test(rel)) out.push(rel);
      return;
    }
    for await (const e of Deno.readDir(`${ROOT_DIR}/${rel}`)) await walk(`${rel}/${e.name}`);
  }
  for (const s of SCANNED) await walk(s);
  return out.sort();
}

/** A path relative to the root, from a path relative to the file `from`. */
function resolveFrom(from: string, rel: string): string {
  const url = new URL(rel, `file:///root/${from}`);
  return decodeURIComponent(url.pathname.slice("/root/".length));
}

/** One thing the code loads at run time. */
interface RuntimeLoad {
  /** The file that loads it (relative to the root). */
  from: string;
  /** What it loads (relative to the root). */
  path: string;
  /** A worker module, a data file read through its URL, or a text/JSON import. */
  kind: "worker" | "file" | "import";
}

const URL_OF = /new URL\(\s*["'`](\.{1,2}\/[^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g;
const WORKER = /new Worker\(\s*([^,)]+)/g;
const TYPED_IMPORT =
  /import\s+[\w{}\s,*]+\s+from\s+["']([^"']+)["']\s+with\s*\{\s*type:\s*["'](text|json|bytes)["']/g;

/** Strip comments, so that documentation examples are not taken for loads. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Every run-time load in the scanned code; throws on a Worker whose module it cannot see. */
async function runtimeLoads(): Promise<RuntimeLoad[]> {
  const loads: RuntimeLoad[] = [];
  for (const from of await codeFiles()) {
    const text = code(await Deno.readTextFile(`${ROOT_DIR}/${from}`));
    const urls = new Map<string, string>(); // `const X = new URL(...)` → path
    for (const m of text.matchAll(/const\s+(\w+)\s*=\s*new URL\(\s*["'`]([^"'`]+)["'`]/g)) {
      urls.set(m[1], resolveFrom(from, m[2]));
    }
    const workers = new Set<string>();
    for (const m of text.matchAll(WORKER)) {
      const arg = m[1].trim();
      const direct = /^new URL\(\s*["'`]([^"'`]+)["'`]/.exec(arg)?.[1];
      const path = direct !== undefined
        ? resolveFrom(from, direct)
        : urls.get(/^(\w+)/.exec(arg)?.[1] ?? "");
      if (path === undefined) {
        throw new Error(`${from}: cannot see which module 'new Worker(${arg}' loads`);
      }
      workers.add(path);
      loads.push({ from, path, kind: "worker" });
    }
    for (const m of text.matchAll(URL_OF)) {
      const path = resolveFrom(from, m[1]);
      if (!workers.has(path)) loads.push({ from, path, kind: "file" });
    }
    for (const m of text.matchAll(TYPED_IMPORT)) {
      const path = m[1].startsWith(".") ? resolveFrom(from, m[1]) : m[1]; // or a package's file
      loads.push({ from, path, kind: "import" });
    }
  }
  return loads;
}

/**
 * The static module graph of `entries` (`deno info --json`): local files relative to the root,
 * package files as `npm:/name@version/path`.
 */
async function graphFiles(entries: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const entry of entries) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT_DIR,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const info = JSON.parse(new TextDecoder().decode(r.stdout)) as {
      modules: { specifier: string }[];
    };
    const root = `file://${ROOT_DIR}/`;
    for (const m of info.modules) {
      const s = m.specifier;
      out.add(s.startsWith(root) ? decodeURIComponent(s.slice(root.length)) : s);
    }
  }
  return out;
}

/** Whether a graph entry (`npm:/uplot@1.6.32/dist/x.js`) is a bare specifier's file (`uplot/dist/x.js`). */
function isPackageFile(entry: string, bare: string): boolean {
  const m = /^npm:\/((?:@[^/]+\/)?[^@/]+)@[^/]+\/(.+)$/.exec(entry);
  return m !== null && `${m[1]}/${m[2]}` === bare;
}

/** What a compile with `includes` leaves out of what the code loads: one line each. */
async function missing(includes: readonly string[]): Promise<string[]> {
  const dirs = includes.filter((p) => p.endsWith("/"));
  const modules = includes.filter((p) => !p.endsWith("/"));
  const graph = await graphFiles(["main.ts", ...modules]);
  const underDir = (p: string) => dirs.some((d) => p.startsWith(d));
  const out: string[] = [];
  for (const load of await runtimeLoads()) {
    if (!graph.has(load.from)) continue; // not part of the executable
    const ok = load.kind === "worker"
      ? modules.includes(load.path)
      : load.kind === "file"
      ? underDir(load.path) || modules.includes(load.path)
      : graph.has(load.path) || [...graph].some((g) => isPackageFile(g, load.path));
    if (!ok) out.push(`${load.from}: ${load.kind} ${load.path}`);
  }
  return out;
}

Deno.test("compile: the task runs tools/compile.ts, and its arguments name every include", async () => {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT_DIR}/deno.json`));
  assert(/^deno run [^&|;]*tools\/compile\.ts$/.test(deno.tasks.compile), deno.tasks.compile);
  const args = compileArgs();
  assertEquals(args.slice(0, 2), ["compile", "-A"]);
  assertEquals(args.at(-1), "main.ts");
  const included = args.flatMap((a, i) => args[i - 1] === "--include" ? [a] : []);
  assertEquals(included, [...COMPILE_INCLUDES]);
  for (const p of COMPILE_INCLUDES) {
    const info = await Deno.stat(`${ROOT_DIR}/${p}`);
    assert(p.endsWith("/") ? info.isDirectory : info.isFile, p);
  }
  // One build per release target, each into its own file, Windows with .exe.
  const outputs = RELEASE_TARGETS.map((t) => {
    const a = compileArgs(t);
    assertEquals(a[a.indexOf("--target") + 1], t);
    return a[a.indexOf("--output") + 1];
  });
  assertEquals(new Set(outputs).size, RELEASE_TARGETS.length);
  assertEquals(outputPath("x86_64-pc-windows-msvc"), "dist/x86_64-pc-windows-msvc/llmperf.exe");
  assertEquals(outputPath(), "dist/llmperf");
  assertEquals(targetArg(["--target", "aarch64-apple-darwin"]), "aarch64-apple-darwin");
  assertEquals(targetArg(["--target=x86_64-apple-darwin"]), "x86_64-apple-darwin");
  assertEquals(targetArg([]), undefined);
  for (const bad of [["--target"], ["--target", "x86_64-linux"], ["-o", "x"]]) {
    let threw = false;
    try {
      targetArg(bad);
    } catch {
      threw = true;
    }
    assert(threw, bad.join(" "));
  }
});

Deno.test("compile: every worker, data file and text import the code loads is embedded", async () => {
  const loads = await runtimeLoads();
  // The scan sees what it must (if these move, the scan still has to find them).
  const seen = (kind: string, path: string) =>
    loads.some((l) => l.kind === kind && l.path === path);
  assert(seen("worker", "src/workers/worker.ts"), JSON.stringify(loads));
  assert(seen("worker", "src/store/db_worker.ts"));
  assert(seen("worker", "src/tokenizer/count_worker.ts"));
  assert(seen("file", "data/open_qa_sample.jsonl"));
  const textImports = loads.filter((l) => l.kind === "import");
  assert(textImports.some((l) => l.path.startsWith("src/report/html/")), "the page's own script");
  assert(seen("import", "uplot/dist/uPlot.iife.min.js"));
  for (const l of loads) {
    if (!l.path.startsWith("src/") && !l.path.startsWith("data/")) continue; // a package's
    await Deno.stat(`${ROOT_DIR}/${l.path}`); // what is loaded exists
  }
  assertEquals(await missing(COMPILE_INCLUDES), []);
});

Deno.test("compile: the check fails when an include is dropped", async () => {
  const loads = await runtimeLoads();
  for (const dropped of COMPILE_INCLUDES) {
    const kind = dropped.endsWith("/") ? "file" : "worker";
    const expected = loads.filter((l) => l.kind === kind && l.path.startsWith(dropped))
      .map((l) => `${l.from}: ${l.kind} ${l.path}`);
    assert(expected.length > 0, `nothing loads ${dropped}: drop it from COMPILE_INCLUDES`);
    assertEquals(await missing(COMPILE_INCLUDES.filter((p) => p !== dropped)), expected, dropped);
  }
});

/**
 * The import graph of llmperf's own modules, as `deno info --json` sees it from every entry
 * module (main.ts, mod.ts, plugin.ts and each Web Worker's module), type-only imports included:
 * no import cycle, and the layer rules below hold. DEVELOPERS.md ("Layers") says why.
 *
 * Until the branches that own them land, {@link EXCEPTIONS} lists the imports that still break a
 * rule, each with its owner; an exception that is no longer in the graph fails the test, so the
 * list only shrinks.
 */
import { loadedAtStart, loadedWithDynamic } from "./helpers/module_graph.ts";
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";

/** An import `from` → `to`, both paths relative to the repository root. */
type Edge = readonly [from: string, to: string];

/** Imports that break a rule for now, with the work that removes them. */
const EXCEPTIONS: ReadonlyArray<{ edge: Edge; owner: string }> = [];

/** The bottom layer: config (its file and folder), errors, exit codes, log, version, util. */
const BOTTOM = /^src\/(config\/|(config|errors|exit_codes|log|version)\.ts$)|^src\/util\//;

/**
 * The layer rules: a module matching `from` imports nothing matching `to`, except modules
 * matching `unless`. Paths relative to the repository root.
 */
const RULES: ReadonlyArray<{ rule: string; from: RegExp; to: RegExp; unless?: RegExp }> = [
  {
    rule: "orchestration is on top: only the CLI, the library entry and the run itself import it",
    from: /./,
    to: /^src\/(perf\.ts|run\/)/,
    unless: /^(mod\.ts|src\/cli\/|src\/run\/|src\/perf\.ts)/,
  },
  {
    rule: "outputs, results, records and the merge import results types, never the load or the run",
    from: /^src\/(report|store|wandb|visualizer|slo|metrics|results|records|merge|telemetry)\//,
    to: /^src\/(load|run|cli)\/|^src\/perf\.ts/,
  },
  {
    rule: "the bottom (config, errors, exit codes, log, version, util) imports only the bottom",
    from: BOTTOM,
    to: /./,
    unless: BOTTOM,
  },
  {
    rule: "built-in plugins are written as a user's: they import only plugin.ts (or each other)",
    from: /^plugins\//,
    to: /./,
    unless: /^(plugin\.ts|plugins\/)/,
  },
  {
    rule: "only the registries of built-ins (APIs, datasets) import a built-in plugin",
    from: /^src\//,
    to: /^plugins\//,
    unless: /^src\/plugins\/(builtins|builtin_apis)\.ts$/,
  },
  {
    rule: "the mock is not the client: it imports only itself and src/util",
    from: /^src\/mock\//,
    to: /^src\//,
    unless: /^src\/(mock|util)\//,
  },
  {
    rule: "the CLI is a thin top: only main.ts imports it",
    from: /./,
    to: /^src\/cli\//,
    unless: /^(main\.ts|src\/cli\/)/,
  },
  {
    rule: "nothing in src/ imports an entry module",
    from: /^src\//,
    to: /^(main|mod|plugin)\.ts$/,
  },
];

const ROOT_URL = `file://${ROOT_DIR}/`;

/** The modules that a `new Worker(...)` starts: every `new URL("./x.ts", import.meta.url)`. */
async function workerEntries(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT_DIR}/${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(`${ROOT_DIR}/${path}`);
        for (const m of text.matchAll(/new URL\("(\.\.?\/[^"]+\.ts)", import\.meta\.url\)/g)) {
          found.push(new URL(m[1], `${ROOT_URL}${path}`).href.slice(ROOT_URL.length));
        }
      }
    }
  };
  await walk("src");
  return found.sort();
}

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ code?: { specifier?: string }; type?: { specifier?: string } }>;
}

/** Each local module's imports (code and type-only), from every entry module. */
async function importGraph(entries: string[]): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  const local = (s: string | undefined) =>
    s !== undefined && s.startsWith(ROOT_URL) ? s.slice(ROOT_URL.length) : undefined;
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT_DIR,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (from === undefined) continue;
      const to = graph.get(from) ?? new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [local(d.code?.specifier), local(d.type?.specifier)]) {
          if (s !== undefined) to.add(s);
        }
      }
      graph.set(from, to);
    }
  }
  return graph;
}

/** The strongly connected components of more than one module (Tarjan's algorithm). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** One import path around a component, for the message: `a -> b -> c -> a`. */
function loopIn(scc: string[], graph: Map<string, Set<string>>): string {
  const members = new Set(scc);
  const start = scc[0];
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = from.get(x)!) path.splice(1, 0, x);
        return [...path, start].join(" -> ");
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(", ");
}

const ENTRIES = ["main.ts", "mod.ts", "plugin.ts"];
const workers = await workerEntries();
const graph = await importGraph([...ENTRIES, ...workers]);
const excepted = (from: string, to: string) =>
  EXCEPTIONS.some(({ edge }) => edge[0] === from && edge[1] === to);

Deno.test("import graph: every Web Worker's module is found and in the graph", () => {
  assertEquals(workers, [
    "src/plugins/items_worker.ts",
    "src/store/db_worker.ts",
    "src/telemetry/telemetry_worker.ts",
    "src/tokenizer/count_worker.ts",
    "src/workers/worker.ts",
  ]);
  for (const w of workers) assert(graph.has(w), w);
  assert(graph.size > 100, `only ${graph.size} modules: is deno info reading the tree?`);
});

Deno.test("import graph: no import cycle among llmperf's modules", () => {
  const withoutExceptions = new Map(
    [...graph].map(([from, to]) => [from, new Set([...to].filter((t) => !excepted(from, t)))]),
  );
  const found = cycles(withoutExceptions).map((scc) => {
    const loop = loopIn(scc, withoutExceptions);
    return scc.length > 2 ? `${loop} (one loop of ${scc.length}: ${scc.join(", ")})` : loop;
  });
  assertEquals(found, [], `import cycles:\n${found.join("\n")}`);
});

Deno.test("import graph: the layer rules hold", () => {
  const broken: string[] = [];
  for (const [from, tos] of graph) {
    for (const to of tos) {
      for (const r of RULES) {
        if (!r.from.test(from) || !r.to.test(to) || r.unless?.test(from) || from === to) continue;
        if (!excepted(from, to)) broken.push(`${from} -> ${to}: ${r.rule}`);
      }
    }
  }
  assertEquals(broken.sort(), [], `layer rules broken:\n${broken.join("\n")}`);
});

Deno.test("import graph: every exception is still needed (remove the ones that are not)", () => {
  const stale = EXCEPTIONS.filter(({ edge: [from, to] }) => !graph.get(from)?.has(to))
    .map(({ edge, owner }) => `${edge.join(" -> ")} (${owner})`);
  assertEquals(stale, [], `no longer imported, remove from EXCEPTIONS:\n${stale.join("\n")}`);
});

Deno.test("import graph: the CLI starts without the packages only some commands or datasets need", async () => {
  // Each is imported where it is used: a tokenizer (--tokenizer-path), PNG (random_vl), Parquet
  // (kontext_bench, export --format parquet), tar (WebDataset shards), YAML (a --config file,
  // --print-config). Loaded at start they cost every command ~8 MB of memory (docs/performance.md,
  // "Hot path v5"); YAML alone ~3 MB and ~40 ms of CPU ("Hot path v19").
  const loaded = await loadedAtStart("main.ts");
  const lazy =
    /^npm:(@huggingface\/(tokenizers|jinja)|fast-png|hyparquet|hyparquet-writer|modern-tar|yaml)@/;
  assertEquals(loaded.filter((m) => lazy.test(m)), []);
  assert(loaded.includes("plugins/datasets/random_vl.ts"), "the datasets are still registered");
  // Each is still in the graph, through its dynamic import (what `deno compile` embeds).
  const all = await loadedWithDynamic("main.ts");
  assert(all.some((m) => m.startsWith("npm:yaml@")), "yaml is still reachable");
});

Deno.test("import graph: the CLI loads each command but perf when it is run", async () => {
  const loaded = await loadedAtStart("main.ts");
  const commands = /^src\/cli\/(mock|report|doctor|merge|export)_command\.ts$/;
  assertEquals(loaded.filter((m) => commands.test(m) || m === "src/mock/server.ts"), []);
  assert(loaded.includes("src/cli/perf_args.ts"), "perf's own modules are loaded at start");
  // Each command is still reachable, through its dynamic import.
  const all = await loadedWithDynamic("main.ts");
  for (const c of ["mock", "report", "doctor", "merge", "export"]) {
    assert(all.includes(`src/cli/${c}_command.ts`), `${c} is in the module graph`);
  }
});

Deno.test("import graph: runPerfBenchmark starts with node:sqlite only, no path or URL module", async () => {
  // The plugin importer's node:path and node:url cost the library's start ~2.5 MB; a run with a
  // built-in plugin never imports it (the URL plugins' texts: plugin_sources.ts). The CLI loads
  // node:path anyway (commander does).
  const loaded = await loadedAtStart("src/perf.ts");
  assertEquals(loaded.filter((m) => m.startsWith("node:")), ["node:sqlite"]);
  const all = await loadedWithDynamic("src/perf.ts");
  assert(all.includes("src/plugins/import_module.ts"), "file and URL plugins still load");
});

Deno.test("import graph: a transport worker running a built-in plugin starts no node: module", async () => {
  // Any `node:` import starts Deno's Node compatibility layer in the isolate: ~12 ms of CPU and
  // ~2.5 MB per worker (docs/performance.md, "Hot path v9"). A file or URL plugin, or a dataset
  // download, imports what it needs when it runs.
  const loaded = await loadedAtStart("src/workers/worker.ts");
  assertEquals(loaded.filter((m) => m.startsWith("node:")), []);
  assert(loaded.includes("plugins/api/openai.ts"), "the built-in API plugins are loaded");
  const all = await loadedWithDynamic("src/workers/worker.ts");
  assert(all.includes("src/plugins/import_module.ts"), "file and URL plugins still load");
});

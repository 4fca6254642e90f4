import { assert, assertEquals } from "./assert.ts";
import { loadedAtStart } from "./helpers/module_graph.ts";

Deno.test("worker: a transport worker starts without the dataset plugins or any npm package", async () => {
  // Each worker evaluates its module graph on start: the dataset plugins' PNG, Parquet and tar
  // packages cost it ~80 ms of CPU and ~6 MB (docs/performance.md, "Hot path v5").
  const loaded = await loadedAtStart("src/workers/worker.ts");
  assert(loaded.includes("plugins/api/openai.ts"), "the built-in API plugins are loaded");
  assertEquals(loaded.filter((m) => m.startsWith("plugins/datasets/")), []);
  assertEquals(loaded.filter((m) => m.startsWith("npm:")), []);
  assertEquals(loaded.filter((m) => m.startsWith("src/tokenizer/hf_")), []);
});

Deno.test("worker: the main thread's loader still knows every built-in dataset", async () => {
  const { BUILTIN_DATASETS } = await import("../src/plugins/builtins.ts");
  const { loadDatasetPlugin } = await import("../src/plugins/dataset_loader.ts");
  const { datasetNames } = await import("../src/plugins/registry.ts");
  for (const name of ["openqa", "random", "random_vl", "kontext_bench", "embedding"]) {
    assert(BUILTIN_DATASETS.has(name), name);
    assert(datasetNames().includes(name), name);
  }
  const { resolveConfig } = await import("../src/config.ts");
  const plugin = await loadDatasetPlugin(
    "random",
    resolveConfig({ model: "m", dataset: "random" }),
  );
  assertEquals(typeof plugin.buildMessages, "function");
});

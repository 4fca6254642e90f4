/**
 * `--num-workers` machinery for plugins: evalscope's resolution rule (0 auto, 1 serial, >1
 * `min(v, total)`; auto `min(cpus, total, 32, total // 128)`, at least 1 — the reference sheet's
 * rule, evalscope-perf-2026.md), and {@link makeOnWorkers} returning a module's items in index
 * order from several workers.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { makeOnWorkers, resolveNumWorkers } from "../src/plugins/parallel_items.ts";
import { resolveConfig } from "../src/config.ts";

Deno.test("resolveNumWorkers: evalscope's rule (1 serial, >1 min(v, total), 0 auto)", () => {
  // [requested, total, cpus, expected], worked out from the reference's rule by hand.
  const cases: [number, number, number, number][] = [
    [1, 10_000, 16, 1],
    [3, 10_000, 16, 3],
    [64, 10_000, 16, 64], // an explicit value is not capped by the CPUs or 32
    [8, 5, 16, 5],
    [8, 0, 16, 1],
    [0, 100, 16, 1], // 100 // 128 = 0, floor 1
    [0, 127, 16, 1],
    [0, 256, 16, 2],
    [0, 1000, 16, 7],
    [0, 1000, 4, 4], // the CPUs
    [0, 10_000, 64, 32], // 32 at most
    [0, 10_000, 16, 16],
    [0, 0, 16, 1],
  ];
  for (const [requested, total, cpus, want] of cases) {
    assertEquals(
      resolveNumWorkers(requested, total, cpus),
      want,
      `${requested}, ${total}, ${cpus}`,
    );
  }
});

const maker = new URL("./helpers/index_items.ts", import.meta.url).href;

Deno.test("makeOnWorkers: a module's items in index order, from 1 and from 3 workers", async () => {
  const params = { ...resolveConfig({ model: "m", seed: 5 }), log: () => {} };
  const want = Array.from({ length: 11 }, (_, i) => `item ${4 + i} seed 5`);
  for (const workers of [1, 3, 20]) {
    const got = await makeOnWorkers<string>({
      module: maker,
      name: "itemAt",
      params,
      start: 4,
      end: 15,
      workers,
    });
    assertEquals(got, want, `${workers} workers`);
  }
  assertEquals(
    await makeOnWorkers({ module: maker, name: "itemAt", params, start: 3, end: 3, workers: 2 }),
    [],
  );
});

Deno.test("makeOnWorkers: a worker's error rejects with its message", async () => {
  const params = resolveConfig({ model: "m" });
  await assertRejects(
    () => makeOnWorkers({ module: maker, name: "failAt", params, start: 0, end: 4, workers: 2 }),
    Error,
    "no item 3",
  );
  await assertRejects(
    () => makeOnWorkers({ module: maker, name: "missing", params, start: 0, end: 4, workers: 2 }),
    Error,
    "has no exported function 'missing'",
  );
});

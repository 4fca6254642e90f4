/**
 * `--max-tokens MIN MAX` (evalscope 2026: `random.randint(min, max)` per request, both
 * included): each request's `max_tokens` as the server got it (a stub that keeps every body).
 * With the same `--seed` every run draws the same values, request for request, on one or two
 * `--workers` and split over `--shard`s; another seed draws others; all are in [MIN, MAX].
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub } from "./helpers/chat_stub.ts";

const N = 40;

Deno.test("--max-tokens MIN MAX e2e: seeded per request, the same on any --workers and --shard", async () => {
  const stub = chatStub();
  // One request in flight (a shard's share of --parallel 2): the stub gets them in their order.
  const run = async (seed: number, args: string[] = [], n = N) => {
    const parallel = args.includes("--shard") ? 2 : 1;
    const from = stub.requests.length;
    await using r = await perfRun({
      server: stub,
      flags: { number: n, parallel, noTestConnection: true },
      args: ["--max-tokens", "5", "12", "--seed", String(seed), ...args],
    });
    assertEquals(r.code, 0, r.stderr);
    return stub.requests.slice(from).map((q) => q.body.max_tokens as number);
  };
  try {
    const a = await run(7);
    assertEquals(a.length, N);
    assert(a.every((v) => Number.isInteger(v) && v >= 5 && v <= 12), `${a}`);
    // Uniform over 8 values: 40 draws reach both ends (a miss has odds below 1 in 200).
    assert(a.includes(5) && a.includes(12), `the ends are included: ${a}`);
    assertEquals(await run(7), a, "the same seed draws the same values");
    assertEquals(await run(7, ["--workers", "2"]), a, "on two sending threads too");
    const other = await run(8);
    assert(other.some((v, i) => v !== a[i]), "another seed draws others");
    assert(other.every((v) => v >= 5 && v <= 12));
    // Each shard sends requests i ≡ I (mod 2) of the global list, with their global values.
    const even = await run(7, ["--shard", "0/2"]);
    const odd = await run(7, ["--shard", "1/2"]);
    assertEquals(even, a.filter((_, i) => i % 2 === 0));
    assertEquals(odd, a.filter((_, i) => i % 2 === 1));
    // A shorter run is the start of the longer one: a request's value is its own.
    assertEquals(await run(7, [], 10), a.slice(0, 10));
  } finally {
    await stub.close();
  }
});

/**
 * `--shard I/N`: its grammar (`I/N`, `auto/N` from `$JOB_COMPLETION_INDEX`), the arithmetic that
 * splits requests, lanes and the schedule (every global item `i` goes to shard `i mod N`), and
 * the settings' checks, with one-line errors.
 */
import { assertEquals, assertThrows } from "./assert.ts";
import { resolveConfig } from "../src/config.ts";
import { inShard, parseShard, shardCount, shardItems } from "../src/config/shard.ts";
import { UsageError } from "../src/errors.ts";

Deno.test("shard: I/N is parsed, with spaces; bad forms are one-line usage errors", () => {
  assertEquals(parseShard("--shard", "1/3"), { index: 1, count: 3 });
  assertEquals(parseShard("--shard", " 0 / 1 "), { index: 0, count: 1 });
  for (
    const [text, says] of [
      ["3/3", "shard 3 of 3 does not exist (shards are 0 to 2)"],
      ["1/0", "the number of shards must be 1 to"],
      ["-1/3", "expected I/N"],
      ["1", "expected I/N"],
      ["a/3", "expected I/N"],
      ["1.5/3", "expected I/N"],
    ]
  ) {
    const e = assertThrows(() => parseShard("--shard", text), UsageError);
    assertEquals(e.message.includes(says), true, `${text}: ${e.message}`);
    assertEquals(e.message.includes("\n"), false);
  }
});

Deno.test("shard: auto/N takes the index from $JOB_COMPLETION_INDEX, and says when it cannot", () => {
  const before = Deno.env.get("JOB_COMPLETION_INDEX");
  try {
    Deno.env.set("JOB_COMPLETION_INDEX", "2");
    assertEquals(parseShard("--shard", "auto/4"), { index: 2, count: 4 });
    assertEquals(resolveConfig({ model: "m", shard: "auto/4", parallel: 4 }).shard, {
      index: 2,
      count: 4,
    });
    Deno.env.set("JOB_COMPLETION_INDEX", "4");
    assertThrows(() => parseShard("--shard", "auto/4"), UsageError, "shard 4 of 4 does not exist");
    Deno.env.set("JOB_COMPLETION_INDEX", "x");
    assertThrows(() => parseShard("--shard", "auto/4"), UsageError, "is 'x', not an index");
    Deno.env.delete("JOB_COMPLETION_INDEX");
    assertThrows(
      () => parseShard("--shard", "auto/4"),
      UsageError,
      "--shard auto/4: $JOB_COMPLETION_INDEX is not set",
    );
  } finally {
    if (before === undefined) Deno.env.delete("JOB_COMPLETION_INDEX");
    else Deno.env.set("JOB_COMPLETION_INDEX", before);
  }
});

Deno.test("shard: every global item goes to exactly one shard, i mod N", () => {
  for (const count of [1, 2, 3, 7]) {
    const owners = Array.from({ length: 50 }, (_, i) => {
      const mine = [...Array(count).keys()].filter((index) => inShard(i, { index, count }));
      assertEquals(mine.length, 1, `item ${i} of ${count} shards`);
      return mine[0];
    });
    assertEquals(owners, Array.from({ length: 50 }, (_, i) => i % count));
  }
  assertEquals(inShard(5, undefined), true);
});

Deno.test("shard: counts and --parallel shares add up to the total, differing by one at most", () => {
  for (const count of [1, 2, 3, 5, 8]) {
    for (const total of [0, 1, 2, 7, 8, 9, 100]) {
      const shares = [...Array(count).keys()].map((index) => shardCount(total, { index, count }));
      assertEquals(shares.reduce((a, b) => a + b, 0), total, `${total} over ${count}`);
      assertEquals(Math.max(...shares) - Math.min(...shares) <= 1, true);
      // The share is the number of items 0..total-1 the shard owns.
      shares.forEach((n, index) => {
        const owned = [...Array(total).keys()].filter((i) => i % count === index).length;
        assertEquals(n, owned);
      });
    }
  }
  assertEquals([0, 1, 2].map((index) => shardCount(8, { index, count: 3 })), [3, 3, 2]);
  assertEquals(shardCount(8, undefined), 8);
});

Deno.test("shard: a shard's items of a sequence are the global items i ≡ I (mod N), in order", () => {
  const global = Array.from({ length: 20 }, (_, i) => i * 10);
  const items = [...shardItems(global.values(), { index: 2, count: 3 })];
  assertEquals(items, [20, 50, 80, 110, 140, 170]);
  assertEquals([...shardItems(global.values(), undefined)], global);
});

Deno.test("shard: settings that cannot be split are refused in one line naming --shard", () => {
  assertThrows(
    () => resolveConfig({ model: "m", shard: "0/3", parallel: 2 }),
    UsageError,
    "--shard: --parallel 2 cannot be split over 3 shards",
  );
  assertThrows(
    () => resolveConfig({ model: "m", shard: "0/3", parallel: 3, number: 2 }),
    UsageError,
    "--shard: --number 2 cannot be split over 3 shards",
  );
  // An object (from a file, or a run's benchmark_args.json) is checked the same way.
  assertEquals(resolveConfig({ model: "m", shard: { index: 1, count: 2 }, parallel: 2 }).shard, {
    index: 1,
    count: 2,
  });
  assertThrows(
    () => resolveConfig({ model: "m", shard: { index: 2, count: 2 } }),
    UsageError,
    "--shard: shard 2 of 2 does not exist",
  );
});

Deno.test("shard: --start-at takes epoch seconds and refuses what looks like milliseconds", () => {
  assertEquals(resolveConfig({ model: "m", startAt: 1_800_000_000.5 }).startAt, 1_800_000_000.5);
  assertThrows(
    () => resolveConfig({ model: "m", startAt: 1_800_000_000_000 }),
    UsageError,
    "--start-at: must be epoch seconds; 1800000000000 looks like milliseconds",
  );
});

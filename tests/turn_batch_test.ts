import { assertEquals } from "./assert.ts";
import { TurnBatch } from "../src/workers/turn_batch.ts";

Deno.test("turn batch: what one task adds goes out once, in order, after the task's microtasks", async () => {
  const sent: number[][] = [];
  const batch = new TurnBatch<number>((items) => sent.push(items));
  batch.add(1);
  batch.add(2);
  batch.add(3);
  assertEquals(sent.length, 0, "nothing goes out while the task runs");
  await Promise.resolve();
  assertEquals(sent, [[1, 2, 3]]);
  // The next task's items make the next batch.
  await new Promise((r) => setTimeout(r, 0));
  batch.add(4);
  await Promise.resolve();
  assertEquals(sent, [[1, 2, 3], [4]]);
});

Deno.test("turn batch: flush posts at once, the turn's end then posts nothing empty; later items still go", async () => {
  const sent: number[][] = [];
  const batch = new TurnBatch<number>((items) => sent.push(items));
  batch.add(1);
  batch.flush(); // as before another message on the same port
  assertEquals(sent, [[1]]);
  batch.add(2); // after the flush, before the turn's end: goes at the turn's end
  await Promise.resolve();
  assertEquals(sent, [[1], [2]]);
  batch.flush();
  assertEquals(sent, [[1], [2]], "no empty batch");
});

Deno.test("turn batch: an item added by a microtask that runs after the batch went out makes a batch of its own", async () => {
  const sent: string[][] = [];
  const batch = new TurnBatch<string>((items) => sent.push(items));
  batch.add("a");
  // Queued after the batch's own microtask: runs once "a" went out.
  queueMicrotask(() => batch.add("b"));
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(sent, [["a"], ["b"]]);
});

/**
 * The sliced queue runs its items in later tasks, in order, a slice at a time, longer slices once
 * the oldest item has waited, and everything at once on `drain`.
 */
import { assert, assertEquals } from "./assert.ts";
import { SlicedQueue, type SliceTiming } from "../src/workers/sliced_queue.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Hold the thread `ms` (an item's work). */
function busy(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms) { /* work */ }
}

/** A queue whose every item holds the thread `ms`, then logs its `n` in `done`. */
function busyQueue(done: number[], ms: number, timing: SliceTiming) {
  return new SlicedQueue<{ n: number; at: number }>((w) => {
    busy(ms);
    done.push(w.n);
  }, timing);
}

Deno.test("sliced queue: items run in a later task, in order, not at push", async () => {
  const done: number[] = [];
  const q = new SlicedQueue<{ n: number; at: number }>((w) => done.push(w.n));
  for (let n = 0; n < 5; n++) q.push({ n, at: performance.now() });
  assertEquals(done, [], "nothing at push");
  assertEquals(q.size, 5);
  await tick();
  await tick();
  assertEquals(done, [0, 1, 2, 3, 4]);
  assertEquals(q.size, 0);
  q.push({ n: 5, at: performance.now() }); // a new batch after the queue emptied
  await tick();
  await tick();
  assertEquals(done, [0, 1, 2, 3, 4, 5]);
});

Deno.test("sliced queue: a slice stops at its time, the rest goes in the next tasks", async () => {
  const done: number[] = [];
  const q = busyQueue(done, 3, { sliceMs: 4, behindMs: 1000, behindSliceMs: 1000 });
  for (let n = 0; n < 6; n++) q.push({ n, at: performance.now() });
  await tick();
  assert(done.length >= 1 && done.length <= 3, `one slice of 4 ms did ${done.length} of 3 ms each`);
  for (let i = 0; i < 10 && q.size > 0; i++) await tick();
  assertEquals(done, [0, 1, 2, 3, 4, 5], "all of them, in order");
});

Deno.test("sliced queue: behind, a slice runs longer; drain does everything now", async () => {
  const done: number[] = [];
  const q = busyQueue(done, 2, { sliceMs: 1, behindMs: 50, behindSliceMs: 30 });
  const old = performance.now() - 100; // waited longer than behindMs already
  for (let n = 0; n < 10; n++) q.push({ n, at: old });
  await tick();
  // A 1 ms slice does one 2 ms item; a 30 ms one several (unless the thread is preempted long).
  assert(done.length >= 2, `a 30 ms slice did ${done.length} of 2 ms each`);
  const q2 = new SlicedQueue<{ n: number; at: number }>((w) => done.push(100 + w.n));
  for (let n = 0; n < 3; n++) q2.push({ n, at: performance.now() });
  q2.drain();
  assert(done.includes(100) && done.includes(102) && q2.size === 0, "drained at once");
  await tick(); // the drained queue's own task finds nothing left
  for (let i = 0; i < 10 && q.size > 0; i++) await tick();
  assertEquals(done.filter((n) => n < 100), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("sliced queue: behind, a slice still stops at behindSliceMs, however far behind", async () => {
  const done: number[] = [];
  const q = busyQueue(done, 2, { sliceMs: 1, behindMs: 20, behindSliceMs: 8 });
  const old = performance.now() - 1000; // a second behind: far past behindMs
  for (let n = 0; n < 20; n++) q.push({ n, at: old });
  await tick();
  // 8 ms of items of at least 2 ms is four at most; a slice as long as the wait (or as behindMs)
  // would do many more. Preemption could only make it fewer.
  assert(done.length >= 1 && done.length <= 4, `an 8 ms slice did ${done.length} of 2 ms each`);
  for (let i = 0; i < 30 && q.size > 0; i++) await tick();
  assertEquals(done, Array.from({ length: 20 }, (_, n) => n), "all of them, in order");
});

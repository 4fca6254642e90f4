/** The mock's pacer: every wait released in due order, never early, on one timer. */
import { assert, assertEquals } from "./assert.ts";
import { Pacer } from "../src/mock/pacer.ts";

Deno.test("pacer: releases in due order, never before due, ties together", async () => {
  const p = new Pacer();
  const t0 = performance.now();
  const offsets = [30, 5, 20, 5, 0, 12, 30, 1, 25, 8];
  const fired: Array<{ i: number; late: number }> = [];
  await Promise.all(
    offsets.map((ms, i) =>
      p.until(t0 + ms).then(() => fired.push({ i, late: performance.now() - (t0 + ms) }))
    ),
  );
  const order = fired.map((f) => offsets[f.i]);
  assertEquals(order, [...offsets].sort((a, b) => a - b));
  for (const f of fired) assert(f.late >= 0, `wait ${f.i} released ${-f.late} ms early`);
  assertEquals(p.size, 0);
});

Deno.test("pacer: a callback may schedule more; clear drops what is left", async () => {
  const p = new Pacer();
  const seen: number[] = [];
  await new Promise<void>((done) => {
    let k = 0;
    const step = () => {
      seen.push(k);
      if (++k < 5) p.at(performance.now() + 2, step);
      else done();
    };
    p.at(performance.now(), step);
  });
  assertEquals(seen, [0, 1, 2, 3, 4]);
  let called = false;
  p.at(performance.now() + 5, () => called = true);
  p.clear();
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(called, false);
  assertEquals(p.size, 0);
});

Deno.test("pacer: a thousand streams on one heap keep their order", async () => {
  const p = new Pacer();
  const t0 = performance.now();
  const out: number[] = [];
  const dues = Array.from({ length: 1000 }, (_, i) => t0 + ((i * 7919) % 40));
  await Promise.all(dues.map((d) => p.until(d).then(() => out.push(d))));
  for (let i = 1; i < out.length; i++) assert(out[i] >= out[i - 1], `out of order at ${i}`);
});

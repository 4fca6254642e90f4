import { assert, assertEquals } from "./assert.ts";
import { EndpointPicker } from "../src/workers/endpoint_picker.ts";

Deno.test("endpoint picker: round-robin takes the endpoints in turn, whatever is in flight", () => {
  const p = new EndpointPicker(3);
  const picks = [...Array(7)].map(() => p.pick());
  assertEquals(picks, [0, 1, 2, 0, 1, 2, 0]);
  p.done(1);
  p.done(1); // endpoint 1 now has none in flight: round-robin does not care
  assertEquals([p.pick(), p.pick()], [1, 2]);
  assertEquals(p.inFlight(), [3, 1, 3]);
});

Deno.test("endpoint picker: least-in-flight takes the emptiest, ties in turn", () => {
  const p = new EndpointPicker(3, "least-in-flight");
  // All empty: ties go round.
  assertEquals([p.pick(), p.pick(), p.pick()], [0, 1, 2]);
  assertEquals(p.inFlight(), [1, 1, 1]);
  // Endpoint 2 (the fast one) frees its request: the next goes there, and again.
  p.done(2);
  assertEquals(p.pick(), 2);
  p.done(2);
  assertEquals(p.pick(), 2);
  // Two free at 0: 0 gets the next two, then every count is 1 again and ties go round.
  p.done(0);
  assertEquals(p.pick(), 0);
  assertEquals(p.inFlight(), [1, 1, 1]);
  assertEquals([p.pick(), p.pick(), p.pick()], [1, 2, 0]);
});

Deno.test("endpoint picker: least-in-flight against a simulated fast and slow replica", () => {
  // 4 slots; replica 0 answers in 1 tick, replica 1 in 10: the fast one gets ~10x as many.
  const p = new EndpointPicker(2, "least-in-flight");
  const ends: Array<{ at: number; endpoint: number }> = [];
  const sent = [0, 0];
  const send = (now: number) => {
    const e = p.pick();
    sent[e]++;
    ends.push({ at: now + (e === 0 ? 1 : 10), endpoint: e });
  };
  for (let i = 0; i < 4; i++) send(0);
  for (let now = 1; now <= 1000; now++) {
    for (const d of ends.filter((x) => x.at === now)) {
      p.done(d.endpoint);
      send(now);
    }
  }
  const ratio = sent[0] / sent[1];
  assert(ratio > 8 && ratio < 12, `sent ${sent}`);
});

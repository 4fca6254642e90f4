import { assert, assertEquals } from "./assert.ts";
import { holdsMarker } from "../src/plugins/error_marker.ts";
import { seededRandom } from "../src/util/rng.ts";

Deno.test("holdsMarker: the marker at the start, the end, after a look-alike tail, or not at all", () => {
  const m = '"error"';
  assert(holdsMarker('"error"', m));
  assert(holdsMarker('{"error":1}', m));
  assert(holdsMarker('x"error"', m));
  assert(holdsMarker('terror" then "error"', m), "a tail without its quote, then the marker");
  assert(holdsMarker('""error"', m));
  assert(!holdsMarker('error"', m));
  assert(!holdsMarker('{"terror":1,"errors":2}', m));
  assert(!holdsMarker("", m));
  assert(!holdsMarker('"erro', m));
});

Deno.test("holdsMarker answers as includes does, on random texts and markers", () => {
  const random = seededRandom(7);
  const rand = (n: number) => Math.floor(random() * n);
  const alphabet = ['"', "e", "r", "o", "x", ":", "c", "d"];
  const text = (n: number) =>
    Array.from({ length: n }, () => alphabet[rand(alphabet.length)]).join("");
  const markers = ['"error"', '"', '""', '"e', '"code"', "error", "r", 'er"', "eeo", '"ec"', "oe"];
  let found = 0;
  for (let k = 0; k < 20_000; k++) {
    const t = text(rand(40));
    const m = markers[rand(markers.length)];
    assertEquals(holdsMarker(t, m), t.includes(m), `${JSON.stringify(m)} in ${JSON.stringify(t)}`);
    if (t.includes(m)) found++;
  }
  assert(found > 2_000 && found < 18_000, `both answers checked (${found} found)`);
});

import { assertEquals } from "./assert.ts";
import { jsonNumbers } from "../src/util/json_numbers.ts";

Deno.test("jsonNumbers: the same text as JSON.stringify, for typed arrays and arrays", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const cases: ArrayLike<number>[] = [
    new Float64Array(0),
    Float64Array.of(0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789.123, Number.MAX_VALUE),
    Float64Array.from({ length: 300 }, () => 1796142793854 + rand() * 1000),
    Float64Array.from({ length: 300 }, () => (rand() - 0.5) * 1e-3),
    [1.5, 2, 3],
    Float64Array.of(1, NaN, Infinity, -Infinity), // not finite: null, as JSON writes it
  ];
  for (const v of cases) assertEquals(jsonNumbers(v), JSON.stringify(Array.from(v)));
});

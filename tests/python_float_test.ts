/**
 * `pythonFloat` against Python itself: `repr(float(x))` printed by `python3` for the same
 * doubles (sent as their exact JSON text) is the ground truth.
 */
import { assertEquals } from "./assert.ts";
import { pythonFloat } from "../src/util/python_float.ts";

const VALUES = [
  5, // rate_5.0_number_100
  2.5,
  0.1,
  100,
  1 / 3600, // the lowest --rate
  1 / 3,
  0.0001, // the last fixed-point one below 1
  0.00001, // the first with an exponent: 1e-05
  1.5e-7,
  9.999e-5,
  1e15, // the last whole number printed in full
  1e16, // the first with an exponent: 1e+16
  123456789012345680,
  1e22,
  12345.678,
  -2.5,
  5e-324,
  1.7976931348623157e308,
];

Deno.test("pythonFloat: repr(float) as python3 prints it (5.0, 2.5, 0.1, 100.0, 1e-05, 1e+16)", async () => {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import json,sys; print(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(VALUES)));
  await w.close();
  const expected = JSON.parse(new TextDecoder().decode((await out.output()).stdout));
  assertEquals(VALUES.map(pythonFloat), expected);
  // The four the layout test names, spelled out.
  assertEquals([5, 2.5, 0.1, 100].map(pythonFloat), ["5.0", "2.5", "0.1", "100.0"]);
  assertEquals([0, -0, NaN, Infinity].map(pythonFloat), ["0.0", "-0.0", "nan", "inf"]);
});

import { assertEquals } from "./assert.ts";
import { availableCores, defaultWorkers } from "../src/workers/transport_threads.ts";

Deno.test("defaultWorkers: one per core, at most the requests in flight, none on one core", () => {
  assertEquals(defaultWorkers(1024, 1), 0); // one core: the main thread sends
  assertEquals(defaultWorkers(1, 1), 0);
  assertEquals(defaultWorkers(1024, 2), 2);
  assertEquals(defaultWorkers(64, 16), 16);
  assertEquals(defaultWorkers(3, 16), 3); // never more than can be in flight
  assertEquals(defaultWorkers(1, 64), 1);
});

Deno.test({
  name: "availableCores counts the cores taskset leaves the process",
  ignore: Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2,
  fn: async () => {
    const url = new URL("../src/workers/transport_threads.ts", import.meta.url).href;
    const code = `import { availableCores, defaultWorkers } from "${url}";` +
      `console.log(availableCores(), defaultWorkers(64));`;
    let out;
    try {
      out = await new Deno.Command("taskset", {
        args: ["-c", "0", Deno.execPath(), "eval", code],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch {
      return; // no taskset on this machine
    }
    assertEquals(new TextDecoder().decode(out.stdout).trim(), "1 0");
    assertEquals(availableCores(), navigator.hardwareConcurrency);
  },
});

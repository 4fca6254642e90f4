/**
 * sleepUntil: never early, and correct for waits longer than a timer can take (2^31-1 ms):
 * no overflow warning, no 1 ms re-arm spin, and an abort still ends it at once.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";

Deno.test("sleepUntil: a wait past 2^31-1 ms neither fires early nor warns; abort ends it", async () => {
  // In a subprocess, because the runtime writes TimeoutOverflowWarning straight to its stderr.
  const script = `
    import { sleepUntil } from "${ROOT_DIR}/src/util/sleep.ts";
    const ac = new AbortController();
    let wakes = 0;
    const real = globalThis.setTimeout;
    globalThis.setTimeout = ((f, ms) => real(() => { wakes++; f(); }, ms));
    const t0 = performance.now();
    const p = sleepUntil(t0 + 40 * 86400e3, ac.signal).then(() => performance.now() - t0);
    globalThis.setTimeout = real;
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    console.log(JSON.stringify({ waited: await p, wakes }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  assertEquals(stderr, "", "no TimeoutOverflowWarning");
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert(r.waited >= 290, `resolved after ${r.waited} ms, before the abort`);
  assertEquals(r.wakes, 0, "the capped timer never fired within 300 ms (no 1 ms spin)");
});

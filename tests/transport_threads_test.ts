/**
 * How many transport workers a run gets when `--workers` is unset: one per core, at most the
 * requests in flight, and none on a single core when the kernel stamps every read (checked on the
 * real CLI pinned to one core with `taskset`, where it exists).
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { perfArgs, perfRun } from "./helpers/perf_run.ts";
import { pinnable, pinned } from "./helpers/pin.ts";
import { DatabaseSync } from "node:sqlite";
import { startMockServer } from "../src/mock/server.ts";
import { epollAvailable } from "../src/transport/epoll.ts";
import {
  defaultWorkers,
  kernelStamped,
  startTransportThreads,
} from "../src/workers/transport_threads.ts";
import { resolveConfig } from "../src/config.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import type { TransportSpec } from "../src/transport/create.ts";

Deno.test("transport threads: the default is one worker per core, at most the requests in flight", () => {
  assertEquals(defaultWorkers(1024, 8), 8);
  assertEquals(defaultWorkers(3, 8), 3);
  assertEquals(defaultWorkers(0, 8), 1, "never none for an empty run on many cores");
  assertEquals(defaultWorkers(1024, 2, true), 2, "kernel stamps change nothing on two cores");
  assertEquals(defaultWorkers(1024, 1, false), 1, "one core, reads timed where they run");
  assertEquals(defaultWorkers(1024, 1, true), 0, "one core, kernel stamps: the main thread");
});

Deno.test("transport threads: reads are kernel-stamped only through the socket transport, over http", () => {
  const timeouts = { connectMs: 1000, readMs: 1000, totalMs: Infinity };
  const socket: TransportSpec = { kind: "socket", timeouts };
  const fetchSpec: TransportSpec = { kind: "fetch", timeouts };
  const http = "http://127.0.0.1:8000/v1/chat/completions";
  const https = "https://example.test/v1/chat/completions";
  const headers = {};
  assertEquals(kernelStamped(socket, { headers, url: http }), epollAvailable());
  assertEquals(kernelStamped(socket, { headers, url: https }), false);
  assertEquals(kernelStamped(fetchSpec, { headers, url: http }), false);
  assertEquals(
    kernelStamped(socket, { headers, url: http, urls: [http, https] }),
    false,
    "one https URL",
  );
  assertEquals(kernelStamped(socket, { headers, url: http, urls: [http, http] }), epollAvailable());
});

Deno.test({
  name: "transport threads: pinned to one core, the CLI sends from the main thread unless told",
  ignore: !pinnable,
  async fn() {
    const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 2, outputTokens: 4 });
    await using tmp = await tempDir();
    try {
      const run = async (extra: string[]) => {
        const [program, args] = pinned([
          Deno.execPath(),
          "run",
          "-A",
          `${ROOT_DIR}/main.ts`,
          ...perfArgs({
            server: mock,
            flags: { prompt: "hello", stream: true, parallel: 4, number: 12 },
            args: ["--outputs-dir", `${tmp.path}/out`, ...extra],
          }),
        ]);
        const out = await new Deno.Command(program, {
          args,
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
      };
      const auto = await run([]);
      assertEquals(auto.code, 0, auto.text);
      const line = "one core and kernel-stamped reads: sending from the main thread";
      assert(auto.text.includes(line), auto.text);
      assert(/Succeed requests\s*\|\s*12\s/.test(auto.text), auto.text);
      const told = await run(["--workers", "1"]);
      assertEquals(told.code, 0, told.text);
      assert(!told.text.includes(line), told.text);
      assert(/Succeed requests\s*\|\s*12\s/.test(told.text), told.text);
      assertEquals(mock.stats.requests, 2 * 12 + 2, "12 requests and a connection test, twice");
    } finally {
      await mock.close();
    }
  },
});

/** A request body the mock answers (streamed). */
const body = JSON.stringify({
  model: "m",
  stream: true,
  messages: [{ role: "user", content: "q" }],
});

/** The sending threads of a one-endpoint run with `--workers 0`, the `openai` plugin on this thread. */
async function mainThreadSender(url: string, onRecord: (f: FinishedRequest) => void) {
  const endpoint = `${url}/v1/chat/completions`;
  const cfg = resolveConfig({ url: endpoint, model: "m", api: "openai", stream: true });
  const plugin = await loadApiPlugin("openai", cfg);
  return await startTransportThreads(
    { kind: "socket", timeouts: { connectMs: 5000, readMs: 5000, totalMs: Infinity } },
    { workers: 0, inFlight: 1 },
    { target: { url: endpoint, headers: {} }, local: { api: plugin, needs: {} }, onRecord },
  );
}

Deno.test("transport threads: on the main thread a slot's next request goes when its predecessor ends, its record after", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 5, outputTokens: 4 });
  try {
    const out: FinishedRequest[] = [];
    const threads = await mainThreadSender(mock.url, (f) => out.push(f));
    assert(threads.sendAfter !== undefined, "the main thread follows too");
    const first = threads.send({ index: 0, body, stream: true, chained: true });
    const second = threads.sendAfter!(
      { index: 1, body, stream: true, chained: true },
      first,
      undefined,
    );
    const a = await first;
    // The first record waits for a later task: its span came first, the follower already went.
    assertEquals(out.length, 0, "the first record is finished later");
    const b = await second;
    assert(b !== undefined && !b.lost, "the follower was sent");
    assert(b.startEpochMs >= a.endEpochMs, "after its predecessor ended");
    // Dispatch stopped (a deadline already past): nothing sent, nothing recorded.
    const dropped = await threads.sendAfter!(
      { index: 2, body, stream: true, chained: true },
      second,
      performance.now() - 1,
    );
    assertEquals(dropped, undefined);
    await threads.close();
    assertEquals(out.map((f) => f.record.index).sort(), [0, 1], "both records, once each");
    assert(out.every((f) => f.record.success), "both succeeded");
    const follower = out.find((f) => f.record.index === 1)!.record;
    assert(
      follower.refillLateMs !== undefined && follower.refillLateMs < 1000,
      "refill lag counted",
    );
    assertEquals(mock.stats.requests, 2);
  } finally {
    await mock.close();
  }
});

Deno.test("transport threads: a record the main thread cannot finish later is recorded as failed, not lost", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 2, outputTokens: 4 });
  try {
    const out: FinishedRequest[] = [];
    let thrown = false;
    const threads = await mainThreadSender(mock.url, (f) => {
      if (!thrown) {
        thrown = true;
        throw new Error("boom");
      }
      out.push(f);
    });
    await threads.send({ index: 0, body, stream: true, chained: true });
    await threads.close();
    assertEquals(out.length, 1, "recorded once");
    const rec = out[0].record;
    assertEquals([rec.index, rec.success, rec.failure?.kind], [0, false, "client"]);
    assert(rec.failure!.message.includes("boom"), rec.failure!.message);
  } finally {
    await mock.close();
  }
});

Deno.test("transport threads: --workers 0 --duration: every request sent is in the DB and the summary, once", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 5, outputTokens: 6 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, workers: 0, parallel: 8, number: 100_000 },
      args: ["--duration", "1"],
    });
    assertEquals(r.code, 0, r.stderr);
    const s = r.summary;
    const total = s["Total requests"] as number;
    assert(total > 8, `${total} requests in 1 s at 8 in flight`);
    assertEquals(s["Succeed requests"], total);
    const db = new DatabaseSync(`${r.dir}/benchmark_data.db`, { readOnly: true });
    try {
      const { rows } = db.prepare("SELECT COUNT(*) AS rows FROM result").get() as { rows: number };
      assertEquals(rows, total, "one row per request");
    } finally {
      db.close();
    }
    assertEquals(mock.stats.requests, total + 1, "the requests and the connection test, no more");
  } finally {
    await mock.close();
  }
});

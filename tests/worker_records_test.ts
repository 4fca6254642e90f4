/**
 * Records finished in a transport worker (the API plugin loaded there, by its name or URL) are
 * the records the main thread makes of the same responses: for every built-in plugin against
 * the mock speaking its protocol, and for every fault mode of the mock, the worker's record, a
 * raw record finished on the main thread, and `--workers 0`'s agree in everything but the
 * times. And a user's plugin given by URL really runs in the workers.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { servePlugins } from "./helpers/plugin_server.ts";
import { type PerfConfig, resolveConfig } from "../src/config.ts";
import { FAULT_MODES, type FaultMode } from "../src/mock/faults.ts";
import type { MockProtocolName } from "../src/mock/protocol_registry.ts";
import { type MockOptions, startMockServer } from "../src/mock/server.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { unpackPayloads } from "../src/records/payloads.ts";
import { RequestSource } from "../src/load/requests.ts";
import { startTransportThreads } from "../src/workers/transport_threads.ts";

/** The built-in plugins and the mock protocol each speaks, with the URL path it is sent to. */
const PLUGINS: Array<{ api: string; protocol?: MockProtocolName; path: string }> = [
  { api: "openai", path: "/v1/chat/completions" },
  { api: "completions", path: "/v1/completions" },
  {
    api: "dashscope",
    protocol: "dashscope",
    path: "/api/v1/services/aigc/text-generation/generation",
  },
  { api: "zhipu", protocol: "zhipu", path: "/api/paas/v4/chat/completions" },
  { api: "custom", protocol: "triton", path: "/v2/models/ensemble/generate_stream" },
];

/** Where the records are finished: in the worker, on the main thread from raw, with no worker. */
const WAYS = ["worker", "raw", "main"] as const;

/** A record without what differs from one sending to the next (times, ids, clocks). */
function comparable(f: FinishedRequest) {
  const { record: r, metrics: m, counts } = f;
  return {
    index: r.index,
    stream: r.stream,
    status: r.status,
    success: r.success,
    failure: r.failure &&
      { kind: r.failure.kind, message: r.failure.message.replace(/\d+ ms/, "") },
    retries: r.retries,
    events: r.chunkTimesMs.length,
    counts,
    metrics: {
      success: m.success,
      promptTokens: m.promptTokens,
      completionTokens: m.completionTokens,
      reasoningTokens: m.reasoningTokens,
      tokenSource: m.tokenSource,
      nChunks: m.nChunks,
      gaps: m.itlS.length,
      ttfo: m.ttfoS === undefined,
    },
    // The mock numbers its replies and stamps them with the second.
    payloads: unpackPayloads(f.payloads!).map((p) =>
      p.replace(/"(id|request_id)":"[^"]*"/g, "").replace(/"created":\d+/, "")
    ),
  };
}

/** `n` requests of a run with `flags`, finished `way`, against a fresh mock with `mock`. */
async function records(
  way: typeof WAYS[number],
  api: string,
  path: string,
  mock: Partial<MockOptions>,
  flags: Partial<PerfConfig> = {},
  n = 3,
): Promise<FinishedRequest[]> {
  const server = startMockServer({ port: 0, ttftMs: 1, itlMs: 1, outputTokens: 5, ...mock });
  try {
    const cfg = resolveConfig({
      url: `${server.url}${path}`,
      model: "m",
      api,
      prompt: "Hello there",
      number: n,
      stream: true,
      readTimeout: 1,
      ...flags,
    });
    const plugin = await loadApiPlugin(api, cfg);
    const source = new RequestSource(cfg, plugin, {
      kind: "prompt",
      messages: [{ role: "user", content: "Hello there" }],
    }, () => {});
    const jobs = [];
    for (let j = await source.next(); j !== undefined; j = await source.next()) jobs.push(j);
    const out: FinishedRequest[] = [];
    const needs = { payloads: true };
    const threads = await startTransportThreads(
      {
        kind: "socket",
        timeouts: { connectMs: 5000, readMs: 1000, totalMs: Infinity },
      },
      { workers: way === "main" ? 0 : 1, inFlight: 1 },
      {
        target: { url: jobs[0].prepared.url, headers: jobs[0].prepared.headers },
        local: { api: plugin, needs },
        plugin: way === "worker" ? { spec: api, params: cfg } : undefined,
        onRecord: (f) => out.push(f),
      },
    );
    for (const j of jobs) {
      await threads.send({ index: j.index, body: j.prepared.body, stream: j.prepared.stream });
    }
    const report = await threads.close();
    assertEquals(report.workers, way === "main" ? 0 : 1);
    return out.sort((a, b) => a.record.index - b.record.index);
  } finally {
    await server.close();
  }
}

async function agree(
  what: string,
  api: string,
  path: string,
  mock: Partial<MockOptions>,
  flags?: Partial<PerfConfig>,
) {
  const got = [];
  for (const way of WAYS) got.push((await records(way, api, path, mock, flags)).map(comparable));
  assertEquals(got[0].length, 3, what);
  assertEquals(got[1], got[0], `${what}: raw records finished on the main thread`);
  assertEquals(got[2], got[0], `${what}: --workers 0`);
  return got[0];
}

for (const { api, protocol, path } of PLUGINS) {
  for (const stream of [true, false]) {
    Deno.test(`worker records: ${api}${stream ? "" : " (not streamed)"} parsed in a worker = on the main thread`, async () => {
      const r = await agree(api, api, path, { protocol }, { stream });
      for (const f of r) assert(f.success, JSON.stringify(f.failure));
      assert(r.every((f) => f.counts!.completionTokens > 0), "counts came from the plugin");
    });
  }
}

/** The mock's settings that make each fault quick to see with a 1 s read timeout. */
function faulty(mode: FaultMode): Partial<MockOptions> {
  return { faults: { faults: [{ mode, amount: 1 }], stallMs: 1500, slowMs: 50 } };
}

/** What each fault makes of the request it hits: its failure kind, or success. */
const OUTCOME: Record<FaultMode, string> = {
  "http-500": "http",
  "http-429": "http",
  "stall-first": "read-timeout",
  "slow-headers": "ok",
  "stall-mid": "read-timeout",
  "disconnect-mid": "network",
  "malformed-json": "protocol",
  "error-event": "server-error",
  "big-event": "ok",
  "split-utf8": "ok",
  "no-done": "ok",
  "non-sse": "protocol",
};

for (const mode of FAULT_MODES) {
  Deno.test(`worker records: fault ${mode}: the worker's record = the main thread's`, async () => {
    const r = await agree(mode, "openai", "/v1/chat/completions", faulty(mode));
    // The first request got the fault; the others are ordinary successes.
    assertEquals(r[0].success ? "ok" : r[0].failure?.kind, OUTCOME[mode], JSON.stringify(r[0]));
    assert(r.slice(1).every((f) => f.success), JSON.stringify(r.slice(1).map((f) => f.failure)));
  });
}

Deno.test("worker records: a user's plugin served from a URL parses in the workers", async () => {
  const files = servePlugins(`${ROOT_DIR}/tests/fixtures/plugins`);
  const mock = startMockServer({ port: 0, outputTokens: 4 });
  try {
    for (const workers of [2, 0]) {
      await using r = await perfRun({
        server: mock,
        flags: { api: `${files.url}/where_api.js`, prompt: "x", number: 6, stream: true, workers },
      });
      assertEquals(r.code, 0, r.stderr);
      // promptTokens is the plugin's marker: 1 where a transport worker parsed the payloads.
      assertEquals(r.summary["Average input tokens per request"], workers > 0 ? 1 : 0, r.stderr);
      assertEquals(r.summary["Succeed requests"], 6);
    }
    // Fetched once per run, by the main thread: the workers import the text it fetched.
    assertEquals(
      files.requests.filter((p) => p === "/where_api.js").length,
      2,
      `${files.requests}`,
    );
  } finally {
    await mock.close();
    await files.close();
  }
});

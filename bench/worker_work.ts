/**
 * What a transport worker's own code costs per streamed request, without sockets: one reply of
 * the mock (the bench's paced shape: 32 tokens with stamps, a usage chunk, `[DONE]`) replayed
 * as a socket would deliver it, one chunk per read, through the same steps the worker runs,
 * each step added in turn:
 *
 * 1. `framing`: the chunked decoder, in place, per read;
 * 2. `utf8`: + each read decoded to text (`Utf8Chunks`);
 * 3. `sse`: + the SSE parser and the record's payloads and times (`EventRecorder`);
 * 4. `finish`: + `finishRequest` with the `openai` plugin and the result DB's row (queued and
 *    posted in batches of 64 on a `MessageChannel`, as to the writer);
 * 5. `post`: + the finished record posted on a `MessageChannel`, as to the main thread (one
 *    record per message: the worker groups those that end in one turn of its loop,
 *    `src/workers/turn_batch.ts`, so this is the dearest case).
 *
 * It prints CPU µs per request and per event for each step (this thread's CPU; the ports'
 * receiving ends run on this thread too, so `finish` and `post` include what the other side
 * pays to receive). Against the worker's whole cost per request in a run (per-thread CPU at
 * 1,024 paced streams, docs/performance.md) it says how much of it is llmperf's code and how
 * much the reads themselves (the event loop, the `read` op, the kernel).
 *
 *   deno run -A bench/worker_work.ts [requests (4000)] [rounds (3)]
 *
 * @module
 */
import { resolveConfig } from "../src/config.ts";
import { startMockServer } from "../src/mock/server.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import { finishedTransfers, finishRequest } from "../src/records/finish_request.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { newRecord } from "../src/records/record.ts";
import { RowQueue } from "../src/store/rows.ts";
import { ChunkedDecoder } from "../src/transport/http1_response.ts";
import { EventRecorder } from "../src/transport/record_body.ts";
import { Utf8Chunks } from "../src/transport/utf8_chunks.ts";
import { threadCpuSeconds } from "../src/workers/loop_monitor.ts";

const STEPS = ["framing", "utf8", "sse", "finish", "post"] as const;
type Step = typeof STEPS[number];

const requests = Number(Deno.args[0] ?? 4000);
const rounds = Number(Deno.args[1] ?? 3);

const BODY = JSON.stringify({
  messages: [{ role: "user", content: "Tell me about load testing." }],
  model: "bench",
  stream: true,
  stream_options: { include_usage: true },
});

/** One reply of the mock, as the SSE events it wrote. */
async function mockEvents(): Promise<string[]> {
  const mock = startMockServer({
    port: 0,
    ttftMs: 0,
    itlMs: 0,
    outputTokens: 32,
    stampTimes: true,
  });
  try {
    const r = await fetch(`${mock.url}/v1/chat/completions`, {
      method: "POST",
      body: BODY,
      headers: { "content-type": "application/json" },
    });
    return (await r.text()).split("\n\n").filter((e) => e.length > 0).map((e) => `${e}\n\n`);
  } finally {
    await mock.close();
  }
}

const enc = new TextEncoder();
const events = await mockEvents();
// Each event as it arrives from a paced server: one chunk of the chunked body, one read.
const reads = events.map((e) => {
  const text = enc.encode(e);
  return Uint8Array.from([...enc.encode(`${text.length.toString(16)}\r\n`), ...text, 13, 10]);
});
reads.push(enc.encode("0\r\n\r\n"));

const api = await loadApiPlugin("openai", resolveConfig({ model: "bench", api: "openai" }));
const toWriter = new MessageChannel();
toWriter.port2.onmessage = () => {};
const toMain = new MessageChannel();
toMain.port2.onmessage = () => {};
const finishing = {
  api,
  rows: new RowQueue((m, t) => toWriter.port1.postMessage(m, t)),
  needs: {},
};
const buf = new Uint8Array(4096);

function one(i: number, upTo: number): void {
  const rec = newRecord(i, true);
  rec.startMs = performance.now();
  const recorder = new EventRecorder(rec);
  const text = new Utf8Chunks();
  const chunks = new ChunkedDecoder();
  for (const r of reads) {
    buf.set(r);
    const t = performance.now();
    const w = chunks.decode(buf, 0, r.length);
    if (upTo >= 1 && w > 0) {
      const s = text.decode(buf.subarray(0, w));
      if (upTo >= 2) recorder.push(s, t);
    }
    if (chunks.done) {
      if (upTo >= 2) recorder.end(t);
      break;
    }
  }
  if (upTo < 3) return;
  rec.status = 200;
  rec.success = true;
  rec.headersAtMs = rec.startMs;
  const f = finishRequest(finishing, rec, BODY) as FinishedRequest;
  if (upTo >= 4) toMain.port1.postMessage({ t: "done", ids: [i], fs: [f] }, finishedTransfers(f));
}

/** CPU µs per request of the steps up to `upTo` (a turn of the event loop every 64 requests). */
async function measure(upTo: number): Promise<number> {
  const c0 = threadCpuSeconds()!;
  for (let i = 0; i < requests; i++) {
    one(i, upTo);
    if (i % 64 === 63) await new Promise((r) => setTimeout(r, 0));
  }
  await new Promise((r) => setTimeout(r, 0));
  return (threadCpuSeconds()! - c0) * 1e6 / requests;
}

const best = new Map<Step, number>();
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < STEPS.length; k++) {
    const us = await measure(k);
    best.set(STEPS[k], Math.min(best.get(STEPS[k]) ?? Infinity, us));
  }
}
const perRequestEvents = events.length - 1; // [DONE] is not a payload
console.log(
  `${requests} requests × ${rounds} rounds; ${perRequestEvents} events and ${reads.length} reads ` +
    "per request; least CPU of the rounds",
);
console.log("| step    | µs per request | µs per event | the step alone, µs per request |");
console.log("| ------- | -------------: | -----------: | -----------------------------: |");
let before = 0;
for (const s of STEPS) {
  const us = best.get(s)!;
  console.log(
    `| ${s.padEnd(7)} | ${us.toFixed(1).padStart(14)} | ${
      (us / perRequestEvents).toFixed(2).padStart(12)
    } | ${(us - before).toFixed(1).padStart(30)} |`,
  );
  before = us;
}
Deno.exit(0); // the ports keep the event loop alive

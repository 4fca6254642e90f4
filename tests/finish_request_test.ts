/**
 * Finishing a record in a transport worker (`src/records/finish_request.ts`): its DB row goes to
 * the writer with its buffers transferred, and a sink that needs the payloads gets its own copy —
 * also for the record whose row fills the batch, so that the transfer happens inside `add`.
 */
import { assertEquals, assertThrows } from "./assert.ts";
import { resolveConfig } from "../src/config.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import { finishRequest } from "../src/records/finish_request.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { unpackPayloads } from "../src/records/payloads.ts";
import { newRecord, releaseRecord } from "../src/records/record.ts";
import { RowQueue } from "../src/store/rows.ts";
import { RESULT_COLUMNS, type ResultValues } from "../src/store/schema.ts";
import { base64PickleUtf8List, pickleEncode } from "../src/store/pickle.ts";
import { declareErrorMarker, errorMarkerOf } from "../src/plugins/error_marker.ts";
import CustomApi from "../plugins/api/custom.ts";
import type { PayloadBlob } from "../src/records/payloads.ts";

const chunk = (text: string) => `{"choices":[{"index":0,"delta":{"content":"${text}"}}]}`;
const LAST = `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],` +
  `"usage":{"prompt_tokens":3,"completion_tokens":2}}`;
const ERROR = `{"error":{"message":"overloaded","type":"server_error"}}`;
/** A successful streamed record with these payloads. */
function record(payloads: string[]) {
  const rec = newRecord(0, true);
  Object.assign(rec, { status: 200, success: true, startMs: 1, endMs: 5, payloads });
  rec.chunkTimesMs = payloads.map((_, i) => 2 + i);
  return rec;
}

Deno.test("finish request: the payloads a sink needs survive the row's transfer when its batch fills", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  const api = await loadApiPlugin("openai", cfg);
  // A real transfer: the row's buffers are detached here when the batch is posted.
  const { port1, port2 } = new MessageChannel();
  let posted = 0;
  port2.onmessage = (e) => {
    if (e.data.type === "rows") posted += e.data.rows.length;
  };
  const rows = new RowQueue((m, transfer) => port1.postMessage(m, transfer));
  const finishing = { api, rows, needs: { payloads: true } };
  const out: FinishedRequest[] = [];
  const want: string[][] = [];
  for (let i = 0; i < 200; i++) { // several full batches: some records fill theirs
    const rec = newRecord(i, true);
    rec.status = 200;
    rec.success = true;
    rec.startMs = 1;
    rec.payloads = [
      `{"choices":[{"index":0,"delta":{"content":"tok ${i}"}}]}`,
      `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],` +
      `"usage":{"prompt_tokens":3,"completion_tokens":1}}`,
      "[DONE]",
    ];
    rec.chunkTimesMs = [2, 3, 4];
    rec.endMs = 4;
    want.push([...rec.payloads]);
    const f = await finishRequest(finishing, rec, "{}");
    out.push(f);
  }
  rows.end();
  await new Promise((r) => setTimeout(r, 50));
  port1.close();
  port2.close();
  assertEquals(posted, 200); // every row reached the writer
  out.forEach((f, i) => assertEquals(unpackPayloads(f.payloads!), want[i], `record ${i}`));
});

Deno.test("finish request: a declared error marker spares the per-payload search only where no payload holds it", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  const openai = await loadApiPlugin("openai", cfg);
  let calls = 0;
  // The openai plugin's test, counting the payloads it is asked about, with the same marker.
  const errorInPayload = declareErrorMarker((p: string) => {
    calls++;
    return openai.errorInPayload!(p);
  }, '"error"');
  const api = Object.assign(Object.create(openai), { errorInPayload });
  const rows = new RowQueue(() => {});
  for (const finishing of [{ api, needs: {} }, { api, rows, needs: {} }]) {
    calls = 0;
    const ok = await finishRequest(finishing, record([chunk("a"), chunk("b"), LAST]), "{}");
    assertEquals([ok.record.success, calls], [true, 0]); // no payload holds "error": one search
    // A payload that holds the marker but is no error: each payload is asked, none flagged.
    const nullError = `{"choices":[{"index":0,"delta":{"content":"a"}}],"error":null}`;
    const near = await finishRequest(finishing, record([nullError, LAST]), "{}");
    assertEquals([near.record.success, calls], [true, 2]);
    calls = 0;
    const bad = await finishRequest(finishing, record([chunk("a"), ERROR, LAST]), "{}");
    assertEquals(bad.record.success, false);
    assertEquals(bad.record.failure?.kind, "server-error");
    assertEquals(bad.record.failure?.message, "overloaded");
    assertEquals(calls, 2); // asked in order, up to the error
    // A reply with a character past U+00FF is searched in runs: the error is found all the same.
    calls = 0;
    const wide = await finishRequest(finishing, record([chunk("模型"), ERROR, LAST]), "{}");
    assertEquals([wide.record.success, wide.record.failure?.message, calls], [
      false,
      "overloaded",
      2,
    ]);
    calls = 0;
    const wideOk = await finishRequest(finishing, record([chunk("a"), chunk("模型"), LAST]), "{}");
    assertEquals([wideOk.record.success, calls], [true, 0]);
  }
});

Deno.test("finish request: a marker belongs to its function: an errorInPayload of one's own has none until declared", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  // The built-ins declare theirs; a subclass that keeps the method keeps its marker.
  const openai = await loadApiPlugin("openai", cfg);
  assertEquals(errorMarkerOf(openai.errorInPayload), '"error"');
  assertEquals(errorMarkerOf((await loadApiPlugin("dashscope", cfg)).errorInPayload), '"code"');
  class Kept extends CustomApi {}
  assertEquals(errorMarkerOf(new Kept(cfg).errorInPayload), '"error"');
  // A copy of the custom plugin with a test of its own (an error without the word "error"):
  // it inherits no marker, so every payload is still asked and the error is found.
  class Own extends CustomApi {
    override errorInPayload(p: string): string | undefined {
      return p.includes('"detail"') ? JSON.parse(p).detail : undefined;
    }
  }
  assertEquals(errorMarkerOf(new Own(cfg).errorInPayload), undefined);
  const rec = newRecord(0, true);
  Object.assign(rec, { status: 200, success: true, startMs: 1, endMs: 5 });
  rec.payloads = ['{"text_output":"a"}', '{"detail":"rate limited"}'];
  rec.chunkTimesMs = [2, 3];
  const f = await finishRequest({ api: new Own(cfg), needs: {} }, rec, "{}");
  assertEquals([f.record.success, f.record.failure?.message], [false, "rate limited"]);
  assertThrows(() => declareErrorMarker(() => undefined, ""), TypeError);
  assertThrows(() => declareErrorMarker(() => undefined, /error/ as unknown as string), TypeError);
});

Deno.test("finish request: the DB row holds the payloads as they arrived, whatever the plugin does to its array", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  const openai = await loadApiPlugin("openai", cfg);
  for (const change of [(r: string[]) => r.push("x"), (r: string[]) => r.pop()]) {
    const api = Object.assign(Object.create(openai), {
      parseResponses(r: string[], b: unknown) {
        const counts = openai.parseResponses([...r], b as never);
        change(r);
        return counts;
      },
    });
    const got: ResultValues[] = [];
    const sent = [chunk("a"), LAST];
    const f = await finishRequest(
      { api, rows: { add: (row) => got.push(row) }, needs: { payloads: true } },
      record([...sent]),
      "{}",
    );
    const blob = got[0][
      RESULT_COLUMNS.findIndex((c) => c.name === "response_messages")
    ] as PayloadBlob;
    assertEquals(unpackPayloads(blob), sent);
    assertEquals(unpackPayloads(f.payloads!), sent);
    // The writer's pickle of it holds the same strings.
    assertEquals(
      base64PickleUtf8List(blob.utf8, blob.count),
      btoa(String.fromCharCode(...pickleEncode(sent))),
    );
    // Without the DB, a sink that needs the payloads gets them as they arrived too.
    const alone = await finishRequest({ api, needs: { payloads: true } }, record([...sent]), "{}");
    assertEquals(unpackPayloads(alone.payloads!), sent);
  }
});

Deno.test("finish request: the plugin's per-payload lists come with the payloads only", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  const api = await loadApiPlugin("openai", cfg);
  const payloads = [
    `{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}`,
    `{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]}`,
    `{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"b"},` +
    `"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
  ];
  const bare = await finishRequest({ api, needs: {} }, record([...payloads]), "{}");
  const withPayloads = await finishRequest(
    { api, needs: { payloads: true } },
    record([...payloads]),
    "{}",
  );
  assertEquals([bare.counts?.contentChunks, bare.counts?.answerChunks], [undefined, undefined]);
  assertEquals(withPayloads.counts?.contentChunks, [1, 2]);
  assertEquals(withPayloads.counts?.answerChunks, [1, 2]);
  for (const f of [bare, withPayloads]) {
    // Payloads at 2, 3, 4 ms from a start at 1: the first token (payload 1) at 3 ms.
    assertEquals([f.counts?.promptTokens, f.counts?.completionTokens], [3, 2]);
    assertEquals(f.metrics.ttftS, 0.002);
    assertEquals(Array.from(f.metrics.itlS), [0.001]);
  }
});

Deno.test("finish request: an asynchronous plugin's record keeps its payloads and times once the request's arrays are released", async () => {
  // A thenable that is not a native promise (a library's): finishRequest still returns a native
  // one, which is how the worker tells a record to wait for from a record to release at once.
  type Thenable = { then(ok: (v: unknown) => unknown): Thenable };
  const thenable = (v: unknown): Thenable => ({ then: (ok) => thenable(ok(v)) });
  const api = {
    buildRequest: () => ({}),
    parseResponses: (responses: string[]) =>
      thenable({ promptTokens: 3, completionTokens: responses.length - 1 }),
  } as unknown as Parameters<typeof finishRequest>[0]["api"];
  const payloads = [chunk("a"), chunk("b"), LAST];
  const rec = record([...payloads]);
  const f = finishRequest({ api, needs: { payloads: true } }, rec, "{}");
  assertEquals(f instanceof Promise, true);
  const out = await f;
  releaseRecord(rec);
  assertEquals([rec.payloads.length, rec.chunkTimesMs.length], [0, 0]);
  assertEquals(unpackPayloads(out.payloads!), payloads);
  assertEquals([...out.record.chunkTimesMs], [2, 3, 4]);
  assertEquals(out.counts?.completionTokens, 2);
});

Deno.test("finish request: a record whose payloads a plugin froze is released without an error", () => {
  const rec = record([chunk("a"), LAST]);
  Object.freeze(rec.payloads);
  releaseRecord(rec);
  assertEquals(rec.payloads.length, 2);
});

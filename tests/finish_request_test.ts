/**
 * Finishing a record in a transport worker (`src/records/finish_request.ts`): its DB row goes to
 * the writer with its buffers transferred, and a sink that needs the payloads gets its own copy —
 * also for the record whose row fills the batch, so that the transfer happens inside `add`.
 */
import { assertEquals } from "./assert.ts";
import { resolveConfig } from "../src/config.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import { finishRequest } from "../src/records/finish_request.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { unpackPayloads } from "../src/records/payloads.ts";
import { newRecord } from "../src/records/record.ts";
import { RowQueue } from "../src/store/rows.ts";

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

Deno.test("finish request: a plugin's errorMarker spares the per-payload search only where no payload holds it", async () => {
  const cfg = resolveConfig({ url: "http://127.0.0.1:1/v1/chat/completions", model: "m" });
  const openai = await loadApiPlugin("openai", cfg);
  let calls = 0;
  // The openai plugin with its marker, counting the payloads its errorInPayload is asked about.
  const api = Object.assign(Object.create(openai), {
    errorInPayload(p: string) {
      calls++;
      return openai.errorInPayload!(p);
    },
  });
  const chunk = (text: string) => `{"choices":[{"index":0,"delta":{"content":"${text}"}}]}`;
  const last = `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],` +
    `"usage":{"prompt_tokens":3,"completion_tokens":2}}`;
  const record = (payloads: string[]) => {
    const rec = newRecord(0, true);
    Object.assign(rec, { status: 200, success: true, startMs: 1, endMs: 5, payloads });
    rec.chunkTimesMs = payloads.map((_, i) => 2 + i);
    return rec;
  };
  const rows = new RowQueue(() => {});
  for (const finishing of [{ api, needs: {} }, { api, rows, needs: {} }]) {
    calls = 0;
    const ok = await finishRequest(finishing, record([chunk("a"), chunk("b"), last]), "{}");
    assertEquals([ok.record.success, calls], [true, 0]); // no payload holds "error": one search
    // A payload that holds the marker but is no error: each payload is asked, none flagged.
    const nullError = `{"choices":[{"index":0,"delta":{"content":"a"}}],"error":null}`;
    const near = await finishRequest(finishing, record([nullError, last]), "{}");
    assertEquals([near.record.success, calls], [true, 2]);
    calls = 0;
    const err = `{"error":{"message":"overloaded","type":"server_error"}}`;
    const bad = await finishRequest(finishing, record([chunk("a"), err, last]), "{}");
    assertEquals(bad.record.success, false);
    assertEquals(bad.record.failure?.kind, "server-error");
    assertEquals(bad.record.failure?.message, "overloaded");
    assertEquals(calls, 2); // asked in order, up to the error
  }
  assertEquals(openai.errorMarker, '"error"');
});

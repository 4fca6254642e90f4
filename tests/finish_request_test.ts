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

/**
 * The mock's fault modes at the HTTP level, in every protocol, and `skip` (`--fault-skip`): the
 * first requests go through and draw nothing, so the faults then hit as if they had not come.
 * (`faults_test.ts` runs every mode against the real CLI.)
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { FaultPicker, type FaultSpec } from "../src/mock/faults.ts";
import type { MockProtocolName } from "../src/mock/protocol_registry.ts";
import { DASHSCOPE_PATH } from "../src/mock/dashscope.ts";
import { ZHIPU_PATH } from "../src/mock/zhipu.ts";
import { parseMockArgs } from "../src/cli/mock_command.ts";
import { UsageError } from "../src/errors.ts";

const STREAMED: Record<
  MockProtocolName,
  { path: string; body: unknown; headers?: Record<string, string> }
> = {
  openai: {
    path: "/v1/chat/completions",
    body: { messages: [{ content: "q" }], stream: true },
  },
  zhipu: { path: ZHIPU_PATH, body: { messages: [{ content: "q" }], stream: true } },
  dashscope: {
    path: DASHSCOPE_PATH,
    body: { input: { prompt: "q" }, parameters: { incremental_output: true } },
    headers: { "x-dashscope-sse": "enable" },
  },
  triton: { path: "/v2/models/m/generate_stream", body: { text_input: "q" } },
};

async function send(url: string, protocol: MockProtocolName) {
  const s = STREAMED[protocol];
  const res = await fetch(url + s.path, {
    method: "POST",
    body: JSON.stringify(s.body),
    headers: s.headers,
  });
  try {
    return { status: res.status, text: await res.text(), cut: false };
  } catch {
    return { status: res.status, text: "", cut: true };
  }
}

for (const protocol of Object.keys(STREAMED) as MockProtocolName[]) {
  Deno.test(`mock faults [${protocol}]: the modes strike in this protocol too`, async () => {
    const m = startMockServer({
      port: 0,
      outputTokens: 4,
      protocol,
      faults: {
        faults: [
          { mode: "http-500", amount: 1 },
          { mode: "disconnect-mid", amount: 1 },
          { mode: "malformed-json", amount: 1 },
        ],
        skip: 1,
      },
    });
    try {
      const first = await send(m.url, protocol); // skipped: a normal reply
      assertEquals([first.status, first.cut], [200, false]);
      const normal = first.text;
      const e500 = await send(m.url, protocol);
      assertEquals(e500.status, 500);
      const cut = await send(m.url, protocol);
      assertEquals([cut.status, cut.cut], [200, true], "disconnected mid-stream");
      const bad = await send(m.url, protocol);
      assert(bad.text.includes('"oops"}\n\n') && bad.text.length > normal.length, bad.text);
      const after = await send(m.url, protocol);
      // The same reply but for its id and its clock (`created`: epoch seconds, which may tick
      // between the two requests).
      const same = (t: string) =>
        t.replace(/mock-\d+/g, "").replace(/"(created|created_at)":\s*\d+/g, '"$1":0');
      assertEquals(same(after.text), same(normal));
      assertEquals(m.faults, { "http-500": 1, "disconnect-mid": 1, "malformed-json": 1 });
      assertEquals(m.stats.requests, 5);
      assertEquals(m.stats.inFlight, 0);
    } finally {
      await m.close();
    }
  });
}

Deno.test("mock faults: skip leaves the first requests alone and draws nothing for them", () => {
  const faults: FaultSpec[] = [{ mode: "http-500", amount: 0.3 }, { mode: "no-done", amount: 2 }];
  const plain = new FaultPicker({ faults, seed: 7 });
  const skipping = new FaultPicker({ faults, seed: 7, skip: 3 });
  const a = Array.from({ length: 40 }, () => plain.pick());
  const b = Array.from({ length: 43 }, () => skipping.pick());
  assertEquals(b.slice(0, 3), [undefined, undefined, undefined]);
  assertEquals(b.slice(3), a, "after the skipped ones, the same faults in the same order");
  assertEquals(skipping.counts, plain.counts);
});

Deno.test("mock faults: the start-up check is faulted like any request unless skipped", async () => {
  const m = startMockServer({ port: 0, faults: { faults: [{ mode: "http-500", amount: 1 }] } });
  try {
    const res = await fetch(`${m.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "x-llmperf-preflight": "1" },
      body: JSON.stringify({ messages: [{ content: "q" }], max_tokens: 1 }),
    });
    await res.body?.cancel();
    assertEquals(res.status, 500);
    assertEquals(m.stats.requests, 1);
  } finally {
    await m.close();
  }
});

Deno.test("llmperf mock --fault-skip: parsed and checked", () => {
  const o = parseMockArgs(["--fault", "http-500=2", "--fault-skip", "1"]);
  assertEquals(o.faults?.skip, 1);
  assertEquals(parseMockArgs(["--fault", "http-500=2"]).faults?.skip, undefined);
  assertThrows(() => parseMockArgs(["--fault-skip", "1"]), UsageError, "need --fault");
  assertThrows(
    () => parseMockArgs(["--fault", "http-500=2", "--fault-skip", "x"]),
    UsageError,
    "--fault-skip",
  );
});

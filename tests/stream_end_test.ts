/**
 * A stream is complete at `[DONE]`, or when every choice finished for protocols without it,
 * whatever the connection does next (kept open, closed or reset without the last chunk, garbage),
 * over both transports, against a stub that writes exact bytes. Latency ends at the last event;
 * keep-alive still works when the last chunk follows `[DONE]` at once. No timing is asserted
 * beyond bounds far from both the right and the wrong behaviour.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chunk, LAST_CHUNK, type RawReply, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { sendOne, TRANSPORT_KINDS, withStub } from "./helpers/transports.ts";
import {
  DEFAULT_STREAM_END,
  DONE_TAIL_MS,
  FinishTracker,
  SETTLE_MS,
} from "../src/transport/stream_end.ts";

// --- the rule itself ---

function finished(payloads: string[]): boolean {
  return new FinishTracker(DEFAULT_STREAM_END).finished(payloads);
}

const ROLE =
  '{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
const TOKEN = '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
const STOP = '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
const USAGE = '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';

function dashscope(text: string, finish: string): string {
  return JSON.stringify({
    output: { choices: [{ message: { role: "assistant", content: text }, finish_reason: finish }] },
    usage: { input_tokens: 3, output_tokens: 1 },
    request_id: "r",
  });
}

Deno.test("stream end: every choice finished, by each built-in protocol's field", () => {
  assert(!finished([]), "nothing streamed");
  assert(!finished([ROLE, TOKEN]), "OpenAI, still streaming");
  assert(finished([ROLE, TOKEN, STOP]), "OpenAI, finish_reason");
  assert(finished([ROLE, TOKEN, STOP, USAGE]), "a usage-only chunk after it changes nothing");
  assert(!finished([USAGE]), "a usage-only chunk finishes no choice");
  assert(!finished([dashscope("Hi", "null")]), "DashScope's 'null' placeholder");
  assert(finished([dashscope("Hi", "null"), dashscope("", "stop")]), "DashScope message format");
  assert(finished(['{"output":{"text":"Hi","finish_reason":"stop"}}']), "DashScope text format");
  assert(!finished(['{"token":{"text":"a"},"details":null}']), "TGI, streaming");
  assert(finished(['{"token":{"text":"a"},"details":{"finish_reason":"length"}}']), "TGI, last");
  assert(!finished(['{"text_output":"a"}']), "Triton has no end marker");
  assert(!finished(["not json", '{"error":"x"}']), "non-JSON and errors say nothing");
});

Deno.test("stream end: with several choices, every one must finish (by index, any order)", () => {
  const c = (i: number, f: string | null) =>
    JSON.stringify({ choices: [{ index: i, delta: { content: "x" }, finish_reason: f }] });
  assert(!finished([c(0, null), c(1, null), c(1, "stop")]), "choice 0 still streaming");
  assert(finished([c(0, null), c(1, null), c(1, "stop"), c(0, "length")]));
  // sticky: a later chunk without the reason does not unfinish a choice
  const t = new FinishTracker(DEFAULT_STREAM_END);
  const p = [c(0, "stop")];
  assert(t.finished(p));
  p.push(c(0, null));
  assert(t.finished(p));
});

// --- over the wire ---

const OPENAI = [ROLE, TOKEN, STOP, USAGE].map((d) => chunk(`data: ${d}\n\n`)).join("");
const DONE = chunk("data: [DONE]\n\n");
const DASHSCOPE = [dashscope("Hi", "null"), dashscope(" there", "stop")]
  .map((d, i) => chunk(`id:${i + 1}\nevent:result\n:HTTP_STATUS/200\ndata:${d}\n\n`)).join("");

type After = "open" | "close" | "reset" | "garbage";

/** Write `body` (events, no last chunk), then do `after`. */
function reply(body: string, after: After) {
  return async (r: RawReply) => {
    await r.write(SSE_HEAD + body);
    if (after === "close") r.close();
    else if (after === "reset") {
      await r.pause(20); // let the events arrive before the reset
      r.reset();
    } else if (after === "garbage") await r.write("this is not chunked framing\r\n");
    // "open": keep the connection open, say nothing more
  };
}

const AFTERS: After[] = ["open", "close", "reset", "garbage"];

for (const kind of TRANSPORT_KINDS) {
  for (const after of AFTERS) {
    Deno.test(`stream end [${kind}]: [DONE], then the connection is ${after}: a success`, async () => {
      await withStub(kind, reply(OPENAI + DONE, after), async (url, t) => {
        const { rec, ms } = await sendOne(t, url);
        assert(rec.success, JSON.stringify(rec.failure));
        assertEquals(rec.payloads, [ROLE, TOKEN, STOP, USAGE]);
        // Latency ends at [DONE] (it came with the events), not when the wait for the end stopped.
        const last = rec.chunkTimesMs[rec.chunkTimesMs.length - 1];
        assert(rec.endMs - last < 50, `end ${rec.endMs - last} ms after the last event`);
        assert(ms < 10_000, `took ${ms} ms (the read timeout is 30 s)`);
      });
    });
  }

  for (const after of ["open", "close", "reset"] as const) {
    Deno.test(`stream end [${kind}]: no [DONE], every choice finished, then ${after}: a success`, async () => {
      for (const body of [DASHSCOPE, OPENAI]) {
        await withStub(kind, reply(body, after), async (url, t) => {
          const { rec, ms } = await sendOne(t, url);
          assert(rec.success, JSON.stringify(rec.failure));
          assertEquals(rec.payloads.length, body === DASHSCOPE ? 2 : 4, "the usage chunk is kept");
          // Latency ends at the last event, however long the wait for more was.
          assertEquals(rec.endMs, rec.chunkTimesMs[rec.chunkTimesMs.length - 1]);
          if (after === "open") {
            assert(ms >= SETTLE_MS, `ended after ${ms} ms of silence, before ${SETTLE_MS}`);
          }
          assert(ms < 10_000, `took ${ms} ms (the read timeout is 30 s)`);
        });
      }
    });
  }

  Deno.test(`stream end [${kind}]: a stream cut before its choices finished is a failure`, async () => {
    for (const after of ["close", "reset"] as const) {
      await withStub(
        kind,
        reply(chunk(`data: ${ROLE}\n\n`) + chunk(`data: ${TOKEN}\n\n`), after),
        async (url, t) => {
          const { rec } = await sendOne(t, url);
          assert(!rec.success, after);
          assertEquals(rec.failure?.kind, "network", `${after}: ${JSON.stringify(rec.failure)}`);
        },
      );
    }
    // Two choices, one finished: not complete.
    const two = [0, 1].map((i) => `{"choices":[{"index":${i},"delta":{"content":"x"}}]}`)
      .concat(['{"choices":[{"index":1,"delta":{},"finish_reason":"stop"}]}'])
      .map((d) => chunk(`data: ${d}\n\n`)).join("");
    await withStub(kind, reply(two, "close"), async (url, t) => {
      const { rec } = await sendOne(t, url);
      assertEquals(rec.failure?.kind, "network", JSON.stringify(rec.failure));
    });
  });

  Deno.test(`stream end [${kind}]: an unfinished stream kept open still times out`, async () => {
    await withStub(kind, reply(chunk(`data: ${TOKEN}\n\n`), "open"), async (url, t) => {
      const { rec } = await sendOne(t, url);
      assertEquals(rec.failure?.kind, "read-timeout", JSON.stringify(rec.failure));
    }, { connectMs: 5000, readMs: 1500, totalMs: Infinity });
  });

  Deno.test(`stream end [${kind}]: keep-alive survives [DONE]; a body left open is given up`, async () => {
    // The last chunk follows [DONE] in its own write: the connection carries the next request.
    await withStub(kind, async (r) => {
      await r.write(SSE_HEAD + OPENAI + DONE);
      await r.pause(5);
      await r.write(LAST_CHUNK);
    }, async (url, t, server) => {
      for (let i = 0; i < 3; i++) {
        const { rec } = await sendOne(t, url);
        assert(rec.success, JSON.stringify(rec.failure));
      }
      assertEquals(server.connections, 1, "one connection for three requests");
    });
    // The last chunk comes long after [DONE]: the request does not wait for it; the connection
    // is not reused (its state is unknown), so the next request opens another.
    await withStub(kind, async (r) => {
      await r.write(SSE_HEAD + OPENAI + DONE);
      await r.pause(3000); // far past DONE_TAIL_MS and a watchdog tick
      await r.write(LAST_CHUNK);
    }, async (url, t, server) => {
      const a = await sendOne(t, url);
      const b = await sendOne(t, url);
      assert(a.rec.success && b.rec.success, JSON.stringify([a.rec.failure, b.rec.failure]));
      assert(a.ms >= DONE_TAIL_MS && a.ms < 3000, `waited ${a.ms} ms for the last chunk`);
      assertEquals(server.connections, 2);
    });
  });
}

// --- the whole run, start-up check included ---

async function perfAgainst(body: string, api: string) {
  const server = await rawServer(reply(body, "open"));
  try {
    await using r = await perfRun({ server, flags: { api, stream: true, number: 2 } });
    assertEquals(r.code, 0, r.stderr);
    return { s: r.seconds, summary: r.summary, received: server.requests.length };
  } finally {
    await server.close();
  }
}

for (const [api, body] of [["openai", OPENAI + DONE], ["dashscope", DASHSCOPE]] as const) {
  Deno.test(`stream end [run]: ${api} streams on connections kept open: the check and the run finish`, async () => {
    // Before: the start-up check waited for the read timeout (120 s) and every request failed.
    const { s, summary, received } = await perfAgainst(body, api);
    assertEquals([summary["Succeed requests"], summary["Failed requests"]], [2, 0]);
    assertEquals(received, 3, "the check and two requests");
    assert(s < 60, `took ${s} s`);
  });
}

// --- the Responses API: response.completed is the last event ---

const RESPONSES = [
  ["response.created", { response: { status: "in_progress" } }],
  ["response.output_text.delta", { delta: "Hi" }],
  ["response.completed", { response: { status: "completed", usage: { output_tokens: 1 } } }],
] as const;

Deno.test("stream end: a Responses stream without event lines is complete at response.completed", () => {
  const payloads = RESPONSES.map(([type, data]) => JSON.stringify({ type, ...data }));
  assert(!finished(payloads.slice(0, 2)), "created and a delta: not complete");
  assert(finished(payloads), "response.completed: complete");
});

for (const kind of TRANSPORT_KINDS) {
  Deno.test(`stream end [${kind}]: event: response.completed ends the stream, the connection open`, async () => {
    const body = RESPONSES.map(([type, data]) =>
      chunk(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
    ).join("") + chunk(`event: response.output_text.delta\ndata: {"delta":"after"}\n\n`);
    await withStub(kind, reply(body, "open"), async (url, t) => {
      const { rec, ms } = await sendOne(t, url);
      assert(rec.success, JSON.stringify(rec.failure));
      assertEquals(rec.payloads.length, 3, "response.completed is kept; nothing after it counts");
      assertEquals(rec.endMs, rec.chunkTimesMs[2]);
      // At the event itself: without the rule the event after it would be a payload too.
      assert(ms < 10_000, `took ${ms} ms (the read timeout is 30 s)`);
    });
  });
}

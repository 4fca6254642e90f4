/**
 * The mock's one engine, through every protocol: per-token pacing (token k at arrival + ttft +
 * k · itl: never before, late only by scheduling noise, and a late write never pushes the
 * tokens after it back), `--stamp-times` on every chunk and body, and `max_tokens` (0 included)
 * on every path. Timing checks are on the shape of the schedule with bounds that hold on a
 * loaded machine: "never early" is exact (the mock's own stamps), lateness only has to be small
 * next to the intervals.
 */
import { assert, assertEquals } from "./assert.ts";
import { type MockOptions, startMockServer } from "../src/mock/server.ts";
import type { MockProtocolName } from "../src/mock/protocol_registry.ts";
import { DASHSCOPE_PATH } from "../src/mock/dashscope.ts";
import { ZHIPU_PATH } from "../src/mock/zhipu.ts";
import { parseSseText } from "../src/transport/sse.ts";
import { parseMockArgs } from "../src/cli/mock_command.ts";

const PROMPT = "pace me";

/** How to ask each protocol for a streamed or whole reply, with an optional token cap. */
const ASK: Record<
  MockProtocolName,
  (
    stream: boolean,
    maxTokens?: number,
  ) => { path: string; body: unknown; headers?: Record<string, string> }
> = {
  openai: (stream, max) => ({
    path: "/v1/chat/completions",
    body: {
      model: "m",
      messages: [{ role: "user", content: PROMPT }],
      stream,
      stream_options: { include_usage: true },
      ...(max === undefined ? {} : { max_tokens: max }),
    },
  }),
  zhipu: (stream, max) => ({
    path: ZHIPU_PATH,
    body: {
      model: "g",
      messages: [{ role: "user", content: PROMPT }],
      stream,
      ...(max === undefined ? {} : { max_tokens: max }),
    },
  }),
  dashscope: (stream, max) => ({
    path: DASHSCOPE_PATH,
    body: {
      model: "q",
      input: { messages: [{ role: "user", content: PROMPT }] },
      parameters: {
        result_format: "message",
        incremental_output: true,
        ...(max === undefined ? {} : { max_tokens: max }),
      },
    },
    headers: stream ? { "x-dashscope-sse": "enable" } : undefined,
  }),
  triton: (stream, max) => ({
    path: `/v2/models/ens/${stream ? "generate_stream" : "generate"}`,
    body: { text_input: PROMPT, ...(max === undefined ? {} : { max_tokens: max }) },
  }),
};

const PROTOCOLS = Object.keys(ASK) as MockProtocolName[];

/** The text a payload carries as a generated token ("" for role, usage and finish chunks). */
function tokenText(protocol: MockProtocolName, p: Record<string, unknown>): string {
  // deno-lint-ignore no-explicit-any
  const o = p as any;
  switch (protocol) {
    case "openai":
    case "zhipu": {
      const d = o.choices?.[0]?.delta ?? {};
      return (d.content ?? "") + (d.reasoning ?? "") + (d.reasoning_content ?? "");
    }
    case "dashscope": {
      const m = o.output.choices[0].message;
      return m.content + (m.reasoning_content ?? "");
    }
    case "triton":
      return o.text_output;
  }
}

/** Output tokens the usage of a payload reports, or undefined without usage. */
function usageTokens(p: Record<string, unknown>): number | undefined {
  // deno-lint-ignore no-explicit-any
  const u = (p as any).usage;
  return u === undefined ? undefined : u.completion_tokens ?? u.output_tokens;
}

interface Read {
  /** JSON payloads of the stream, in order (no `[DONE]`). */
  payloads: Array<Record<string, unknown>>;
  /** Whether the stream ended with `[DONE]`. */
  done: boolean;
  /** For each token payload: when it arrived, ms after the request was sent (client clock). */
  arrivals: number[];
  /** The token payloads. */
  tokens: Array<Record<string, unknown>>;
}

/** Send a streamed request and read the stream raw, timing each token payload as it arrives. */
async function readStream(
  url: string,
  protocol: MockProtocolName,
  maxTokens?: number,
): Promise<Read> {
  const ask = ASK[protocol](true, maxTokens);
  const t0 = performance.now();
  const res = await fetch(url + ask.path, {
    method: "POST",
    body: JSON.stringify(ask.body),
    headers: { "content-type": "application/json", ...ask.headers },
  });
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: Read = { payloads: [], done: false, arrivals: [], tokens: [] };
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const at = performance.now() - t0;
    rest += value;
    const cut = rest.lastIndexOf("\n\n");
    if (cut === -1) continue;
    for (const e of parseSseText(rest.slice(0, cut + 2))) {
      if (e.data === "[DONE]") {
        out.done = true;
        continue;
      }
      const p = JSON.parse(e.data);
      out.payloads.push(p);
      if (tokenText(protocol, p) !== "") {
        out.tokens.push(p);
        out.arrivals.push(at);
      }
    }
    rest = rest.slice(cut + 2);
  }
  return out;
}

async function whole(url: string, protocol: MockProtocolName, maxTokens?: number) {
  const ask = ASK[protocol](false, maxTokens);
  const res = await fetch(url + ask.path, {
    method: "POST",
    body: JSON.stringify(ask.body),
    headers: { "content-type": "application/json", ...ask.headers },
  });
  assertEquals(res.status, 200);
  return await res.json();
}

function stamps(p: Record<string, unknown>): { received: number; sent: number } {
  const received = p.mock_received_ms;
  const sent = p.mock_sent_ms;
  assert(typeof received === "number" && typeof sent === "number", JSON.stringify(p));
  return { received, sent };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Stamps are rounded to the microsecond; allow that much (and no more) before "due". */
const ROUNDING_MS = 0.002;

for (const protocol of PROTOCOLS) {
  Deno.test(`mock engine [${protocol}]: token k is written at arrival + ttft + k·itl, never before, on time on average`, async () => {
    // Intervals long next to a loaded machine's stalls, so that a wrong schedule (ttft counted
    // twice, a token off by one) stands far out of the noise.
    const TTFT = 150;
    const ITL = 80;
    const TOKENS = 8;
    const STREAMS = 6;
    const opts: Partial<MockOptions> = {
      port: 0,
      ttftMs: TTFT,
      itlMs: ITL,
      outputTokens: 5,
      reasoningTokens: protocol === "triton" ? 0 : 3, // reasoning tokens keep the schedule
      protocol,
      stampTimes: true,
    };
    if (protocol === "triton") opts.outputTokens = TOKENS;
    const m = startMockServer(opts);
    try {
      const reads = await Promise.all(
        Array.from({ length: STREAMS }, () => readStream(m.url, protocol)),
      );
      const late: number[] = [];
      for (const r of reads) {
        assertEquals(r.tokens.length, TOKENS);
        r.tokens.forEach((p, k) => {
          const { received, sent } = stamps(p);
          const due = received + TTFT + k * ITL;
          assert(sent >= due - ROUNDING_MS, `token ${k} written ${due - sent} ms early`);
          late.push(sent - due);
        });
        // The client's own clock: a token cannot arrive before its due time after sending.
        r.arrivals.forEach((t, k) => {
          assert(t >= TTFT + k * ITL - 1, `token ${k} arrived at ${t} ms`);
        });
        // and the last one arrives close to its time (generous: a loaded machine)
        const last = r.arrivals[TOKENS - 1];
        assert(last < TTFT + (TOKENS - 1) * ITL + 250, `last token at ${last} ms`);
      }
      // On time: the median token well within half an interval (a token off by one would be
      // itl late, a doubled ttft 150 ms), the mean within one (stalls of a loaded machine).
      assert(median(late) < ITL / 2, `median lateness ${median(late)} ms`);
      assert(mean(late) < ITL, `mean lateness ${mean(late)} ms`);
    } finally {
      await m.close();
    }
  });
}

Deno.test("mock engine: a late write never pushes the tokens after it back", async () => {
  const ITL = 20;
  const TOKENS = 30;
  const BLOCK = 300; // the event loop is blocked this long, from 40 ms in
  const m = startMockServer({
    port: 0,
    ttftMs: 0,
    itlMs: ITL,
    outputTokens: TOKENS,
    stampTimes: true,
  });
  try {
    const reading = readStream(m.url, "openai");
    await new Promise((r) => setTimeout(r, 40));
    const from = performance.timeOrigin + performance.now();
    while (performance.timeOrigin + performance.now() < from + BLOCK) {
      /* the mock cannot write */
    }
    const to = performance.timeOrigin + performance.now();
    const r = await reading;
    assertEquals(r.tokens.length, TOKENS);
    const sent = r.tokens.map((p) => stamps(p).sent);
    const { received } = stamps(r.tokens[0]);
    const due = (k: number) => received + k * ITL;
    sent.forEach((s, k) => assert(s >= due(k) - ROUNDING_MS, `token ${k} early`));
    // The tokens that came due while the loop was blocked went out in the first write after it,
    // together...
    const blocked = sent.filter((_, k) => due(k) >= from && due(k) < to);
    assert(blocked.length >= 5, `tokens due in the block: ${blocked.length}`);
    for (const s of blocked) assert(s >= to, "written after the block");
    assert(Math.max(...blocked) - Math.min(...blocked) < 1, "in one write");
    // ...and the last token is on its own schedule, not shifted by the block.
    const lastLate = sent[TOKENS - 1] - due(TOKENS - 1);
    assert(lastLate < BLOCK / 2, `last token ${lastLate} ms late: the schedule slipped`);
  } finally {
    await m.close();
  }
});

for (const protocol of PROTOCOLS) {
  Deno.test(`mock engine [${protocol}]: --stamp-times stamps every chunk and the whole body`, async () => {
    const m = startMockServer({ port: 0, outputTokens: 3, protocol, stampTimes: true });
    try {
      const before = performance.timeOrigin + performance.now();
      const r = await readStream(m.url, protocol);
      assert(r.payloads.length >= 3);
      for (const p of r.payloads) {
        const { received, sent } = stamps(p);
        assert(received >= before - 1 && sent >= received, JSON.stringify(p));
        const keys = Object.keys(p);
        assertEquals(keys.slice(-2), ["mock_received_ms", "mock_sent_ms"], "the last two fields");
      }
      const body = await whole(m.url, protocol);
      const { received, sent } = stamps(body);
      assert(sent >= received);
    } finally {
      await m.close();
    }
  });
}

for (const protocol of PROTOCOLS) {
  Deno.test(`mock engine [${protocol}]: max_tokens caps every path; 0 is no token event and usage 0`, async () => {
    const paced = startMockServer({ port: 0, itlMs: 2, ttftMs: 30, outputTokens: 6, protocol });
    const unpaced = startMockServer({ port: 0, outputTokens: 6, protocol });
    try {
      for (const m of [paced, unpaced]) {
        for (const max of [0, 1, 4, 100]) {
          const want = Math.min(max, 6);
          const t0 = performance.now();
          const r = await readStream(m.url, protocol, max);
          assertEquals(r.tokens.length, want, `${protocol} max_tokens ${max}: token events`);
          // Every protocol ends the reply as it does otherwise: [DONE] where it has one.
          assertEquals(r.done, protocol === "openai" || protocol === "zhipu");
          if (protocol !== "triton") {
            const reported = r.payloads.map(usageTokens).filter((u) => u !== undefined);
            assertEquals(reported.at(-1), want, `${protocol} max_tokens ${max}: usage`);
          }
          if (m === paced && max === 0) {
            assert(performance.now() - t0 >= 29, "a reply of 0 tokens still comes after ttft");
          }
          const body = await whole(m.url, protocol, max);
          if (protocol !== "triton") assertEquals(usageTokens(body), want);
          const text = protocol === "triton"
            ? body.text_output
            : protocol === "dashscope"
            ? body.output.choices[0].message.content
            : body.choices[0].message.content;
          assertEquals(text === "" ? 0 : text.trim().split(/\s+/).length, want);
        }
      }
    } finally {
      await paced.close();
      await unpaced.close();
    }
  });
}

Deno.test("mock engine: max_completion_tokens, and Triton's parameters.max_tokens, are honoured", async () => {
  const o = startMockServer({ port: 0, outputTokens: 6 });
  const t = startMockServer({ port: 0, outputTokens: 6, protocol: "triton" });
  try {
    const post = async (url: string, body: unknown) =>
      await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json();
    const chat = await post(`${o.url}/v1/chat/completions`, {
      messages: [{ role: "user", content: PROMPT }],
      max_completion_tokens: 2,
    });
    assertEquals(chat.usage.completion_tokens, 2);
    const zero = await post(`${o.url}/v1/completions`, { prompt: PROMPT, max_tokens: 0, n: 2 });
    assertEquals(zero.choices.map((c: { text: string }) => c.text), ["", ""]);
    assertEquals(zero.usage.completion_tokens, 0);
    const tr = await post(`${t.url}/v2/models/ens/generate`, {
      text_input: PROMPT,
      parameters: { max_tokens: 3 },
    });
    assertEquals(tr.text_output.trim().split(" ").length, 3);
  } finally {
    await o.close();
    await t.close();
  }
});

Deno.test("mock engine: a streamed reply of 0 tokens still finishes every choice", async () => {
  const m = startMockServer({ port: 0, outputTokens: 6 });
  try {
    const res = await fetch(`${m.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        messages: [{ role: "user", content: PROMPT }],
        stream: true,
        n: 2,
        max_tokens: 0,
        stream_options: { include_usage: true },
      }),
    });
    const events = parseSseText(await res.text()).map((e) => e.data);
    assertEquals(events.at(-1), "[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const finished = chunks.filter((c) => c.choices[0]?.finish_reason === "length");
    assertEquals(finished.map((c) => [c.choices[0].index, c.choices[0].delta]), [[0, {}], [1, {}]]);
    assertEquals(chunks.at(-1).usage.completion_tokens, 0);
  } finally {
    await m.close();
  }
});

Deno.test("mock engine: --latency-per-inflight-ms adds K per other request in flight at arrival", async () => {
  // Requests sent one after another, each while the ones before it are still in flight: the
  // n-th (from 0) finds n others, so its first token is due T0 + n·K after it arrived and its
  // second (the gap) n·K later. The mock's own stamps are the ground truth.
  const T0 = 50;
  const K = 150;
  const mock = startMockServer({
    port: 0,
    ttftMs: T0,
    itlMs: 0,
    outputTokens: 2,
    latencyPerInflightMs: K,
    stampTimes: true,
  });
  try {
    const ask = ASK.openai(true);
    const send = async () => {
      const res = await fetch(mock.url + ask.path, {
        method: "POST",
        body: JSON.stringify(ask.body),
      });
      const tokens = parseSseText(await res.text()).filter((e) => e.data !== "[DONE]")
        .map((e) => JSON.parse(e.data)).filter((c) => c.choices?.[0]?.delta?.content);
      return tokens.map((c) => c.mock_sent_ms - c.mock_received_ms as number);
    };
    const out: Array<Promise<number[]>> = [];
    for (let n = 0; n < 3; n++) {
      out.push(send());
      // Wait until the mock holds it, so the next one finds it in flight.
      while (mock.stats.inFlight < n + 1) await new Promise((r) => setTimeout(r, 2));
    }
    const got = await Promise.all(out);
    got.forEach((sent, n) => {
      const due = [T0 + n * K, T0 + 2 * n * K];
      assertEquals(sent.length, 2);
      sent.forEach((t, k) => {
        assert(
          t >= due[k] - 0.5 && t < due[k] + K / 2,
          `request ${n} token ${k}: ${t}, due ${due[k]}`,
        );
      });
    });
  } finally {
    await mock.close();
  }
});

Deno.test("mock CLI: --latency-per-inflight-ms is read in ms, 0 by default", () => {
  assertEquals(parseMockArgs(["--latency-per-inflight-ms", "12.5"]).latencyPerInflightMs, 12.5);
  assertEquals(parseMockArgs([]).latencyPerInflightMs, undefined);
});

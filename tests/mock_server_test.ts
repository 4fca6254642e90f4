import { assert, assertEquals } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { parseSseText } from "../src/transport/sse.ts";
import { mockTokenCount } from "../src/mock/generator.ts";
import { startMockProcess } from "./helpers/mock_process.ts";

async function post(url: string, body: unknown) {
  const r = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}

Deno.test("mock: streamed chat is role chunk, one chunk per token, usage chunk, [DONE]", async () => {
  const m = startMockServer({ port: 0, outputTokens: 5 });
  try {
    const r = await post(`${m.url}/v1/chat/completions`, {
      model: "x",
      messages: [{ role: "user", content: "hello there" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    assertEquals(r.status, 200);
    assert(r.type.startsWith("text/event-stream"));
    const evs = parseSseText(r.text).map((e) => e.data);
    assertEquals(evs.length, 1 + 5 + 1 + 1);
    assertEquals(evs.at(-1), "[DONE]");
    const chunks = evs.slice(0, -1).map((e) => JSON.parse(e));
    assertEquals(chunks[0].choices[0].delta, { role: "assistant", content: "" });
    assertEquals(chunks[5].choices[0].finish_reason, "length");
    assertEquals(chunks[6].choices, []);
    assertEquals(chunks[6].usage, {
      prompt_tokens: mockTokenCount("hello there"),
      completion_tokens: 5,
      total_tokens: 8,
    });
  } finally {
    await m.close();
  }
});

Deno.test("mock: usage only when asked, never with usage off; max_tokens caps the reply", async () => {
  const m = startMockServer({ port: 0, outputTokens: 50 });
  const off = startMockServer({ port: 0, outputTokens: 5, usage: false });
  try {
    const base = { model: "x", messages: [{ role: "user", content: "q" }], stream: true };
    const noUsage = parseSseText(
      (await post(`${m.url}/v1/chat/completions`, { ...base, max_tokens: 3 })).text,
    );
    assertEquals(noUsage.length, 1 + 3 + 1);
    assert(!noUsage.some((e) => e.data.includes("usage")));
    const offR = parseSseText(
      (await post(`${off.url}/v1/chat/completions`, {
        ...base,
        stream_options: { include_usage: true },
      })).text,
    );
    assert(!offR.some((e) => e.data.includes("usage")));
  } finally {
    await m.close();
    await off.close();
  }
});

Deno.test("mock: non-streamed chat and completions bodies", async () => {
  const m = startMockServer({ port: 0, outputTokens: 4 });
  try {
    const chat = JSON.parse(
      (await post(`${m.url}/v1/chat/completions`, { messages: [{ role: "user", content: "q" }] }))
        .text,
    );
    assertEquals(chat.object, "chat.completion");
    assertEquals(chat.usage.completion_tokens, 4);
    assertEquals(chat.choices[0].message.content.split(" ").length, 4);
    const comp = JSON.parse((await post(`${m.url}/v1/completions`, { prompt: "q", n: 2 })).text);
    assertEquals(comp.object, "text_completion");
    assertEquals(comp.choices.length, 2);
    assertEquals(comp.usage.completion_tokens, 8);
  } finally {
    await m.close();
  }
});

Deno.test("mock: replies are deterministic per seed and prompt; lengths spread between min and max", async () => {
  const a = startMockServer({ port: 0, outputTokens: 10, outputTokensMax: 40, seed: 1 });
  const b = startMockServer({ port: 0, outputTokens: 10, outputTokensMax: 40, seed: 1 });
  try {
    const lens = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const body = { messages: [{ role: "user", content: `prompt ${i}` }] };
      const ra = JSON.parse((await post(`${a.url}/v1/chat/completions`, body)).text);
      const rb = JSON.parse((await post(`${b.url}/v1/chat/completions`, body)).text);
      assertEquals(ra.choices[0].message.content, rb.choices[0].message.content);
      const n = ra.usage.completion_tokens;
      assert(n >= 10 && n <= 40);
      lens.add(n);
    }
    assert(lens.size > 5, "lengths should vary");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("mock: bad requests get OpenAI-style errors", async () => {
  const m = startMockServer({ port: 0 });
  try {
    assertEquals((await post(`${m.url}/v1/nope`, {})).status, 404);
    assertEquals((await post(`${m.url}/v1/chat/completions`, { prompt: "x" })).status, 400);
    const bad = await fetch(`${m.url}/v1/chat/completions`, { method: "POST", body: "{" });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await m.close();
  }
});

Deno.test("mock: pacing follows arrival + ttft + k·itl (loose check; the bench measures it)", async () => {
  const m = startMockServer({ port: 0, ttftMs: 80, itlMs: 30, outputTokens: 5 });
  try {
    const t0 = performance.now();
    const r = await fetch(`${m.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "q" }], stream: true }),
    });
    const reader = r.body!.getReader();
    const times: number[] = [];
    for (;;) {
      const x = await reader.read();
      if (x.done) break;
      times.push(performance.now() - t0);
    }
    assert(times[0] >= 78, `first bytes at ${times[0]}`);
    const last = times.at(-1)!;
    assert(last >= 80 + 4 * 30 - 2 && last < 80 + 4 * 30 + 100, `last bytes at ${last}`);
  } finally {
    await m.close();
  }
});

Deno.test("mock --reasoning-tokens: reasoning chunks before the answer, usage reports them", async () => {
  const m = startMockServer({ port: 0, outputTokens: 3, reasoningTokens: 4 });
  const rc = startMockServer({
    port: 0,
    outputTokens: 3,
    reasoningTokens: 4,
    reasoningField: "reasoning_content",
  });
  try {
    const body = {
      messages: [{ role: "user", content: "think" }],
      stream: true,
      stream_options: { include_usage: true },
    };
    const evs = parseSseText((await post(`${m.url}/v1/chat/completions`, body)).text)
      .map((e) => e.data);
    assertEquals(evs.length, 1 + 4 + 3 + 1 + 1);
    const chunks = evs.slice(0, -1).map((e) => JSON.parse(e));
    assertEquals(chunks[0].choices[0].delta, { role: "assistant", content: "" });
    for (let i = 1; i <= 4; i++) {
      assertEquals(Object.keys(chunks[i].choices[0].delta), ["reasoning"]);
    }
    for (let i = 5; i <= 7; i++) assertEquals(Object.keys(chunks[i].choices[0].delta), ["content"]);
    assertEquals(chunks[7].choices[0].finish_reason, "length");
    assertEquals(chunks[8].usage.completion_tokens, 7);
    assertEquals(chunks[8].usage.completion_tokens_details, { reasoning_tokens: 4 });
    // the other field name; max_tokens caps reasoning and answer together, reasoning first
    const capped = parseSseText(
      (await post(`${rc.url}/v1/chat/completions`, { ...body, max_tokens: 5 })).text,
    ).map((e) => e.data).slice(0, -1).map((e) => JSON.parse(e));
    assertEquals(Object.keys(capped[1].choices[0].delta), ["reasoning_content"]);
    assertEquals(capped.at(-1).usage.completion_tokens, 5);
    assertEquals(capped.at(-1).usage.completion_tokens_details, { reasoning_tokens: 4 });
    // a whole reply: the message has both; plain completions have no reasoning field
    const whole = JSON.parse(
      (await post(`${m.url}/v1/chat/completions`, { messages: body.messages })).text,
    );
    const msg = whole.choices[0].message;
    assertEquals([msg.reasoning.split(" ").length, msg.content.split(" ").length], [4, 3]);
    assertEquals(whole.usage.completion_tokens_details, { reasoning_tokens: 4 });
    const comp = JSON.parse((await post(`${m.url}/v1/completions`, { prompt: "q" })).text);
    assertEquals(comp.usage.completion_tokens, 3);
    assertEquals(comp.usage.completion_tokens_details, undefined);
  } finally {
    await m.close();
    await rc.close();
  }
});

Deno.test("mock --reasoning-tokens: every generated token keeps the pacing ttft + k·itl", async () => {
  const m = startMockServer({
    port: 0,
    ttftMs: 60,
    itlMs: 25,
    outputTokens: 2,
    reasoningTokens: 3,
  });
  try {
    const t0 = performance.now();
    const r = await fetch(`${m.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "q" }], stream: true }),
    });
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const arrivals: Array<[string, number]> = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const m of value.matchAll(/"delta":\{"(reasoning|content)":"[^"]/g)) {
        arrivals.push([m[1], performance.now() - t0]);
      }
    }
    assertEquals(arrivals.map(([k]) => k), [
      "reasoning",
      "reasoning",
      "reasoning",
      "content",
      "content",
    ]);
    arrivals.forEach(([, t], k) => assert(t >= 60 + 25 * k - 2, `token ${k} at ${t} ms`));
    assert(arrivals[4][1] < 60 + 25 * 4 + 250, `last token at ${arrivals[4][1]} ms`);
  } finally {
    await m.close();
  }
});

Deno.test("mock stats: every POST counts; peaks of requests in flight and streams open", async () => {
  const m = startMockServer({ port: 0, ttftMs: 100, itlMs: 10, outputTokens: 3 });
  try {
    const chat = (stream: boolean) =>
      post(`${m.url}/v1/chat/completions`, {
        messages: [{ role: "user", content: "q" }],
        stream,
      });
    // 5 streams and 3 whole replies at once, all in flight together (each takes 120 ms).
    await Promise.all([
      ...Array.from({ length: 5 }, () => chat(true)),
      chat(false),
      chat(false),
      chat(false),
    ]);
    assertEquals(m.stats.requests, 8);
    assertEquals(m.stats.peakInFlight, 8);
    assertEquals(m.stats.peakOpenStreams, 5);
    assertEquals([m.stats.inFlight, m.stats.openStreams], [0, 0], "all ended");
    // One at a time: the peaks stay; refusals count as requests (a real server got them too).
    await chat(true);
    assertEquals((await post(`${m.url}/v1/nope`, {})).status, 404);
    assertEquals((await post(`${m.url}/v1/chat/completions`, { prompt: 1 })).status, 400);
    assertEquals(m.stats.requests, 11);
    assertEquals([m.stats.peakInFlight, m.stats.peakOpenStreams], [8, 5]);
    // GETs are not requests for completions
    await (await fetch(`${m.url}/v1/models`)).body?.cancel();
    assertEquals(m.stats.requests, 11);
    assertEquals(m.stats.inFlight, 0);
  } finally {
    await m.close();
  }
});

Deno.test("mock stats: a stream the client drops leaves the in-flight count", async () => {
  const m = startMockServer({ port: 0, itlMs: 50, outputTokens: 100 });
  try {
    const ac = new AbortController();
    const res = await fetch(`${m.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [{ content: "q" }], stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    assertEquals([m.stats.inFlight, m.stats.openStreams], [1, 1]);
    ac.abort();
    await reader.read().catch(() => {});
    for (let i = 0; i < 100 && m.stats.inFlight > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals([m.stats.inFlight, m.stats.openStreams], [0, 0]);
  } finally {
    await m.close();
  }
});

Deno.test("mock: knows nothing of the client (imports only src/mock and src/util, no llmperf header)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../src/mock/server.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: Array<{ specifier: string }>;
  };
  const src = new URL("../src/", import.meta.url).href;
  const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith(src));
  assert(local.length > 5, local.join("\n"));
  const outside = local.filter((s) => !/\/src\/(mock|util)\//.test(s));
  assertEquals(outside, [], "the mock imports only itself and src/util");
  for (const s of local) {
    const text = await Deno.readTextFile(new URL(s));
    assert(!/x-llmperf/i.test(text), `${s} knows llmperf's own headers`);
  }
});

Deno.test("llmperf mock: says on stopping how many requests it got and the peaks in flight", async () => {
  const mock = await startMockProcess("--ttft-ms", "300");
  const url = mock.url;
  const ask = () =>
    post(`${url}/v1/chat/completions`, { messages: [{ content: "q" }], stream: true });
  await Promise.all([ask(), ask(), ask()]);
  await post(`${url}/v1/chat/completions`, { messages: [{ content: "q" }] });
  const { code, stderr: text } = await mock.stop();
  assertEquals(code, 0);
  assert(
    text.includes("4 requests received, at most 3 in flight and 3 streams open at once"),
    text,
  );
});

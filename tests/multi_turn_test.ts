/**
 * `--multi-turn` end to end against the mock with its prefix cache: what each turn sends (the
 * whole history, the mock's own replies appended exactly), the KV-cache hit rates against the
 * mock's own counts, the first-turn and later-turn TTFT against the mock's known prefill cost,
 * a failed turn ending its conversation, and an agentic trace's per-turn lengths and delays.
 * Ground truth: the mock's counters and its deterministic replies (`planReply`).
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";
import { captureProxy } from "./helpers/capture_proxy.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { planReply } from "../src/mock/generator.ts";
import { fullText, messagesText } from "../src/mock/protocol_adapter.ts";
import { maxTokensDraw } from "../src/load/requests.ts";

const OUTPUT_TOKENS = 12;
const SEED = 42;

interface Row {
  request_id: number;
  conversation_id: number;
  turn_index: number;
  success: string;
  status_code: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  ttft: number | null;
  start_time: number;
  completed_time: number;
}

const ROWS = "SELECT request_id, conversation_id, turn_index, success, status_code, " +
  "prompt_tokens, completion_tokens, cached_tokens, ttft, start_time, completed_time " +
  "FROM result ORDER BY conversation_id, turn_index";

/** A `--multi-turn` run of the real CLI: streamed, without the start-up check (the cache cold). */
function multiTurnRun(
  server: { url: string },
  flags: PerfFlags,
  args: string[] = [],
) {
  return perfRun({
    server,
    flags: { stream: true, noTestConnection: true, ...flags },
    args: ["--multi-turn", ...args],
  });
}

async function writeLines(dir: string, name: string, items: unknown[]): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, items.map((i) => JSON.stringify(i)).join("\n") + "\n");
  return path;
}

Deno.test("multi-turn: each turn sends the whole history with the mock's replies, exactly", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: OUTPUT_TOKENS, seed: SEED });
  const proxy = captureProxy(mock.url);
  try {
    const conversations = [
      [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "What is a token?" },
        { role: "assistant", content: "DATASET REPLY ONE" },
        { role: "user", content: "And a block?" },
        { role: "assistant", content: "DATASET REPLY TWO" },
        { role: "user", content: "Thanks." },
      ],
      [{ role: "user", content: "Hello" }, { role: "user", content: "there" }],
    ];
    const path = await writeLines(tmp.path, "chats.jsonl", conversations);
    await using r = await multiTurnRun(proxy, {
      dataset: "custom_multi_turn",
      datasetPath: path,
      number: 2,
      parallel: 1,
    });
    assertEquals(r.code, 0, r.stderr);
    const bodies = proxy.bodies as Array<{ messages: Array<{ role: string; content: string }> }>;
    assertEquals(bodies.length, 4, "3 turns, then 1 (its two user messages are one turn)");
    const expectReply = (b: { messages: unknown; max_tokens?: number }) =>
      fullText(planReply(messagesText(b.messages)!, b.max_tokens, {
        outputTokens: OUTPUT_TOKENS,
        seed: SEED,
      }));
    const [t0, t1, t2, u0] = bodies;
    assertEquals(t0.messages, conversations[0].slice(0, 2));
    assertEquals(t1.messages, [
      ...t0.messages,
      { role: "assistant", content: expectReply(t0) },
      conversations[0][3],
    ]);
    assertEquals(t2.messages, [
      ...t1.messages,
      { role: "assistant", content: expectReply(t1) },
      conversations[0][5],
    ]);
    assertEquals(u0.messages, conversations[1]);
    const sent = JSON.stringify(bodies);
    assert(!sent.includes("DATASET REPLY"), "the dataset's assistant text is never sent");
    const rows = r.sql<Row>(ROWS);
    assertEquals(
      rows.map((x) => [x.request_id, x.conversation_id, x.turn_index]),
      [[0, 0, 0], [1, 0, 1], [2, 0, 2], [3, 1, 0]],
    );
    assertEquals(r.summary["Conversations"], 2);
    assertEquals(r.summary["Total requests"], 4, "turns are requests");
    const trace = JSON.parse(await r.text("trace_summary.json"));
    assertEquals(trace.n_traces, 2);
  } finally {
    await proxy.close();
    await mock.close();
  }
});

Deno.test("multi-turn: later turns hit the mock's prefix cache; hit rates match its own counts", async () => {
  const mock = startMockServer({
    port: 0,
    outputTokens: OUTPUT_TOKENS,
    reportCachedTokens: true,
  });
  try {
    await using r = await multiTurnRun(mock, {
      dataset: "random_multi_turn",
      number: 4,
      parallel: 2,
      minPromptLength: 300,
      maxPromptLength: 400,
    }, ["--min-turns", "3", "--max-turns", "3"]);
    assertEquals(r.code, 0, r.stderr);
    const m = mock.stats.server;
    assertEquals(mock.stats.requests, 12, "4 conversations of 3 turns");
    assert(mock.stats.peakInFlight <= 2, "--parallel 2: two conversations in flight at most");
    const rows = r.sql<Row>(ROWS);
    assertEquals(rows.length, 12);
    const sum = (f: (x: Row) => number) => rows.reduce((s, x) => s + f(x), 0);
    assertEquals(sum((x) => x.cached_tokens!), m.prefixHits, "cached tokens: the mock's hits");
    assertEquals(sum((x) => x.prompt_tokens!), m.prefixQueries);
    for (const x of rows) {
      if (x.turn_index === 0) assertEquals(x.cached_tokens, 0, "a first turn is new text");
      // The history (all but the new turn and the last partial block) was cached.
      else assert(x.cached_tokens! > 0, `turn ${x.turn_index} hit the cache`);
    }
    const s = r.summary;
    const hit = 100 * m.prefixHits / m.prefixQueries;
    assert(Math.abs((s["KV cache hit rate (%)"] as number) - hit) < 1e-9, `hit rate ${hit}`);
    assertEquals(s["Cached prompt tokens"], m.prefixHits);
    // Eligible: cached / (previous turn's prompt + reply), turns after the first.
    let cached = 0;
    let base = 0;
    for (let i = 0; i < rows.length; i++) {
      if (rows[i].turn_index === 0) continue;
      cached += rows[i].cached_tokens!;
      base += rows[i - 1].prompt_tokens! + rows[i - 1].completion_tokens!;
    }
    const eligible = s["Eligible cache hit rate (%)"] as number;
    assert(Math.abs(eligible - 100 * cached / base) < 1e-9, `eligible ${eligible}`);
    assert(eligible > hit, "a perfect cache could reuse only the history: eligible is higher");
    assertEquals(s["Mean turns per conversation"], 3);
  } finally {
    await mock.close();
  }
});

Deno.test("multi-turn: later turns' TTFT is lower by the mock's known prefill cost", async () => {
  await using tmp = await tempDir();
  const PREFILL = 0.5; // ms per uncached prompt token
  const mock = startMockServer({
    port: 0,
    outputTokens: OUTPUT_TOKENS,
    reportCachedTokens: true,
    prefillMsPerToken: PREFILL,
  });
  try {
    const long = "context ".repeat(250); // 2000 characters: 500 mock tokens
    const conversations = [0, 1, 2].map((i) => [
      { role: "user", content: `${i} ${long}` },
      { role: "assistant", content: "" },
      { role: "user", content: "next?" },
      { role: "assistant", content: "" },
      { role: "user", content: "and then?" },
    ]);
    const path = await writeLines(tmp.path, "long_first.jsonl", conversations);
    await using r = await multiTurnRun(mock, {
      dataset: "custom_multi_turn",
      datasetPath: path,
      number: 3,
      parallel: 1,
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<Row>(ROWS);
    assertEquals(rows.length, 9);
    let first = 0;
    let later = 0;
    let firstCost = 0;
    let laterCost = 0;
    for (const x of rows) {
      const cost = PREFILL * (x.prompt_tokens! - x.cached_tokens!);
      // Never earlier than the mock's schedule for its uncached part.
      assert(x.ttft! * 1000 >= cost - 1, `TTFT ${x.ttft! * 1000} ms below the prefill ${cost}`);
      if (x.turn_index === 0) {
        first += x.ttft! * 1000 / 3;
        firstCost += cost / 3;
      } else {
        later += x.ttft! * 1000 / 6;
        laterCost += cost / 6;
      }
    }
    assert(firstCost - laterCost > 200, `the known difference ${firstCost - laterCost} ms`);
    const s = r.summary;
    const sFirst = s["Mean first-turn TTFT (ms)"] as number;
    const sLater = s["Mean later-turn TTFT (ms)"] as number;
    assert(Math.abs(sFirst - first) < 1e-6 && Math.abs(sLater - later) < 1e-6, "summary means");
    // Lower by the known prefill cost, within a generous bound for a loaded machine.
    const drop = sFirst - sLater;
    assert(
      drop > 0.6 * (firstCost - laterCost) && drop < firstCost - laterCost + 100,
      `later turns ${drop} ms faster; the mock's prefill difference is ${firstCost - laterCost}`,
    );
  } finally {
    await mock.close();
  }
});

Deno.test("multi-turn: a failed turn ends its conversation and is recorded", async () => {
  const mock = startMockServer({
    port: 0,
    outputTokens: OUTPUT_TOKENS,
    faults: { faults: [{ mode: "http-500", amount: 1 }], skip: 1, seed: 1 },
  });
  try {
    await using r = await multiTurnRun(mock, {
      dataset: "random_multi_turn",
      number: 2,
      parallel: 1,
      minPromptLength: 50,
      maxPromptLength: 60,
    }, ["--min-turns", "3", "--max-turns", "3"]);
    const rows = r.sql<Row>(ROWS);
    // 6 turns planned; the first conversation's third was never sent.
    assertEquals(mock.stats.requests, 5, "the turn after the failed one was not sent");
    assertEquals(
      rows.map((x) => [x.conversation_id, x.turn_index, x.success, x.status_code]),
      [
        [0, 0, "True", 200],
        [0, 1, "False", 500],
        [1, 0, "True", 200],
        [1, 1, "True", 200],
        [1, 2, "True", 200],
      ],
    );
    assertEquals(r.summary["Failed requests"], 1);
    assertEquals(r.summary["Succeed requests"], 4);
  } finally {
    await mock.close();
  }
});

Deno.test("agentic_trace: each turn's reply length and delay are the trace's", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: 1000 });
  try {
    const path = await writeLines(tmp.path, "trace.jsonl", [
      {
        turns: [
          { input_tokens: 100, output_tokens: 5 },
          { input_tokens: 30, output_tokens: 7, delay_ms: 400 },
          { input_tokens: 20, output_tokens: 9 },
        ],
      },
      // evalscope's trie layout: a prompt, then two tool outputs after their latencies.
      {
        input_prompt_length: 80,
        num_turns: 2,
        assistant_response_length: [3, 4],
        tool_call_output_length: [10, 12],
        tool_call_latency: [0.3, 0],
        final_assistant_response_length: 6,
      },
    ]);
    await using r = await multiTurnRun(mock, {
      dataset: "agentic_trace",
      datasetPath: path,
      number: 2,
      parallel: 2,
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<Row>(ROWS);
    assertEquals(rows.map((x) => x.completion_tokens), [5, 7, 9, 3, 4, 6]);
    const gap = (a: Row, b: Row) => (b.start_time - a.completed_time) * 1000;
    assert(gap(rows[0], rows[1]) >= 400 - 1, `think time ${gap(rows[0], rows[1])} ms`);
    assert(gap(rows[1], rows[2]) < 300, "no delay given: sent at once");
    assert(gap(rows[3], rows[4]) >= 300 - 1, `tool latency ${gap(rows[3], rows[4])} ms`);
    const trace = JSON.parse(await r.text("trace_summary.json"));
    assertEquals(trace.n_traces, 2);
    const ttfat = trace.rows.find((x: { metric: string }) => x.metric === "TTFAT (s)");
    assert(ttfat.min >= 0.3, "time to the final answer includes the delays");
  } finally {
    await mock.close();
  }
});

Deno.test("single requests: the KV-cache hit rate from cached_tokens matches the mock's", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4, reportCachedTokens: true });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { prompt: "same prompt ".repeat(20), number: 3, parallel: 1, noTestConnection: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const m = mock.stats.server;
    assert(m.prefixHits > 0, "the repeated prompt hit the cache");
    const hit = 100 * m.prefixHits / m.prefixQueries;
    assert(Math.abs((r.summary["KV cache hit rate (%)"] as number) - hit) < 1e-9);
    assertEquals(r.summary["Conversations"], undefined, "no multi-turn rows");
  } finally {
    await mock.close();
  }
});

Deno.test("share_gpt_en_multi_turn: one turn per human message, from a local file, whole replies, on the main thread", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: OUTPUT_TOKENS, seed: SEED });
  const proxy = captureProxy(mock.url);
  try {
    const path = await writeLines(tmp.path, "sharegpt.jsonl", [
      {
        conversation: [{ human: "first?", assistant: "A1" }, { human: "second?", assistant: "A2" }],
      },
      { conversations: [{ from: "human", value: "hi" }, { from: "gpt", value: "B1" }] },
    ]);
    await using r = await multiTurnRun(proxy, {
      dataset: "share_gpt_en_multi_turn",
      datasetPath: path,
      number: 2,
      parallel: 1,
      workers: 0,
      stream: false, // the reply read from a whole body
    });
    assertEquals(r.code, 0, r.stderr);
    const bodies = proxy.bodies as Array<{ messages: unknown; max_tokens?: number }>;
    const reply = fullText(planReply(messagesText(bodies[0].messages)!, bodies[0].max_tokens, {
      outputTokens: OUTPUT_TOKENS,
      seed: SEED,
    }));
    assertEquals(bodies.map((b) => b.messages), [
      [{ role: "user", content: "first?" }],
      [
        { role: "user", content: "first?" },
        { role: "assistant", content: reply },
        { role: "user", content: "second?" },
      ],
      [{ role: "user", content: "hi" }],
    ]);
  } finally {
    await proxy.close();
    await mock.close();
  }
});

Deno.test("multi-turn: flags that do not fit are one-line usage errors", async () => {
  for (
    const [args, message] of [
      [["--rate", "5", "--open-loop", "-n", "4"], "--open-loop is not supported with --multi-turn"],
      [["--rate", "5", "--burstiness", "4"], "--burstiness is not supported with --multi-turn"],
      [["--min-turns", "4", "--max-turns", "2"], "must be at least --min-turns"],
    ] as const
  ) {
    await using r = await perfRun({
      url: "http://127.0.0.1:9/v1/chat/completions",
      flags: { dataset: "random_multi_turn", noTestConnection: true },
      args: ["--multi-turn", ...args],
    });
    assertEquals(r.code, 2, r.stderr);
    assert(r.stderr.includes(message), r.stderr);
  }
});

/** `n` conversations of `turns` user turns each, the dataset's replies between them. */
function chats(n: number, turns: number): unknown[] {
  return Array.from({ length: n }, (_, c) =>
    Array.from({ length: turns }, (_, k) => [
      { role: "user", content: `c${c} turn ${k}` },
      ...(k < turns - 1 ? [{ role: "assistant", content: "dataset reply" }] : []),
    ]).flat());
}

Deno.test("multi-turn --rate: every turn waits an exponential gap of mean 1/rate after the previous reply", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: 2, seed: SEED });
  try {
    const path = await writeLines(tmp.path, "chats.jsonl", chats(6, 10));
    const gaps = async (rate?: number) => {
      await using r = await multiTurnRun(mock, {
        dataset: "custom_multi_turn",
        datasetPath: path,
        number: 6,
        parallel: 3,
        rate,
      });
      assertEquals(r.code, 0, r.stderr);
      const rows = r.sql<Row>(ROWS);
      assertEquals(rows.length, 60);
      // Between the turns of one conversation: the next send after the previous reply ended.
      const out: number[] = [];
      for (let i = 1; i < rows.length; i++) {
        if (rows[i].conversation_id !== rows[i - 1].conversation_id) continue;
        out.push((rows[i].start_time - rows[i - 1].completed_time) * 1000);
      }
      assertEquals(out.length, 54);
      return out;
    };
    const rate = 20; // mean gap 50 ms
    const paced = await gaps(rate);
    const mean = paced.reduce((a, b) => a + b, 0) / paced.length;
    const sd = Math.sqrt(paced.reduce((a, b) => a + (b - mean) ** 2, 0) / (paced.length - 1));
    // 54 exponential gaps: the mean's standard error is 1/(rate·√54) ≈ 6.8 ms; the bounds are
    // generous (client overhead only adds), and the CV of an exponential is 1 (a constant gap
    // would give 0).
    assert(mean > 0.6 * 1000 / rate && mean < 1.8 * 1000 / rate, `mean gap ${mean} ms`);
    assert(sd / mean > 0.5 && sd / mean < 1.6, `CV of the gaps ${sd / mean}`);
    const free = await gaps();
    const freeMean = free.reduce((a, b) => a + b, 0) / free.length;
    assert(freeMean < mean / 2, `without --rate the turns follow at once (${freeMean} ms)`);
  } finally {
    await mock.close();
  }
});

Deno.test("multi-turn --shard I/N: shard I runs conversations i with i mod N = I, with their global numbers", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: 2, seed: SEED });
  const proxy = captureProxy(mock.url);
  try {
    const path = await writeLines(tmp.path, "chats.jsonl", chats(5, 2));
    const seen: Record<string, string[]> = {};
    for (const shard of ["0/2", "1/2"]) {
      proxy.bodies.length = 0;
      await using r = await multiTurnRun(proxy, {
        dataset: "custom_multi_turn",
        datasetPath: path,
        number: 5,
        parallel: 2,
        shard,
      });
      assertEquals(r.code, 0, r.stderr);
      const bodies = proxy.bodies as Array<{ messages: Array<{ content: string }> }>;
      seen[shard] = bodies.filter((b) => b.messages.length === 1).map((b) => b.messages[0].content)
        .sort();
      const rows = r.sql<Row>(ROWS);
      const mine = shard === "0/2" ? [0, 2, 4] : [1, 3];
      // Global conversation numbers; turn k of conversation i is request 2i + k (2 turns each).
      assertEquals(
        rows.map((x) => [x.conversation_id, x.turn_index, x.request_id]),
        mine.flatMap((i) => [[i, 0, 2 * i], [i, 1, 2 * i + 1]]),
      );
      assertEquals(r.summary["Conversations"], mine.length);
    }
    assertEquals(seen["0/2"], ["c0 turn 0", "c2 turn 0", "c4 turn 0"]);
    assertEquals(seen["1/2"], ["c1 turn 0", "c3 turn 0"]);
  } finally {
    await proxy.close();
    await mock.close();
  }
});

Deno.test("multi-turn: llmperf report writes the same trace_summary.json as the run from its DB", async () => {
  const mock = startMockServer({
    port: 0,
    outputTokens: OUTPUT_TOKENS,
    reportCachedTokens: true,
    itlMs: 1,
  });
  try {
    for (const compat of [[], ["--compat", "2026"]]) {
      await using r = await multiTurnRun(mock, {
        dataset: "random_multi_turn",
        number: 5,
        parallel: 2,
        minPromptLength: 100,
        maxPromptLength: 300,
      }, ["--min-turns", "2", "--max-turns", "4", ...compat]);
      assertEquals(r.code, 0, r.stderr);
      // The folder that holds the run's files (a --compat 2026 run's is a level down).
      let dir = r.dir;
      while (!(await exists(`${dir}/trace_summary.json`))) {
        const sub = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory);
        assertEquals(sub.length, 1, `one folder in ${dir}`);
        dir = `${dir}/${sub[0].name}`;
      }
      const written = await Deno.readTextFile(`${dir}/trace_summary.json`);
      const live = JSON.parse(written);
      assertEquals(live.n_traces, 5);
      assert(live.rows.every((x: { mean: unknown }) => typeof x.mean === "number"), written);
      await Deno.remove(`${dir}/trace_summary.json`);
      // A --compat 2026 folder's evalscope DB keeps no conversations: ours beside it does.
      const db = compat.length > 0 ? `${dir}/llmperf_data.db` : dir;
      const rep = await runCli(["report", db]);
      assertEquals(rep.code, 0, rep.stderr);
      assertEquals(await Deno.readTextFile(`${dir}/trace_summary.json`), written, compat.join(" "));
      const json = await runCli(["report", db, "--json"]);
      assertEquals(JSON.parse(json.stdout).traceSummary, live);
    }
  } finally {
    await mock.close();
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("multi-turn --warmup-num: the first conversations are warmup, sent in full, in no row or count", async () => {
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: 2, seed: SEED });
  const proxy = captureProxy(mock.url);
  try {
    const path = await writeLines(tmp.path, "chats.jsonl", chats(5, 2));
    for (const workers of [1, 0]) {
      proxy.bodies.length = 0;
      await using r = await multiTurnRun(proxy, {
        dataset: "custom_multi_turn",
        datasetPath: path,
        number: 3,
        parallel: 2,
        workers,
      }, ["--warmup-num", "2"]);
      assertEquals(r.code, 0, r.stderr);
      const bodies = proxy.bodies as Array<{ messages: Array<{ content: string }> }>;
      // All 5 conversations sent, each in full (2 turns); the warmup ones before the others.
      assertEquals(bodies.length, 10, `--workers ${workers}`);
      const firsts = bodies.filter((b) => b.messages.length === 1).map((b) =>
        b.messages[0].content
      );
      assertEquals(firsts.slice(0, 2).sort(), ["c0 turn 0", "c1 turn 0"]);
      // The benchmark's 3 conversations alone, numbered from 0.
      const rows = r.sql<Row>(ROWS);
      assertEquals(
        rows.map((x) => [x.conversation_id, x.turn_index, x.request_id]),
        [0, 1, 2].flatMap((i) => [[i, 0, 2 * i], [i, 1, 2 * i + 1]]),
      );
      assertEquals(r.summary["Conversations"], 3);
      assertEquals(r.summary["Total requests"], 6);
    }
  } finally {
    await proxy.close();
    await mock.close();
  }
});

Deno.test("multi-turn --max-tokens MIN MAX: every turn's body carries its own seeded draw", async () => {
  // The reference: "each request samples random.randint(min,max), inclusive, when its body is
  // built, so every multi-turn turn re-samples". Ours: the draw of the turn's request index
  // (turn k of a conversation is request firstIndex + k), seeded by --seed.
  await using tmp = await tempDir();
  const mock = startMockServer({ port: 0, outputTokens: 2, seed: SEED });
  const proxy = captureProxy(mock.url);
  try {
    const [min, max, seed] = [1, 1000, 7];
    const path = await writeLines(tmp.path, "chats.jsonl", chats(3, 4));
    for (const workers of [1, 0]) {
      proxy.bodies.length = 0;
      await using r = await multiTurnRun(
        proxy,
        { dataset: "custom_multi_turn", datasetPath: path, number: 3, parallel: 1, seed, workers },
        ["--max-tokens", String(min), String(max)],
      );
      assertEquals(r.code, 0, r.stderr);
      // One conversation at a time: the bodies arrive in request order (3 conversations × 4).
      const got = (proxy.bodies as Array<{ max_tokens: number }>).map((b) => b.max_tokens);
      assertEquals(got.length, 12);
      assertEquals(got, got.map((_, i) => maxTokensDraw([min, max], seed, i)));
      assert(got.every((n) => Number.isInteger(n) && n >= min && n <= max), String(got));
      for (let c = 0; c < 3; c++) {
        const turns = got.slice(4 * c, 4 * c + 4);
        assert(new Set(turns).size > 1, `conversation ${c}: one draw for every turn: ${turns}`);
      }
    }
  } finally {
    await proxy.close();
    await mock.close();
  }
});

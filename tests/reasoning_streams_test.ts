/**
 * End to end: what today's servers send, byte for byte (`tests/fixtures/streams/*.http`: vLLM with
 * `delta.reasoning`, DeepSeek's and SGLang's `reasoning_content`, OpenRouter, tool calls, a
 * refusal, plain completions, whole bodies with and without usage), served by the raw stub server
 * with known pauses between events, measured by the real CLI. Every field that carries generated
 * tokens counts as output and sets TTFT; the first answer token sets TTFO; without usage the
 * counts are labelled estimates and one warning names `--tokenizer-path`; the result DB holds the
 * new columns and `llmperf report` recomputes the same tables from it. Last, the mock's
 * reasoning mode measured the same way.
 *
 * Times: each pause is a lower bound of what the client can measure (the stub sleeps, then
 * writes); the upper bounds are loose (a loaded 2-core CI machine), tight enough to catch a
 * wrong definition (the role chunk setting TTFT, reasoning ignored, TTFO equal to TTFT).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { block, runCli } from "./helpers/cli.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { chunk, rawServer } from "./helpers/raw_http.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { startMockServer } from "../src/mock/server.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { unpickleBase64 } from "../src/store/pickle.ts";

const FIXTURES = new URL("./fixtures/streams/", import.meta.url);

/** A fixture: the response head (LF line ends in the file) and the body's SSE events or JSON. */
async function fixture(name: string): Promise<{ head: string; events: string[]; sse: boolean }> {
  const text = await Deno.readTextFile(new URL(name, FIXTURES));
  const at = text.indexOf("\n\n");
  const head = text.slice(0, at).replaceAll("\n", "\r\n");
  const body = text.slice(at + 2);
  const sse = /content-type: text\/event-stream/i.test(head);
  // SSE: one write per event (a comment or a data event, with its blank line), as servers flush.
  const events = sse ? body.split(/(?<=\n\n)/) : [body.replace(/\n$/, "")];
  return { head, events, sse };
}

interface Case {
  /** Fixture file. */
  file: string;
  /** Endpoint path (plain completions for `text` streams). */
  path?: string;
  /** Pause before each write of the body, ms (index = event; missing: `every`). */
  pauses: Record<number, number>;
  /** Pause before the other events, ms. */
  every?: number;
  /** Index of the first event that carries generated tokens, and of the first answer event. */
  firstToken: number;
  firstAnswer: number;
  /** Output tokens per request, reasoning tokens (null: unknown), the DB's token source. */
  tokens: number;
  reasoning: number | null;
  source: string;
}

const CASES: Case[] = [
  {
    // The issue's example: 6 reasoning + 4 answer chunks, no usage. The role chunk comes first
    // and alone, 50 ms before any token: it must not set TTFT.
    file: "vllm_reasoning_no_usage.http",
    pauses: { 0: 5, 1: 50 },
    every: 15,
    firstToken: 1,
    firstAnswer: 7,
    tokens: 10,
    reasoning: 6,
    source: "chunks",
  },
  {
    // Same stream with vLLM's usage chunk (which has no completion_tokens_details).
    file: "vllm_reasoning_usage.http",
    pauses: { 0: 5, 1: 50 },
    every: 15,
    firstToken: 1,
    firstAnswer: 7,
    tokens: 12,
    reasoning: null,
    source: "usage",
  },
  {
    // `: keep-alive` comment first, then a role chunk with empty reasoning_content.
    file: "deepseek_reasoning_content.http",
    pauses: { 0: 5, 1: 5, 2: 50 },
    every: 12,
    firstToken: 2,
    firstAnswer: 9,
    tokens: 16,
    reasoning: 9,
    source: "usage",
  },
  {
    file: "sglang_reasoning_content.http",
    pauses: { 0: 5, 1: 50 },
    every: 15,
    firstToken: 1,
    firstAnswer: 6,
    tokens: 11,
    reasoning: null,
    source: "usage",
  },
  {
    // Two `: OPENROUTER PROCESSING` comments, then reasoning in every delta with role and "".
    file: "openrouter_reasoning.http",
    pauses: { 0: 5, 1: 30, 2: 50 },
    every: 15,
    firstToken: 2,
    firstAnswer: 6,
    tokens: 7,
    reasoning: 4,
    source: "usage",
  },
  {
    // The tool call's name comes 50 ms after the role chunk; arguments follow. No usage.
    file: "vllm_tool_calls_no_usage.http",
    pauses: { 0: 5, 1: 50 },
    every: 15,
    firstToken: 1,
    firstAnswer: 1,
    tokens: 6,
    reasoning: 0,
    source: "chunks",
  },
  {
    // OpenAI: role, id, name and empty arguments in one first delta.
    file: "openai_tool_calls.http",
    pauses: { 0: 50 },
    every: 15,
    firstToken: 0,
    firstAnswer: 0,
    tokens: 15,
    reasoning: 0,
    source: "usage",
  },
  {
    // The role chunk carries `"refusal": ""`: no token; the refusal text is.
    file: "openai_refusal.http",
    pauses: { 0: 5, 1: 50 },
    every: 12,
    firstToken: 1,
    firstAnswer: 1,
    tokens: 10,
    reasoning: 0,
    source: "usage",
  },
  {
    file: "vllm_completions_no_usage.http",
    path: "/v1/completions",
    pauses: { 0: 50 },
    every: 15,
    firstToken: 0,
    firstAnswer: 0,
    tokens: 6,
    reasoning: 0,
    source: "chunks",
  },
];

/** Serve a fixture with pauses; returns the server and the pause before each write. */
async function serve(c: Pick<Case, "file" | "pauses" | "every">) {
  const f = await fixture(c.file);
  const pauses = f.events.map((_, i) => c.pauses[i] ?? c.every ?? 0);
  const server = await rawServer(async (r) => {
    if (f.sse) {
      await r.write(`${f.head}\r\n\r\n`);
      for (let i = 0; i < f.events.length; i++) {
        await r.pause(pauses[i]);
        await r.write(chunk(f.events[i]));
      }
      await r.write("0\r\n\r\n");
    } else {
      await r.pause(pauses[0]);
      const body = new TextEncoder().encode(f.events[0]);
      await r.write(`${f.head}\r\ncontent-length: ${body.length}\r\n\r\n`);
      await r.write(body);
    }
  });
  return { server, pauses, events: f.events };
}

const sum = (xs: number[], n: number) => xs.slice(0, n).reduce((a, b) => a + b, 0);

const WARNING = /warning: .*no usage.*--tokenizer-path/;

/** Lines of stderr that are the token-count warning. */
function warnings(stderr: string): number {
  return stderr.split("\n").filter((l) => WARNING.test(l)).length;
}

/** Run the CLI against `url`, then `llmperf report` on its DB; check the tables agree. */
async function run(url: string, n: number, flags: PerfFlags) {
  await using r = await perfRun({
    url,
    flags: { prompt: "Say hi.", number: n, parallel: 1, noTestConnection: true, ...flags },
  });
  assertEquals(r.code, 0, r.stderr);
  const rows = r.sql<Record<string, number | string | null>>(
    "SELECT success, ttft, ttfo, latency, time_per_output_token, completion_tokens, reasoning_tokens, token_source, " +
      "start_time, chunk_times, response_messages FROM result ORDER BY request_id",
  );
  const rep = await runCli(["report", r.dir]);
  assertEquals(rep.code, 0, rep.stderr);
  for (const title of ["Benchmarking summary:", "Per-request metrics summary:"]) {
    assertEquals(block(rep.stdout, title), block(r.stdout, title), title);
  }
  assertEquals(
    block(rep.stdout, "Per-request percentiles:"),
    block(r.stdout, "Per-request percentiles:"),
  );
  return { stdout: r.stdout, stderr: r.stderr, summary: r.summary, rows };
}

const N = 3;
const SLACK_MS = 3; // a timer may fire a millisecond early, and times are rounded
const LOOSE_MS = 400; // a loaded CI machine

for (const c of CASES) {
  Deno.test(`reasoning streams: ${c.file}`, async () => {
    const { server, pauses, events } = await serve(c);
    try {
      const r = await run(`${server.url}${c.path ?? "/v1/chat/completions"}`, N, { stream: true });
      assertEquals(server.requests.length, N);
      const s = r.summary;
      assertEquals(s["Succeed requests"], N);
      assertEquals(s["Average output tokens per request"], c.tokens);
      const ttftMin = sum(pauses, c.firstToken + 1);
      const ttfoMin = sum(pauses, c.firstAnswer + 1);
      const latencyMin = sum(pauses, events.length);
      const ttft = s["Mean TTFT (ms)"] as number;
      const ttfo = s["Mean TTFO (ms)"] as number;
      assert(ttft >= ttftMin - SLACK_MS && ttft < ttftMin + LOOSE_MS, `TTFT ${ttft} ≥ ${ttftMin}`);
      assert(ttfo >= ttfoMin - SLACK_MS && ttfo < ttfoMin + LOOSE_MS, `TTFO ${ttfo} ≥ ${ttfoMin}`);
      // The definition, not the machine: reasoning time lies between TTFT and TTFO.
      const between = ttfoMin - ttftMin;
      assert(ttfo - ttft >= between - SLACK_MS, `TTFO − TTFT ${ttfo - ttft} ≥ ${between}`);
      if (between === 0) assert(ttfo - ttft < 1, `TTFO ${ttfo} = TTFT ${ttft}`);
      // TPOT spreads the time after the first token over the other tokens.
      const latency = (s["Mean E2E latency (s)"] as number) * 1000;
      assert(latency >= latencyMin - SLACK_MS, `latency ${latency} ≥ ${latencyMin}`);
      const tpot = s["Mean TPOT (ms)"] as number;
      assert(Math.abs(tpot - (latency - ttft) / (c.tokens - 1)) < 0.5, `TPOT ${tpot}`);
      assertEquals(s["Mean reasoning tokens"], c.reasoning);
      const estimated = c.source !== "usage";
      assertEquals(
        s["Token counts from"],
        estimated ? `${c.source} (estimated: no usage)` : c.source,
      );
      assertEquals(warnings(r.stderr), estimated ? 1 : 0, r.stderr);
      assertEquals(r.rows.length, N);
      for (const row of r.rows) {
        assertEquals(row.success, "True");
        assertEquals(row.completion_tokens, c.tokens);
        assertEquals(row.reasoning_tokens, c.reasoning);
        assertEquals(row.token_source, c.source);
        const t = (row.ttft as number) * 1000;
        const o = (row.ttfo as number) * 1000;
        assert(t >= ttftMin - SLACK_MS && o >= ttfoMin - SLACK_MS, `row ${t} ${o}`);
        assert(o - t >= between - SLACK_MS, `row TTFO − TTFT ${o - t}`);
      }
    } finally {
      await server.close();
    }
  });
}

interface BodyCase {
  file: string;
  tokens: number;
  reasoning: number | null;
  source: string;
}

const BODIES: BodyCase[] = [
  // usage without completion_tokens_details: reasoning unknown.
  { file: "vllm_body_reasoning_usage.http", tokens: 21, reasoning: null, source: "usage" },
  // No usage: the text length estimates. Answer "2 + 2 = 4." is 10 characters → 3 tokens;
  // reasoning "Simple arithmetic: two plus two is four." is 40 → 10; output 3 + 10.
  { file: "body_reasoning_no_usage.http", tokens: 13, reasoning: 10, source: "text-length" },
  // No usage, a tool call: name + arguments, 11 + 36 characters → 12 tokens.
  { file: "body_tool_call_no_usage.http", tokens: 12, reasoning: 0, source: "text-length" },
];

for (const c of BODIES) {
  Deno.test(`reasoning streams: whole reply ${c.file}`, async () => {
    const { server } = await serve({ file: c.file, pauses: { 0: 60 } });
    try {
      const r = await run(`${server.url}/v1/chat/completions`, N, {});
      const s = r.summary;
      assertEquals(s["Succeed requests"], N);
      assertEquals(s["Average output tokens per request"], c.tokens);
      assertEquals(s["Mean reasoning tokens"], c.reasoning);
      // Not streamed: the first token and the answer come with the body.
      const ttft = s["Mean TTFT (ms)"] as number;
      assert(ttft >= 60 - SLACK_MS && ttft < 60 + LOOSE_MS, `TTFT ${ttft}`);
      assertEquals(s["Mean TTFO (ms)"], ttft);
      const estimated = c.source !== "usage";
      assertEquals(
        s["Token counts from"],
        estimated ? `${c.source} (estimated: no usage)` : c.source,
      );
      assertEquals(warnings(r.stderr), estimated ? 1 : 0, r.stderr);
      for (const row of r.rows) {
        assertEquals([row.completion_tokens, row.reasoning_tokens], [c.tokens, c.reasoning]);
        assertEquals(row.ttfo, row.ttft);
        assertEquals(row.token_source, c.source);
      }
    } finally {
      await server.close();
    }
  });
}

Deno.test("reasoning streams: the mock's reasoning mode, with and without usage", async () => {
  // 6 reasoning then 4 answer tokens: token k at 40 + 10·k ms.
  const opts = { port: 0, ttftMs: 40, itlMs: 10, outputTokens: 4, reasoningTokens: 6 };
  const mock = startMockServer(opts);
  const noUsage = startMockServer({ ...opts, usage: false, reasoningField: "reasoning_content" });
  try {
    for (const [m, source] of [[mock, "usage"], [noUsage, "chunks"]] as const) {
      const r = await run(`${m.url}/v1/chat/completions`, 4, { stream: true });
      const s = r.summary;
      assertEquals(s["Average output tokens per request"], 10);
      assertEquals(s["Mean reasoning tokens"], 6);
      const ttft = s["Mean TTFT (ms)"] as number;
      const ttfo = s["Mean TTFO (ms)"] as number;
      assert(ttft >= 40 - SLACK_MS && ttft < 40 + LOOSE_MS, `TTFT ${ttft}`);
      assert(ttfo >= 100 - SLACK_MS && ttfo < 100 + LOOSE_MS, `TTFO ${ttfo}`);
      // The definition, whatever the machine: TTFT is when the first reasoning token's event
      // arrived, TTFO the first answer token's, six events later (read from the DB's payloads
      // and event times here). A bound on TTFO − TTFT ≥ 60 ms would not hold on a loaded machine:
      // a late first read shortens it, and the mock never pushes later tokens back.
      for (const row of r.rows) {
        const payloads = unpickleBase64(row.response_messages as string) as string[];
        const times = JSON.parse(row.chunk_times as string) as number[];
        assertEquals(times.length, payloads.length);
        const delta = (p: string) => JSON.parse(p).choices?.[0]?.delta ?? {};
        const first = payloads.findIndex((p) => delta(p).reasoning || delta(p).reasoning_content);
        const answer = payloads.findIndex((p) => delta(p).content);
        assertEquals(answer - first, 6, "six reasoning events, then the answer");
        const start = row.start_time as number;
        assertAlmostEquals(row.ttft as number, times[first] - start, 1e-6, "TTFT");
        assertAlmostEquals(row.ttfo as number, times[answer] - start, 1e-6, "TTFO");
      }
      // TPOT = (latency − TTFT) / 9, reasoning tokens included: exactly so per row, and about the
      // mock's 10 ms on average (a late first read on a loaded machine shortens it a little).
      for (const row of r.rows) {
        const tpotRow = ((row.latency as number) - (row.ttft as number)) / 9;
        assertAlmostEquals(row.time_per_output_token as number, tpotRow, 1e-9, "TPOT");
      }
      const tpot = s["Mean TPOT (ms)"] as number;
      assert(tpot >= 10 - 5 && tpot < 10 + 20, `TPOT ${tpot}`);
      assertEquals(warnings(r.stderr), source === "usage" ? 0 : 1, r.stderr);
      for (const row of r.rows) {
        assertEquals([row.reasoning_tokens, row.token_source], [6, source]);
      }
    }
  } finally {
    await mock.close();
    await noUsage.close();
  }
});

Deno.test("reasoning streams: usage without a reasoning count, and --tokenizer-path", async () => {
  // vLLM's usage gives the total (12) but no completion_tokens_details: the tokenizer counts the
  // reasoning text ("Okay, the user says hi", the fixture's six reasoning deltas) and nothing else.
  const qwenDir = await fixtureTokenizerDir("qwen3");
  const qwen = await loadTokenizer(qwenDir);
  const { server } = await serve({ file: "vllm_reasoning_usage.http", pauses: {}, every: 2 });
  try {
    const r = await run(`${server.url}/v1/chat/completions`, 2, {
      stream: true,
      tokenizerPath: qwenDir,
    });
    const s = r.summary;
    assertEquals(s["Token counts from"], "usage");
    assertEquals(s["Average output tokens per request"], 12);
    assertEquals(s["Average input tokens per request"], 11);
    assertEquals(s["Mean reasoning tokens"], qwen.encode("Okay, the user says hi").length);
    assertEquals(warnings(r.stderr), 0, r.stderr);
  } finally {
    await server.close();
  }
});

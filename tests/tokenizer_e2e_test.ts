/**
 * End to end: the real CLI against the mock server started without `usage`, with a real
 * tokenizer (Qwen3). The counts in the summary must equal the tokenizer's count of what the mock
 * was sent and what it generated (the mock's replies are deterministic, so the test knows them).
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli } from "./helpers/cli.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount, planReply } from "../src/mock/generator.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { unpickleBase64 } from "../src/store/pickle.ts";
import type { Message } from "../src/plugins/types.ts";

const PROMPT = "Tell me about benchmarks, please. 请简要介绍一下。";
const TOKENS = 12;
const SEED = 42;
const qwenDir = await fixtureTokenizerDir("qwen3");
const qwen = await loadTokenizer(qwenDir);
const qwenChat = await loadTokenizer(qwenDir, { applyChatTemplate: true });

/** A run with the Qwen3 tokenizer against the mock; a failed run throws with its stderr. */
async function perf(url: string, flags: PerfFlags) {
  const r = await perfRun({
    url: `${url}/v1/chat/completions`,
    flags: { model: "mock", tokenizerPath: qwenDir, ...flags },
  });
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}`);
  return r;
}

/** The mock's reply text to `prompt` (one choice), as it generates it. */
function mockReply(prompt: string): string {
  const plan = planReply(prompt, 2048, { outputTokens: TOKENS, seed: SEED });
  let text = "";
  for (let i = 0; i < plan.tokens; i++) text += plan.token(i, 0);
  return text;
}

Deno.test("e2e tokenizer: no usage → counts from the tokenizer, streamed and not", async () => {
  const mock = startMockServer({ port: 0, outputTokens: TOKENS, seed: SEED, usage: false });
  try {
    const completion = qwen.encode(mockReply(PROMPT)).length;
    assert(completion !== TOKENS, "the tokenizer's count differs from the mock's word count");

    await using streamed = await perf(mock.url, { prompt: PROMPT, number: 3, stream: true });
    assertEquals(streamed.summary["Token counts from"], "tokenizer");
    assertEquals(streamed.summary["Average input tokens per request"], qwen.encode(PROMPT).length);
    assertEquals(streamed.summary["Average output tokens per request"], completion);
    assert(streamed.stdout.includes("| Token counts from"), streamed.stdout);

    // Not streamed, prompt counted through the chat template as the server would.
    await using chat = await perf(mock.url, {
      prompt: PROMPT,
      number: 2,
      applyChatTemplate: true,
    });
    assertEquals(chat.summary["Token counts from"], "tokenizer");
    assertEquals(
      chat.summary["Average input tokens per request"],
      qwenChat.promptLength([{ role: "user", content: PROMPT }]),
    );
    assertEquals(chat.summary["Average input tokens per request"], qwen.encode(PROMPT).length + 8);
    assertEquals(chat.summary["Average output tokens per request"], completion);
  } finally {
    await mock.close();
  }
});

Deno.test("e2e tokenizer: usage, when the server sends it, wins over the tokenizer", async () => {
  const mock = startMockServer({ port: 0, outputTokens: TOKENS, seed: SEED });
  try {
    await using r = await perf(mock.url, { prompt: PROMPT, number: 2, stream: true });
    assertEquals(r.summary["Token counts from"], "usage");
    assertEquals(r.summary["Average input tokens per request"], mockTokenCount(PROMPT));
    assertEquals(r.summary["Average output tokens per request"], TOKENS);
  } finally {
    await mock.close();
  }
});

Deno.test("e2e tokenizer: reasoning tokens are counted apart, and within the output", async () => {
  const REASONING = 5;
  const mock = startMockServer({
    port: 0,
    outputTokens: TOKENS,
    seed: SEED,
    usage: false,
    reasoningTokens: REASONING,
  });
  try {
    const plan = planReply(PROMPT, 2048, { outputTokens: TOKENS, seed: SEED, reasoningTokens: 5 });
    let reasoning = "";
    let answer = "";
    for (let i = 0; i < plan.tokens; i++) {
      if (i < REASONING) reasoning += plan.token(i, 0);
      else answer += plan.token(i, 0);
    }
    for (const stream of [true, false]) {
      await using r = await perf(mock.url, { prompt: PROMPT, number: 2, stream });
      assertEquals(r.summary["Token counts from"], "tokenizer");
      assertEquals(
        r.summary["Average output tokens per request"],
        qwen.encode(reasoning + answer).length,
      );
      assertEquals(r.summary["Mean reasoning tokens"], qwen.encode(reasoning).length);
      assert(!r.stderr.includes("had no usage"), r.stderr);
    }
  } finally {
    await mock.close();
  }
});

Deno.test("e2e tokenizer: --dataset random makes prompts of exact token lengths", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4, seed: SEED, usage: false });
  try {
    await using r = await perf(mock.url, {
      dataset: "random",
      applyChatTemplate: true,
      minPromptLength: 100,
      maxPromptLength: 100,
      prefixLength: 16,
      number: 5,
      parallel: 2,
      stream: true,
    });
    assertEquals(r.summary["Succeed requests"], 5);
    assertEquals(r.summary["Token counts from"], "tokenizer");
    assertEquals(r.summary["Average input tokens per request"], 100);
    // Each prompt, not only their mean: the messages sent (from the DB), rendered through the
    // chat template and counted here, are 100 tokens; the first 16 are the same in all.
    const sent = r.sql<{ request: string; prompt_tokens: number }>(
      "SELECT request, prompt_tokens FROM result",
    ).map((row) => ({
      tokens: row.prompt_tokens,
      messages: (unpickleBase64(row.request) as unknown as { messages: Message[] }).messages,
    }));
    assertEquals(sent.length, 5);
    assertEquals(sent.map((x) => x.tokens), [100, 100, 100, 100, 100]);
    assertEquals(sent.map((x) => qwenChat.promptLength(x.messages)), [100, 100, 100, 100, 100]);
    const texts = sent.map((x) => x.messages.map((m) => m.content).join(""));
    assertEquals(new Set(texts).size, 5, "five different prompts");
    const prefixes = texts.map((t) => qwen.encode(t).slice(0, 16).join(","));
    assertEquals(new Set(prefixes).size, 1, "the first 16 tokens are shared");
  } finally {
    await mock.close();
  }
});

Deno.test("e2e tokenizer: a bad folder exits 2 with one line", async () => {
  for (
    const [args, needle] of [
      [["--tokenizer-path", "/nonexistent/tokenizer"], "--tokenizer-path '/nonexistent/tokenizer'"],
    ] as Array<[string[], string]>
  ) {
    const r = await runCli(["perf", "--model", "m", "--prompt", "x", ...args]);
    assertEquals(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].includes(needle), r.stderr);
  }
});

/**
 * End to end: the real CLI against the mock server started without `usage`, with a real
 * tokenizer (Qwen3). The counts in the summary must equal the tokenizer's count of what the mock
 * was sent and what it generated (the mock's replies are deterministic, so the test knows them).
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, readJson, runCli, tempDir } from "./helpers/cli.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount, planReply } from "../src/mock/generator.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";

const PROMPT = "Tell me about benchmarks, please. 请简要介绍一下。";
const TOKENS = 12;
const SEED = 42;
const qwenDir = await fixtureTokenizerDir("qwen3");
const qwen = await loadTokenizer(qwenDir);
const qwenChat = await loadTokenizer(qwenDir, { applyChatTemplate: true });

type Summary = Record<string, number | string | null>;

async function perf(url: string, args: string[]) {
  await using tmp = await tempDir();
  const r = await runCli([
    "perf",
    `${url}/v1/chat/completions`,
    "--model",
    "mock",
    "--outputs-dir",
    tmp.path,
    "--tokenizer-path",
    qwenDir,
    ...args,
  ]);
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}`);
  const dir = await onlyRunDir(tmp.path);
  return { ...r, summary: await readJson<Summary>(`${dir}/benchmark_summary.json`) };
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

    const streamed = await perf(mock.url, ["--prompt", PROMPT, "-n", "3", "--stream"]);
    assertEquals(streamed.summary["Token counts from"], "tokenizer");
    assertEquals(streamed.summary["Average input tokens per request"], qwen.encode(PROMPT).length);
    assertEquals(streamed.summary["Average output tokens per request"], completion);
    assert(streamed.stdout.includes("| Token counts from"), streamed.stdout);

    // Not streamed, prompt counted through the chat template as the server would.
    const chat = await perf(mock.url, ["--prompt", PROMPT, "-n", "2", "--apply-chat-template"]);
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
    const r = await perf(mock.url, ["--prompt", PROMPT, "-n", "2", "--stream"]);
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
    for (const args of [["--stream"], []]) {
      const r = await perf(mock.url, ["--prompt", PROMPT, "-n", "2", ...args]);
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
    const r = await perf(mock.url, [
      "--dataset",
      "random",
      "--apply-chat-template",
      "--min-prompt-length",
      "100",
      "--max-prompt-length",
      "100",
      "--prefix-length",
      "16",
      "-n",
      "5",
      "--parallel",
      "2",
      "--stream",
    ]);
    assertEquals(r.summary["Succeed requests"], 5);
    assertEquals(r.summary["Token counts from"], "tokenizer");
    assertEquals(r.summary["Average input tokens per request"], 100);
  } finally {
    await mock.close();
  }
});

Deno.test("e2e tokenizer: a bad folder or a template without one exits 2 with one line", async () => {
  for (
    const [args, needle] of [
      [["--tokenizer-path", "/nonexistent/tokenizer"], "--tokenizer-path '/nonexistent/tokenizer'"],
      [["--apply-chat-template"], "--apply-chat-template: needs --tokenizer-path"],
    ] as Array<[string[], string]>
  ) {
    const r = await runCli(["perf", "--model", "m", "--prompt", "x", ...args]);
    assertEquals(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].includes(needle), r.stderr);
  }
});

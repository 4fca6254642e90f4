/**
 * evalscope's `TextDatasetArgs` carried out (`plugins/datasets/text_length.ts`), as the reference
 * sheet's "`--dataset-args` schemas" paragraph has them: `target_input_len` cuts longer prompts
 * to exactly that many tokens of the real Qwen3 tokenizer, `cap` keeps shorter ones and `drop`
 * skips them, `prefix_file` is tiled to fill every prompt up to the target (a system message with
 * the chat template, else at the start of the text), `line_by_line` takes plain-text lines only,
 * `share_gpt` measures the whole conversation; every broken rule is one line, exit 2, with
 * nothing sent. Expected lengths are the tokenizer's counts of the test's own texts.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { resolveConfig } from "../src/config.ts";
import type { Message } from "../src/plugins/types.ts";
import OpenQaDataset from "../plugins/datasets/openqa.ts";
import ShareGptZhDataset from "../plugins/datasets/share_gpt.ts";

/** Lines of very different token lengths (English, Chinese, digits, code, emoji). */
const LINES = [
  "Hi.",
  "What is the capital of France?",
  "请用三句话介绍一下长城的历史，以及它在今天的意义。",
  "Explain, step by step, how a transformer computes attention over a long sequence of tokens " +
  "and why the cost grows with the square of its length.",
  "1234567890 0987654321 1122334455 6677889900 3.14159265358979",
  "def f(x):    return [i**2 for i in range(x) if i % 3 == 0]  # squares 🙂🚀",
  "长".repeat(120),
];
const TARGET = 24;
const PREFIX = "Retrieval context: the Great Wall stretches across northern China. 长城。\n";

const tokenizer = async (chat = true) =>
  await loadTokenizer(await fixtureTokenizerDir("qwen3"), { applyChatTemplate: chat });

const text = (m: { content: unknown }) => m.content as string;

Deno.test("text_length: target_input_len cuts longer prompts to exactly the target, cap keeps and drop skips shorter", async () => {
  const tok = await tokenizer();
  const lengths = LINES.map((l) => tok.encode(l).length);
  assert(lengths.some((n) => n > TARGET) && lengths.some((n) => n < TARGET), `${lengths}`);
  await using tmp = await tempDir();
  const path = `${tmp.path}/q.jsonl`;
  await Deno.writeTextFile(path, LINES.map((q) => JSON.stringify({ question: q })).join("\n"));
  const run = async (mode: string) => {
    const cfg = resolveConfig({
      model: "m",
      dataset: "openqa",
      datasetPath: path,
      datasetArgs: { target_input_len: TARGET, input_len_mode: mode },
    });
    const out: Message[][] = [];
    for await (const m of new OpenQaDataset({ ...cfg, tokenizer: tok }).buildMessages()) {
      out.push(m);
    }
    return out;
  };
  const cap = await run("cap");
  assertEquals(cap.length, LINES.length, "cap keeps every prompt");
  cap.forEach((m, i) => {
    assertEquals(m.length, 1);
    assertEquals(tok.encode(text(m[0])).length, Math.min(lengths[i], TARGET), LINES[i]);
    if (lengths[i] <= TARGET) assertEquals(text(m[0]), LINES[i], "a shorter one as it is");
    else assert(LINES[i].startsWith(text(m[0]).replace(/\uFFFD+$/, "")), "cut at its start");
  });
  const drop = await run("drop");
  assertEquals(drop.length, lengths.filter((n) => n >= TARGET).length, "drop skips the shorter");
  for (const m of drop) assertEquals(tok.encode(text(m[0])).length, TARGET);
  // The length filter gives way to the fit: with target_input_len nothing is filtered by it.
  const cfg = resolveConfig({
    model: "m",
    dataset: "openqa",
    datasetArgs: { target_input_len: TARGET },
  });
  assertEquals(new OpenQaDataset(cfg).lengthFiltered, true);
  assertEquals(new OpenQaDataset(resolveConfig({ model: "m" })).lengthFiltered, false);
});

Deno.test("text_length: share_gpt measures the whole conversation, never cuts it, fills it with the prefix", async () => {
  const tok = await tokenizer();
  await using tmp = await tempDir();
  const path = `${tmp.path}/sg.jsonl`;
  const short = { conversation: [{ human: "hi", assistant: "hello" }, { human: LINES[1] }] };
  const long = { conversation: [{ human: "hi", assistant: "hello" }, { human: LINES[6] }] };
  await Deno.writeTextFile(path, [short, long].map((c) => JSON.stringify(c)).join("\n"));
  const prefix = `${tmp.path}/prefix.txt`;
  await Deno.writeTextFile(prefix, PREFIX);
  const cfg = resolveConfig({
    model: "m",
    dataset: "share_gpt_zh",
    datasetPath: path,
    datasetArgs: { target_input_len: 40, prefix_file: prefix },
  });
  const out: Message[][] = [];
  for await (const m of new ShareGptZhDataset({ ...cfg, tokenizer: tok }).buildMessages()) {
    out.push(m);
  }
  assertEquals(out.length, 1, "the conversation longer than the target is skipped");
  const [m] = out;
  assertEquals(m.map((x) => x.role), ["system", "user", "assistant", "user"]);
  assertEquals(m.slice(1).map(text), ["hi", "hello", LINES[1]], "the conversation as it is");
  const own = ["hi", "hello", LINES[1]].reduce((a, s) => a + tok.encode(s).length, 0);
  assertEquals(tok.encode(text(m[0])).length, 40 - own, "the prefix fills what is left");
  assert(text(m[0]).startsWith(PREFIX.slice(0, 20)), text(m[0]));
});

/** A line_by_line file of the lines, and a stub; runs `perf` with `--dataset-args`. */
async function lineRun(
  dir: string,
  args: Record<string, unknown>,
  extra: { path?: string; flags?: Record<string, unknown>; number?: number } = {},
) {
  const lines = `${dir}/lines.txt`;
  await Deno.writeTextFile(lines, LINES.join("\n") + "\n");
  const stub = chatStub();
  try {
    const r = await perfRun({
      server: stub,
      path: extra.path,
      flags: {
        prompt: null,
        dataset: "line_by_line",
        datasetPath: lines,
        number: extra.number ?? LINES.length,
        noTestConnection: true,
        tokenizerPath: await fixtureTokenizerDir("qwen3"),
        ...extra.flags,
      },
      args: ["--dataset-args", JSON.stringify(args)],
    });
    return { r, requests: stub.requests.map((q) => q.body) };
  } finally {
    await stub.close();
  }
}

Deno.test("text_length CLI: line_by_line cap sends every line, drop only those of the target or more", async () => {
  const tok = await tokenizer();
  const lengths = LINES.map((l) => tok.encode(l).length);
  await using tmp = await tempDir();
  const cap = await lineRun(tmp.path, { target_input_len: TARGET });
  await cap.r[Symbol.asyncDispose]();
  assertEquals(cap.r.code, 0, cap.r.stderr);
  const sent = cap.requests.map((b) => text((b.messages as Message[])[0]));
  assertEquals(sent.map((s) => tok.encode(s).length), lengths.map((n) => Math.min(n, TARGET)));
  const kept = lengths.filter((n) => n >= TARGET).length;
  const drop = await lineRun(tmp.path, { target_input_len: TARGET, input_len_mode: "drop" }, {
    number: kept,
  });
  await drop.r[Symbol.asyncDispose]();
  assertEquals(drop.r.code, 0, drop.r.stderr);
  assertEquals(drop.requests.length, kept);
  for (const b of drop.requests) {
    assertEquals(tok.encode(text((b.messages as Message[])[0])).length, TARGET);
  }
});

Deno.test("text_length CLI: prefix_file is tiled up to the target, as a system message or in the text", async () => {
  const tok = await tokenizer();
  await using tmp = await tempDir();
  const prefix = `${tmp.path}/prefix.txt`;
  await Deno.writeTextFile(prefix, PREFIX);
  const target = 200; // several copies of the prefix
  assert(tok.encode(PREFIX).length * 3 < target);
  const starts = PREFIX + PREFIX; // tiled: the file's text twice, then more
  // System (the default) with the chat template: a system message before the user's line.
  const sys = await lineRun(tmp.path, { target_input_len: target, prefix_file: prefix });
  await sys.r[Symbol.asyncDispose]();
  assertEquals(sys.r.code, 0, sys.r.stderr);
  assertEquals(sys.requests.length, LINES.length);
  sys.requests.forEach((b, i) => {
    const m = b.messages as Message[];
    assertEquals(m.map((x) => x.role), ["system", "user"]);
    assertEquals(text(m[1]), LINES[i]);
    assert(text(m[0]).startsWith(starts), text(m[0]).slice(0, 80));
    assertEquals(tok.encode(text(m[0])).length + tok.encode(text(m[1])).length, target);
  });
  // User: at the start of the line's text, the whole exactly the target.
  const user = await lineRun(tmp.path, {
    target_input_len: target,
    prefix_file: prefix,
    prefix_role: "user",
  });
  await user.r[Symbol.asyncDispose]();
  assertEquals(user.r.code, 0, user.r.stderr);
  user.requests.forEach((b, i) => {
    const m = b.messages as Message[];
    assertEquals(m.length, 1);
    assert(text(m[0]).startsWith(starts) && text(m[0]).endsWith(LINES[i]), text(m[0]));
    assertEquals(tok.encode(text(m[0])).length, target);
  });
  // No chat template (plain completions): a prompt string, the prefix at its start even for
  // prefix_role system, as evalscope falls back.
  const plain = await lineRun(tmp.path, { target_input_len: target, prefix_file: prefix }, {
    path: "/v1/completions",
  });
  await plain.r[Symbol.asyncDispose]();
  assertEquals(plain.r.code, 0, plain.r.stderr);
  plain.requests.forEach((b, i) => {
    const p = b.prompt as string;
    assert(p.startsWith(starts) && p.endsWith(LINES[i]), p);
    assertEquals(tok.encode(p).length, target);
  });
});

Deno.test("text_length CLI: each broken rule is one line, exit 2, nothing sent", async () => {
  await using tmp = await tempDir();
  const prefix = `${tmp.path}/prefix.txt`;
  await Deno.writeTextFile(prefix, PREFIX);
  const empty = `${tmp.path}/empty.txt`;
  await Deno.writeTextFile(empty, "");
  const E = "llmperf perf: error: --dataset 'line_by_line': --dataset-args ";
  const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
    [
      { target_input_len: 8 },
      { tokenizerPath: undefined },
      `${E}'target_input_len' needs --tokenizer-path (the length is in its tokens)`,
    ],
    [
      { prefix_file: prefix },
      {},
      `${E}'prefix_file' needs 'target_input_len' (the length it fills)`,
    ],
    [
      { target_input_len: 8, prefix_file: prefix, input_len_mode: "drop" },
      {},
      `${E}'prefix_file' cannot be used with input_len_mode 'drop' (the prefix fills the ` +
      "shorter prompts that 'drop' skips): use 'cap'",
    ],
    [{ target_input_len: 8, prefix_file: empty }, {}, `${E}prefix_file '${empty}' is empty`],
    [
      { target_input_len: 8, prefix_file: `${tmp.path}/none.txt` },
      {},
      `${E}prefix_file '${tmp.path}/none.txt': cannot read it`,
    ],
  ];
  for (const [args, flags, message] of cases) {
    const { r, requests } = await lineRun(tmp.path, args, { flags });
    await r[Symbol.asyncDispose]();
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert(r.stderr.trim().startsWith(message), `${r.stderr}\nwanted: ${message}`);
    assertEquals(requests.length, 0, "nothing sent");
  }
  // line_by_line: a JSON line (a message list here, the 3rd non-blank line) anywhere in the file.
  const lines = `${tmp.path}/json.txt`;
  await Deno.writeTextFile(lines, `one\n\ntwo\n[{"role": "user", "content": "x"}]\nthree\n`);
  // share_gpt: drop is refused for whole conversations.
  const sg = `${tmp.path}/sg.jsonl`;
  await Deno.writeTextFile(sg, JSON.stringify({ conversation: [{ human: "hi" }] }) + "\n");
  const stub = chatStub();
  try {
    for (
      const [dataset, path, args, message] of [
        [
          "line_by_line",
          lines,
          { target_input_len: 8 },
          `--dataset 'line_by_line': non-blank line 3 of ${lines} is JSON (a message list or a ` +
          "request body): --dataset-args target_input_len takes plain-text lines only " +
          "(as evalscope's)",
        ],
        [
          "share_gpt_en",
          sg,
          { target_input_len: 8, input_len_mode: "drop" },
          "--dataset 'share_gpt_en': --dataset-args input_len_mode 'drop' is not supported by " +
          "share_gpt_en: a whole conversation almost never has exactly target_input_len " +
          "tokens, so every one would be skipped (use 'cap', with prefix_file to fill up to " +
          "the target)",
        ],
      ] as const
    ) {
      await using r = await perfRun({
        server: stub,
        flags: {
          prompt: null,
          dataset,
          datasetPath: path,
          number: 2,
          tokenizerPath: await fixtureTokenizerDir("qwen3"),
        },
        args: ["--dataset-args", JSON.stringify(args)],
      });
      assertEquals(r.code, 2, r.stderr);
      assertEquals(r.stderr.trim(), `llmperf perf: error: ${message}`);
    }
    assertEquals(stub.requests.length, 0, "nothing sent, the start-up check included");
  } finally {
    await stub.close();
  }
});

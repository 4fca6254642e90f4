/**
 * The tokenizer (`--tokenizer-path`) against real Hugging Face tokenizers (Qwen3 and Llama 3, from
 * npm fixture packages): known ids, the Qwen3 chat template as Qwen3 renders it, token counts,
 * the usage-or-tokenizer rule, the counting worker, the length filter in tokens, and one-line
 * errors for broken folders.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { tempDir } from "./helpers/cli.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import {
  countCompletion,
  countPrompt,
  promptCounter,
  promptOf,
} from "../src/tokenizer/text_tokens.ts";
import { InlineCounter, WorkerCounter } from "../src/tokenizer/token_counters.ts";
import { fillCounts, wantsTokenizer } from "../src/tokenizer/usage_or_tokenizer.ts";
import { UsageError } from "../src/errors.ts";
import { resolveConfig } from "../src/config.ts";
import { RequestSource } from "../src/load/requests.ts";
import { finishRequest } from "../src/records/finish_request.ts";
import { newRecord } from "../src/records/record.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import type { Message } from "../src/plugins/types.ts";

const qwenDir = await fixtureTokenizerDir("qwen3");
const llamaDir = await fixtureTokenizerDir("llama3");
const qwen = await loadTokenizer(qwenDir);
const qwenChat = await loadTokenizer(qwenDir, { applyChatTemplate: true });
const llama = await loadTokenizer(llamaDir);
const llamaChat = await loadTokenizer(llamaDir, { applyChatTemplate: true });

Deno.test("tokenizer: known ids for known strings (Qwen3, Llama 3)", () => {
  assertEquals(qwen.encode("Hello world"), [9707, 1879]);
  assertEquals(llama.encode("Hello world"), [9906, 1917]);
  assertEquals(llama.encode("Hello World"), [9906, 4435]);
  // Added tokens are recognised in text.
  assertEquals(qwen.encode("<|im_start|>user\nHi<|im_end|>\n"), [
    151644,
    872,
    198,
    13048,
    151645,
    198,
  ]);
  assertEquals(qwen.encode("<think>"), [151667]);
  // Round trip.
  const text = "Benchmarks: 延迟 and throughput, 123456!";
  assertEquals(qwen.decode(qwen.encode(text)), text);
  assertEquals(llama.decode(llama.encode(text)), text);
  // Vocabulary sizes without added tokens, as Hugging Face's `vocab_size`.
  assertEquals(qwen.vocabSize, 151643);
  assertEquals(llama.vocabSize, 128000);
  assert(qwen.addedIds.has(151644) && qwen.addedIds.has(151667));
  assert(llama.addedIds.has(128000) && !llama.addedIds.has(9906));
});

Deno.test("tokenizer: the Qwen3 chat template renders as Qwen3 expects", () => {
  assertEquals(
    qwenChat.renderChat([{ role: "user", content: "Hi" }]),
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
  );
  assertEquals(
    qwenChat.renderChat([
      { role: "system", content: "You are helpful." },
      { role: "user", content: "Hi" },
    ]),
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n" +
      "<|im_start|>assistant\n",
  );
  // An earlier assistant turn loses its reasoning (Qwen3's template does this).
  assertEquals(
    qwenChat.renderChat([
      { role: "user", content: "1+1?" },
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n2" },
      { role: "user", content: "and 2+2?" },
    ]),
    "<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n2<|im_end|>\n" +
      "<|im_start|>user\nand 2+2?<|im_end|>\n<|im_start|>assistant\n",
  );
  const hi: Message[] = [{ role: "user", content: "Hi" }];
  // <|im_start|> user \n Hi <|im_end|> \n <|im_start|> assistant \n
  assertEquals(qwenChat.encode(qwenChat.renderChat(hi)), [
    151644,
    872,
    198,
    13048,
    151645,
    198,
    151644,
    77091,
    198,
  ]);
  assertEquals(qwenChat.promptLength(hi), 9);
  assertEquals(qwen.promptLength(hi), 1);
});

Deno.test("tokenizer: the Llama 3 chat template adds its BOS and headers", () => {
  const hi: Message[] = [{ role: "user", content: "Hi" }];
  assertEquals(
    llamaChat.renderChat(hi),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  assertEquals(llamaChat.encode(llamaChat.renderChat(hi)), [
    128000,
    128006,
    882,
    128007,
    271,
    13347,
    128009,
    128006,
    78191,
    128007,
    271,
  ]);
});

Deno.test("tokenizer: prompt and completion counts", () => {
  const messages: Message[] = [{ role: "user", content: "Hello world" }];
  assertEquals(promptOf({ messages }), { messages });
  assertEquals(promptOf({ prompt: "Hello world" }), { prompt: "Hello world" });
  assertEquals(promptOf({ input: { messages } }), { messages });
  assertEquals(promptOf({ model: "m" }), { none: true });
  assertEquals(countPrompt(qwen, { messages }), 2);
  assertEquals(countPrompt(qwen, { prompt: "Hello world" }), 2);
  assertEquals(countPrompt(qwenChat, { messages }), 10); // 2 + the template's 8
  assertEquals(countPrompt(qwenChat, { prompt: "Hello world" }), 2); // completions: no template
  assertEquals(countPrompt(qwen, { none: true }), 0);
  assertEquals(countCompletion(qwen, ["Hello world", "Hello", ""]), 3);
});

Deno.test("tokenizer: prompt counts are remembered, and the memory is bounded", () => {
  const count = promptCounter(qwenChat, 2);
  const hi = { messages: [{ role: "user", content: "Hi" }] };
  assertEquals(count(hi), 9);
  assertEquals(count({ messages: [{ role: "user", content: "Hi" }] }), 9);
  assertEquals(count({ prompt: "Hi" }), 1); // same text, but a plain prompt: no template
  assertEquals(count({ prompt: "Hello world" }), 2); // a third prompt: the memory starts over
  assertEquals(count(hi), 9);
  assertEquals(count({ none: true }), 0);
});

Deno.test("tokenizer: usage wins; the tokenizer replaces chunk counts", async () => {
  assertEquals(wantsTokenizer({ promptTokens: 5, completionTokens: 7, source: "usage" }), false);
  assertEquals(wantsTokenizer({ promptTokens: 0, completionTokens: 7, source: "chunks" }), true);
  assertEquals(wantsTokenizer({ promptTokens: 3, completionTokens: 4 }), false); // a plugin's pair
  assertEquals(wantsTokenizer({ promptTokens: 0, completionTokens: 0 }), true);

  const cfg = resolveConfig({ model: "m", stream: true });
  const api = new OpenAIApi(cfg);
  const messages: Message[] = [{ role: "user", content: "Hello world" }];
  const chunk = (content: string) =>
    JSON.stringify({ choices: [{ index: 0, delta: { content } }] });
  const body = JSON.stringify(api.buildRequest(messages, cfg));
  const record = (withUsage: boolean) => {
    const rec = newRecord(0, true);
    rec.payloads = [chunk("Hello"), chunk(" world"), chunk(", again")];
    if (withUsage) {
      rec.payloads.push(
        JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 3 } }),
      );
    }
    rec.chunkTimesMs = rec.payloads.map((_, i) => i + 1);
    rec.endMs = rec.payloads.length + 1;
    rec.success = true;
    rec.status = 200;
    return rec;
  };
  const counter = new InlineCounter(qwen);
  // Finished as a sending thread finishes them, counting where there is no usage.
  const finish = (rec: ReturnType<typeof record>, tokens?: InlineCounter) =>
    finishRequest({ api, tokens, needs: {} }, rec, body);
  const [noUsage, usage] = [
    await finish(record(false), counter),
    await finish(record(true), counter),
  ];
  assertEquals(noUsage.counts?.source, "tokenizer");
  assertEquals(noUsage.counts?.promptTokens, 2);
  assertEquals(noUsage.counts?.completionTokens, qwen.encode("Hello world, again").length);
  assertEquals(noUsage.metrics.tokenSource, "tokenizer");
  // The plugin's content chunks, measured: three token payloads one ms apart (the lists
  // themselves stay with the payloads, which no sink asked for here).
  assertEquals(Array.from(noUsage.metrics.itlS), [0.001, 0.001]);
  assertEquals(noUsage.counts?.contentChunks, undefined);

  assertEquals(noUsage.metrics.completionTokens, noUsage.counts?.completionTokens);
  assertEquals(usage.counts?.source, "usage");
  assertEquals([usage.counts?.promptTokens, usage.counts?.completionTokens], [11, 3]);

  const noTokenizer = await finish(record(false));
  assertEquals(noTokenizer.counts?.source, "chunks");
  assertEquals(noTokenizer.counts?.completionTokens, 3);
  assertEquals(counter.stats.requests, 1);

  // A plugin without generatedTexts keeps its completion count; an unknown prompt is filled in.
  const plain = {
    buildRequest: () => ({}),
    parseResponses: () => ({ promptTokens: 0, completionTokens: 3, source: "chunks" as const }),
  };
  const rec = record(false);
  const kept = await fillCounts(
    plain,
    rec.payloads,
    JSON.parse(body),
    plain.parseResponses(),
    counter,
  );
  assertEquals(kept, { promptTokens: 2, completionTokens: 3, source: "chunks" });
});

Deno.test("tokenizer: the counting worker counts batches like the inline counter", async () => {
  const counter = await WorkerCounter.start(qwenDir, true);
  try {
    const bodies = [
      { messages: [{ role: "user", content: "Hi" }] },
      { prompt: "Hello world" },
      { messages: [{ role: "user", content: "Tell me about 模型 benchmarks." }] },
    ];
    const texts = [["Hello"], ["Hello world", "Hi"], []];
    const got = await Promise.all(bodies.map((b, i) => counter.count(b, texts[i])));
    const inline = new InlineCounter(qwenChat);
    const want = await Promise.all(bodies.map((b, i) => inline.count(b, texts[i])));
    assertEquals(got, want);
    assertEquals(got[0], { promptTokens: 9, completionTokens: 1 });
    assertEquals(counter.stats.requests, 3);
  } finally {
    await counter.close();
  }
  assertEquals(await counter.count({ prompt: "x" }, []), undefined); // closed
});

Deno.test("tokenizer: the counting worker reports a broken folder as a UsageError", async () => {
  await assertRejects(() => WorkerCounter.start("/nonexistent/tok", false), UsageError, "no such");
});

Deno.test("tokenizer: --min/--max-prompt-length count tokens with a tokenizer", async () => {
  // Characters: 11 and 40 long. Tokens (Qwen3): 2 and 7.
  const prompts = ["Hello world", "Tell me about benchmarks and throughput."];
  assertEquals(prompts.map((p) => qwen.encode(p).length), [2, 7]);
  const dataset = {
    *buildMessages() {
      for (const p of prompts) yield [{ role: "user", content: p }];
    },
  };
  const kept = async (min: number, max: number, withTokenizer: boolean) => {
    const cfg = resolveConfig({ model: "m", minPromptLength: min, maxPromptLength: max });
    const measure = withTokenizer ? (m: Message[]) => qwen.promptLength(m) : undefined;
    const src = new RequestSource(
      cfg,
      new OpenAIApi(cfg),
      { kind: "dataset", name: "t", plugin: dataset },
      () => {},
      measure,
    );
    const out: string[] = [];
    for (let j = await src.next(); j; j = await src.next()) {
      out.push((j.body.messages as Message[])[0].content as string);
    }
    return out;
  };
  assertEquals(await kept(5, 20, false), [prompts[0]]); // 11 characters
  assertEquals(await kept(5, 20, true), [prompts[1]]); // 7 tokens
  assertEquals(await kept(1, 3, true), [prompts[0]]); // 2 tokens
});

Deno.test("tokenizer: a missing or broken folder is one clear line", async () => {
  await using tmp = await tempDir();
  const dir = (name: string) => `${tmp.path}/${name}`;
  await Deno.mkdir(dir("empty"));
  await Deno.mkdir(dir("badjson"));
  await Deno.writeTextFile(`${dir("badjson")}/tokenizer.json`, "{ not json");
  await Deno.mkdir(dir("nomodel"));
  await Deno.writeTextFile(`${dir("nomodel")}/tokenizer.json`, '{"version": "1.0"}');
  await Deno.mkdir(dir("badconfig"));
  await Deno.copyFile(`${qwenDir}/tokenizer.json`, `${dir("badconfig")}/tokenizer.json`);
  await Deno.writeTextFile(`${dir("badconfig")}/tokenizer_config.json`, "[1, 2");
  await Deno.mkdir(dir("notemplate"));
  await Deno.copyFile(`${qwenDir}/tokenizer.json`, `${dir("notemplate")}/tokenizer.json`);
  await Deno.mkdir(dir("badtemplate"));
  await Deno.copyFile(`${qwenDir}/tokenizer.json`, `${dir("badtemplate")}/tokenizer.json`);
  await Deno.writeTextFile(`${dir("badtemplate")}/chat_template.jinja`, "{% for x in %}");
  await Deno.writeTextFile(dir("file"), "x");
  const cases: Array<[string, string, boolean]> = [
    [dir("missing"), "no such folder", false],
    [dir("file"), "not a folder", false],
    [dir("empty"), "no tokenizer.json", false],
    [dir("badjson"), "tokenizer.json is not valid JSON", false],
    [dir("nomodel"), "tokenizer.json has no 'model'", false],
    [dir("badconfig"), "tokenizer_config.json is not valid JSON", false],
    [dir("notemplate"), "--apply-chat-template: no chat_template", true],
    [dir("badtemplate"), "not valid Jinja", true],
  ];
  for (const [path, needle, template] of cases) {
    const e = await assertRejects(
      () => loadTokenizer(path, { applyChatTemplate: template }),
      UsageError,
      needle,
    );
    assert(e.message.startsWith(`--tokenizer-path '${path}': `), e.message);
    assertEquals(e.message.includes("\n"), false, e.message);
  }
  // Without tokenizer_config.json the tokenizer still loads and counts.
  assertEquals((await loadTokenizer(dir("notemplate"))).encode("Hello world"), [9707, 1879]);
});

Deno.test("tokenizer: chat_template.jinja wins over tokenizer_config.json", async () => {
  await using tmp = await tempDir();
  await Deno.copyFile(`${qwenDir}/tokenizer.json`, `${tmp.path}/tokenizer.json`);
  await Deno.copyFile(`${qwenDir}/tokenizer_config.json`, `${tmp.path}/tokenizer_config.json`);
  await Deno.writeTextFile(
    `${tmp.path}/chat_template.jinja`,
    "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}" +
      "{% if add_generation_prompt %}[assistant]{% endif %}",
  );
  const tok = await loadTokenizer(tmp.path, { applyChatTemplate: true });
  assertEquals(tok.renderChat([{ role: "user", content: "Hi" }]), "[user] Hi\n[assistant]");
});

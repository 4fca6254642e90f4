/**
 * The `random` dataset: exact prompt lengths in tokens (Qwen3, Llama 3; with and without the chat
 * template, checked by re-encoding) and in characters, the shared prefix, `--seed`, the defaults,
 * and how it meets the request source (no second length filter).
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import type { HfTokenizer } from "../src/tokenizer/hf_tokenizer.ts";
import { type PerfConfigInput, resolveConfig } from "../src/config.ts";
import { loadDatasetPlugin } from "../src/plugins/dataset_loader.ts";
import type { Message } from "../src/plugins/types.ts";
import { RequestSource } from "../src/load/requests.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import RandomDataset, {
  charPrompts,
  DEFAULT_MAX_LENGTH,
  lengthRange,
  randomWorkers,
} from "../plugins/datasets/random.ts";

const qwenDir = await fixtureTokenizerDir("qwen3");
const llamaDir = await fixtureTokenizerDir("llama3");
const tokenizers: Record<string, HfTokenizer> = {
  qwen3: await loadTokenizer(qwenDir),
  llama3: await loadTokenizer(llamaDir),
  "qwen3 + chat template": await loadTokenizer(qwenDir, { applyChatTemplate: true }),
  "llama3 + chat template": await loadTokenizer(llamaDir, { applyChatTemplate: true }),
};

/** The prompts `random` yields for these settings. */
function prompts(input: PerfConfigInput, tokenizer?: HfTokenizer): string[] {
  const cfg = resolveConfig({ model: "m", dataset: "random", ...input });
  const ds = new RandomDataset(tokenizer ? { ...cfg, tokenizer } : cfg);
  return [...(ds.buildMessages() as Iterable<Message[]>)].map((m) => {
    assertEquals(m.length, 1);
    assertEquals(m[0].role, "user");
    return m[0].content as string;
  });
}

const user = (content: string): Message[] => [{ role: "user", content }];

for (const [name, tok] of Object.entries(tokenizers)) {
  Deno.test(`random: exact token lengths, re-encoded (${name})`, () => {
    const floor = tok.promptLength(user(""));
    for (const len of [floor + 1, floor + 2, floor + 17, 300, 1000]) {
      const got = prompts({ number: 4, minPromptLength: len, maxPromptLength: len }, tok);
      for (const p of got) {
        assertEquals(tok.promptLength(user(p)), len, `length of ${JSON.stringify(p)}`);
        if (tok.usesChatTemplate) assertEquals(tok.encode(tok.renderChat(user(p))).length, len);
        else assertEquals(tok.encode(p).length, len);
      }
    }
    // A range: every length inside it, bounds included, and more than one length drawn.
    const lens = prompts({ number: 60, minPromptLength: 40, maxPromptLength: 60 }, tok)
      .map((p) => tok.promptLength(user(p)));
    assert(lens.every((n) => n >= 40 && n <= 60), `lengths ${lens}`);
    assert(new Set(lens).size > 10, `lengths ${lens}`);
    assert(lens.includes(40) || lens.includes(60), `bounds never drawn: ${lens}`);
  });
}

Deno.test("random: --prefix-length tokens are shared by every prompt", () => {
  for (const tok of Object.values(tokenizers)) {
    const got = prompts(
      { number: 12, minPromptLength: 100, maxPromptLength: 400, prefixLength: 64 },
      tok,
    );
    const ids = got.map((p) => tok.encode(p));
    const prefix = ids[0].slice(0, 64);
    assertEquals(prefix.length, 64);
    for (const x of ids) assertEquals(x.slice(0, 64), prefix);
    const text = tok.decode(prefix);
    for (const p of got) assert(p.startsWith(text));
    // The rest differs between prompts.
    assertEquals(new Set(got.map((p) => p.slice(text.length, text.length + 20))).size, got.length);
    for (const p of got) {
      const n = tok.promptLength(user(p));
      assert(n >= 100 && n <= 400, `length ${n}`);
    }
  }
});

Deno.test("random: --prefix-groups G makes G shared prefixes, each of about n/G prompts", () => {
  for (const tok of [tokenizers.qwen3, tokenizers["llama3 + chat template"]]) {
    const got = prompts(
      { number: 42, minPromptLength: 100, maxPromptLength: 200, prefixLength: 48, prefixGroups: 4 },
      tok,
    );
    const byPrefix = new Map<string, number>();
    for (const p of got) {
      const key = tok.encode(p).slice(0, 48).join(",");
      byPrefix.set(key, (byPrefix.get(key) ?? 0) + 1);
      const n = tok.promptLength(user(p));
      assert(n >= 100 && n <= 200, `length ${n}`);
    }
    // Four different 48-token prefixes; 42 prompts over 4 groups: 11, 11, 10, 10.
    assertEquals(byPrefix.size, 4);
    assertEquals([...byPrefix.values()].sort(), [10, 10, 11, 11]);
    // The groups are interleaved in a seeded order, not one block after another.
    const first = got.slice(0, 8).map((p) => tok.encode(p).slice(0, 48).join(","));
    assert(new Set(first).size > 1, "the first 8 prompts all have one prefix");
  }
  // In characters, the same: the first 30 characters are one of 3 prefixes.
  const chars = prompts({
    number: 30,
    minPromptLength: 60,
    maxPromptLength: 90,
    prefixLength: 30,
    prefixGroups: 3,
  });
  const groups = new Map<string, number>();
  for (const p of chars) groups.set(p.slice(0, 30), (groups.get(p.slice(0, 30)) ?? 0) + 1);
  assertEquals([...groups.values()], [10, 10, 10]);
  // One group is the plain --prefix-length run, prompt for prompt.
  const one = { number: 6, minPromptLength: 40, maxPromptLength: 60, prefixLength: 20 };
  assertEquals(prompts({ ...one, prefixGroups: 1 }), prompts(one));
});

Deno.test("random: deterministic under --seed", () => {
  const tok = tokenizers.qwen3;
  const a = prompts({ number: 5, minPromptLength: 10, maxPromptLength: 90, seed: 7 }, tok);
  const b = prompts({ number: 5, minPromptLength: 10, maxPromptLength: 90, seed: 7 }, tok);
  const c = prompts({ number: 5, minPromptLength: 10, maxPromptLength: 90, seed: 8 }, tok);
  assertEquals(a, b);
  assert(a.every((p, i) => p !== c[i]));
  const chars = prompts({ number: 5, minPromptLength: 10, maxPromptLength: 90, seed: 7 });
  assertEquals(chars, prompts({ number: 5, minPromptLength: 10, maxPromptLength: 90, seed: 7 }));
});

Deno.test("random: without a tokenizer, lengths are characters", () => {
  for (const len of [1, 2, 50, 333]) {
    for (const p of prompts({ number: 5, minPromptLength: len, maxPromptLength: len })) {
      assertEquals(p.length, len);
    }
  }
  const got = prompts({ number: 50, minPromptLength: 20, maxPromptLength: 30, prefixLength: 12 });
  const prefix = got[0].slice(0, 12);
  for (const p of got) {
    assert(p.length >= 20 && p.length <= 30, `length ${p.length}`);
    assert(p.startsWith(prefix));
    assert(/^[a-z ]+$/.test(p), p);
  }
  assert(new Set(got.map((p) => p.length)).size > 5);
  // Same generator, called directly.
  const make = charPrompts(5, 5, 0, 1);
  assertEquals(make().length, 5);
});

Deno.test("random: defaults (no --max-prompt-length, --min below the floor, no -n)", () => {
  const max = Number.MAX_SAFE_INTEGER;
  assertEquals(lengthRange(0, max, 0, "tokens"), { lo: 1, hi: DEFAULT_MAX_LENGTH });
  assertEquals(lengthRange(2000, max, 0, "tokens"), { lo: 2000, hi: 2000 });
  assertEquals(lengthRange(0, 50, 9, "tokens"), { lo: 9, hi: 50 });
  assertThrows(() => lengthRange(0, 5, 9, "tokens"), Error, "raise --max-prompt-length");
  // No -n: one prompt. Defaults: 1 … 1024 characters.
  assertEquals(prompts({}).length, 1);
  const lens = prompts({ number: 200 }).map((p) => p.length);
  assert(lens.every((n) => n >= 1 && n <= DEFAULT_MAX_LENGTH));
  assert(Math.max(...lens) > 500, `lengths ${lens}`);
  // The chat template takes 8 tokens (Qwen3): a shorter --max-prompt-length cannot be met.
  const chat = tokenizers["qwen3 + chat template"];
  assertThrows(
    () => prompts({ number: 1, maxPromptLength: 5 }, chat),
    Error,
    "the shortest possible is 8",
  );
});

Deno.test("random: registered, and not filtered again by the request source", async () => {
  const cfg = resolveConfig({
    model: "m",
    dataset: "random",
    number: 30,
    minPromptLength: 20,
    maxPromptLength: 22,
  });
  const tok = tokenizers.qwen3;
  const params = { ...cfg, tokenizer: tok };
  const plugin = await loadDatasetPlugin("random", params);
  assertEquals(plugin.lengthFiltered, true);
  const src = new RequestSource(
    params,
    new OpenAIApi(params),
    { kind: "dataset", name: "random", plugin },
    () => {},
    (m) => tok.promptLength(m),
  );
  const lens: number[] = [];
  for (let j = await src.next(); j; j = await src.next()) {
    lens.push(tok.promptLength(j.body.messages as Message[]));
  }
  assertEquals(lens.length, 30);
  assertEquals(src.filtered, 0);
  assert(lens.every((n) => n >= 20 && n <= 22));
  assert(lens.includes(20) && lens.includes(22), `bounds kept: ${lens}`);
});

Deno.test("random e2e: --prefix-groups reaches the server as G prefixes of n/G requests", async () => {
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: {
        dataset: "random",
        number: 24,
        parallel: 4,
        minPromptLength: 80,
        maxPromptLength: 120,
        noTestConnection: true,
      },
      args: ["--prefix-length", "40", "--prefix-groups", "6"],
    });
    assertEquals(r.code, 0, r.stderr);
    const texts = stub.requests.map((q) => ((q.body.messages as Message[])[0].content as string));
    assertEquals(texts.length, 24);
    const groups = new Map<string, number>();
    for (const t of texts) groups.set(t.slice(0, 40), (groups.get(t.slice(0, 40)) ?? 0) + 1);
    assertEquals([...groups.values()], [4, 4, 4, 4, 4, 4]);
    assertEquals(new Set(texts).size, 24, "the questions differ");
  } finally {
    await stub.close();
  }
});

/** The prompts `random` yields, on whatever `--num-workers` gives, and its log lines. */
async function promptsOn(
  input: PerfConfigInput,
  tokenizer?: HfTokenizer,
): Promise<{ texts: string[]; logs: string[] }> {
  const cfg = resolveConfig({ model: "m", dataset: "random", ...input });
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const ds = new RandomDataset(tokenizer ? { ...cfg, tokenizer, log } : { ...cfg, log });
  const texts: string[] = [];
  for await (const m of ds.buildMessages()) texts.push(m[0].content as string);
  return { texts, logs };
}

Deno.test("random --num-workers: 1 and 3 workers make the same token-exact prompts (Qwen3)", async () => {
  for (const chat of [false, true]) {
    const tok = chat ? tokenizers["qwen3 + chat template"] : tokenizers.qwen3;
    const base = {
      number: 10,
      minPromptLength: 30,
      maxPromptLength: 70,
      prefixLength: 8,
      prefixGroups: 2,
      seed: 11,
      tokenizerPath: qwenDir,
      applyChatTemplate: chat,
    };
    const one = await promptsOn({ ...base, numWorkers: 1 }, tok);
    const three = await promptsOn({ ...base, numWorkers: 3 }, tok);
    assertEquals(three.texts, one.texts, `chat template ${chat}`);
    assertEquals(new Set(one.texts).size, 10);
    for (const p of three.texts) {
      const len = chat ? tok.encode(tok.renderChat(user(p))).length : tok.encode(p).length;
      assert(len >= 30 && len <= 70, `length ${len} of ${JSON.stringify(p)}`);
    }
    assertEquals(one.logs, [], "serial and quick: no line");
    assertEquals(three.logs.length, 1, three.logs.join("\n"));
    assert(/^random: 3 workers made 10 prompts in \d+\.\d s$/.test(three.logs[0]), three.logs[0]);
  }
  // Exact lengths on workers: every prompt the drawn length, here a single one.
  const tok = tokenizers.qwen3;
  const exact = await promptsOn(
    {
      number: 6,
      minPromptLength: 200,
      maxPromptLength: 200,
      tokenizerPath: qwenDir,
      numWorkers: 2,
    },
    tok,
  );
  assertEquals(exact.texts.map((p) => tok.encode(p).length), [200, 200, 200, 200, 200, 200]);
});

Deno.test("random --num-workers: character prompts the same on 1 and 4 workers", async () => {
  const base = { number: 9, minPromptLength: 20, maxPromptLength: 60, prefixLength: 5, seed: 3 };
  const one = await promptsOn({ ...base, numWorkers: 1 });
  const four = await promptsOn({ ...base, numWorkers: 4 });
  assertEquals(four.texts, one.texts);
  assertEquals(four.logs.length, 1);
  assert(four.logs[0].startsWith("random: 4 workers made 9 prompts in "), four.logs[0]);
});

Deno.test("random --dataset-offset K: the prompts of indices K.. of the run without it", async () => {
  const tok = tokenizers.qwen3;
  for (const tokenizer of [undefined, tok]) {
    for (const groups of [1, 3]) {
      const base = {
        minPromptLength: 30,
        maxPromptLength: 50,
        prefixLength: 6,
        prefixGroups: groups,
        seed: 9,
        tokenizerPath: tokenizer ? qwenDir : undefined,
      };
      const all = await promptsOn({ ...base, number: 8 }, tokenizer);
      const from5 = await promptsOn({ ...base, number: 3, datasetOffset: 5 }, tokenizer);
      assertEquals(from5.texts, all.texts.slice(5), `tokenizer ${!!tokenizer}, groups ${groups}`);
      const onWorkers = await promptsOn(
        { ...base, number: 3, datasetOffset: 5, numWorkers: 2 },
        tokenizer,
      );
      assertEquals(onWorkers.texts, all.texts.slice(5));
    }
  }
  // Prompt i does not depend on the prompts before it: a run of 3 is the first 3 of a run of 8.
  const first = await promptsOn({ number: 3, minPromptLength: 10, maxPromptLength: 90, seed: 9 });
  const more = await promptsOn({ number: 8, minPromptLength: 10, maxPromptLength: 90, seed: 9 });
  assertEquals(first.texts, more.texts.slice(0, 3));
});

Deno.test("random --num-workers 0 (auto): workers only with a tokenizer and many tokens", () => {
  const tok = tokenizers.qwen3;
  const params = (input: PerfConfigInput, tokenizer?: HfTokenizer) => {
    const cfg = resolveConfig({ model: "m", dataset: "random", ...input });
    return tokenizer ? { ...cfg, tokenizer } : cfg;
  };
  const len = { minPromptLength: 1024, maxPromptLength: 1024 };
  // Characters are cheap: one thread, however many.
  assertEquals(randomWorkers(params({ ...len, number: 100_000 }), 100_000, 16), 1);
  // Tokens: one worker per 128 Ki expected tokens (131,072), at most the CPUs, the count, 32.
  assertEquals(randomWorkers(params({ ...len, number: 127 }, tok), 127, 16), 1);
  assertEquals(randomWorkers(params({ ...len, number: 300 }, tok), 300, 16), 2);
  assertEquals(randomWorkers(params({ ...len, number: 5000 }, tok), 5000, 16), 16);
  assertEquals(randomWorkers(params({ ...len, number: 5000 }, tok), 5000, 64), 32);
  const long = { minPromptLength: 131_072, maxPromptLength: 393_216, number: 10 };
  assertEquals(randomWorkers(params(long, tok), 10, 16), 10); // 2.5 Mi tokens: 20, capped at 10
  // Given: evalscope's rule, tokenizer or not.
  assertEquals(randomWorkers(params({ ...len, number: 20, numWorkers: 3 }), 20, 16), 3);
  assertEquals(randomWorkers(params({ ...len, number: 2, numWorkers: 3 }), 2, 16), 2);
  assertEquals(randomWorkers(params({ ...len, number: 5000, numWorkers: 1 }, tok), 5000, 16), 1);
});

Deno.test("random e2e: --num-workers 2 sends the prompts one thread makes, and says so", async () => {
  const stub = chatStub();
  const flags = {
    dataset: "random",
    number: 6,
    parallel: 2,
    minPromptLength: 40,
    maxPromptLength: 60,
    noTestConnection: true,
  };
  try {
    await using r = await perfRun({
      server: stub,
      flags,
      args: ["--tokenizer-path", qwenDir, "--num-workers", "2", "--seed", "4"],
    });
    assertEquals(r.code, 0, r.stderr);
    const sent = stub.requests.map((q) => (q.body.messages as Message[])[0].content as string);
    const want = await promptsOn(
      { ...flags, seed: 4, tokenizerPath: qwenDir, numWorkers: 1 },
      tokenizers.qwen3,
    );
    assertEquals(sent.toSorted(), want.texts.toSorted());
    const lines = r.stderr.split("\n").filter((l) => l.includes("workers made"));
    assertEquals(lines.length, 1, r.stderr);
    assert(/random: 2 workers made 6 prompts in \d+\.\d s/.test(lines[0]), lines[0]);
  } finally {
    await stub.close();
  }
});

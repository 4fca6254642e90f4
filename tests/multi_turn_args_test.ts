/**
 * evalscope's `MultiTurnDatasetArgs` carried out (`plugins/datasets/multi_turn_args.ts`), as the
 * reference sheet's "`--dataset-args` schemas" paragraph has them: `random_multi_turn`'s first
 * and later turns of `first_turn_length` / `subsequent_turn_length` tokens (a number, or a
 * `[min, max]` range drawn under `--seed`), exact with the real Qwen3 tokenizer and of
 * `chars_per_token` characters a token without one; `num_workers` accepted and ignored with a log
 * line; `share_gpt_*_multi_turn` unchanged by them; `--multi-turn-args` folded into
 * `--dataset-args` with `setdefault` (`--dataset-args` wins a key both give).
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { resolveConfig } from "../src/config.ts";
import { parsePerfArgs } from "../src/cli/perf_flags.ts";
import type { Message, Turn } from "../src/plugins/types.ts";
import RandomMultiTurnDataset from "../plugins/datasets/random_multi_turn.ts";
import ShareGptMultiTurnDataset from "../plugins/datasets/share_gpt_multi_turn.ts";
import { drawLength } from "../plugins/datasets/multi_turn_args.ts";

const base = {
  url: "http://127.0.0.1:1/v1/chat/completions",
  model: "m",
  dataset: "random_multi_turn",
  multiTurn: true,
  number: 40,
  minTurns: 2,
  maxTurns: 4,
  minPromptLength: 200,
  maxPromptLength: 300,
};

const contents = (c: Turn[]) => c.map((t) => t.messages[0].content as string);

Deno.test("random_multi_turn: first_turn_length and subsequent_turn_length in tokens, exact, seeded", async () => {
  const tok = await loadTokenizer(await fixtureTokenizerDir("qwen3"));
  const make = (seed: number, args: Record<string, unknown>) => [
    ...new RandomMultiTurnDataset({
      ...resolveConfig({ ...base, seed, datasetArgs: args }),
      tokenizer: tok,
    }).buildConversations(),
  ];
  const args = { first_turn_length: [50, 60], subsequent_turn_length: 20 };
  const convs = make(7, args);
  assertEquals(convs.length, 40);
  const firsts = new Set<number>();
  for (const c of convs) {
    assert(c.length >= 2 && c.length <= 4, `${c.length} turns`);
    const [first, ...later] = contents(c).map((s) => tok.encode(s).length);
    assert(first >= 50 && first <= 60, `first turn ${first} tokens`);
    firsts.add(first);
    for (const n of later) assertEquals(n, 20, "each later turn exactly 20 tokens");
  }
  assert(firsts.size > 3, `the range is drawn: ${[...firsts]}`);
  // The same seed makes the same conversations; another seed others.
  assertEquals(make(7, args).map(contents), convs.map(contents));
  assert(
    JSON.stringify(make(8, args).map(contents)) !== JSON.stringify(convs.map(contents)),
    "another seed",
  );
  // A key not given leaves its turns to --min/--max-prompt-length (through the run's measure).
  for (const c of make(7, { subsequent_turn_length: [5, 6] })) {
    const [first, ...later] = contents(c);
    const len = tok.promptLength([{ role: "user", content: first }]);
    assert(len >= 200 && len <= 300, `first turn ${len} tokens, from the bounds`);
    for (const s of later) {
      const n = tok.encode(s).length;
      assert(n === 5 || n === 6, `${n}`);
    }
    assertEquals(new Set(later.map((s) => tok.encode(s).length)).size, 1, "drawn per conversation");
  }
});

Deno.test("random_multi_turn: without a tokenizer a token is chars_per_token characters (3.0 by default)", () => {
  const make = (
    args: Record<string, unknown>,
  ) => [...new RandomMultiTurnDataset(resolveConfig({ ...base, datasetArgs: args }))
    .buildConversations()];
  for (const c of make({ first_turn_length: 10, subsequent_turn_length: [2, 4] })) {
    const [first, ...later] = contents(c).map((s) => s.length);
    assertEquals(first, 30);
    for (const n of later) assert(n === 6 || n === 9 || n === 12, `${n} characters`);
  }
  for (const c of make({ first_turn_length: 10, chars_per_token: 4.5 })) {
    assertEquals(contents(c)[0].length, 45);
  }
});

Deno.test("drawLength: a number as it is, a range uniformly with both ends", () => {
  assertEquals(drawLength(7, () => 0.99), 7);
  assertEquals(drawLength([3, 5], () => 0), 3);
  assertEquals(drawLength([3, 5], () => 0.999), 5);
  assertEquals(drawLength([3, 5], () => 0.5), 4);
});

Deno.test("MultiTurnDatasetArgs: num_workers ignored with a log line; share_gpt multi-turn unchanged, said so", async () => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const cfg = resolveConfig({
    ...base,
    datasetArgs: { num_workers: 8 },
    minPromptLength: 20,
    maxPromptLength: 30,
  });
  const plain = resolveConfig({ ...base, minPromptLength: 20, maxPromptLength: 30 });
  const got = [...new RandomMultiTurnDataset({ ...cfg, log }).buildConversations()];
  assertEquals(
    got.map(contents),
    [...new RandomMultiTurnDataset(plain).buildConversations()].map(
      contents,
    ),
  );
  assertEquals(lines, [
    "random_multi_turn: --dataset-args 'num_workers' is deprecated and ignored (evalscope's " +
    "replacement is --num-workers)",
  ]);
  await using tmp = await tempDir();
  const path = `${tmp.path}/sg.jsonl`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ conversation: [{ human: "a", assistant: "x" }, { human: "b" }] }) + "\n",
  );
  lines.length = 0;
  const sg = new ShareGptMultiTurnDataset({
    ...resolveConfig({
      ...base,
      dataset: "share_gpt_en_multi_turn",
      datasetPath: path,
      datasetArgs: { first_turn_length: 100, subsequent_turn_length: [1, 2] },
    }),
    log,
  });
  const turns: Message[][] = [];
  for await (const c of sg.buildConversations()) turns.push(c.flatMap((t) => t.messages));
  assertEquals(turns, [[{ role: "user", content: "a" }, { role: "user", content: "b" }]]);
  assertEquals(lines, [
    "share_gpt_en_multi_turn: --dataset-args first_turn_length, subsequent_turn_length change " +
    "nothing here (its turns are the dataset's own text; evalscope accepts and ignores them too)",
  ]);
});

Deno.test("--multi-turn-args: folded into --dataset-args, which wins a key both give", () => {
  const cfg = resolveConfig({
    model: "m",
    multiTurnArgs: { first_turn_length: 5, chars_per_token: 2 },
    datasetArgs: { first_turn_length: 9 },
  });
  assertEquals(cfg.datasetArgs, { first_turn_length: 9, chars_per_token: 2 });
  assertEquals(resolveConfig({ model: "m", multiTurnArgs: { a: 1 } }).datasetArgs, { a: 1 });
  assertEquals(resolveConfig({ model: "m" }).datasetArgs, undefined);
  const { config } = parsePerfArgs([
    "--model",
    "m",
    "--dataset-args",
    '{"subsequent_turn_length": [1, 2]}',
    "--multi-turn-args",
    '{"subsequent_turn_length": 7, "first_turn_length": 3}',
  ]);
  assertEquals(resolveConfig(config).datasetArgs, {
    subsequent_turn_length: [1, 2],
    first_turn_length: 3,
  });
});

Deno.test("--multi-turn-args CLI: its keys reach random_multi_turn, --dataset-args first; a bad one exits 2", async () => {
  const stub = chatStub();
  try {
    {
      await using r = await perfRun({
        server: stub,
        flags: { prompt: null, dataset: "random_multi_turn", number: 2, noTestConnection: true },
        args: [
          "--multi-turn",
          "--min-turns",
          "1",
          "--max-turns",
          "1",
          "--multi-turn-args",
          '{"first_turn_length": 30, "chars_per_token": 2}',
          "--dataset-args",
          '{"first_turn_length": 12}',
        ],
      });
      assertEquals(r.code, 0, r.stderr);
      assert(r.stderr.includes("--multi-turn-args is deprecated"), r.stderr);
      assertEquals(stub.requests.length, 2);
      for (const q of stub.requests) {
        const m = q.body.messages as Message[];
        assertEquals((m[0].content as string).length, 24, "12 tokens of 2 characters");
      }
    }
    // Its keys are checked as --dataset-args ones: openqa takes none of them.
    await using bad = await perfRun({
      server: stub,
      flags: { prompt: null, dataset: "openqa", number: 1, datasetPath: "/nonexistent" },
      args: ["--multi-turn-args", '{"first_turn_length": 30}'],
    });
    assertEquals(bad.code, 2, bad.stderr);
    assertEquals(
      bad.stderr.trim(),
      "llmperf perf: error: --dataset-args: openqa has no setting 'first_turn_length' (it " +
        "takes target_input_len, input_len_mode, prefix_file, prefix_role)",
    );
    assertEquals(stub.requests.length, 2, "nothing more sent");
  } finally {
    await stub.close();
  }
});

/**
 * The multi-turn datasets' readers and the turn bodies: splitting at assistant messages,
 * ShareGPT's two layouts, an agentic trace's two layouts (and its turns' token lengths with a
 * real tokenizer), and each turn's body.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { splitTurns } from "../src/plugins/turns.ts";
import { humanMessages } from "../plugins/datasets/share_gpt_multi_turn.ts";
import AgenticTraceDataset, { traceTurns } from "../plugins/datasets/agentic_trace.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import type { Turn } from "../src/plugins/types.ts";
import { lineMessages } from "../plugins/datasets/custom_multi_turn.ts";
import RandomMultiTurnDataset from "../plugins/datasets/random_multi_turn.ts";
import { turnBody } from "../src/workers/conversation.ts";
import { resolveConfig } from "../src/config.ts";

Deno.test("splitTurns: turns between assistant messages, which are dropped", () => {
  const sys = { role: "system", content: "s" };
  const u = (c: string) => ({ role: "user", content: c });
  const a = { role: "assistant", content: "dropped" };
  assertEquals(splitTurns([sys, u("1"), a, u("2"), a, a, u("3"), a]), [
    { messages: [sys, u("1")] },
    { messages: [u("2")] },
    { messages: [u("3")] },
  ]);
  assertEquals(splitTurns([u("1"), u("2")]), [{ messages: [u("1"), u("2")] }]);
  assertEquals(splitTurns([]), []);
});

Deno.test("share_gpt multi-turn: human messages of both layouts, empty ones left out", () => {
  assertEquals(
    humanMessages({
      conversation: [{ human: "a", assistant: "x" }, { human: " " }, { human: "b" }],
    }),
    ["a", "b"],
  );
  assertEquals(
    humanMessages({ conversations: [{ from: "human", value: "a" }, { from: "gpt", value: "x" }] }),
    ["a"],
  );
  assertEquals(humanMessages({ other: 1 }), []);
});

Deno.test("custom_multi_turn: a line is a message list or {messages}", () => {
  const m = [{ role: "user", content: "hi" }];
  assertEquals(lineMessages(m), m);
  assertEquals(lineMessages({ messages: m }), m);
  assertEquals(typeof lineMessages({ text: "hi" }), "string");
  assertEquals(typeof lineMessages([{ content: "no role" }]), "string");
});

Deno.test("agentic_trace: both layouts as turns of lengths and delays", () => {
  assertEquals(
    traceTurns({
      turns: [{ input_tokens: 10, output_tokens: 2 }, { input_tokens: 3, delay_ms: 5 }],
    }),
    [{ inputTokens: 10, outputTokens: 2 }, { inputTokens: 3, delayMs: 5 }],
  );
  assertEquals(
    traceTurns({
      input_prompt_length: 100,
      num_turns: 2,
      assistant_response_length: [5, 6],
      tool_call_output_length: [20, 30],
      tool_call_latency: [0.5, 1.25],
      final_assistant_response_length: 9,
    }),
    [
      { inputTokens: 100, outputTokens: 5 },
      { inputTokens: 20, outputTokens: 6, delayMs: 500 },
      { inputTokens: 30, outputTokens: 9, delayMs: 1250 },
    ],
  );
  assertThrows(() => traceTurns({ turns: [{ input_tokens: -1 }] }), Error, "input_tokens");
  assertThrows(() => traceTurns({ x: 1 }), Error, "expected 'turns'");
});

Deno.test("random_multi_turn: turn counts in [--min-turns, --max-turns], lengths in range", () => {
  const cfg = resolveConfig({
    url: "http://127.0.0.1:1/v1/chat/completions",
    model: "m",
    dataset: "random_multi_turn",
    multiTurn: true,
    number: 50,
    minTurns: 2,
    maxTurns: 4,
    minPromptLength: 20,
    maxPromptLength: 30,
  });
  const convs = [...new RandomMultiTurnDataset(cfg).buildConversations()];
  assertEquals(convs.length, 50);
  const counts = new Set(convs.map((c) => c.length));
  assertEquals([...counts].sort(), [2, 3, 4], "every count in range drawn, none outside");
  for (const c of convs) {
    for (const t of c) {
      const len = (t.messages[0].content as string).length;
      if (len < 20 || len > 30) throw new Error(`turn length ${len}`);
    }
  }
});

Deno.test("turnBody: the base with the whole history and the turn's max_tokens", () => {
  const base = { model: "m", messages: [], max_tokens: 100, stream: true };
  const h = [{ role: "user", content: "hi" }];
  assertEquals(JSON.parse(turnBody(base, h, { messages: [] })), { ...base, messages: h });
  assertEquals(JSON.parse(turnBody(base, h, { messages: [], maxTokens: 7 })).max_tokens, 7);
  const o1 = { model: "m", messages: [], max_completion_tokens: 100 };
  const b = JSON.parse(turnBody(o1, h, { messages: [], maxTokens: 7 }));
  assertEquals([b.max_completion_tokens, b.max_tokens], [7, undefined]);
});

Deno.test("agentic_trace: with a tokenizer, each turn's text is the trace's input length in its tokens", async () => {
  const tokenizer = await loadTokenizer(await fixtureTokenizerDir("qwen3"));
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/trace.jsonl`;
    const traces = [
      { turns: [{ input_tokens: 2000 }, { input_tokens: 150 }, { input_tokens: 37 }] },
      {
        input_prompt_length: 800,
        num_turns: 1,
        tool_call_output_length: [5],
        tool_call_latency: [0],
      },
    ];
    await Deno.writeTextFile(path, traces.map((t) => JSON.stringify(t)).join("\n") + "\n");
    const want = [[2000, 150, 37], [800, 5]];
    const cfg = resolveConfig({ model: "m", dataset: "agentic_trace", datasetPath: path });
    const make = async (seed: number) => {
      const out: Turn[][] = [];
      const plugin = new AgenticTraceDataset({ ...cfg, seed, tokenizer });
      for await (const c of plugin.buildConversations()) out.push(c);
      return out;
    };
    const got = await make(7);
    const tokens = got.map((c) => c.map((t) => tokenizer.encode(t.messages[0].content as string)));
    // The tokenizer's own count of each turn's text (the chat template's tokens come on top).
    assertEquals(tokens.map((c) => c.map((ids) => ids.length)), want);
    // Seeded: the same texts again; another seed, other texts.
    assertEquals(await make(7), got);
    assert((await make(8))[0][0].messages[0].content !== got[0][0].messages[0].content);
    // Without a tokenizer: 4 characters a token, as before.
    const plain = new AgenticTraceDataset({ ...cfg, seed: 7 });
    for await (const c of plain.buildConversations()) {
      assertEquals((c[0].messages[0].content as string).length, 4 * want[0][0]);
      break;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The `share_gpt_zh` / `share_gpt_en` single-request datasets and `line_by_line`'s JSON lines,
 * end to end: a stub records the bodies the real CLI sends from local files.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub } from "./helpers/chat_stub.ts";

const CONVERSATIONS = [
  {
    conversation: [
      { human: "你好", assistant: "你好！有什么可以帮你？" },
      { human: "讲个笑话", assistant: "从前有座山……" },
      { human: "再讲一个", assistant: "不讲了" },
    ],
  },
  { conversation: [{ human: "  only one question  ", assistant: "an answer" }] },
  { conversation: [{ human: "", assistant: "no question" }] }, // skipped
  { conversation: [{ human: "a much longer final question here", assistant: "x" }] },
];

Deno.test("share_gpt_zh / share_gpt_en: the whole history as one request, ending with the user", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/common_zh_70k.jsonl`;
  await Deno.writeTextFile(path, CONVERSATIONS.map((c) => JSON.stringify(c)).join("\n") + "\n");
  const server = chatStub();
  try {
    for (const dataset of ["share_gpt_zh", "share_gpt_en"]) {
      server.requests.length = 0;
      await using r = await perfRun({
        server,
        // The last user message of the 4th conversation is 33 characters: filtered out.
        flags: { dataset, datasetPath: path, maxPromptLength: 30, noTestConnection: true },
      });
      assertEquals(r.code, 0, r.stderr);
      const sent = server.requests.map((q) => q.body.messages);
      assertEquals(sent, [
        [
          { role: "user", content: "你好" },
          { role: "assistant", content: "你好！有什么可以帮你？" },
          { role: "user", content: "讲个笑话" },
          { role: "assistant", content: "从前有座山……" },
          { role: "user", content: "再讲一个" },
        ],
        [{ role: "user", content: "only one question" }],
      ]);
    }
  } finally {
    await server.close();
  }
});

Deno.test("line_by_line: text lines, JSON message lists and JSON whole bodies", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/lines.txt`;
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "What is TTFT?" },
  ];
  const body = { messages: [{ role: "user", content: "own body" }], max_tokens: 7, seed: 1 };
  await Deno.writeTextFile(
    path,
    [
      "  a plain prompt  ",
      JSON.stringify(messages),
      "",
      JSON.stringify(body),
      "[not json] but text",
    ].join("\n"),
  );
  const server = chatStub();
  try {
    await using r = await perfRun({
      server,
      flags: {
        dataset: "line_by_line",
        datasetPath: path,
        maxTokens: 64,
        temperature: 0.5,
        noTestConnection: true,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const sent = server.requests.map((q) => q.body as Record<string, unknown>);
    assertEquals(sent.length, 4);
    assertEquals(sent[0].messages, [{ role: "user", content: "a plain prompt" }]);
    assertEquals(sent[1].messages, messages);
    // The whole body keeps its own fields; the flags fill in only what it lacks.
    assertEquals(sent[2].messages, body.messages);
    assertEquals(sent[2].max_tokens, 7);
    assertEquals(sent[2].seed, 1);
    assertEquals(sent[2].model, "m");
    assertEquals(sent[2].temperature, 0.5);
    assertEquals(sent[3].messages, [{ role: "user", content: "[not json] but text" }]);
    assert(sent.every((b) => b.model === "m"));
  } finally {
    await server.close();
  }
});

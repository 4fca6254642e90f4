/**
 * The `openai_embedding` and `openai_rerank` API plugins and their datasets end to end against
 * the mock, whose usage counts each input with its own token count (`mockTokenCount`): the
 * result DB's prompt tokens per request, the summary's input rows (Σ input / duration and
 * evalscope's Σ input / Σ latency, recomputed here from the DB), and evalscope's printed table.
 * A stub records the bodies the random datasets send.
 *
 * @module
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { rawServer } from "./helpers/raw_http.ts";
import { mockTokenCount } from "../src/mock/generator.ts";
import { startMockServer } from "../src/mock/server.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";

const TEXTS = ["the first text", "a second, longer text to embed", "third", "fourth one here"];

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

Deno.test("openai_embedding: one text per request, input tokens and input rows from the mock", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/texts.txt`;
  await Deno.writeTextFile(path, TEXTS.join("\n") + "\n\n");
  const mock = startMockServer({ port: 0, ttftMs: 30 });
  try {
    await using r = await perfRun({
      server: mock,
      path: "/v1/embeddings",
      flags: { api: "openai_embedding", dataset: "embedding", datasetPath: path, parallel: 2 },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number; completion_tokens: number; latency: number }>(
      "SELECT prompt_tokens, completion_tokens, latency FROM result ORDER BY request_id",
    );
    assertEquals(rows.map((x) => x.prompt_tokens), TEXTS.map(mockTokenCount));
    assertEquals(rows.map((x) => x.completion_tokens), [0, 0, 0, 0]);
    for (const x of rows) assert(x.latency >= 0.03, `latency ${x.latency} ≥ the mock's 30 ms`);
    const s = r.summary;
    const input = sum(rows.map((x) => x.prompt_tokens));
    const duration = s["Benchmark duration (s)"] as number;
    assertAlmostEquals(s["Input token throughput (tok/s)"] as number, input / duration, 1e-6);
    assertAlmostEquals(
      s["Per-request input rate (tok/s)"] as number,
      input / sum(rows.map((x) => x.latency)),
      1e-6,
    );
    assertEquals(s["Mean input tokens"], input / TEXTS.length);
    assert(r.stdout.includes("Embedding/rerank summary:"), r.stdout);
    assert(/Avg Inp\.TPS/.test(r.stdout));
  } finally {
    await mock.close();
  }
});

Deno.test("openai_embedding: embedding_batch sends batch_size texts, counted as one request", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/texts.jsonl`;
  await Deno.writeTextFile(
    path,
    TEXTS.map((t, i) => JSON.stringify(i % 2 ? { sentence: t } : { text: t })).join("\n"),
  );
  const mock = startMockServer({ port: 0 });
  try {
    await using r = await perfRun({
      server: mock,
      path: "/v1/embeddings",
      flags: {
        api: "openai_embedding",
        dataset: "embedding_batch",
        datasetPath: path,
        extraArgs: { batch_size: 3 },
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number }>(
      "SELECT prompt_tokens FROM result ORDER BY request_id",
    );
    assertEquals(rows.map((x) => x.prompt_tokens), [
      sum(TEXTS.slice(0, 3).map(mockTokenCount)),
      mockTokenCount(TEXTS[3]),
    ]);
  } finally {
    await mock.close();
  }
});

Deno.test("openai_rerank: query and documents, the mock's pair counts", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/rerank.jsonl`;
  const items = [
    { query: "what is a token", documents: ["a piece of text", "a coin"] },
    { query: "latency", passages: [{ text: "time to first token" }, "delay", "speed"] },
  ];
  await Deno.writeTextFile(path, items.map((x) => JSON.stringify(x)).join("\n"));
  const mock = startMockServer({ port: 0 });
  try {
    await using r = await perfRun({
      server: mock,
      path: "/v1/rerank",
      flags: { api: "openai_rerank", dataset: "rerank", datasetPath: path },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number }>(
      "SELECT prompt_tokens FROM result ORDER BY request_id",
    );
    const pairs = (q: string, docs: string[]) =>
      sum(docs.map((d) => mockTokenCount(q) + mockTokenCount(d)));
    assertEquals(rows.map((x) => x.prompt_tokens), [
      pairs(items[0].query, items[0].documents!),
      pairs(items[1].query, ["time to first token", "delay", "speed"]),
    ]);
    assert(r.stdout.includes("Embedding/rerank summary:"));
  } finally {
    await mock.close();
  }
});

Deno.test("random_embedding_batch and random_rerank: sizes and lengths of what is sent", async () => {
  const embeddings = JSON.stringify({ object: "list", data: [], usage: { prompt_tokens: 5 } });
  const rerank = JSON.stringify({ results: [], usage: { total_tokens: 9 } });
  const server = await rawServer(async (r) => {
    const body = r.req.head.includes("/rerank") ? rerank : embeddings;
    await r.write(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}` +
        `\r\n\r\n${body}`,
    );
  });
  try {
    await using e = await perfRun({
      server,
      path: "/v1/embeddings",
      flags: {
        api: "openai_embedding",
        dataset: "random_embedding_batch",
        number: 3,
        minPromptLength: 20,
        maxPromptLength: 30,
        extraArgs: { batch_size: 4 },
        noTestConnection: true,
      },
    });
    assertEquals(e.code, 0, e.stderr);
    const sent = server.requests.map((q) => JSON.parse(q.body));
    assertEquals(sent.length, 3);
    for (const b of sent) {
      assertEquals(b.input.length, 4);
      for (const t of b.input) assert(t.length >= 20 && t.length <= 30, `length ${t.length}`);
      assertEquals(b.batch_size, 4, "--extra-args goes into the body, as evalscope sends it");
    }
    server.requests.length = 0;
    await using k = await perfRun({
      server,
      path: "/v1/rerank",
      flags: {
        api: "openai_rerank",
        dataset: "random_rerank",
        number: 2,
        minPromptLength: 10,
        maxPromptLength: 10,
        extraArgs: { num_documents: 3, document_length_ratio: 2 },
        noTestConnection: true,
      },
    });
    assertEquals(k.code, 0, k.stderr);
    const reranks = server.requests.map((q) => JSON.parse(q.body));
    assertEquals(reranks.length, 2);
    for (const b of reranks) {
      assertEquals(b.query.length, 10);
      assertEquals(b.documents.map((d: string) => d.length), [20, 20, 20]);
    }
    assertEquals(k.summary["Mean input tokens"], 9);
  } finally {
    await server.close();
  }
});

Deno.test("a dataset whose items the API does not take: one line, exit 2", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/texts.txt`;
  await Deno.writeTextFile(path, "one\ntwo\n");
  await using r = await perfRun({
    url: "http://127.0.0.1:9/v1/chat/completions",
    flags: { dataset: "embedding", datasetPath: path, noTestConnection: true },
  });
  assertEquals(r.code, 2, r.stderr);
  assert(
    /--dataset 'embedding' yields texts to embed, which --api 'openai' does not take/.test(
      r.stderr,
    ),
    r.stderr,
  );
  assertEquals(r.stderr.includes("    at "), false, "no stack trace");
});

Deno.test("openai_embedding: no usage, --tokenizer-path counts the texts sent", async () => {
  const dir = await fixtureTokenizerDir("qwen3");
  const tok = await loadTokenizer(dir);
  const body = JSON.stringify({ object: "list", data: [{ index: 0, embedding: [0.5] }] });
  const server = await rawServer(async (r) => {
    await r.write(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}` +
        `\r\n\r\n${body}`,
    );
  });
  try {
    await using r = await perfRun({
      server,
      path: "/v1/embeddings",
      flags: {
        api: "openai_embedding",
        prompt: "Embeddings turn text into vectors.",
        number: 2,
        tokenizerPath: dir,
        noTestConnection: true,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number; completion_tokens: number; token_source: string }>(
      "SELECT prompt_tokens, completion_tokens, token_source FROM result",
    );
    const want = tok.encodeWithSpecial("Embeddings turn text into vectors.").length;
    for (const x of rows) {
      assertEquals([x.prompt_tokens, x.completion_tokens, x.token_source], [want, 0, "tokenizer"]);
    }
  } finally {
    await server.close();
  }
});

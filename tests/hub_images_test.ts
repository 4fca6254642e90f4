/**
 * The hub image datasets end to end, `flickr8k` (WebDataset tar shards of `.jpg` + `.txt`) and
 * `kontext_bench` (an image folder with `metadata.jsonl`, or Parquet): fixtures written here (a
 * hand-made tar, JPEG-structured bytes, a Parquet file from `hyparquet-writer`) are served by a
 * stub hub on 127.0.0.1 (as `HF_ENDPOINT` and `LLMPERF_MODELSCOPE_ENDPOINT`) or given as
 * `--dataset-path`; the real CLI runs against a chat stub, and what the stub received is
 * compared with the fixtures: each request's text and the exact image bytes decoded from its
 * data URL. Which hub files were asked for shows what `--number` downloads.
 *
 * @module
 */
import { parquetWriteBuffer } from "hyparquet-writer";
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { jpegOf, tarOf } from "./helpers/fixture_files.ts";
import { hfPath, hubEnv, msPath, stubHub } from "./helpers/stub_hub.ts";
import { startMockServer } from "../src/mock/server.ts";

const enc = new TextEncoder();

/** The user content of a body, as these tests read it. */
type Content = Array<{ type: string; text?: string; image_url?: { url: string } }>;

/** Each request's text and image bytes (from a `data:` URL of `mime`), in arrival order. */
function sent(stub: { requests: { body: Record<string, unknown> }[] }, mime: string) {
  return stub.requests.map((q) => {
    const [m] = q.body.messages as Array<{ role: string; content: Content }>;
    assertEquals(m.role, "user");
    assertEquals(m.content.map((p) => p.type), ["text", "image_url"]);
    const url = m.content[1].image_url!.url;
    const prefix = `data:${mime};base64,`;
    assert(url.startsWith(prefix), url.slice(0, 40));
    const bytes = Uint8Array.from(atob(url.slice(prefix.length)), (c) => c.charCodeAt(0));
    return { text: m.content[0].text, bytes };
  });
}

// Flickr8k: two shards, the first of three samples, the second of one; captions as
// clip_benchmark writes them (the image's captions joined by newlines).
const FLICKR = "clip-benchmark/wds_flickr8k";
const SAMPLES = [
  { key: "s0000000", text: "A dog runs.\nA brown dog runs on grass.", jpg: jpegOf(500, 375, 1) },
  { key: "s0000001", text: "Two children play.", jpg: jpegOf(333, 500, 2) },
  { key: "s0000002", text: "A man on a bike.", jpg: jpegOf(56, 28, 3) },
  { key: "s0000003", text: "A red boat.", jpg: jpegOf(100, 100, 4) },
];
const shardOf = (s: typeof SAMPLES) =>
  tarOf(s.flatMap((x) => [[`${x.key}.jpg`, x.jpg], [`${x.key}.txt`, enc.encode(x.text)]] as const));
const SHARDS = [shardOf(SAMPLES.slice(0, 3)), shardOf(SAMPLES.slice(3))];

Deno.test("flickr8k e2e: hub shards read as needed, captions and exact JPEG bytes", async () => {
  const files: Record<string, Uint8Array<ArrayBuffer> | string> = {};
  for (const path of [hfPath, msPath]) {
    files[path(FLICKR, "test/nshards.txt")] = "2\n";
    SHARDS.forEach((tar, i) => files[path(FLICKR, `test/${i}.tar`)] = tar);
  }
  const hub = stubHub(files);
  const stub = chatStub();
  await using tmp = await tempDir();
  const env = hubEnv(hub, `${tmp.path}/cache`);
  try {
    // --number 3: the first shard holds them all; the second is never downloaded.
    await using hf = await perfRun({
      server: stub,
      flags: { dataset: "flickr8k", number: 3, noTestConnection: true },
      args: ["--data-source", "huggingface"],
      env,
    });
    assertEquals(hf.code, 0, hf.stderr);
    assertEquals(hub.paths, [hfPath(FLICKR, "test/nshards.txt"), hfPath(FLICKR, "test/0.tar")]);
    const three = sent(stub, "image/jpeg");
    assertEquals(three.map((r) => r.text), SAMPLES.slice(0, 3).map((s) => s.text));
    three.forEach((r, i) => assertEquals(r.bytes, SAMPLES[i].jpg));

    // ModelScope (the default hub), no --number: one pass over both shards.
    stub.requests.length = 0;
    hub.paths.length = 0;
    await using ms = await perfRun({
      server: stub,
      flags: { dataset: "flickr8k", noTestConnection: true },
      env,
    });
    assertEquals(ms.code, 0, ms.stderr);
    assertEquals(hub.paths, [
      msPath(FLICKR, "test/nshards.txt"),
      msPath(FLICKR, "test/0.tar"),
      msPath(FLICKR, "test/1.tar"),
    ]);
    const all = sent(stub, "image/jpeg");
    assertEquals(all.map((r) => r.text), SAMPLES.map((s) => s.text));
    all.forEach((r, i) => assertEquals(r.bytes, SAMPLES[i].jpg));
  } finally {
    await hub.close();
    await stub.close();
  }
});

Deno.test("flickr8k e2e: a hub without test/nshards.txt is read until a shard is missing", async () => {
  const hub = stubHub({
    [hfPath(FLICKR, "test/0.tar")]: SHARDS[0],
    [hfPath(FLICKR, "test/1.tar")]: SHARDS[1],
  });
  const stub = chatStub();
  await using tmp = await tempDir();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { dataset: "flickr8k", noTestConnection: true },
      args: ["--data-source", "huggingface"],
      env: hubEnv(hub, tmp.path),
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      hub.paths,
      ["nshards.txt", "0.tar", "1.tar", "2.tar"].map((f) => hfPath(FLICKR, `test/${f}`)),
    );
    assertEquals(sent(stub, "image/jpeg").map((x) => x.bytes), SAMPLES.map((s) => s.jpg));
  } finally {
    await hub.close();
    await stub.close();
  }
});

Deno.test("flickr8k e2e: --dataset-path shards, no usage: image tokens from the JPEG headers", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(`${tmp.path}/wds/test`, { recursive: true });
  // Named so that text order (10 before 2) differs from number order.
  await Deno.writeFile(`${tmp.path}/wds/test/2.tar`, SHARDS[0]);
  await Deno.writeFile(`${tmp.path}/wds/test/10.tar`, SHARDS[1]);
  const mock = startMockServer({ port: 0, usage: false, outputTokens: 2 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { dataset: "flickr8k", datasetPath: `${tmp.path}/wds` },
      args: ["--image-patch-size", "28"],
      env: { LLMPERF_MODELSCOPE_ENDPOINT: "http://127.0.0.1:9", LLMPERF_CACHE_DIR: tmp.path },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number }>("SELECT prompt_tokens FROM result ORDER BY 1");
    // ceil(h/28)·ceil(w/28) per image: 500×375 → 14·18, 333×500 → 18·12, 56×28 → 1·2,
    // 100×100 → 4·4 (text counts nothing without usage or a tokenizer).
    assertEquals(rows.map((x) => x.prompt_tokens), [2, 16, 216, 252]);
    // One shard file alone is a dataset too.
    await using one = await perfRun({
      server: mock,
      flags: { dataset: "flickr8k", datasetPath: `${tmp.path}/wds/test/10.tar` },
    });
    assertEquals(one.code, 0, one.stderr);
    assertEquals(one.sql("SELECT prompt_tokens FROM result").length, 1);
  } finally {
    await mock.close();
  }
});

// Kontext-Bench: an image folder (test/metadata.jsonl + test/images/), one row without an
// instruction, one PNG among the JPEGs.
const KONTEXT = "black-forest-labs/kontext-bench";
const PNG = Uint8Array.from([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0,
  0,
  0,
  13,
  0x49,
  0x48,
  0x44,
  0x52,
  0,
  0,
  0,
  64,
  0,
  0,
  0,
  32,
  8,
  2,
  0,
  0,
  0,
  1,
  2,
  3,
  4,
]);
const ROWS = [
  { file: "images/0000.jpg", instruction: "Make the sky purple", bytes: jpegOf(640, 480, 5) },
  { file: "images/0001.png", instruction: undefined, bytes: PNG },
  { file: "images/0002.jpg", instruction: "Add a hat to the cat", bytes: jpegOf(64, 64, 6) },
];
const METADATA = ROWS.map((r, i) =>
  JSON.stringify({ file_name: r.file, instruction: r.instruction, category: "c", key: `k${i}` })
).join("\n");

Deno.test("kontext_bench e2e: hub metadata, the images --number needs, exact bytes", async () => {
  const files: Record<string, Uint8Array<ArrayBuffer> | string> = {
    [hfPath(KONTEXT, "test/metadata.jsonl")]: METADATA,
  };
  for (const r of ROWS) files[hfPath(KONTEXT, `test/${r.file}`)] = r.bytes;
  const hub = stubHub(files);
  const stub = chatStub();
  await using tmp = await tempDir();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { dataset: "kontext_bench", number: 2, noTestConnection: true },
      args: ["--data-source", "huggingface"],
      env: { HF_ENDPOINT: hub.url, LLMPERF_CACHE_DIR: `${tmp.path}/cache` },
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(hub.paths.sort(), [
      hfPath(KONTEXT, "test/images/0000.jpg"),
      hfPath(KONTEXT, "test/images/0001.png"),
      hfPath(KONTEXT, "test/metadata.jsonl"),
    ]);
    const jpeg = sent({ requests: stub.requests.slice(0, 1) }, "image/jpeg");
    assertEquals(jpeg, [{ text: "Make the sky purple", bytes: ROWS[0].bytes }]);
    const png = sent({ requests: stub.requests.slice(1) }, "image/png");
    assertEquals(png, [{ text: "Describe the image", bytes: PNG }]);
    const lines = r.stderr.split("\n").filter((l) => l.includes("downloading"));
    assertEquals(lines.length, 2, "one line for the metadata, one for the images");
  } finally {
    await hub.close();
    await stub.close();
  }
});

Deno.test("kontext_bench e2e: --dataset-path Parquet (the datasets Image struct) and a folder", async () => {
  await using tmp = await tempDir();
  const buf = parquetWriteBuffer({
    columnData: [
      { name: "image", data: ROWS.map((r) => ({ bytes: r.bytes, path: r.file })) },
      { name: "instruction", data: ROWS.map((r) => r.instruction ?? null) },
    ],
    schema: [
      { name: "schema", num_children: 2 },
      { name: "image", repetition_type: "OPTIONAL", num_children: 2 },
      { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
      { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      {
        name: "instruction",
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        repetition_type: "OPTIONAL",
      },
    ],
    rowGroupSize: 2, // two row groups: read one at a time
  });
  await Deno.writeFile(`${tmp.path}/test.parquet`, new Uint8Array(buf));
  await Deno.mkdir(`${tmp.path}/kb/test/images`, { recursive: true });
  await Deno.writeTextFile(`${tmp.path}/kb/test/metadata.jsonl`, METADATA);
  for (const r of ROWS) await Deno.writeFile(`${tmp.path}/kb/test/${r.file}`, r.bytes);
  const stub = chatStub();
  const mimes = ["image/jpeg", "image/png", "image/jpeg"];
  const expected = ROWS.map((r) => ({
    text: r.instruction ?? "Describe the image",
    bytes: r.bytes,
  }));
  try {
    for (const path of [`${tmp.path}/test.parquet`, `${tmp.path}/kb`]) {
      stub.requests.length = 0;
      await using r = await perfRun({
        server: stub,
        flags: { dataset: "kontext_bench", datasetPath: path, noTestConnection: true },
        env: { LLMPERF_MODELSCOPE_ENDPOINT: "http://127.0.0.1:9", LLMPERF_CACHE_DIR: tmp.path },
      });
      assertEquals(r.code, 0, r.stderr);
      const got = stub.requests.map((q, i) => sent({ requests: [q] }, mimes[i])[0]);
      assertEquals(got, expected, path);
    }
  } finally {
    await stub.close();
  }
});

Deno.test("hub image datasets: a file that is no shard, a file_name outside the folder: exit 2", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/notes.tar`, "not a tar archive\n");
  await Deno.writeTextFile(
    `${tmp.path}/metadata.jsonl`,
    JSON.stringify({ file_name: "../secret.jpg", instruction: "x" }),
  );
  const stub = chatStub();
  try {
    const cases = [
      ["flickr8k", `${tmp.path}/notes.tar`, "no WebDataset samples with a .jpg"],
      ["kontext_bench", `${tmp.path}/metadata.jsonl`, "leaves the dataset's folder"],
    ];
    for (const [dataset, datasetPath, says] of cases) {
      await using r = await perfRun({
        server: stub,
        flags: { dataset, datasetPath, noTestConnection: true },
      });
      assertEquals(r.code, 2, r.stderr);
      assert(r.stderr.includes(says) && !r.stderr.includes("    at "), r.stderr);
    }
    assertEquals(stub.requests.length, 0);
  } finally {
    await stub.close();
  }
});

/**
 * The built-in datasets `custom` and `speed_benchmark`, and the default files of `openqa` and
 * `longalpaca` downloaded from a ModelScope hub (a local server standing in for it), cached, and
 * a clear one-line error when the hub cannot be reached.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import CustomDataset, { splitFieldSpec } from "../plugins/datasets/custom.ts";
import SpeedBenchmarkDataset, {
  SPEED_TOKEN,
  SpeedBenchmarkLongDataset,
} from "../plugins/datasets/speed_benchmark.ts";
import {
  MODELSCOPE_DEFAULT_ENDPOINT,
  modelscopeDatasetFile,
  modelscopeFileUrl,
} from "../src/datasets/modelscope.ts";
import { resolveConfig } from "../src/config.ts";
import { RunError } from "../src/errors.ts";
import { silentLogger } from "../src/log.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { DatasetPluginLike, Message } from "../src/plugins/types.ts";

async function collect(d: DatasetPluginLike): Promise<Message[][]> {
  const out: Message[][] = [];
  for await (const m of d.buildMessages()) out.push(m as Message[]); // these yield message lists
  return out;
}

async function custom(path: string | undefined): Promise<Message[][]> {
  const cfg = resolveConfig({ model: "m", datasetPath: path });
  return await collect(new CustomDataset(cfg));
}

const user = (content: string) => [{ role: "user", content }];

Deno.test("custom: plain lines, or JSON Lines with the field found or named after #", async () => {
  await using tmp = await tempDir();
  const write = async (name: string, text: string) => {
    await Deno.writeTextFile(`${tmp.path}/${name}`, text);
    return `${tmp.path}/${name}`;
  };
  const plain = await write("p.txt", "  first prompt \n\nsecond prompt\n");
  assertEquals(await custom(plain), [user("first prompt"), user("second prompt")]);

  const jsonl = await write(
    "q.jsonl",
    '{"id": 1, "question": " Why? ", "meta": {"ask": "deep one"}}\n\n' +
      '{"id": 2, "question": "How?", "meta": {"ask": "deep two"}}\n',
  );
  assertEquals(await custom(jsonl), [user("Why?"), user("How?")]);
  assertEquals(await custom(`${jsonl}#meta.ask`), [user("deep one"), user("deep two")]);

  const chats = [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }];
  const multi = await write(
    "m.jsonl",
    JSON.stringify({ messages: chats, prompt: "unused" }) + "\n",
  );
  assertEquals(await custom(multi), [chats]);

  // A file whose name has a '#' is that file.
  const hashed = await write("odd#name.txt", "from the odd file\n");
  assertEquals(await custom(hashed), [user("from the odd file")]);
  assertEquals(await splitFieldSpec(`${jsonl}#text`), { path: jsonl, field: "text" });
});

Deno.test("custom: errors name the file and line", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/d.jsonl`;
  await Deno.writeTextFile(path, '{"question": "ok"}\n{"answer": "no question"}\n');
  await assertRejects(() => custom(path), Error, `${path}:2: no prompt field`);
  await assertRejects(() => custom(`${path}#prompt`), Error, `${path}:1: no field 'prompt'`);
  await Deno.writeTextFile(path, '{"question": "ok"}\n{not json\n');
  await assertRejects(() => custom(path), Error, `${path}:2: not valid JSON`);
  await Deno.writeTextFile(`${tmp.path}/t.txt`, "plain\n");
  await assertRejects(() => custom(`${tmp.path}/t.txt#field`), Error, "not JSON Lines");
  await assertRejects(() => custom(undefined), Error, "custom needs --dataset-path");
});

Deno.test("speed_benchmark: evalscope's lengths, twice each, never length-filtered", async () => {
  const cfg = resolveConfig({ model: "m" });
  const ds = new SpeedBenchmarkDataset(cfg);
  const prompts = await collect(ds);
  assertEquals(
    prompts.map((m) => (m[0].content as string).length),
    [1, 1, 6144, 6144, 14336, 14336, 30720, 30720],
  );
  assert(prompts.every((m) => m.length === 1 && (m[0].content as string).startsWith(SPEED_TOKEN)));
  assertEquals(ds.lengthFiltered, true);
  const long = await collect(new SpeedBenchmarkLongDataset(cfg));
  assertEquals(long.map((m) => (m[0].content as string).length), [63488, 63488, 129024, 129024]);
});

/** A stand-in for the ModelScope hub: serves `files` at the library's download URLs. */
function fakeHub(files: Record<string, string>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const u = new URL(req.url);
    requests.push(u.pathname + u.search);
    const m = /^\/api\/v1\/datasets\/([^/]+)\/([^/]+)\/repo$/.exec(u.pathname);
    const key = m ? `${m[1]}/${m[2]}/${u.searchParams.get("FilePath")}` : "";
    const body = u.searchParams.get("Revision") === "master" ? files[key] : undefined;
    return body === undefined
      ? new Response('{"Code": 10010205001, "Message": "not found"}', { status: 404 })
      : new Response(body);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, close: () => server.shutdown() };
}

const QA = ['{"question": "hub question one"}', '{"question": "hub question two"}'].join("\n");

Deno.test("modelscope: the library's download URL, a cached download, one-line failures", async () => {
  assertEquals(
    modelscopeFileUrl(
      "AI-ModelScope/HC3-Chinese",
      "open_qa.jsonl",
      "master",
      MODELSCOPE_DEFAULT_ENDPOINT,
    ),
    "https://www.modelscope.cn/api/v1/datasets/AI-ModelScope/HC3-Chinese/repo?Revision=master&FilePath=open_qa.jsonl",
  );
  const hub = fakeHub({ "AI-ModelScope/HC3-Chinese/open_qa.jsonl": QA });
  await using tmp = await tempDir();
  const opts = { endpoint: hub.url, cacheDir: tmp.path, log: silentLogger };
  try {
    const path = await modelscopeDatasetFile("AI-ModelScope/HC3-Chinese", "open_qa.jsonl", opts);
    assertEquals(path, `${tmp.path}/datasets/AI-ModelScope/HC3-Chinese/open_qa.jsonl`);
    assertEquals(await Deno.readTextFile(path), QA);
    await modelscopeDatasetFile("AI-ModelScope/HC3-Chinese", "open_qa.jsonl", opts);
    assertEquals(hub.requests, [
      "/api/v1/datasets/AI-ModelScope/HC3-Chinese/repo?Revision=master&FilePath=open_qa.jsonl",
    ]);
    const e = await assertRejects(
      () => modelscopeDatasetFile("AI-ModelScope/HC3-Chinese", "absent.jsonl", opts),
      RunError,
      "HTTP 404",
    );
    assert(e.message.includes("--dataset-path") && !e.message.includes("\n"), e.message);
    const names = [...Deno.readDirSync(`${tmp.path}/datasets/AI-ModelScope/HC3-Chinese`)].map((d) =>
      d.name
    );
    assertEquals(names, ["open_qa.jsonl"], "no partial file left behind");
  } finally {
    await hub.close();
  }
  await assertRejects(
    () => modelscopeDatasetFile("a/b", "c.json", { ...opts, cacheDir: `${tmp.path}/x` }),
    RunError,
    "connection refused",
  );
});

Deno.test("e2e: openqa and longalpaca with no --dataset-path download from the hub", async () => {
  const hub = fakeHub({
    "AI-ModelScope/HC3-Chinese/open_qa.jsonl": QA,
    "AI-ModelScope/LongAlpaca-12k/LongAlpaca-12k.json": JSON.stringify([
      { instruction: "long instruction one", output: "x" },
      { instruction: "long instruction two", output: "y" },
    ]),
  });
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  await using tmp = await tempDir();
  const env = { LLMPERF_MODELSCOPE_ENDPOINT: hub.url, LLMPERF_CACHE_DIR: `${tmp.path}/cache` };
  const perf = (dataset: string, extraEnv: Record<string, string> = {}) =>
    perfRun({ server: mock, flags: { dataset }, env: { ...env, ...extraEnv } });
  try {
    for (const dataset of ["openqa", "longalpaca", "openqa"]) {
      await using r = await perf(dataset);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.summary["Succeed requests"], 2, `${dataset}: one pass over the 2 prompts`);
    }
    // The second openqa run read the cache: two downloads in all.
    assertEquals(hub.requests.length, 2);
    assert(hub.requests[1].includes("FilePath=LongAlpaca-12k.json"), hub.requests[1]);
  } finally {
    await hub.close();
  }
  try {
    // Offline: the hub is gone and nothing is cached for this folder.
    await using r = await perf("openqa", { LLMPERF_CACHE_DIR: `${tmp.path}/empty` });
    assertEquals(r.code, 1, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => l.includes("error:"));
    assertEquals(errors.length, 1, r.stderr);
    assert(
      errors[0].includes("--dataset 'openqa': cannot download open_qa.jsonl") &&
        errors[0].includes("connection refused") && errors[0].includes("--dataset-path"),
      errors[0],
    );
  } finally {
    await mock.close();
  }
});

/**
 * `--data-source`: the default dataset file of `openqa` from the Hugging Face hub (a local stub
 * as `HF_ENDPOINT`, answering the `huggingface_hub` download path) or from ModelScope (a stub as
 * its endpoint), and `local`, which downloads nothing.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub, firstContent } from "./helpers/chat_stub.ts";
import { hubEnv, stubHub } from "./helpers/stub_hub.ts";
import { huggingfaceFileUrl } from "../src/datasets/hub.ts";

const QA = ['{"question": "hf one"}', '{"question": "hf two"}'].join("\n");

Deno.test("hub: the Hugging Face download URL of huggingface_hub", () => {
  assertEquals(
    huggingfaceFileUrl("AI-ModelScope/HC3-Chinese", "open_qa.jsonl", "main", "https://hf.co"),
    "https://hf.co/datasets/AI-ModelScope/HC3-Chinese/resolve/main/open_qa.jsonl",
  );
});

Deno.test("--data-source e2e: huggingface via HF_ENDPOINT, modelscope, local", async () => {
  const hub = stubHub({
    "/datasets/AI-ModelScope/HC3-Chinese/resolve/main/open_qa.jsonl": QA,
    "/api/v1/datasets/AI-ModelScope/HC3-Chinese/repo?Revision=master&FilePath=open_qa.jsonl": QA
      .replaceAll("hf", "ms"),
  });
  const stub = chatStub();
  await using tmp = await tempDir();
  const env = hubEnv(hub, `${tmp.path}/cache`);
  const flags = { prompt: null, dataset: "openqa", noTestConnection: true };
  const sent = () => stub.requests.map(firstContent);
  try {
    await using hf = await perfRun({
      server: stub,
      flags,
      args: ["--data-source", "huggingface"],
      env,
    });
    assertEquals(hf.code, 0, hf.stderr);
    assertEquals(sent(), ["hf one", "hf two"]);
    await using ms = await perfRun({ server: stub, flags, env });
    assertEquals(ms.code, 0, ms.stderr);
    assertEquals(sent().slice(2), ["ms one", "ms two"], "the default hub is ModelScope");
    assertEquals(hub.paths.length, 2);
    await using local = await perfRun({
      server: stub,
      flags,
      args: ["--data-source", "local"],
      env,
    });
    assertEquals(local.code, 2, local.stderr);
    assert(local.stderr.includes("--data-source local: give --dataset-path FILE"), local.stderr);
    assertEquals(hub.paths.length, 2, "local downloads nothing");
  } finally {
    await hub.close();
    await stub.close();
  }
});

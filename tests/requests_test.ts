import { assertEquals, assertRejects } from "./assert.ts";
import { RequestSource } from "../src/load/requests.ts";
import { resolveConfig } from "../src/config.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import type { Message } from "../src/plugins/types.ts";

const prompts = (texts: string[]) => ({
  kind: "dataset" as const,
  name: "t",
  plugin: { buildMessages: () => texts.map((t): Message[] => [{ role: "user", content: t }]) },
});

async function drain(src: RequestSource): Promise<string[]> {
  const out: string[] = [];
  for (let j = await src.next(); j; j = await src.next()) {
    out.push((j.body.messages as Message[])[0].content as string);
  }
  return out;
}

Deno.test("requests: one pass over the dataset without --number", async () => {
  const cfg = resolveConfig({ model: "m" });
  const src = new RequestSource(cfg, new OpenAIApi(cfg), prompts(["a1", "b22", "c333"]), () => {});
  assertEquals(await drain(src), ["a1", "b22", "c333"]);
  assertEquals(src.dispatched, 3);
});

Deno.test("requests: --number beyond the dataset cycles it and says so once", async () => {
  const cfg = resolveConfig({ model: "m", number: 7 });
  const logs: string[] = [];
  const src = new RequestSource(
    cfg,
    new OpenAIApi(cfg),
    prompts(["a", "b", "c"]),
    (l) => logs.push(l),
  );
  assertEquals(await drain(src), ["a", "b", "c", "a", "b", "c", "a"]);
  assertEquals(logs.length, 1);
  assertEquals(logs[0].includes("cycling"), true);
});

Deno.test("requests: --min/--max-prompt-length keep strictly-between lengths", async () => {
  const cfg = resolveConfig({ model: "m", minPromptLength: 2, maxPromptLength: 5 });
  const src = new RequestSource(
    cfg,
    new OpenAIApi(cfg),
    prompts(["ab", "abc", "abcd", "abcde", "x"]),
    () => {},
  );
  assertEquals(await drain(src), ["abc", "abcd"]);
  assertEquals(src.filtered, 3);
});

Deno.test("requests: a dataset with no usable prompts is a clear error", async () => {
  const cfg = resolveConfig({ model: "m", number: 3, minPromptLength: 100 });
  const src = new RequestSource(cfg, new OpenAIApi(cfg), prompts(["short"]), () => {});
  await assertRejects(() => src.next(), Error, "outside --min/--max-prompt-length");
});

Deno.test("requests: --prompt is sent --number times with headers and the API key", async () => {
  const cfg = resolveConfig({
    model: "m",
    number: 2,
    apiKey: "sk-x",
    headers: { "X-Team": "a" },
    stream: true,
  });
  const src = new RequestSource(cfg, new OpenAIApi(cfg), {
    kind: "prompt",
    messages: [{ role: "user", content: "hi" }],
  }, () => {});
  const j = (await src.next())!;
  assertEquals(j.prepared.headers["authorization"], "Bearer sk-x");
  assertEquals(j.prepared.headers["x-team"], "a");
  assertEquals(j.prepared.stream, true);
  assertEquals(JSON.parse(j.prepared.body).stream_options, { include_usage: true });
  assertEquals((await src.next())!.index, 1);
  assertEquals(await src.next(), undefined);
});

Deno.test("requests: the shards of --shard I/N together hand out the unsharded list, each request at its global index", async () => {
  const texts = ["a", "bb", "ccc", "dddd", "eeeee"];
  const list = async (shard?: string) => {
    const cfg = resolveConfig({ model: "m", number: 12, parallel: 3, shard });
    const src = new RequestSource(cfg, new OpenAIApi(cfg), prompts(texts), () => {});
    const jobs: Array<[number, string]> = [];
    for (let j = await src.next(); j; j = await src.next()) jobs.push([j.index, j.prepared.body]);
    return { jobs, expected: src.expected };
  };
  const whole = await list();
  assertEquals(whole.jobs.map(([i]) => i), [...Array(12).keys()]);
  const shards = await Promise.all(["0/3", "1/3", "2/3"].map(list));
  shards.forEach(({ jobs, expected }, s) => {
    assertEquals(jobs.map(([i]) => i), [...Array(12).keys()].filter((i) => i % 3 === s));
    assertEquals(expected, 4);
  });
  // The same request (byte for byte) at the same global index: the dataset cycles the same way.
  const union = shards.flatMap((s) => s.jobs).sort((a, b) => a[0] - b[0]);
  assertEquals(union, whole.jobs);
});

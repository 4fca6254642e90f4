/**
 * `--query-template` and `--extra-args`: parsing, `%m`/`%p`, messages replacement, the
 * precedence defaults < template < given flags < extra args, `stream` in the template, and one
 * run with the real CLI whose request bodies are captured on their way to the mock.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { captureProxy } from "./helpers/capture_proxy.ts";
import {
  bodyBuilder,
  fillTemplate,
  loadQueryTemplate,
  mergeBodies,
  promptOf,
  substitute,
  withTemplateStream,
} from "../src/load/template.ts";
import { givenKeys, type PerfConfigInput, resolveConfig } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import DashScopeApi from "../plugins/api/dashscope.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { ApiPluginLike, Message, PluginParams } from "../src/plugins/types.ts";

const MSGS: Message[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "What is a token?" },
];

Deno.test("template: JSON text or @file, one object, one-line errors", async () => {
  assertEquals(await loadQueryTemplate('{"a": 1}'), { a: 1 });
  assertEquals(await loadQueryTemplate({ b: 2 }), { b: 2 });
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, '{"model": "%m", "messages": []}');
    assertEquals(await loadQueryTemplate(`@${path}`), { model: "%m", messages: [] });
  } finally {
    await Deno.remove(path);
  }
  await assertRejects(
    () => loadQueryTemplate("{model: x}"),
    UsageError,
    "--query-template: not valid JSON",
  );
  await assertRejects(
    () => loadQueryTemplate("[1]"),
    UsageError,
    "must be a JSON object, got an array",
  );
  await assertRejects(
    () => loadQueryTemplate("@/no/such.json"),
    UsageError,
    "cannot read the file",
  );
});

Deno.test("template: %m and %p in every string, messages replaced where the template has them", () => {
  assertEquals(promptOf(MSGS), "What is a token?");
  assertEquals(
    promptOf([{ role: "user", content: [{ type: "text", text: "a" }, { type: "image_url" }] }]),
    "a",
  );
  assertEquals(
    substitute({ m: "%m", deep: [{ p: "say: %p!" }], n: 3, keep: "100%" }, "qwen %p", "hi"),
    { m: "qwen %p", deep: [{ p: "say: hi!" }], n: 3, keep: "100%" },
  );
  const t = { model: "%m", messages: [{ role: "user", content: "old" }], extra: "%p" };
  assertEquals(fillTemplate(t, "qwen", MSGS), {
    model: "qwen",
    messages: MSGS,
    extra: "What is a token?",
  });
  assertEquals(t.messages[0].content, "old", "the template itself is not changed");
  assertEquals(fillTemplate({ input: { messages: [] } }, "q", MSGS), { input: { messages: MSGS } });
  assertEquals(fillTemplate({ prompt: "%p" }, "q", MSGS), { prompt: "What is a token?" });
});

Deno.test("template: bodies merge objects at every depth, other values replace", () => {
  assertEquals(
    mergeBodies({ a: 1, o: { x: 1, y: [1] }, s: "s" }, {
      o: { y: [2], z: 3 },
      s: undefined,
      n: null,
    }),
    { a: 1, o: { x: 1, y: [2], z: 3 }, s: "s", n: null },
  );
});

Deno.test("template: its stream switches streaming unless --stream was given", () => {
  const cfg = resolveConfig({ model: "m" });
  assertEquals(withTemplateStream(cfg, { stream: true }, givenKeys({ model: "m" })).stream, true);
  assertEquals(cfg.stream, false, "the resolved config itself is never changed");
  const given = resolveConfig({ model: "m", stream: false });
  const kept = withTemplateStream(
    given,
    { stream: true },
    givenKeys({ model: "m", stream: false }),
  );
  assertEquals(kept.stream, false);
});

function build(
  input: PerfConfigInput,
  template?: Record<string, unknown>,
  api: new (p: PluginParams) => ApiPluginLike = OpenAIApi,
) {
  const given = givenKeys(input);
  const cfg = withTemplateStream(resolveConfig(input), template, given);
  const plugin = new api(cfg);
  const b = bodyBuilder(plugin, { template, extraArgs: cfg.extraArgs, given });
  return b ? b(MSGS, cfg) : plugin.buildRequest(MSGS, cfg);
}

Deno.test("template: defaults < template fields < given flags < --extra-args", async () => {
  const template = {
    model: "%m",
    messages: [],
    max_tokens: 100,
    temperature: 0.1,
    top_k: 5,
    stream: true,
  };
  const body = await build({ model: "qwen", temperature: 0.7 }, template);
  assertEquals(body, {
    messages: MSGS, // the dataset's
    model: "qwen", // --model
    max_tokens: 100, // the template's, not the 2048 default
    seed: 42, // a default the template does not set
    stream: true, // switched on by the template
    stream_options: { include_usage: true },
    temperature: 0.7, // the given flag
    top_k: 5, // only the template has it
  });
  const flagged = await build({
    model: "qwen",
    maxTokens: 9,
    extra_args: '{"top_k": 1, "ignore_eos": true}',
  }, template);
  assertEquals([flagged?.max_tokens, flagged?.top_k, flagged?.ignore_eos], [9, 1, true]);
  // Without a template, --extra-args alone goes over the plugin's body.
  const extra = await build({
    model: "qwen",
    extraArgs: { max_tokens: 5, stream_options: { x: 1 } },
  });
  assertEquals([extra?.max_tokens, extra?.stream_options], [5, { x: 1 }]);
});

Deno.test("template: DashScope's nested parameters merge with the template's", async () => {
  const body = await build(
    { model: "qwen-turbo", topP: 0.5 },
    { input: { messages: [] }, parameters: { top_k: 3, max_tokens: 50, top_p: 0.9 } },
    DashScopeApi,
  );
  assertEquals(body, {
    model: "qwen-turbo",
    input: { messages: MSGS },
    parameters: { result_format: "message", max_tokens: 50, seed: 42, top_p: 0.5, top_k: 3 },
  });
});

Deno.test("--extra-args: JSON object text (the CLI's) or an object, else one line", () => {
  assertEquals(resolveConfig({ model: "m", extra_args: '{"a": [1]}' }).extraArgs, { a: [1] });
  assertEquals(resolveConfig({ model: "m", extraArgs: { b: 1 } }).extraArgs, { b: 1 });
  assertThrows(
    () => resolveConfig({ model: "m", extra_args: "{a" }),
    UsageError,
    "--extra-args: not valid JSON",
  );
  assertThrows(
    () => resolveConfig({ model: "m", extra_args: "3" }),
    UsageError,
    "must be a JSON object, got a number",
  );
});

Deno.test("e2e: --query-template @file and --extra-args shape every body the CLI sends", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4, itlMs: 1 });
  const proxy = captureProxy(mock.url); // records each body on its way to the mock
  await using tmp = await tempDir();
  try {
    const template = `${tmp.path}/template.json`;
    await Deno.writeTextFile(
      template,
      JSON.stringify({
        model: "%m",
        messages: [{ role: "user", content: "replaced by the dataset" }],
        max_tokens: 3,
        temperature: 0.2,
        stream: true,
        user: "%m asks: %p",
      }),
    );
    await using r = await perfRun({
      server: proxy,
      flags: {
        model: "tpl-model",
        prompt: "hello template",
        number: 3,
        temperature: 0.9,
        queryTemplate: `@${template}`,
        extraArgs: '{"ignore_eos": true}',
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const sent = proxy.bodies.filter((b) => b.max_tokens !== 1); // not a one-token start-up check
    assertEquals(sent.length, 3);
    for (const b of sent) {
      assertEquals(b.model, "tpl-model");
      assertEquals(b.messages, [{ role: "user", content: "hello template" }]);
      assertEquals(b.max_tokens, 3);
      assertEquals(b.temperature, 0.9);
      assertEquals(b.stream, true);
      assertEquals(b.stream_options, { include_usage: true });
      assertEquals(b.user, "tpl-model asks: hello template");
      assertEquals(b.ignore_eos, true);
    }
    const s = r.summary;
    assertEquals(s["Succeed requests"], 3);
    assertEquals(s["Average output tokens per request"], 3);
    const args = r.args;
    assertEquals(args.stream, true, "the template switched streaming on");
    assertEquals(args.extra_args, { ignore_eos: true });
    assert(String(args.query_template).startsWith("@"));
  } finally {
    await proxy.close();
    await mock.close();
  }
});

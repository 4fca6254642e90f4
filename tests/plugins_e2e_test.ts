/**
 * Proof for users' plugins: an API plugin and a dataset plugin written as a user would
 * (tests/fixtures/plugins/, importing nothing from llmperf) drive a whole benchmark with the
 * real CLI, loaded by file path and by URL from a local HTTP server; and the CLI's answer to a
 * broken plugin is one line and exit code 2.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { captureProxy } from "./helpers/capture_proxy.ts";
import { servePlugins } from "./helpers/plugin_server.ts";
import { VIA_SOURCE_ENV } from "../src/plugins/import_module.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount } from "../src/mock/generator.ts";

const FIXTURES = `${ROOT_DIR}/tests/fixtures/plugins`;
const QUESTIONS = [
  "fixture question one: what is a token?",
  "fixture question two: why measure latency?",
  "fixture question three: what does TTFT mean?",
];
const TOKENS = 5;

async function benchmark(api: string, dataset: string, env: Record<string, string> = {}) {
  const mock = startMockServer({ port: 0, outputTokens: TOKENS, ttftMs: 20, itlMs: 2 });
  const proxy = captureProxy(mock.url);
  try {
    await using r = await perfRun({
      server: proxy,
      env,
      flags: { model: "user-plugins", api, dataset, stream: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const s = r.summary;
    // One pass over the dataset plugin's three questions, bodies from the API plugin.
    assertEquals(s["Succeed requests"], 3);
    assertEquals(s["Failed requests"], 0);
    assertEquals(s["Average output tokens per request"], TOKENS);
    const promptTokens = QUESTIONS.reduce((n, q) => n + mockTokenCount(q), 0) / 3;
    assertEquals(s["Average input tokens per request"], promptTokens);
    assertEquals(s["Token counts from"], "usage");
    const sent = proxy.bodies.filter((b) => b.max_tokens !== 1); // not a start-up check
    assertEquals(sent.length, 3);
    assert(sent.every((b) => b.user === "fixture-echo-api"), "bodies built by the user's plugin");
    assertEquals(
      sent.map((b) => (b.messages as Array<{ content: string }>)[0].content).sort(),
      [...QUESTIONS].sort(),
    );
    assertEquals([r.args.api, r.args.dataset], [api, dataset]);
  } finally {
    await proxy.close();
    await mock.close();
  }
}

Deno.test("e2e: a user's API and dataset plugins by file path", async () => {
  await benchmark(`${FIXTURES}/echo_api.js`, `${FIXTURES}/questions_dataset.ts`);
});

Deno.test("e2e: the same plugins by URL from a local HTTP server", async () => {
  const server = servePlugins(FIXTURES);
  try {
    await benchmark(`${server.url}/echo_api.js`, `${server.url}/questions_dataset.ts`);
    assertEquals(server.requests.sort(), ["/echo_api.js", "/questions_dataset.ts"]);
  } finally {
    await server.close();
  }
});

Deno.test("e2e: a compiled llmperf's way (source read, types stripped, data: URL) runs them", async () => {
  // LLMPERF_PLUGINS_VIA_SOURCE=1 makes `deno run` load local files as `Deno.build.standalone` does.
  const env = { [VIA_SOURCE_ENV]: "1" };
  await benchmark(`${FIXTURES}/echo_api.js`, `${FIXTURES}/questions_dataset.ts`, env);
  const server = servePlugins(FIXTURES);
  try {
    await benchmark(`${server.url}/echo_api.js`, `${server.url}/questions_dataset.ts`, env);
  } finally {
    await server.close();
  }
  // The path was really taken: a relative import, which a native import resolves, cannot be.
  const registered = `${FIXTURES}/registered_api.ts`;
  const args = ["perf", "--model", "m", "--prompt", "x", "--api", registered, "-n", "1"];
  const r = await runCli([...args, "--url", "http://127.0.0.1:9/v1/chat/completions"], { env });
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("cannot resolve its import '../../../plugin.ts'"), r.stderr);
});

Deno.test("e2e: a broken plugin is one line on stderr and exit code 2", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/bad.ts`, "export default class {\n  buildMessages( {\n}\n");
  await Deno.writeTextFile(`${tmp.path}/half.js`, "export default { buildRequest: () => ({}) };\n");
  const server = servePlugins(tmp.path);
  try {
    const cases: Array<[string[], string]> = [
      [["--api", `${server.url}/missing.js`], "cannot fetch the plugin: HTTP 404"],
      [["--dataset", `${tmp.path}/bad.ts`], "cannot load the plugin: SyntaxError"],
      [["--api", `${tmp.path}/half.js`], "the plugin has no parseResponses method"],
      [["--api", "dashscop"], "unknown api plugin"],
      [["--dataset", `${tmp.path}/absent.ts`], "no such plugin file"],
    ];
    for (const [flags, cause] of cases) {
      // --prompt would leave the dataset unused: the --api cases only get one.
      const prompt = flags[0] === "--api" ? "x" : null;
      await using r = await perfRun({ flags: { prompt }, args: flags });
      assertEquals(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assert(lines[0].startsWith(`llmperf perf: error: ${flags[0]} '${flags[1]}': `), lines[0]);
      assert(lines[0].includes(cause), lines[0]);
    }
  } finally {
    await server.close();
  }
});

Deno.test("e2e: the README's 'Write a plugin' example is these fixtures, and it runs", async () => {
  const readme = await Deno.readTextFile(`${ROOT_DIR}/README.md`);
  for (const name of ["my_api.ts", "my_dataset.js"]) {
    const code = await Deno.readTextFile(`${FIXTURES}/${name}`);
    assert(
      readme.includes(code),
      `README.md does not show tests/fixtures/plugins/${name} as it is`,
    );
  }
  const mock = startMockServer({ port: 0, outputTokens: 4 });
  const proxy = captureProxy(mock.url);
  await using tmp = await tempDir();
  try {
    const prompts = `${tmp.path}/prompts.jsonl`;
    await Deno.writeTextFile(
      prompts,
      '{"system": "Answer in one sentence.", "prompt": "What is TTFT?"}\n' +
        '{"system": "Be terse.", "prompt": "What is ITL?"}\n',
    );
    await using r = await perfRun({
      server: proxy,
      flags: {
        model: "qwen2.5",
        stream: true,
        api: `${FIXTURES}/my_api.ts`,
        dataset: `${FIXTURES}/my_dataset.js`,
        datasetPath: prompts,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const s = r.summary;
    assertEquals([s["Succeed requests"], s["Token counts from"]], [2, "usage"]);
    const sent = proxy.bodies.filter((b) => b.max_tokens !== 1);
    assertEquals(sent.map((b) => (b.messages as unknown[]).length), [2, 2]);
  } finally {
    await proxy.close();
    await mock.close();
  }
});

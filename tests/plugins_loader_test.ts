/**
 * Loading plugins: built-in names, `.ts`/`.js` files and http(s) URLs; modules that register by
 * name, export a class, a factory or an object, or are the plugin themselves; and every failure as
 * one line naming the plugin and the cause.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { servePlugins } from "./helpers/plugin_server.ts";
import { loadApiPlugin } from "../src/plugins/loader.ts";
import { loadDatasetPlugin } from "../src/plugins/dataset_loader.ts";
import { importPluginModule, locatePlugin } from "../src/plugins/import_module.ts";
import { registeredApi } from "../src/plugins/registry.ts";
import { resolveConfig } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";
import type { DatasetPluginLike, Message } from "../src/plugins/types.ts";

const FIXTURES = `${ROOT_DIR}/tests/fixtures/plugins`;
const cfg = resolveConfig({ model: "m" });

async function collect(d: DatasetPluginLike): Promise<Message[][]> {
  const out: Message[][] = [];
  for await (const m of d.buildMessages()) out.push(m as Message[]); // these yield message lists
  return out;
}

/** The one-line UsageError that loading `spec` gives. */
async function loadError(kind: "api" | "dataset", spec: string, includes: string) {
  const load = kind === "api" ? loadApiPlugin : loadDatasetPlugin;
  const e = await assertRejects(() => load(spec, cfg), UsageError, includes);
  assert(!e.message.includes("\n"), `not one line: ${e.message}`);
  assert(e.message.startsWith(`--${kind} '${spec}': `), e.message);
  return e.message;
}

Deno.test("loader: every built-in API and dataset by name", async () => {
  for (const name of ["openai", "completions", "dashscope", "zhipu", "custom"]) {
    const p = await loadApiPlugin(name, cfg);
    assertEquals(typeof p.buildRequest, "function", name);
  }
  for (const name of ["openqa", "longalpaca", "line_by_line", "custom", "speed_benchmark"]) {
    const p = await loadDatasetPlugin(name, cfg);
    assertEquals(typeof p.buildMessages, "function", name);
  }
  const msg = await loadError("api", "openia", "unknown api plugin");
  assert(msg.includes("dashscope, zhipu, custom"), msg);
  await loadError("dataset", "openqaa", "unknown dataset plugin");
});

Deno.test("loader: user plugins by file path (object, class, factory, registration)", async () => {
  const api = await loadApiPlugin(`${FIXTURES}/echo_api.js`, cfg);
  const body = await api.buildRequest([{ role: "user", content: "q" }], { ...cfg, stream: true });
  assertEquals(body?.user, "fixture-echo-api");
  assertEquals(body?.stream_options, { include_usage: true });

  const path = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(path, "first?\n\nsecond?\n");
    const ds = await loadDatasetPlugin(`${FIXTURES}/questions_dataset.ts`, {
      ...cfg,
      datasetPath: path,
    });
    assertEquals(await collect(ds), [
      [{ role: "user", content: "first?" }],
      [{ role: "user", content: "second?" }],
    ]);
  } finally {
    await Deno.remove(path);
  }

  const factory = await loadDatasetPlugin(`${FIXTURES}/factory_dataset.js`, cfg);
  assertEquals((await collect(factory))[0], [{ role: "user", content: "factory prompt for m" }]);

  // A relative path works too (resolved against the working directory).
  const rel = await loadApiPlugin("tests/fixtures/plugins/registered_api.ts", cfg);
  assertEquals(rel.constructor.name, "RegisteredApi");
  assert(registeredApi("fixture_registered") !== undefined, "registered by name");
  const byName = await loadApiPlugin("fixture_registered", cfg);
  assertEquals(byName.constructor.name, "RegisteredApi");
});

Deno.test("loader: user plugins by URL, TypeScript whatever the content type", async () => {
  const server = servePlugins(FIXTURES);
  try {
    const api = await loadApiPlugin(`${server.url}/echo_api.js`, cfg);
    assertEquals((await api.buildRequest([], cfg))?.user, "fixture-echo-api");
    const ds = await loadDatasetPlugin(`${server.url}/questions_dataset.ts`, cfg);
    assertEquals((await collect(ds)).length, 3);
    // Python's http.server says text/vnd.trolltech.linguist for .ts: still TypeScript.
    const odd = `${server.url}/questions_dataset.ts?type=text/vnd.trolltech.linguist`;
    assertEquals((await collect(await loadDatasetPlugin(odd, cfg))).length, 3);
    // A module that imports a relative file cannot be loaded from a URL: said in one line.
    const msg = await loadError("api", `${server.url}/registered_api.ts`, "cannot resolve");
    assert(msg.includes("'../../../plugin.ts'") && msg.includes("self-contained"), msg);
  } finally {
    await server.close();
  }
});

Deno.test("loader: a compiled llmperf's way (source, types stripped, data: URL) loads TS", async () => {
  const spec = `${FIXTURES}/questions_dataset.ts`;
  const mod = await importPluginModule("--dataset", spec, locatePlugin(spec), { viaSource: true });
  const Cls = mod.default as new (p: unknown) => DatasetPluginLike;
  assertEquals((await collect(new Cls({}))).length, 3);
});

Deno.test("loader: modules that are the plugin, or register an API and a dataset", async () => {
  await using tmp = await tempDir();
  const ns = `${tmp.path}/namespace_dataset.js`;
  await Deno.writeTextFile(
    ns,
    'export function buildMessages() { return [[{role: "user", content: "ns"}]]; }\n',
  );
  assertEquals(await collect(await loadDatasetPlugin(ns, cfg)), [[{
    role: "user",
    content: "ns",
  }]]);

  const both = `${tmp.path}/both.ts`;
  await Deno.writeTextFile(
    both,
    `import { registerApi, registerDataset } from "${ROOT_DIR}/plugin.ts";\n` +
      `registerApi("both_api", { buildRequest: () => ({}), parseResponses: () => [1, 2] });\n` +
      `registerDataset("both_ds", { buildMessages: () => [[{ role: "user", content: "b" }]] });\n`,
  );
  const api = await loadApiPlugin(both, cfg);
  assertEquals(await api.parseResponses([], {}), [1, 2]);
  assertEquals((await collect(await loadDatasetPlugin(both, cfg)))[0][0].content, "b");
});

Deno.test("loader: every failure is one line naming the plugin and the cause", async () => {
  await using tmp = await tempDir();
  const file = async (name: string, text: string) => {
    await Deno.writeTextFile(`${tmp.path}/${name}`, text);
    return `${tmp.path}/${name}`;
  };
  await loadError("api", `${tmp.path}/missing.ts`, "no such plugin file");
  await loadError("api", await file("plugin.py", "x = 1\n"), "must be TypeScript or JavaScript");
  await Deno.mkdir(`${tmp.path}/dir.ts`);
  await loadError("api", `${tmp.path}/dir.ts`, "not a file");
  const syntax = await loadError(
    "api",
    await file("bad.ts", "export default {\n  buildRequest( { ;\n};\n"),
    "cannot load the plugin: SyntaxError",
  );
  assert(syntax.includes("(line 2, column"), syntax);
  await loadError(
    "api",
    await file("half.js", "export default { buildRequest() { return {}; } };\n"),
    "the plugin has no parseResponses method",
  );
  await loadError(
    "dataset",
    await file("throws.js", 'throw new Error("no credentials in the environment");\n'),
    "cannot load the plugin: no credentials in the environment",
  );
  await loadError(
    "dataset",
    await file(
      "ctor.js",
      'export default class { constructor() { throw new Error("bad params"); } }\n',
    ),
    "the plugin's constructor failed: bad params",
  );
  await loadError(
    "dataset",
    await file("nothing.js", "export const version = 1;\n"),
    "neither exports a default plugin nor registers one",
  );
  await loadError(
    "api",
    await file("number.js", "export default 42;\n"),
    "has no buildRequest or parseResponses method",
  );

  const server = servePlugins(tmp.path);
  try {
    await loadError("api", `${server.url}/absent.ts`, "cannot fetch the plugin: HTTP 404");
    await file("bad_url.js", "const x: number = 1;\nexport default {};\n");
    const msg = await loadError("api", `${server.url}/bad_url.js`, "SyntaxError");
    assert(msg.includes("(line 1, column"), msg);
    assert(!msg.includes("data:"), msg);
  } finally {
    await server.close();
  }
  // Nothing listens there once the server is closed.
  await loadError(
    "api",
    `${server.url}/echo_api.js`,
    "cannot fetch the plugin: connection refused",
  );
});

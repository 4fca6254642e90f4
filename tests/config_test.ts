import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  API_KEY_ENV,
  BODY_KEYS,
  bodyFields,
  DEFAULTS,
  GROUPS,
  resolveConfig,
  SECRET_KEYS,
  type SettingDef,
  settingFlag,
  settingKey,
  SETTINGS,
  toSnakeCase,
} from "../src/config.ts";
import { UsageError } from "../src/errors.ts";

Deno.test("config: defaults are evalscope's", () => {
  const c = resolveConfig({ model: "m" });
  assertEquals(c.url, "http://127.0.0.1:8877/v1/chat/completions");
  assertEquals([c.parallel, c.rate, c.connectTimeout, c.readTimeout], [1, -1, 120, 120]);
  assertEquals([c.maxTokens, c.seed, c.logEveryNQuery, c.dataset, c.api], [
    2048,
    42,
    10,
    "openqa",
    "openai",
  ]);
  assertEquals(c.number, undefined);
  assertEquals(c.outputsDir, DEFAULTS.outputsDir);
});

Deno.test("config: snake_case keys (pasted from Python) and camelCase are the same", () => {
  const a = resolveConfig({
    model: "m",
    log_every_n_query: 5,
    max_tokens: 9,
    api_key: "k",
    top_p: 0.5,
  });
  const b = resolveConfig({ model: "m", logEveryNQuery: 5, maxTokens: 9, apiKey: "k", topP: 0.5 });
  assertEquals(a, b);
});

Deno.test("config: snake_case output for benchmark_args.json", () => {
  assertEquals(toSnakeCase({ logEveryNQuery: 1, model: "m" }), {
    log_every_n_query: 1,
    model: "m",
  });
});

for (
  const [input, needle] of [
    [{}, "--model is required"],
    [{ model: "m", parallel: 0 }, "--parallel: must be at least 1"],
    [{ model: "m", parallel: 1.5 }, "--parallel: expected an integer"],
    [{ model: "m", number: -3 }, "--number: must be at least 1"],
    [{ model: "m", rate: 0 }, "--rate: must be at least 1/3600"],
    [{ model: "m", rate: 1e-9 }, "--rate: must be at least 1/3600"],
    [{ model: "m", parallel: 2 ** 53 }, "--parallel: must be at most 2^53-1"],
    [{ model: "m", rate: -2 }, "--rate"],
    [{ model: "m", url: "ftp://x" }, "--url: must be an http:// or https:// URL"],
    [{ model: "m", url: "not a url" }, "--url: not a valid URL"],
    [{ model: "m", readTimeout: 0 }, "--read-timeout: must be greater than 0"],
    [{ model: "m", bogus: 1 }, "unknown config key 'bogus'"],
    [{ model: "m", minPromptLength: 10, maxPromptLength: 5 }, "--min-prompt-length"],
    [{ model: "m", repeat: 0 }, "--repeat: must be at least 1"],
    [{ model: "m", sleepInterval: -1 }, "--sleep-interval: must be at least 0"],
    [{ model: "m", maxErrorRate: 1.5 }, "--max-error-rate: expected a fraction from 0 to 1"],
    [{ model: "m", serverMetrics: "ftp://x/metrics" }, "--server-metrics: must be an http://"],
  ] as const
) {
  Deno.test(`config: rejects ${JSON.stringify(input)}`, () => {
    assertThrows(() => resolveConfig(input as Record<string, unknown>), UsageError, needle);
  });
}

Deno.test("config: every value the defaults hold, as evalscope's reference and README give them", () => {
  assertEquals({ ...DEFAULTS }, {
    url: "http://127.0.0.1:8877/v1/chat/completions",
    api: "openai",
    debug: false,
    connectTimeout: 120,
    readTimeout: 120,
    headers: {},
    transport: "auto",
    noTestConnection: false,
    parallel: 1,
    rate: -1,
    burstiness: 1, // issue 15: Poisson unless shaped
    logEveryNQuery: 10,
    maxPromptLength: Number.MAX_SAFE_INTEGER,
    minPromptLength: 0,
    minTurns: 1,
    multiTurn: false,
    dataset: "openqa",
    prefixLength: 0,
    prefixGroups: 1,
    // evalscope's random_vl defaults (issue 15)
    imageWidth: 224,
    imageHeight: 224,
    imageFormat: "RGB",
    imageNum: 1,
    imagePatchSize: 28,
    maxTokens: 2048,
    seed: 42,
    stream: false,
    outputsDir: "./outputs",
    repeat: 1,
    sleepInterval: 5, // evalscope's default
    noServerMetrics: false,
    noGpuTelemetry: false,
    compat: "2024", // --compat 2026 switches to today's evalscope (its own defaults)
    // SLA auto-tune: today's evalscope defaults (arguments.py:749-757 in the 2026 reference).
    slaAutoTune: false,
    slaVariable: "parallel",
    slaNumRuns: 3,
    slaUpperBound: 65536,
    slaLowerBound: 1,
    // issue 14: evalscope 2026 flags with no late-2024 equivalent (its defaults)
    warmupNum: 0,
    openLoop: false,
    queueSizeMultiplier: 5,
    inFlightTaskMultiplier: 2,
    numWorkers: 0,
    port: 8877,
    datasetOffset: 0,
    tokenizePrompt: false,
    noTimestamp: false,
    enableProgressTracker: false,
    dbCommitInterval: 1000,
  });
  // A default object is never shared between configs (nor frozen into them).
  const a = resolveConfig({ model: "m" });
  a.headers["x-a"] = "1";
  assertEquals(resolveConfig({ model: "m" }).headers, {});
});

Deno.test("config: a key may be spelled camelCase, snake_case or as its flag", () => {
  const want = resolveConfig({ model: "m", maxTokens: 9, nChoices: 2, noTestConnection: true });
  assertEquals(
    resolveConfig({ model: "m", max_tokens: 9, n_choices: 2, no_test_connection: true }),
    want,
  );
  assertEquals(
    resolveConfig({ model: "m", "max-tokens": 9, "--n-choices": 2, "no-test-connection": true }),
    want,
  );
  assertEquals(settingKey("log_every_n_query"), "logEveryNQuery");
  assertEquals(settingKey("--top-p"), "topP");
  assertEquals(settingKey("bogus"), undefined);
});

// One wrong value per kind: each is refused with one line that starts with the setting's flag.
for (
  const [key, value, needle] of [
    ["name", 5, "--name: expected text, got 5"],
    ["transport", "carrier-pigeon", "--transport: expected one of auto, socket, fetch"],
    ["logEveryNQuery", "10", "--log-every-n-query: expected an integer"],
    ["seed", 2 ** 60, "--seed: must be at most 2^53-1"],
    ["temperature", Infinity, "--temperature: expected a number"],
    ["connectTimeout", -1, "--connect-timeout: must be greater than 0"],
    ["debug", "yes", "--debug: expected true or false, got yes"],
    ["stop", "END", "--stop: expected a list"],
    ["stop", ["a", 1], "--stop: expected a list"],
    ["stopTokenIds", [1, 2.5], "--stop-token-ids: expected a list of integers"],
    ["headers", ["x"], "--headers: expected an object"],
    ["headers", { "x-a": 1 }, "--headers: the value of 'x-a' must be text"],
    ["headers", { "bad name": "v" }, "--headers: 'bad name' is not a valid HTTP header name"],
    ["extraArgs", "[1]", "--extra-args: must be a JSON object, got an array"],
    ["extraArgs", "{", "--extra-args: not valid JSON"],
    ["queryTemplate", 5, "--query-template: expected JSON text"],
    ["workers", 1025, "--workers: must be at most 1024"],
    ["apiKey", "k\ney", "--api-key: the key has a control character (U+000A)"],
    ["caCert", "", "--ca-cert: expected a file path"],
    ["slo", "ttft<5", "--slo: 'ttft<5': add a statistic"],
    ["model", "  ", "--model is required"],
  ] as const
) {
  Deno.test(`config: ${key} = ${JSON.stringify(value)} is one line naming the flag`, () => {
    const e = assertThrows(
      () => resolveConfig({ model: "m", [key]: value } as Record<string, unknown>),
      UsageError,
      needle,
    );
    assert(e.message.startsWith(settingFlag(key)), e.message);
    assertEquals(e.message.includes("\n"), false);
  });
}

Deno.test("config: --extra-args JSON text becomes the object (and an object stays one)", () => {
  assertEquals(resolveConfig({ model: "m", extra_args: '{"a": [1]}' }).extraArgs, { a: [1] });
  assertEquals(resolveConfig({ model: "m", extraArgs: { b: 2 } }).extraArgs, { b: 2 });
});

Deno.test("config: the table is consistent (groups, flags, body fields, kinds of defaults)", () => {
  const flags = new Set<string>();
  const bodies = new Set<string>();
  const table: Record<string, SettingDef> = SETTINGS;
  for (const [key, def] of Object.entries(table)) {
    assert(def.group in GROUPS, `${key}: group ${def.group}`);
    assert(def.help.length > 0 && !def.help.includes("["), `${key}: help without a [default]`);
    for (const f of [settingFlag(key), ...(def.aliases ?? [])]) {
      assert(!flags.has(f), `${key}: flag ${f} twice`);
      flags.add(f);
    }
    if (def.body !== undefined) {
      assert(!bodies.has(def.body), `${key}: body field ${def.body} twice`);
      bodies.add(def.body);
    }
    if (def.sweep) assert(def.kind === "int" || def.kind === "number", `${key}: sweep kind`);
    if (def.choices) assertEquals(def.kind, "choice", key);
    if (def.negatable !== undefined) assertEquals(def.kind, "bool", key);
  }
  // The groups appear in the order GROUPS lists them, each in one run (help lists them so).
  const order = Object.values(table).map((d) => d.group).filter((g, i, a) => a[i - 1] !== g);
  assertEquals(order, Object.keys(GROUPS));
});

Deno.test("config: the body fields and the secrets are the ones the table declares", () => {
  assertEquals(BODY_KEYS, [
    "frequencyPenalty",
    "logprobs",
    "maxTokens",
    "minTokens",
    "nChoices",
    "seed",
    "stop",
    "stopTokenIds",
    "temperature",
    "topP",
    "topK",
    "repetitionPenalty",
  ]);
  assertEquals(SECRET_KEYS, ["apiKey", "wandbApiKey", "swanlabApiKey"]);
  assertEquals(
    bodyFields({ maxTokens: 64, nChoices: 2, stop: [], stopTokenIds: [7], temperature: 0 }),
    { max_tokens: 64, n: 2, stop_token_ids: [7], temperature: 0 },
  );
  // A pick keeps its own order and leaves out what is unset.
  assertEquals(
    Object.entries(bodyFields({ maxTokens: 8, topP: 0.5 }, ["top_p", "max_tokens", "seed"])),
    [["top_p", 0.5], ["max_tokens", 8]],
  );
});

Deno.test("config: the API key falls back to $LLMPERF_API_KEY, then $OPENAI_API_KEY", () => {
  const saved = API_KEY_ENV.map((n) => Deno.env.get(n));
  try {
    for (const n of API_KEY_ENV) Deno.env.delete(n);
    assertEquals(resolveConfig({ model: "m" }).apiKey, undefined);
    Deno.env.set("OPENAI_API_KEY", "sk-openai");
    assertEquals(resolveConfig({ model: "m" }).apiKey, "sk-openai");
    Deno.env.set("LLMPERF_API_KEY", " sk-llmperf ");
    assertEquals(resolveConfig({ model: "m" }).apiKey, "sk-llmperf");
    assertEquals(resolveConfig({ model: "m", apiKey: "given" }).apiKey, "given");
  } finally {
    API_KEY_ENV.forEach((n, i) =>
      saved[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, saved[i]!)
    );
  }
});

/** The local modules `specifier` imports, directly or not (from `deno info --json`). */
async function importClosure(specifier: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", specifier],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  };
  const root = new URL("../", import.meta.url).href;
  const graph = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith(root)) continue;
    const deps = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .filter((s): s is string => s !== undefined && s.startsWith(root));
    graph.set(m.specifier.slice(root.length), deps.map((s) => s.slice(root.length)));
  }
  return graph;
}

Deno.test("config: sits at the bottom: it imports no feature, and no cycle runs through it", async () => {
  const below = await importClosure(new URL("../src/config.ts", import.meta.url).href);
  const allowed =
    /^src\/(config\.ts|config\/[a-z_]+\.ts|errors\.ts|exit_codes\.ts|util\/http_header\.ts)$/;
  for (const file of below.keys()) assert(allowed.test(file), `src/config.ts imports ${file}`);
  // In the whole program, nothing that a config module imports imports a config module back:
  // the closure above holds only the config layer, so any cycle through it stays inside it.
  const all = await importClosure(new URL("../main.ts", import.meta.url).href);
  for (const [file, deps] of all) {
    if (!below.has(file)) continue;
    for (const d of deps) assert(below.has(d), `${file} imports ${d}, above the config layer`);
  }
  const inside = [...below.keys()];
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    (below.get(from) ?? []).some((d) =>
      d === to || (!seen.has(d) && (seen.add(d), reaches(d, to, seen)))
    );
  for (const f of inside) assert(!reaches(f, f), `import cycle through ${f}`);
});

Deno.test("config: several URLs — a list for url, urls alone, and a urls that disagrees", () => {
  const a = "http://a:8000/v1/chat/completions";
  const b = "http://b:8000/v1/chat/completions";
  const listed = resolveConfig({ model: "m", url: [a, b] } as never);
  assertEquals([listed.url, listed.urls], [a, [a, b]]);
  const alone = resolveConfig({ model: "m", urls: [a, b], urlStrategy: "least-in-flight" });
  assertEquals([alone.url, alone.urls, alone.urlStrategy], [a, [a, b], "least-in-flight"]);
  const one = resolveConfig({ model: "m", url: [a] } as never);
  assertEquals([one.url, one.urls], [a, undefined]);
  assertThrows(
    () => resolveConfig({ model: "m", url: b, urls: [a, b] }),
    UsageError,
    `--urls: the first must be --url '${b}'`,
  );
  assertThrows(
    () => resolveConfig({ model: "m", urls: [a, "x"] }),
    UsageError,
    "--url: not a valid URL: 'x'",
  );
});

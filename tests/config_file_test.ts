/**
 * `--config run.yaml` / `run.json` and `--print-config`: every spelling of a key, sweeps and
 * SLOs in a file, command-line flags over the file, the printed settings read back to the same
 * settings with secrets left out, and one-line errors naming the file and the key (exit 2).
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { onlyRunDir, readJson, ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { resolveConfig } from "../src/config.ts";
import { captureProxy } from "./helpers/capture_proxy.ts";
import { configFromData, parseConfigText } from "../src/config/config_file.ts";
import { UsageError } from "../src/errors.ts";
import { startMockServer } from "../src/mock/server.ts";

Deno.test("config file: camelCase, snake_case and flag spellings; sweeps; slo forms; null", () => {
  const f = configFromData("run.yaml", {
    maxTokens: 64,
    top_p: 0.5,
    "log-every-n-query": 3,
    "--connect-timeout": 5,
    parallel: [1, 8, 32],
    number: 10,
    rate: "2.5", // text, as the command line takes it
    stream: true,
    headers: { "X-A": "1" },
    stop: "</s>",
    extra_args: { ignore_eos: true },
    slo: ["ttft_p99<500ms", "error_rate<1%"],
    temperature: null, // not given
  });
  assertEquals(f.settings, {
    maxTokens: 64,
    topP: 0.5,
    logEveryNQuery: 3,
    connectTimeout: 5,
    parallel: 1,
    number: 10,
    rate: 2.5,
    stream: true,
    headers: { "X-A": "1" },
    stop: ["</s>"],
    extraArgs: { ignore_eos: true },
    slo: "ttft_p99<500ms,error_rate<1%",
  });
  assertEquals(f.sweep, { parallel: [1, 8, 32], number: [10], rate: [2.5] });
  assertEquals(f.spelled.maxTokens, "maxTokens");
  assertEquals(f.other, {});
  // An SLO as a map of metric to condition; kv from a list of k=v texts.
  const g = configFromData("r.json", {
    slo: { ttft_p99: "<500ms", error_rate: "< 1%" },
    headers: ["X-A=1", "X-B=b=c"],
    json: true,
  });
  assertEquals(g.settings.slo, "ttft_p99<500ms,error_rate<1%");
  assertEquals(g.settings.headers, { "X-A": "1", "X-B": "b=c" });
  assertEquals(g.other, { json: true });
});

Deno.test("config file: each problem is one line naming the file and the key", async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ parallel: "x" }, "run.yaml: parallel: expected an integer, got 'x'"],
    [{ parallel: [1, "y"] }, "run.yaml: parallel: expected an integer, got 'y'"],
    [{ parallel: [] }, "run.yaml: parallel: expected at least one value"],
    [{ max_tokens: 0 }, "run.yaml: max_tokens: must be at least 1, got 0"],
    [{ stream: "maybe" }, "run.yaml: stream: expected true or false, got 'maybe'"],
    [{ transport: "udp" }, "run.yaml: transport: expected one of auto, socket, fetch, got 'udp'"],
    [{ max_tokens: 1, maxTokens: 2 }, "run.yaml: maxTokens: the same setting as max_tokens"],
    [{ headers: 5 }, "run.yaml: headers: expected an object of names to text values"],
    [{ slo: [1] }, "run.yaml: slo: expected goals as text"],
  ];
  for (const [data, msg] of cases) {
    const e = assertThrows(() => configFromData("run.yaml", data), UsageError);
    assert(e.message.startsWith(msg), `${e.message} (want ${msg})`);
    assert(!e.message.includes("\n"), e.message);
  }
  const parse = async (path: string, text: string) =>
    (await assertRejects(() => parseConfigText(path, text), UsageError)).message;
  assert(
    /^r\.yaml: invalid YAML: .*at line 2, column 1$/.test(await parse("r.yaml", "a: [1, 2\n")),
  );
  assert((await parse("r.json", "{ a: 1 }")).startsWith("r.json: invalid JSON: "));
  assertEquals(
    await parse("r.yaml", "- a\n- b\n"),
    "r.yaml: expected a mapping of settings (key: value), got a list",
  );
  assertEquals(await parseConfigText("empty.yaml", "# nothing\n"), {});
  // An evalscope user's Python dict is YAML (True, single quotes).
  assertEquals(await parseConfigText("d.yaml", "{'parallel': [1, 8], 'stream': True}"), {
    parallel: [1, 8],
    stream: true,
  });
});

async function file(dir: string, name: string, text: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/${name}`, text);
  return `${dir}/${name}`;
}

Deno.test("config file e2e: a run from run.yaml, with a flag overriding it", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 6, ttftMs: 5, itlMs: 1 });
  const proxy = captureProxy(mock.url);
  await using tmp = await tempDir();
  try {
    const run = await file(
      tmp.path,
      "run.yaml",
      [
        `url: ${proxy.url}/v1/chat/completions`,
        "model: from-file",
        "prompt: hello from a file",
        "number: 3",
        "parallel: 2",
        "stream: true",
        "max_tokens: 4",
        "extraArgs: {ignore_eos: true}",
        `outputs-dir: ${tmp.path}/out`,
        "",
      ].join("\n"),
    );
    const r = await runCli(["perf", "--config", run, "--number", "5", "--no-test-connection"]);
    assertEquals(r.code, 0, r.stderr);
    const s = await readJson(`${await onlyRunDir(`${tmp.path}/out`)}/benchmark_summary.json`);
    assertEquals(s["Total requests"], 5); // the flag, not the file's 3
    assertEquals(proxy.bodies.length, 5);
    for (const b of proxy.bodies) {
      assertEquals([b.model, b.max_tokens, b.stream, b.ignore_eos], ["from-file", 4, true, true]);
    }
  } finally {
    await proxy.close();
    await mock.close();
  }
});

Deno.test("config file e2e: a sweep and an SLO gate from a JSON file (evalscope's dict)", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4, ttftMs: 5, itlMs: 1 });
  await using tmp = await tempDir();
  try {
    const run = await file(
      tmp.path,
      "run.json",
      JSON.stringify({
        url: `${mock.url}/v1/chat/completions`,
        model: "m",
        prompt: "hi",
        parallel: [1, 2],
        number: [2, 4],
        stream: true,
        slo: ["ttft_p99<0.001ms"], // impossible: the gate fails
        outputs_dir: `${tmp.path}/out`,
        json: true,
      }),
    );
    const r = await runCli(["perf", "--config", run]);
    assertEquals(r.code, 3, r.stderr); // an SLO goal failed
    const out = JSON.parse(r.stdout); // `json: true` from the file
    assertEquals(
      out.points.map((p: { parallel: number; number: number }) => [p.parallel, p.number]),
      [
        [1, 2],
        [2, 4],
      ],
    );
  } finally {
    await mock.close();
  }
});

Deno.test("--print-config: resolved, secrets left out, and --config reads it back the same", async () => {
  await using tmp = await tempDir();
  const run = await file(
    tmp.path,
    "run.yaml",
    [
      "url: http://127.0.0.1:8000/v1/chat/completions",
      "model: qwen",
      "parallel: [1, 4]",
      "number: [2, 8]",
      "api_key: sk-file-secret-123",
      "headers: {X-Tenant: bench, Authorization: Bearer sk-header-secret-456}",
      "slo: {ttft_p99: <500ms}",
      "",
    ].join("\n"),
  );
  const env = { LLMPERF_API_KEY: "sk-env-secret-789" };
  const p1 = await runCli(["perf", "--config", run, "--max-tokens", "64", "--print-config"], {
    env,
  });
  assertEquals(p1.code, 0, p1.stderr);
  for (const secret of ["sk-file-secret-123", "sk-header-secret-456", "sk-env-secret-789"]) {
    assert(!p1.stdout.includes(secret), p1.stdout);
  }
  const lines = p1.stdout.split("\n");
  for (
    const want of [
      "model: qwen",
      "parallel: [ 1, 4 ]",
      "number: [ 2, 8 ]",
      "max_tokens: 64", // the flag
      "headers: { X-Tenant: bench }",
      "slo: ttft_p99<500ms",
      "read_timeout: 120", // a default
      "# seed: 42 (the default; not written, so that a --query-template field still wins)",
    ]
  ) assert(lines.includes(want), `${want}\n${p1.stdout}`);
  assert(lines.some((l) => l.startsWith("# api_key: <redacted>")), p1.stdout);
  const printed = await file(tmp.path, "printed.yaml", p1.stdout);
  const p2 = await runCli(["perf", "--config", printed, "--print-config"]);
  assertEquals(p2.code, 0, p2.stderr);
  const settings = (t: string) => t.split("\n").filter((l) => !l.startsWith("#"));
  assertEquals(settings(p2.stdout), settings(p1.stdout));
  // JSON: the same settings, comments left out; and it reads back too.
  const j = await runCli(["perf", "--config", printed, "--print-config", "--json"]);
  const json = JSON.parse(j.stdout);
  assertEquals([json.model, json.parallel, json.max_tokens, json.seed], [
    "qwen",
    [1, 4],
    64,
    undefined,
  ]);
  const again = await runCli([
    "perf",
    "--config",
    await file(tmp.path, "p.json", j.stdout),
    "--print-config",
    "--json",
  ]);
  assertEquals(JSON.parse(again.stdout), json);
});

Deno.test("config file e2e: bad files are one line naming the file and key, exit 2", async () => {
  await using tmp = await tempDir();
  const cases: Array<[string, string, string]> = [
    [
      "a.yaml",
      "model: m\nmax_token: 5\n",
      "a.yaml: unknown setting 'max_token' (did you mean max_tokens?)",
    ],
    ["b.yaml", "model: m\nparallel: 0\n", "b.yaml: parallel: must be at least 1, got 0"],
    ["c.yaml", "model: m\nrate: [1, 0]\n", "c.yaml: rate: must be at least 1/3600"],
    ["d.yaml", "model: [m\n", "d.yaml: invalid YAML: "],
    ["e.json", '{"model": "m",}', "e.json: invalid JSON: "],
    ["f.yaml", "model: m\nconfig: other.yaml\n", "f.yaml: unknown setting 'config'"],
    ["g.yaml", "model: m\nurl: ftp://x\n", "g.yaml: url: must be an http:// or https:// URL"],
  ];
  for (const [name, text, msg] of cases) {
    const path = await file(tmp.path, name, text);
    const r = await runCli(["perf", "--config", path, "--print-config"], { cwd: tmp.path });
    assertEquals(r.code, 2, `${name}: ${r.stderr}`);
    const err = r.stderr.trim();
    assert(!err.includes("\n"), err);
    assert(err.startsWith(`llmperf perf: error: ${tmp.path}/${msg}`), `${err}\nwant: ${msg}`);
  }
  const missing = await runCli(["perf", "--config", `${tmp.path}/absent.yaml`]);
  assertEquals(missing.code, 2);
  assert(
    missing.stderr.includes("--config '") && missing.stderr.includes("no such file"),
    missing.stderr,
  );
  // A flag's problem is still the flag's, even with a file.
  const ok = await file(tmp.path, "ok.yaml", "model: m\n");
  const flag = await runCli(["perf", "--config", ok, "--parallel", "0", "--print-config"]);
  assertEquals(flag.code, 2);
  assert(flag.stderr.includes("error: --parallel: must be at least 1"), flag.stderr);
});

Deno.test("config file: the README's example reads, with its sweep and SLO", async () => {
  const readme = await Deno.readTextFile(`${ROOT_DIR}/README.md`);
  const text = /```yaml\n(# run\.yaml[\s\S]*?)```/.exec(readme)?.[1];
  assert(text !== undefined, "README.md has no run.yaml example");
  const f = configFromData("run.yaml", await parseConfigText("run.yaml", text));
  assertEquals(f.sweep.parallel, [1, 8, 32]);
  assertEquals(f.sweep.number, [10, 80, 320]);
  assertEquals(f.settings.slo, "ttft_p99<500ms,error_rate<1%");
  assertEquals(f.settings.extraArgs, { ignore_eos: true });
  assertEquals(f.other, {});
  resolveConfig(f.settings); // and it resolves
});

Deno.test("config file: url as a list is several endpoints", () => {
  const f = configFromData("run.yaml", { url: ["http://a/v1", "http://b/v1"] });
  const cfg = resolveConfig({ model: "m", ...f.settings });
  assertEquals([cfg.url, cfg.urls], ["http://a/v1", ["http://a/v1", "http://b/v1"]]);
  assertThrows(() => configFromData("run.yaml", { url: ["http://a/v1", 3] }), UsageError, "url");
});

/**
 * `--visualizer swanlab|clearml` (and the deprecated `--swanlab-api-key`), against local stubs of
 * each service's HTTP API that record every call (SwanLab's SDK protocol at `$SWANLAB_HOST/api`,
 * ClearML's REST API at `$CLEARML_API_HOST`): the run is created with `--name` and the redacted
 * settings, the running numbers and the summary arrive as scalars (ClearML: title
 * `Performance Metrics`, one series per key, iterations from 0, as evalscope's `report_scalar`),
 * the run is marked finished, keys travel only in headers and reach no file or log; a failing or
 * unconfigured service is one warning, never a failed benchmark.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { swanlabSettings } from "../src/visualizer/swanlab.ts";
import { clearmlSettings } from "../src/visualizer/clearml.ts";

const SWAN_KEY = "swan-SECRET-key-0123456789";
const CLEAR_SECRET = "clear-SECRET-0123456789";

interface Call {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

/** A stub that records each call and answers from `answer(path)` (undefined: `{}`). */
function stub(answer: (method: string, path: string) => [number, unknown] | undefined) {
  const calls: Call[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch { /* ndjson */ }
    const path = new URL(req.url).pathname;
    calls.push({ method: req.method, path, headers: req.headers, body });
    const [status, value] = answer(req.method, path) ?? [200, {}];
    return Response.json(value, { status });
  });
  return { calls, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function noSecretIn(dir: string, secret: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) await noSecretIn(p, secret);
    else {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(p));
      assert(!bytes.includes(secret), `the key is in ${p}`);
    }
  }
}

function run(mockUrl: string, env: Record<string, string>, args: string[]) {
  return perfRun({
    url: `${mockUrl}/v1/chat/completions`,
    flags: { number: 12, parallel: 2, stream: true, name: "viz-run" },
    args,
    env,
  });
}

Deno.test("swanlab settings: host, API and project from the flag and SwanLab's variables", () => {
  const none = new Map<string, string>();
  assertEquals(swanlabSettings("k", undefined, none), {
    apiKey: "k",
    apiUrl: "https://api.swanlab.cn/api",
    webUrl: "https://swanlab.cn",
    project: "perf_benchmark",
    workspace: undefined,
  });
  const env = new Map([["SWANLAB_PROJ_NAME", "p"], ["SWANLAB_WORKSPACE", "team"]]);
  const s = swanlabSettings("k", "http://s.local:8000/", env);
  assertEquals([s.apiUrl, s.webUrl, s.project, s.workspace], [
    "http://s.local:8000/api",
    "http://s.local:8000",
    "p",
    "team",
  ]);
  assertEquals(clearmlSettings(new Map()), undefined);
  assertEquals(
    clearmlSettings(new Map([["CLEARML_API_ACCESS_KEY", "a"], ["CLEARML_API_SECRET_KEY", "b"]])),
    { apiUrl: "https://api.clear.ml", accessKey: "a", secretKey: "b", project: "perf_benchmark" },
  );
});

Deno.test("swanlab: --swanlab-api-key alone selects it; the experiment, config, scalars and state arrive", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  const P = "/api/project/alice/perf_benchmark";
  const sw = stub((m, path) => {
    if (path === "/api/login/api_key") {
      return [200, { sid: "SID-1", userInfo: { username: "alice" } }];
    }
    if (path === "/api/project") return [201, { username: "alice" }];
    if (path === P && m === "GET") return [200, { cuid: "proj-1" }];
    if (path === `${P}/experiment`) return [201, { cuid: "exp-1", flagId: "flag-1" }];
    return undefined;
  });
  try {
    await using r = await run(mock.url, { SWANLAB_HOST: sw.url }, ["--swanlab-api-key", SWAN_KEY]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes(`swanlab: logging to ${sw.url}/@alice/perf_benchmark/runs/exp-1`));
    const paths = sw.calls.map((c) => `${c.method} ${c.path}`);
    assertEquals(paths.slice(0, 5), [
      "POST /api/login/api_key",
      "POST /api/project",
      `GET ${P}`,
      `POST ${P}/experiment`,
      `PUT ${P}/runs/exp-1/profile`,
    ]);
    assertEquals(paths.at(-1), `PUT ${P}/runs/exp-1/state`);
    assertEquals((sw.calls.at(-1)!.body as { state: string }).state, "FINISHED");
    assertEquals(sw.calls[0].headers.get("authorization"), SWAN_KEY);
    for (const c of sw.calls.slice(1)) {
      assertEquals(c.headers.get("cookie"), "sid=SID-1", c.path);
      assert(c.headers.get("authorization") === null, `${c.path}: no key`);
    }
    assertEquals((sw.calls[1].body as { name: string }).name, "perf_benchmark");
    assertEquals((sw.calls[3].body as { name: string }).name, "viz-run");
    const config = (sw.calls[4].body as { config: Record<string, { value: unknown }> }).config;
    assertEquals(config.model.value, "m");
    assertEquals(config.swanlab_api_key.value, "<redacted>");
    // Scalars: metrics declared before their first row; the last rows hold the summary.
    const metrics = sw.calls.filter((c) => c.path === "/api/house/metrics").flatMap((c) => {
      const b = c.body as {
        experimentId: string;
        type: string;
        metrics: Array<Record<string, unknown>>;
      };
      assertEquals([b.experimentId, b.type], ["exp-1", "scalar"]);
      assertEquals(c.headers.get("flagid"), "flag-1");
      return b.metrics;
    });
    const declared = sw.calls.filter((c) => c.path === "/api/experiment/exp-1/columns")
      .flatMap((c) => (c.body as Array<{ key: string }>).map((x) => x.key));
    assertEquals(new Set(metrics.map((m) => m.key as string)), new Set(declared));
    const done = metrics.filter((m) => m.key === "requests_done").map((m) => m.data as number);
    assert(done.length >= 1 && done.every((d, i) => i === 0 || d >= done[i - 1]), `${done}`);
    assertEquals(done.at(-1), 12);
    const total = metrics.find((m) => m.key === "Total requests");
    assertEquals(total?.data, 12);
    assert(
      !r.stdout.includes(SWAN_KEY) && !r.stderr.includes(SWAN_KEY) && !r.stderr.includes("SID-1"),
    );
    for (const c of sw.calls.slice(1)) {
      assert(!JSON.stringify(c.body ?? null).includes(SWAN_KEY), c.path);
    }
    await noSecretIn(r.outputs, SWAN_KEY);
  } finally {
    await sw.close();
    await mock.close();
  }
});

Deno.test("clearml: a testing task with the settings, scalars under Performance Metrics, completed", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  const cm = stub((_m, path) => {
    if (path === "/auth.login") return [200, { meta: {}, data: { token: "TOK-1" } }];
    if (path === "/projects.get_all") return [200, { data: { projects: [] } }];
    if (path === "/projects.create") return [200, { data: { id: "p-1" } }];
    if (path === "/tasks.create") return [200, { data: { id: "t-1" } }];
    return [200, { data: {} }];
  });
  try {
    await using r = await run(mock.url, {
      CLEARML_API_HOST: cm.url,
      CLEARML_API_ACCESS_KEY: "AK",
      CLEARML_API_SECRET_KEY: CLEAR_SECRET,
      CLEARML_PROJECT_NAME: "bench",
    }, ["--visualizer", "clearml"]);
    assertEquals(r.code, 0, r.stderr);
    const paths = cm.calls.map((c) => c.path);
    assertEquals(paths.slice(0, 6), [
      "/auth.login",
      "/projects.get_all",
      "/projects.create",
      "/tasks.create",
      "/tasks.started",
      "/tasks.edit_hyper_params",
    ]);
    assertEquals(paths.at(-1), "/tasks.completed");
    assertEquals(cm.calls[0].headers.get("authorization"), `Basic ${btoa(`AK:${CLEAR_SECRET}`)}`);
    for (const c of cm.calls.slice(1)) assertEquals(c.headers.get("authorization"), "Bearer TOK-1");
    assertEquals((cm.calls[2].body as { name: string }).name, "bench");
    assertEquals(cm.calls[3].body, { name: "viz-run", type: "testing", project: "p-1" });
    const hp = (cm.calls[5].body as { hyperparams: Array<{ name: string; value: string }> })
      .hyperparams;
    assertEquals(hp.find((h) => h.name === "parallel")?.value, "2");
    const events = cm.calls.filter((c) => c.path === "/events.add_batch").flatMap((c) =>
      (typeof c.body === "string" ? c.body.split("\n") : [JSON.stringify(c.body)]).map((l) =>
        JSON.parse(l)
      )
    );
    assert(events.every((e) => e.type === "training_stats_scalar" && e.task === "t-1"));
    assert(events.every((e) => e.metric === "Performance Metrics"));
    const iters = [...new Set(events.map((e) => e.iter as number))];
    assertEquals(iters, iters.map((_, i) => i), "iterations count from 0");
    const done = events.filter((e) => e.variant === "requests_done").map((e) => e.value);
    assertEquals(done.at(-1), 12);
    assertEquals(events.find((e) => e.variant === "Total requests")?.value, 12);
    assert(!r.stderr.includes(CLEAR_SECRET) && !r.stderr.includes("TOK-1"));
    await noSecretIn(r.outputs, CLEAR_SECRET);
  } finally {
    await cm.close();
    await mock.close();
  }
});

Deno.test("visualizers: a refusing service, or none configured, is one warning; the run succeeds", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  const down = stub(() => [500, { error: "down" }]);
  try {
    await using r = await run(mock.url, { SWANLAB_HOST: down.url, SWANLAB_API_KEY: SWAN_KEY }, [
      "--visualizer",
      "swanlab",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("warning: swanlab:"));
    assertEquals(warnings.length, 1, r.stderr);
    assert(warnings[0].includes("HTTP 500"), warnings[0]);
    assertEquals(down.calls.length, 1, "no more calls after the failure");
    assertEquals(r.summary["Total requests"], 12);
    await using c = await run(mock.url, {}, ["--visualizer", "clearml"]);
    assertEquals(c.code, 0, c.stderr);
    const cw = c.stderr.split("\n").filter((l) => l.includes("warning: clearml:"));
    assertEquals(cw.length, 1, c.stderr);
    assert(cw[0].includes("$CLEARML_API_ACCESS_KEY"), cw[0]);
    await using w = await run(mock.url, {}, ["--visualizer", "wandb"]);
    assertEquals(w.code, 0, w.stderr);
    assert(w.stderr.includes("warning: wandb: no API key (--wandb-api-key or $WANDB_API_KEY)"));
    await using bad = await run(mock.url, {}, ["--visualizer", "tensorboard"]);
    assertEquals(bad.code, 2);
    assert(
      bad.stderr.includes("--visualizer: expected one of wandb, swanlab, clearml"),
      bad.stderr,
    );
  } finally {
    await down.close();
    await mock.close();
  }
});

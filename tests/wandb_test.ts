/**
 * `--wandb-api-key`: against a local stub of W&B's HTTP API (`WANDB_BASE_URL`) that records every
 * call: the run is created with `--name` and the redacted settings, history rows and the summary
 * arrive on the file stream, the run is marked complete, the key travels only in the
 * Authorization header and reaches no file or log; an unreachable W&B is one warning, not a
 * failed benchmark.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { wandbSettings } from "../src/wandb/http_api.ts";

const KEY = "wandb-SECRET-key-0123456789abcdef";

interface Call {
  path: string;
  auth: string | null;
  body: Record<string, unknown>;
}

function stub(status = 200) {
  const calls: Call[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    calls.push({ path: new URL(req.url).pathname, auth: req.headers.get("authorization"), body });
    if (status !== 200) return new Response("nope", { status });
    if (new URL(req.url).pathname === "/graphql") {
      const q = String(body.query);
      if (q.includes("viewer")) return Response.json({ data: { viewer: { entity: "team-a" } } });
      return Response.json({
        data: { upsertBucket: { bucket: { name: body.variables.name, displayName: "x" } } },
      });
    }
    return Response.json({});
  });
  return { calls, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* files(p);
    else yield p;
  }
}

/** The W&B run: 20 streamed requests, progress every 5, named, with the key. */
function wandbRun(mockUrl: string, env: Record<string, string>, slo?: string) {
  return perfRun({
    url: `${mockUrl}/v1/chat/completions`,
    flags: {
      number: 20,
      parallel: 2,
      stream: true,
      logEveryNQuery: 5,
      name: "wb-run",
      wandbApiKey: KEY,
      slo,
    },
    env,
  });
}

Deno.test("wandb settings: base URL, project and entity from the standard variables", () => {
  const env = new Map([["WANDB_BASE_URL", "http://w.local:8080/"], ["WANDB_PROJECT", "p"]]);
  assertEquals(wandbSettings("k", env), {
    apiKey: "k",
    baseUrl: "http://w.local:8080",
    project: "p",
    entity: undefined,
  });
  assertEquals(wandbSettings("k", new Map()).baseUrl, "https://api.wandb.ai");
  assertEquals(wandbSettings("k", new Map()).project, "perf_benchmark");
});

Deno.test("wandb: settings, running metrics and summary reach the W&B API; the key nowhere else", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 2, outputTokens: 6 });
  const wb = stub();
  try {
    await using r = await wandbRun(mock.url, { WANDB_BASE_URL: wb.url }, "ttft_p99<60s");
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes(`wandb: logging to ${wb.url}/team-a/perf_benchmark/runs/`), r.stderr);
    const auth = `Basic ${btoa(`api:${KEY}`)}`;
    assert(wb.calls.length >= 4, JSON.stringify(wb.calls.map((c) => c.path)));
    for (const c of wb.calls) assertEquals(c.auth, auth, `${c.path} authenticates`);
    // 1. the default entity, 2. the run with its name and settings
    assert(String(wb.calls[0].body.query).includes("viewer"));
    const vars = wb.calls[1].body.variables as Record<string, unknown>;
    assertEquals([vars.displayName, vars.project, vars.entity], [
      "wb-run",
      "perf_benchmark",
      "team-a",
    ]);
    const config = JSON.parse(vars.config as string);
    assertEquals(config.model.value, "m");
    assertEquals(config.parallel.value, 2);
    assertEquals(config.wandb_api_key.value, "<redacted>");
    // 3. history rows and the summary on the file stream, then `complete`
    const stream = wb.calls.slice(2);
    const runId = vars.name as string;
    for (const c of stream) {
      assertEquals(c.path, `/files/team-a/perf_benchmark/${runId}/file_stream`);
    }
    const rows = stream.flatMap((c) => {
      const f = (c.body.files ?? {}) as Record<string, { content: string[] }>;
      return (f["wandb-history.jsonl"]?.content ?? []).map((l) => JSON.parse(l));
    });
    // A row each time 5 more requests finished (batches may pass several at once), then the last.
    const done = rows.map((x) => x.requests_done);
    assert(done.length >= 3 && done.length <= 5, `${done}`);
    assert(done.every((d, i) => i === 0 || d >= done[i - 1]) && done.at(-1) === 20, `${done}`);
    assertEquals(rows.map((x) => x._step), done.map((_, i) => i));
    assert(rows.every((x) => typeof x.mean_ttft_ms === "number" && x.output_tokens_per_s > 0));
    const last = stream.at(-2)!.body.files as Record<string, { content: string[] }>;
    const summary = JSON.parse(last["wandb-summary.json"].content[0]);
    assertEquals(summary["Total requests"], 20);
    assertEquals(summary["SLO passed"], true);
    assert(summary["Output token throughput (tok/s)"] > 0);
    assertEquals(stream.at(-1)!.body, { complete: true, exitcode: 0 });
    // The key: only in the header.
    for (const c of wb.calls) assert(!JSON.stringify(c.body).includes(KEY), `${c.path} body`);
    assert(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), "not in the output");
    for await (const p of files(r.outputs)) {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(p));
      assert(!bytes.includes(KEY), `the key is in ${p}`);
    }
  } finally {
    await wb.close();
    await mock.close();
  }
});

Deno.test("wandb: an unreachable or refusing W&B is one warning; the benchmark still succeeds", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  const wb = stub(401);
  try {
    await using r = await wandbRun(mock.url, { WANDB_BASE_URL: wb.url, WANDB_ENTITY: "me" });
    assertEquals(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("warning: wandb:"));
    assertEquals(warnings.length, 1, r.stderr);
    assert(warnings[0].includes("HTTP 401 (bad API key?)"), warnings[0]);
    assert(!r.stderr.includes(KEY));
    assertEquals(wb.calls.length, 1, "no more calls after the failure");
  } finally {
    await wb.close();
    await mock.close();
  }
});

/**
 * The start-up check: each way an endpoint can be unusable is one clear line, exit 1, within the
 * connect timeout; `--no-test-connection` skips it.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { tempDir, unusedPort } from "./helpers/cli.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { resolveConfig } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";
import { probeRequest } from "../src/load/preflight.ts";
import type { Job } from "../src/load/requests.ts";
import { defaultProbeBody } from "../src/plugins/probe_body.ts";

/** A server that answers every request with `status` and a JSON error. */
function statusServer(status: number) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(JSON.stringify({ error: { message: `nope ${status}` } }), {
        status,
        headers: { "content-type": "application/json" },
      }),
  );
}

/** A run against `url` with a 5 s connect timeout; `await using` the result. */
function perfAt(url: string, flags: PerfFlags = {}) {
  return perfRun({ url, flags: { connectTimeout: 5, ...flags } });
}

function checkOneLine(
  r: { code: number; stderr: string; seconds: number; entries: string[] },
  needle: string,
) {
  assertEquals(r.code, 1, r.stderr);
  const errors = r.stderr.trim().split("\n").filter((l) => l.includes("error"));
  assertEquals(errors.length, 1, r.stderr);
  assert(errors[0].includes(needle), `'${needle}' not in: ${errors[0]}`);
  assert(!r.stderr.includes("    at "), "no stack trace");
  assert(r.seconds < 5 + 4, `took ${r.seconds} s`);
  assertEquals(r.entries, [], "no run folder is left behind");
}

Deno.test("preflight: connection refused", async () => {
  await using r = await perfAt(`http://127.0.0.1:${unusedPort()}/v1/chat/completions`);
  checkOneLine(r, "connection refused");
});

Deno.test("preflight: unknown host", async () => {
  await using r = await perfAt("http://no-such-host.invalid:8000/v1/chat/completions");
  checkOneLine(r, "unknown host 'no-such-host.invalid'");
});

for (
  const [status, needle] of [[401, "refused the request (HTTP 401)"], [403, "(HTTP 403)"], [
    404,
    "HTTP 404",
  ]] as const
) {
  Deno.test(`preflight: HTTP ${status}`, async () => {
    const s = statusServer(status);
    try {
      await using r = await perfAt(`http://127.0.0.1:${s.addr.port}/v1/chat/completions`);
      checkOneLine(r, needle);
      assert(r.stderr.includes(`nope ${status}`), "the body excerpt is shown");
    } finally {
      await s.shutdown();
    }
  });
}

Deno.test("preflight: TLS failure (a certificate the client does not trust)", async () => {
  await using tmp = await tempDir();
  const cert = `${tmp.path}/cert.pem`, key = `${tmp.path}/key.pem`;
  const gen = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  assertEquals(gen.code, 0, "openssl");
  const mock = startMockServer({
    port: 0,
    tls: { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) },
  });
  try {
    await using r = await perfAt(`https://localhost:${mock.port}/v1/chat/completions`);
    checkOneLine(r, "TLS handshake with localhost");
  } finally {
    await mock.close();
  }
});

Deno.test("preflight: a server that keeps answering 503 fails after the connect timeout", async () => {
  const s = statusServer(503);
  try {
    await using r = await perfAt(`http://127.0.0.1:${s.addr.port}/v1/chat/completions`, {
      connectTimeout: 2,
    });
    assertEquals(r.code, 1);
    assert(r.stderr.includes("kept failing the test request for 2 s"), r.stderr);
  } finally {
    await s.shutdown();
  }
});

Deno.test("preflight: the check is one small request before the run; --no-test-connection skips it", async () => {
  // Counted at a server that knows nothing of llmperf: every request it got, probe included.
  const server = chatStub();
  try {
    {
      await using a = await perfAt(`${server.url}/v1/chat/completions`, { number: 3 });
      assertEquals(a.code, 0, a.stderr);
      assert(a.stderr.includes("checking the endpoint"));
      assertEquals(a.summary["Total requests"], 3, "the check is not one of the run's requests");
      assertEquals(server.requests.map((q) => q.body.max_tokens), [1, 2048, 2048, 2048]);
    }
    server.requests.length = 0;
    await using b = await perfAt(`${server.url}/v1/chat/completions`, {
      number: 3,
      noTestConnection: true,
    });
    assertEquals(b.code, 0, b.stderr);
    assert(!b.stderr.includes("checking the endpoint"));
    assertEquals(server.requests.map((q) => q.body.max_tokens), [2048, 2048, 2048]);
  } finally {
    await server.close();
  }
});

Deno.test("preflight: the check asks for one output token; the run's requests keep --max-tokens", async () => {
  const s = chatStub();
  try {
    await using r = await perfAt(`${s.url}/v1/chat/completions`, { number: 2, maxTokens: 64 });
    assertEquals(r.code, 0, r.stderr);
    const bodies = s.requests.map((q) => q.body);
    assertEquals(bodies.map((b) => b.max_tokens), [1, 64, 64]);
    // Otherwise the check is the first request itself.
    assertEquals({ ...bodies[0], max_tokens: 64 }, bodies[1]);
  } finally {
    await s.close();
  }
});

const JOB: Job = {
  index: 0,
  body: { model: "m", max_tokens: 512, parameters: { max_tokens: 512, top_k: 5 }, stream: true },
  prepared: { url: "http://x/v1", headers: { a: "b" }, body: "{}", stream: true },
};
const PARAMS = resolveConfig({ model: "m", api: "mine" });

Deno.test("preflight: probeRequest shrinks the body with the plugin's probeBody, or the default", () => {
  const plain = { buildRequest: () => ({}), parseResponses: () => [0, 0] as [number, number] };
  const byDefault = probeRequest(plain, JOB, PARAMS);
  assertEquals(JSON.parse(byDefault.body), {
    model: "m",
    max_tokens: 1,
    parameters: { max_tokens: 1, top_k: 5 },
    stream: true,
  });
  assertEquals([byDefault.url, byDefault.headers, byDefault.stream], [
    "http://x/v1",
    { a: "b" },
    true,
  ]);
  assertEquals(defaultProbeBody({ model: "m" }), { model: "m" }, "no field is added");
  // A trace's exact output length (min_tokens = max_tokens) must not make the check min > max.
  assertEquals(
    defaultProbeBody({ max_tokens: 40, min_tokens: 40, ignore_eos: true }),
    { max_tokens: 1, min_tokens: 1, ignore_eos: true },
  );
  const own = probeRequest(
    {
      ...plain,
      probeBody(body: Record<string, unknown>) {
        body.mutated = true; // a copy: the job's own body is not changed
        return { model: body.model, limit: 1 };
      },
    },
    JOB,
    PARAMS,
  );
  assertEquals(JSON.parse(own.body), { model: "m", limit: 1 });
  assertEquals(JOB.body.mutated, undefined);
  assertEquals((JOB.body.parameters as { max_tokens: number }).max_tokens, 512);
  assertThrows(
    () =>
      probeRequest(
        {
          ...plain,
          probeBody() {
            throw new Error("boom");
          },
        },
        JOB,
        PARAMS,
      ),
    UsageError,
    "--api 'mine': probeBody failed: boom",
  );
});

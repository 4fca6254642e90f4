/**
 * The start-up check: each way an endpoint can be unusable is one clear line, exit 1, within the
 * connect timeout; `--no-test-connection` skips it.
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir, unusedPort } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";

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

async function perfAt(url: string, extra: string[] = []) {
  await using tmp = await tempDir();
  const t0 = performance.now();
  const r = await runCli([
    "perf",
    url,
    "--model",
    "m",
    "--prompt",
    "hi",
    "--connect-timeout",
    "5",
    "--outputs-dir",
    tmp.path,
    ...extra,
  ]);
  const seconds = (performance.now() - t0) / 1000;
  const runs = [...Deno.readDirSync(tmp.path)].length;
  return { ...r, seconds, runs };
}

function checkOneLine(
  r: { code: number; stderr: string; seconds: number; runs: number },
  needle: string,
) {
  assertEquals(r.code, 1, r.stderr);
  const errors = r.stderr.trim().split("\n").filter((l) => l.includes("error"));
  assertEquals(errors.length, 1, r.stderr);
  assert(errors[0].includes(needle), `'${needle}' not in: ${errors[0]}`);
  assert(!r.stderr.includes("    at "), "no stack trace");
  assert(r.seconds < 5 + 4, `took ${r.seconds} s`);
  assertEquals(r.runs, 0, "no run folder is left behind");
}

Deno.test("preflight: connection refused", async () => {
  checkOneLine(
    await perfAt(`http://127.0.0.1:${unusedPort()}/v1/chat/completions`),
    "connection refused",
  );
});

Deno.test("preflight: unknown host", async () => {
  checkOneLine(
    await perfAt("http://no-such-host.invalid:8000/v1/chat/completions"),
    "unknown host 'no-such-host.invalid'",
  );
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
      const r = await perfAt(`http://127.0.0.1:${s.addr.port}/v1/chat/completions`);
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
    checkOneLine(
      await perfAt(`https://localhost:${mock.port}/v1/chat/completions`),
      "TLS handshake with localhost",
    );
  } finally {
    await mock.close();
  }
});

Deno.test("preflight: a server that keeps answering 503 fails after the connect timeout", async () => {
  const s = statusServer(503);
  try {
    const r = await perfAt(`http://127.0.0.1:${s.addr.port}/v1/chat/completions`, [
      "--connect-timeout",
      "2",
    ]);
    assertEquals(r.code, 1);
    assert(r.stderr.includes("kept failing the test request for 2 s"), r.stderr);
  } finally {
    await s.shutdown();
  }
});

Deno.test("preflight: --no-test-connection skips the check; the mock counts the check like any request", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  try {
    const a = await perfAt(`${mock.url}/v1/chat/completions`, ["-n", "3"]);
    assertEquals(a.code, 0, a.stderr);
    assert(a.stderr.includes("checking the endpoint"));
    assertEquals(mock.stats.requests, 3 + 1);
    const b = await perfAt(`${mock.url}/v1/chat/completions`, ["-n", "3", "--no-test-connection"]);
    assertEquals(b.code, 0, b.stderr);
    assert(!b.stderr.includes("checking the endpoint"));
    assertEquals(mock.stats.requests, 4 + 3);
  } finally {
    await mock.close();
  }
});

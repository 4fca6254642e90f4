/**
 * `llmperf doctor <url>` through the real CLI: against the mock (everything llmperf measures is
 * there), against byte-exact stubs that stream without usage or `[DONE]` and with a clock an hour
 * behind, that answer JSON to a streamed request, that want a key; over https with an unknown CA
 * and with `--ca-cert`; and an endpoint nobody listens on. The stubs' bytes are the ground truth:
 * each finding is checked against what the stub was written to do.
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir, unusedPort } from "./helpers/cli.ts";
import { chunk, type RawReply, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { makeTestCerts } from "./helpers/tls.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { DoctorReport } from "../src/doctor/diagnose.ts";

/** `llmperf doctor ...args --json`, parsed, and the same as text. */
async function doctor(args: string[], env: Record<string, string> = {}) {
  const json = await runCli(["doctor", ...args, "--json"], { env });
  const text = await runCli(["doctor", ...args], { env });
  assertEquals(json.code, text.code, text.stderr);
  let report: DoctorReport | undefined;
  try {
    report = JSON.parse(json.stdout);
  } catch {
    report = undefined;
  }
  const status = (name: string) => report?.checks.find((c) => c.name === name)?.status;
  const detail = (name: string) => report?.checks.find((c) => c.name === name)?.detail ?? "";
  return { code: json.code, report, text: text.stdout, stderr: text.stderr, status, detail };
}

Deno.test("doctor: the mock streams with usage and [DONE]: everything is measurable", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 2, outputTokens: 8 });
  try {
    const d = await doctor([mock.url]); // the base URL: doctor finds the endpoint under it
    assertEquals(d.code, 0, d.stderr);
    const r = d.report!;
    assertEquals(r.endpoint, `${mock.url}/v1/chat/completions`);
    assertEquals(r.model, "mock"); // the first (only) model /v1/models lists
    assertEquals(d.status("url"), "warn");
    for (const name of ["reachable", "models", "auth", "request", "streaming", "usage", "clock"]) {
      assertEquals(d.status(name), "ok", `${name}: ${d.detail(name)}`);
    }
    assertEquals(d.status("tls"), "skip");
    assertEquals(d.status("metrics"), "ok", d.detail("metrics")); // the mock's, in vLLM's names
    assert(d.detail("streaming").includes("ends with [DONE]"), d.detail("streaming"));
    // 16 tokens asked for (max_tokens), 8 sent: the count is the server's usage.
    assert(d.detail("usage").includes("yes (8 completion tokens)"), d.detail("usage"));
    const ttft = Number(/first token after ([\d.]+) ms/.exec(d.detail("streaming"))?.[1]);
    assert(ttft >= 20 && ttft < 5000, d.detail("streaming")); // the mock waits 20 ms
    assert(r.measures.some((m) => m.includes("TTFT, TTFO, TPOT, ITL")), r.measures.join("\n"));
    assert(r.measures.some((m) => m.includes("streamed requests from the server's usage")));
    assertEquals(r.cannot, []);
    assertEquals(
      r.command,
      `llmperf perf ${r.endpoint} --model mock --stream --parallel 8 --number 200`,
    );
    // The text form says the same, one line per check.
    assert(/^ {2}ok {4}streaming {2}text\/event-stream, \d+ events/m.test(d.text), d.text);
    assert(d.text.includes("What llmperf will measure here:"), d.text);
    assert(d.text.trimEnd().endsWith("The endpoint can be benchmarked."), d.text);
  } finally {
    await mock.close();
  }
});

/** A reply with a head and a whole body; the connection closes after it. */
async function whole(r: RawReply, status: string, type: string, body: string, extra = "") {
  const bytes = new TextEncoder().encode(body);
  await r.write(
    `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${bytes.length}\r\n` +
      `connection: close\r\n${extra}\r\n`,
  );
  await r.write(bytes);
  r.close();
}

const CHUNK = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

const NO_USAGE_BODY = JSON.stringify({
  id: "c1",
  object: "chat.completion",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello there" },
    finish_reason: "stop",
  }],
});

Deno.test("doctor: a stream without usage or [DONE], a clock an hour behind, no /v1/models", async () => {
  const behind = new Date(Date.now() - 3600_000).toUTCString();
  const stub = await rawServer(async (r) => {
    const [method, path] = r.req.head.split(" ");
    if (method === "GET" && path === "/metrics") {
      return whole(
        r,
        "200 OK",
        "text/plain; version=0.0.4",
        "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 0\n",
      );
    }
    if (method !== "POST") return whole(r, "404 Not Found", "text/plain", "not found");
    if (JSON.parse(r.req.body).stream !== true) {
      return whole(r, "200 OK", "application/json", NO_USAGE_BODY, `date: ${behind}\r\n`);
    }
    await r.write(SSE_HEAD.replace("\r\n\r\n", `\r\ndate: ${behind}\r\nconnection: close\r\n\r\n`));
    for (
      const data of [
        CHUNK({ role: "assistant" }),
        CHUNK({ content: "Hello" }),
        CHUNK({ content: " there" }, "stop"),
      ]
    ) {
      await r.write(chunk(`data: ${data}\n\n`));
    }
    await r.write("0\r\n\r\n");
    r.close();
  });
  try {
    const d = await doctor([`${stub.url}/v1/chat/completions`, "--model", "stub-model"]);
    assertEquals(d.code, 0, d.stderr); // usable: warnings only
    assertEquals(d.status("models"), "warn");
    assert(d.detail("models").includes("HTTP 404"), d.detail("models"));
    assertEquals(d.report!.model, "stub-model");
    assertEquals(d.status("streaming"), "warn");
    assert(d.detail("streaming").includes("3 events"), d.detail("streaming"));
    assert(d.detail("streaming").includes("no [DONE] at the end"), d.detail("streaming"));
    assertEquals(d.status("usage"), "warn");
    assert(d.detail("usage").includes("usage in streams (stream_options.include_usage): no"));
    assert(d.detail("usage").includes("in whole replies: no"), d.detail("usage"));
    assertEquals(d.status("metrics"), "ok");
    assert(d.detail("metrics").includes("(vLLM)"), d.detail("metrics"));
    assertEquals(d.status("clock"), "warn");
    const skew = Number(/is (\d+) s behind/.exec(d.detail("clock"))?.[1]);
    assert(skew >= 3598 && skew <= 3602, d.detail("clock"));
    const cannot = d.report!.cannot.join("\n");
    assert(cannot.includes("no usage in streams: token counts will be estimates"), cannot);
    assert(cannot.includes("unless --tokenizer-path"), cannot);
    const off = Number(/its clock is (\d+) s off/.exec(cannot)?.[1]);
    assert(off >= 3598 && off <= 3602, cannot);
    assert(d.report!.measures.some((m) => m.includes("the server sends no [DONE]")));
    // The stub saw exactly what llmperf perf sends: include_usage in the streamed body.
    const streamed = stub.requests.map((q) => q.body).filter((b) => b.includes('"stream":true'));
    assertEquals(JSON.parse(streamed[0]).stream_options, { include_usage: true });
    assertEquals(JSON.parse(streamed[0]).model, "stub-model");
  } finally {
    await stub.close();
  }
});

Deno.test("doctor: a server that answers JSON to a streamed request: no TTFT/ITL", async () => {
  const body = JSON.stringify({
    id: "c1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
  });
  const stub = await rawServer((r) => {
    const path = r.req.head.split(" ")[1];
    if (path === "/v1/models") {
      return whole(
        r,
        "200 OK",
        "application/json",
        '{"object":"list","data":[{"id":"json-only"}]}',
      );
    }
    if (path === "/v1/chat/completions") return whole(r, "200 OK", "application/json", body);
    return whole(r, "404 Not Found", "text/plain", "");
  });
  try {
    const d = await doctor([`${stub.url}/v1/chat/completions`]);
    assertEquals(d.code, 0, d.stderr);
    assertEquals(d.report!.model, "json-only");
    assertEquals(d.status("streaming"), "warn");
    assert(
      d.detail("streaming").includes("answered application/json in one piece"),
      d.detail("streaming"),
    );
    assert(
      d.detail("usage").includes("in whole replies: yes (2 completion tokens)"),
      d.detail("usage"),
    );
    assert(
      d.report!.cannot.some((c) =>
        c.startsWith("no streaming: TTFT, TPOT and ITL cannot be measured")
      ),
    );
    assert(!d.report!.command!.includes("--stream"), d.report!.command);
  } finally {
    await stub.close();
  }
});

Deno.test("doctor: a server that wants a key: exit 1 without one, the key never printed", async () => {
  const good = "sk-good-key-123456";
  const stub = await rawServer((r) => {
    if (!r.req.head.toLowerCase().includes(`authorization: bearer ${good}`)) {
      return whole(r, "401 Unauthorized", "application/json", '{"error":"invalid api key"}');
    }
    const path = r.req.head.split(" ")[1];
    if (path === "/v1/models") {
      return whole(r, "200 OK", "application/json", '{"data":[{"id":"m"}]}');
    }
    return whole(r, "200 OK", "application/json", NO_USAGE_BODY);
  });
  try {
    const none = await doctor([`${stub.url}/v1/chat/completions`]);
    assertEquals(none.code, 1);
    assertEquals(none.status("auth"), "fail");
    assert(none.detail("auth").includes("wants a key (HTTP 401)"), none.detail("auth"));
    assert(none.text.includes("FAIL  auth"), none.text);
    const wrong = "sk-wrong-key-654321";
    const bad = await doctor([`${stub.url}/v1/chat/completions`, "--api-key", wrong]);
    assertEquals(bad.code, 1);
    assert(bad.detail("auth").includes("refused the key (HTTP 401)"), bad.detail("auth"));
    assert(!bad.text.includes(wrong) && !JSON.stringify(bad.report).includes(wrong));
    // The key from the environment, as perf reads it.
    const ok = await doctor([`${stub.url}/v1/chat/completions`], { LLMPERF_API_KEY: good });
    assertEquals(ok.code, 0, ok.text);
    assertEquals(ok.status("auth"), "ok");
    assert(!ok.text.includes(good));
  } finally {
    await stub.close();
  }
});

Deno.test("doctor: https with an unknown CA fails with a --ca-cert hint; with it, TLS is ok", async () => {
  await using tmp = await tempDir();
  const certs = await makeTestCerts(tmp.path);
  const mock = startMockServer({
    port: 0,
    outputTokens: 4,
    tls: { cert: certs.cert, key: certs.key },
  });
  try {
    const url = mock.url.replace("http://", "https://");
    const untrusted = await doctor([url]);
    assertEquals(untrusted.code, 1);
    assertEquals(untrusted.status("tls"), "fail");
    assert(untrusted.detail("tls").includes("--ca-cert"), untrusted.detail("tls"));
    const trusted = await doctor([url, "--ca-cert", certs.caPath]);
    assertEquals(trusted.code, 0, trusted.text);
    assertEquals(trusted.status("tls"), "ok");
    assertEquals(trusted.status("streaming"), "ok");
  } finally {
    await mock.close();
  }
});

Deno.test("doctor: nobody listening is exit 1; bad input is one line and exit 2", async () => {
  const port = unusedPort();
  const d = await doctor([`http://127.0.0.1:${port}/v1/chat/completions`]);
  assertEquals(d.code, 1);
  assertEquals(d.status("reachable"), "fail");
  assert(d.detail("reachable").includes(`cannot connect to 127.0.0.1:${port}`));
  for (
    const args of [[], ["ftp://x/v1"], ["http://h/v1", "--timeout", "0"], [
      "http://h",
      "--modl",
      "m",
    ]]
  ) {
    const r = await runCli(["doctor", ...args]);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const typo = await runCli(["doctor", "http://h", "--modl", "m"]);
  assert(typo.stderr.includes("(did you mean --model?)"), typo.stderr);
});

/**
 * Secrets never reach disk or logs, in any form: by name (credential headers, secret query
 * parameters, URL userinfo, secret config keys) and by value (wherever a server echoes one:
 * error bodies, streamed events, error events). The end-to-end tests search every output file,
 * the decoded DB (pickles included), stdout and stderr for every form of every secret.
 */
import { assert, assertEquals } from "./assert.ts";
import { runCli } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import {
  isSecretHeader,
  isSecretKey,
  isSecretParam,
  redactConfig,
  REDACTED,
  Redactor,
  redactUrl,
  redactUrlsIn,
  runSecrets,
} from "../src/redact.ts";
import { unpickleBase64 } from "../src/store/pickle.ts";
import { DatabaseSync } from "node:sqlite";

const SECRETS = [
  "sk-SECRET-api-key-0001",
  "Bearer-SECRET-0002",
  "SECRET-x-api-key-0003",
  "SECRET-api-key-0004",
  "SECRET-token-0005",
  "SECRET-cookie-0006",
  "SECRET-wandb-0007",
];

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* files(p);
    else yield p;
  }
}

Deno.test("redact: credential-looking headers and secret keys", () => {
  for (
    const h of [
      "Authorization",
      "api-key",
      "X-API-Key",
      "x-auth-token",
      "Cookie",
      "Proxy-Authorization",
      "X-Amz-Security-Token",
      "Ocp-Apim-Subscription-Key",
      "X-Goog-Api-Key",
      "X-Signature",
      "X-Session-Id",
      "X-Password",
      "X-Secret",
    ]
  ) {
    assert(isSecretHeader(h), h);
  }
  for (const h of ["content-type", "x-team", "user-agent", "accept", "x-request-id"]) {
    assert(!isSecretHeader(h), h);
  }
  for (
    const k of ["apiKey", "wandbApiKey", "api_key", "access_token", "password", "client_secret"]
  ) {
    assert(isSecretKey(k), k);
  }
  for (const k of ["maxTokens", "max_tokens", "tokenizerPath", "stop_token_ids", "model"]) {
    assert(!isSecretKey(k), k);
  }
  const r = redactConfig({
    apiKey: "k",
    wandbApiKey: "w",
    maxTokens: 5,
    headers: { Authorization: "x", "X-Team": "t" },
  });
  assertEquals(r, {
    apiKey: REDACTED,
    wandbApiKey: REDACTED,
    maxTokens: 5,
    headers: { Authorization: REDACTED, "X-Team": "t" },
  });
});

Deno.test("redact: URLs lose userinfo and secret parameters, and nothing else", () => {
  for (
    const [url, want] of [
      ["http://u:p@h:1/v1?x=1", `http://${REDACTED}@h:1/v1?x=1`],
      ["https://user:p%40ss@word@h/x", `https://${REDACTED}@h/x`],
      [
        "https://h/x?key=K&api-key=A&api_key=B&token=T&access_token=C&sig=S&signature=G&code=D&model=m",
        `https://h/x?key=${REDACTED}&api-key=${REDACTED}&api_key=${REDACTED}&token=${REDACTED}` +
        `&access_token=${REDACTED}&sig=${REDACTED}&signature=${REDACTED}&code=${REDACTED}&model=m`,
      ],
      [
        "https://a.blob/c?sv=2024&X-Amz-Credential=c1&X-Amz-Signature=s1&password=p1",
        `https://a.blob/c?sv=2024&X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}` +
        `&password=${REDACTED}`,
      ],
      ["https://h/cb#access_token=t1&state=s", `https://h/cb#access_token=${REDACTED}&state=s`],
      ["http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/v1/chat/completions"],
    ]
  ) {
    assertEquals(redactUrl(url), want);
  }
  for (const p of ["key", "sig", "code", "client_secret", "auth", "X-Amz-Security-Token"]) {
    assert(isSecretParam(p), p);
  }
  for (const p of ["model", "sv", "se", "version", "stream"]) assert(!isSecretParam(p), p);
  assertEquals(
    redactUrlsIn("error sending request for url (http://a:b@h/x?token=t): refused"),
    `error sending request for url (http://${REDACTED}@h/x?token=${REDACTED}): refused`,
  );
});

Deno.test("redact: every form of a run's secrets is replaced in free text", () => {
  const r = new Redactor(runSecrets({
    apiKey: "sk-abc123",
    url: "http://longusername:pa%24%24word@h/x?api-key=q-key-1&model=m",
    headers: { Cookie: "theme=dark; session=sess-42xyz", "X-Team": "visible-team" },
  }));
  const basic = btoa("longusername:pa$$word");
  const text = `key sk-abc123, user longusername, pass pa$$word / pa%24%24word, basic ${basic}, ` +
    `param q-key-1, cookie sess-42xyz, json ${
      JSON.stringify({ k: 'x"sk-abc123' })
    }, team visible-team`;
  const out = r.text(text);
  for (
    const s of [
      "sk-abc123",
      "longusername",
      "pa$$word",
      "pa%24%24word",
      basic,
      "q-key-1",
      "sess-42xyz",
    ]
  ) {
    assert(!out.includes(s), `${s} left in ${out}`);
  }
  assert(out.includes("team visible-team"), out);
  // Deep: secret keys, headers, strings; booleans and numbers kept.
  assertEquals(
    r.value({
      api_key: "x",
      n: 3,
      ok: true,
      headers: { "X-Api-Key": "y", Accept: "a" },
      s: "sk-abc123!",
    }),
    {
      api_key: REDACTED,
      n: 3,
      ok: true,
      headers: { "X-Api-Key": REDACTED, Accept: "a" },
      s: `${REDACTED}!`,
    },
  );
});

Deno.test("redact: no secret reaches any output file, stdout, stderr or --debug output", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: {
        number: 3,
        stream: true,
        debug: true,
        apiKey: SECRETS[0],
        headers: [
          `Authorization=${SECRETS[1]}`,
          `x-api-key=${SECRETS[2]}`,
          `api-key=${SECRETS[3]}`,
          `X-Auth-Token=${SECRETS[4]}`,
          `Cookie=${SECRETS[5]}`,
          "X-Team=visible",
        ],
        wandbApiKey: SECRETS[6],
      },
      // W&B on a closed loopback port: the key is used (and refused), never sent off the machine.
      env: { WANDB_BASE_URL: "http://127.0.0.1:9" },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("request #0 body"), "--debug logs the request");
    // Every file's bytes, and the DB decoded: a secret inside a base64 pickle is found too.
    const texts = await everything(r.outputs);
    for (const [where, text] of texts) {
      for (const s of SECRETS) assert(!text.includes(s), `${s} found in ${where}`);
    }
    let checked = 0;
    for await (const _ of files(r.outputs)) checked++;
    assert(checked >= 4, `checked ${checked} files`);
    assert(texts.some(([p]) => p.endsWith("result.request")), "the DB's requests were decoded");
    for (const s of SECRETS) {
      assert(!r.stdout.includes(s), `${s} in stdout`);
      assert(!r.stderr.includes(s), `${s} in stderr`);
    }
    const args = await r.text("benchmark_args.json");
    assert(args.includes("visible"), "non-secret headers are kept");
  } finally {
    await mock.close();
  }
});

/** Every text a run left: each file's bytes, and the result DB decoded (pickles unpickled). */
async function everything(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const path of files(dir)) {
    out.push([path, new TextDecoder("latin1").decode(await Deno.readFile(path))]);
    if (!path.endsWith(".db")) continue;
    const db = new DatabaseSync(path, { readOnly: true });
    for (const table of ["result", "run"]) {
      for (const row of db.prepare(`SELECT * FROM ${table}`).all()) {
        for (const [col, v] of Object.entries(row)) {
          let text = String(v);
          if (col === "request" || col === "response_messages") {
            text = JSON.stringify(unpickleBase64(text));
          }
          out.push([`${path}:${table}.${col}`, text]);
        }
      }
    }
    db.close();
  }
  return out;
}

/**
 * A server that echoes what it got: each request's headers and URL come back in a 401 body, in a
 * streamed token, or in an error event, in turn. The start-up check gets a plain reply.
 */
function echoServer() {
  let n = 0;
  const seen: Array<Record<string, string>> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.text();
    const headers = Object.fromEntries(req.headers);
    const echo = JSON.stringify({ url: req.url, headers });
    const sse = (events: unknown[]) =>
      new Response(
        events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n",
        {
          headers: { "content-type": "text/event-stream" },
        },
      );
    const chunk = (content: string, finish: string | null = null) => ({
      choices: [{ index: 0, delta: { content }, finish_reason: finish }],
    });
    if (req.headers.has("x-llmperf-preflight")) return sse([chunk("ok", "stop")]);
    seen.push(headers);
    switch (n++ % 3) {
      case 0:
        return new Response(`{"error": {"message": "bad credentials", "request": ${echo}}}`, {
          status: 401,
          headers: { "content-type": "application/json" },
        });
      case 1:
        return sse([chunk(`you sent ${echo}`), chunk("", "stop"), {
          choices: [],
          usage: { prompt_tokens: 1, completion_tokens: 2 },
        }]);
      default:
        return sse([{ error: { message: `refused: ${echo}` } }]);
    }
  });
  return {
    url: `127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

for (const transport of ["fetch", "socket"] as const) {
  Deno.test(`redact [${transport}]: URL userinfo, query keys, credential headers and their echoes stay off disk and out of logs`, async () => {
    const server = echoServer();
    const user = "SECRETUSER-0001";
    const pass = "SECRETPASS-0002";
    const secrets = [
      user,
      pass,
      btoa(`${user}:${pass}`),
      "SECRET-q-key-0003",
      "SECRET-q-sig-0004",
      "SECRET-q-code-0005",
      "SECRET-sub-key-0006",
      "SECRET-cookie-0007",
      "SECRET-auth-token-0008",
      "SECRET-signature-0009",
      "SECRET-azure-key-0010",
      "SECRET-wandb-0011",
    ];
    try {
      await using r = await perfRun({
        url: `http://${user}:${pass}@${server.url}/v1/chat/completions?api-key=${secrets[3]}` +
          `&sig=${secrets[4]}&code=${secrets[5]}`,
        flags: {
          number: 6,
          stream: true,
          debug: true,
          transport,
          headers: [
            `Ocp-Apim-Subscription-Key=${secrets[6]}`,
            `Cookie=theme=dark; session=${secrets[7]}`,
            `X-Auth-Token=${secrets[8]}`,
            `X-Signature=${secrets[9]}`,
            `api-key=${secrets[10]}`,
            "X-Team=visible",
          ],
          wandbApiKey: secrets[11],
        },
        env: { WANDB_BASE_URL: "http://127.0.0.1:9" },
      });
      assertEquals(r.code, 0, r.stderr);
      // The server did get the credentials (they were sent, and echoed back) ...
      assert(server.seen.length === 6, `server saw ${server.seen.length}`);
      assertEquals(server.seen[0]["ocp-apim-subscription-key"], secrets[6]);
      // ... and they are nowhere in what the run left or printed.
      const texts = await everything(r.outputs);
      assert(texts.some(([p]) => p.endsWith("result.response_messages")), "the DB was searched");
      for (const [where, text] of [...texts, ["stdout", r.stdout], ["stderr", r.stderr]]) {
        for (const s of secrets) assert(!text.includes(s), `${s} found in ${where}`);
      }
      const args = await r.text("benchmark_args.json");
      assert(args.includes("visible"), "non-secret headers are kept");
      assert(
        args.includes(`http://${REDACTED}@${server.url}/v1/chat/completions?api-key=${REDACTED}`),
        args,
      );
      // The echoes are kept, redacted, not dropped.
      const echoed = texts.find(([p]) =>
        p.endsWith("result.response_messages") && texts.length > 0
      );
      assert(
        texts.some(([p, t]) => p.endsWith("result.error") && t.includes(REDACTED)),
        "error column",
      );
      assert(echoed !== undefined);
    } finally {
      await server.close();
    }
  });
}

Deno.test("redact: --api-key from LLMPERF_API_KEY, else OPENAI_API_KEY; never on disk", async () => {
  const server = echoServer();
  try {
    for (
      const [env, want] of [
        [
          { LLMPERF_API_KEY: "sk-SECRET-llmperf-01", OPENAI_API_KEY: "sk-SECRET-openai-02" },
          "sk-SECRET-llmperf-01",
        ],
        [{ OPENAI_API_KEY: "sk-SECRET-openai-03" }, "sk-SECRET-openai-03"],
      ] as const
    ) {
      server.seen.length = 0;
      await using r = await perfRun({
        url: `http://${server.url}/v1/chat/completions`,
        flags: { number: 3, stream: true },
        env,
      });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(server.seen.map((h) => h.authorization), Array(3).fill(`Bearer ${want}`));
      for (
        const [where, text] of [...await everything(r.outputs), ["stdout", r.stdout], [
          "stderr",
          r.stderr,
        ]]
      ) {
        for (const s of Object.values(env)) assert(!text.includes(s), `${s} found in ${where}`);
      }
    }
    const help = await runCli(["perf", "--help"]);
    assert(help.stdout.includes("LLMPERF_API_KEY") && help.stdout.includes("OPENAI_API_KEY"));
  } finally {
    await server.close();
  }
});

Deno.test("redact: a usage error never echoes a credential from the command line", async () => {
  for (
    const [args, secret] of [
      [["perf", "http://user:SECRET-pass-01@h:99999/v1", "--model", "m"], "SECRET-pass-01"],
      [["perf", "--url", "http://h:99999/v1?api-key=SECRET-q-02", "--model", "m"], "SECRET-q-02"],
    ] as const
  ) {
    const r = await runCli([...args]);
    assertEquals(r.code, 2, r.stderr);
    assert(!r.stderr.includes(secret), r.stderr);
    assert(r.stderr.includes(REDACTED), r.stderr);
  }
});

Deno.test("redact: a start-up check refused with a body that echoes the credentials", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.text();
    return new Response(
      JSON.stringify({ error: "invalid key", got: Object.fromEntries(req.headers), url: req.url }),
      { status: 401 },
    );
  });
  try {
    await using r = await perfRun({
      url: `http://127.0.0.1:${server.addr.port}/v1/chat/completions?key=SECRET-q-0001`,
      flags: { apiKey: "sk-SECRET-0002", headers: ["X-Api-Key=SECRET-0003"] },
    });
    assertEquals(r.code, 1, r.stderr);
    assert(r.stderr.includes("refused the request (HTTP 401)"), r.stderr);
    assert(r.stderr.includes(REDACTED), r.stderr);
    for (const s of ["SECRET-q-0001", "sk-SECRET-0002", "SECRET-0003"]) {
      assert(!r.stderr.includes(s) && !r.stdout.includes(s), `${s} printed:\n${r.stderr}`);
    }
  } finally {
    await server.shutdown();
  }
});

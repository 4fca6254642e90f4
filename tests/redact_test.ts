import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { isSecretHeader, redactConfig, REDACTED } from "../src/redact.ts";

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
    ]
  ) {
    assert(isSecretHeader(h), h);
  }
  for (const h of ["content-type", "x-team", "user-agent"]) assert(!isSecretHeader(h), h);
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

Deno.test("redact: no secret reaches any output file, stdout, stderr or --debug output", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  await using tmp = await tempDir();
  try {
    const r = await runCli([
      "perf",
      `${mock.url}/v1/chat/completions`,
      "--model",
      "m",
      "--prompt",
      "hi",
      "-n",
      "3",
      "--stream",
      "--debug",
      "--api-key",
      SECRETS[0],
      "--headers",
      `Authorization=${SECRETS[1]}`,
      `x-api-key=${SECRETS[2]}`,
      `api-key=${SECRETS[3]}`,
      `X-Auth-Token=${SECRETS[4]}`,
      `Cookie=${SECRETS[5]}`,
      "X-Team=visible",
      "--wandb-api-key",
      SECRETS[6],
      "--outputs-dir",
      tmp.path,
      // W&B on a closed loopback port: the key is used (and refused), never sent off the machine.
    ], { env: { WANDB_BASE_URL: "http://127.0.0.1:9" } });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("request #0 body"), "--debug logs the request");
    let checked = 0;
    for await (const path of files(tmp.path)) {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(path));
      for (const s of SECRETS) assert(!bytes.includes(s), `${s} found in ${path}`);
      checked++;
    }
    assert(checked >= 4, `checked ${checked} files`);
    for (const s of SECRETS) {
      assert(!r.stdout.includes(s), `${s} in stdout`);
      assert(!r.stderr.includes(s), `${s} in stderr`);
    }
    const args = await Deno.readTextFile(
      `${tmp.path}/${[...Deno.readDirSync(tmp.path)][0].name}/benchmark_args.json`,
    );
    assert(args.includes("visible"), "non-secret headers are kept");
  } finally {
    await mock.close();
  }
});

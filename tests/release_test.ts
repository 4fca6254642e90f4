/**
 * What a release rests on: the pinned Deno version is the same everywhere (`.deno-version`, the
 * README's two-command start, `.ci/run`, the workflows); the workflows build, sum and publish
 * what they say, and pass actionlint and ShellCheck (which also catch a broken workflow); the
 * package's default export installs as a working `llmperf` command; `deno publish` ships what the
 * CLI loads at run time; `--version` names llmperf's, Deno's and V8's versions.
 *
 * @module
 */
import { parse } from "yaml";
import { assert, assertEquals } from "./assert.ts";
import { ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { COMPILE_INCLUDES, RELEASE_TARGETS } from "../tools/compile.ts";
import { hasShellcheck, lintWorkflow, shellSteps } from "../tools/lint_workflows.ts";
import { VERSION } from "../src/version.ts";

const read = (rel: string) => Deno.readTextFile(`${ROOT_DIR}/${rel}`);
const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/release.yml"];
const PINNED = (await read(".deno-version")).trim();

Deno.test("release: .deno-version pins one Deno, and the README's first block is two commands", async () => {
  assert(/^\d+\.\d+\.\d+$/.test(PINNED), `.deno-version: '${PINNED}'`);
  const readme = await read("README.md");
  const first = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const commands = first.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assertEquals(commands, [`npx -y deno@${PINNED} task demo`, `npx -y deno@${PINNED} task test`]);
});

Deno.test("release: README, docs, .ci/run and the workflows name no other Deno version", async () => {
  const files = ["README.md", "DEVELOPERS.md", ".ci/run", ...WORKFLOWS];
  for await (const e of Deno.readDir(`${ROOT_DIR}/docs`)) files.push(`docs/${e.name}`);
  for (const file of files) {
    const text = await read(file);
    for (const m of text.matchAll(/deno@(\$\(cat \.deno-version\)|[^\s"'`)]+)/g)) {
      const ok = m[1] === PINNED || m[1] === "$want" || m[1] === "$(cat .deno-version)";
      assert(ok, `${file}: deno@${m[1]} (pinned: ${PINNED})`);
    }
    for (const m of text.matchAll(/[Dd]eno (2\.\d+\.\d+)/g)) {
      assertEquals(m[1], PINNED, `${file}: 'Deno ${m[1]}'`);
    }
  }
  // .ci/run and every workflow that installs Deno read .deno-version, never a literal.
  const ci = await read(".ci/run");
  assert(
    ci.includes("want=\"$(tr -d '[:space:]' < .deno-version)\""),
    ".ci/run reads .deno-version",
  );
  assert(ci.includes('"deno@$want"'), ".ci/run installs deno@$want");
  for (const file of WORKFLOWS) {
    for (const step of shellSteps(await read(file))) {
      if (!/\bnpm (install|i)\b.*\bdeno\b/.test(step.script)) continue;
      assert(step.script.includes('"deno@$(cat .deno-version)"'), `${file}: ${step.script}`);
    }
    assert(!/deno-version:/.test(await read(file)), `${file}: a literal deno-version`);
  }
});

interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: { target?: string[] } };
  steps: { run?: string; uses?: string }[];
  container?: string;
}

async function workflow(
  file: string,
): Promise<{ on: Record<string, unknown>; jobs: Record<string, Job> }> {
  return parse(await read(file));
}

Deno.test("release: ci.yml runs .ci/run; release.yml builds, sums, releases and publishes", async () => {
  const ci = await workflow(".github/workflows/ci.yml");
  assert(Object.values(ci.jobs).some((j) => j.steps.some((s) => s.run === "bash .ci/run")));
  const rel = await workflow(".github/workflows/release.yml");
  assertEquals(rel.on, { push: { tags: ["v*"] } });
  const build = rel.jobs.binaries;
  assertEquals(build.strategy?.matrix?.target, [...RELEASE_TARGETS]);
  const runs = (j: Job) => j.steps.map((s) => s.run ?? "").join("\n");
  assert(runs(build).includes('deno task compile --target "$TARGET"'), runs(build));
  assert(/sha256sum "\$archive" > "\$archive.sha256"/.test(runs(build)));
  assert(/tar -czf/.test(runs(build)) && /zip -q/.test(runs(build)), "tar.gz and zip archives");
  const release = rel.jobs["github-release"];
  assertEquals(release.permissions, { contents: "write" });
  assert(/sha256sum --check SHA256SUMS/.test(runs(release)));
  assert(/gh release create "\$GITHUB_REF_NAME"[\s\S]*release\/SHA256SUMS/.test(runs(release)));
  const jsr = rel.jobs.jsr;
  assertEquals(jsr.permissions, { contents: "read", "id-token": "write" });
  assert(runs(jsr).split("\n").includes("deno publish"), runs(jsr));
});

const shellcheckHere = await hasShellcheck();
if (!shellcheckHere) console.warn("release_test: shellcheck missing: the lint tests are ignored");

Deno.test({
  name: "release: the workflows pass actionlint and ShellCheck",
  // .ci/run installs ShellCheck; in CI a missing one is a failure, not a skip.
  ignore: !shellcheckHere && !Deno.env.get("CI"),
  async fn() {
    for (const file of WORKFLOWS) assertEquals(await lintWorkflow(await read(file), file), []);
  },
});

Deno.test({
  name: "release: actionlint and ShellCheck catch a broken workflow, at the right lines",
  ignore: !shellcheckHere && !Deno.env.get("CI"),
  async fn() {
    const broken = [
      "name: broken",
      "on: push",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      id-token: writ",
      "    steps:",
      "      - run: echo ${{ matrix.nope }}",
      "      - run: |",
      "          ok=1",
      "          rm -rf $DIR/out",
      "",
    ].join("\n");
    const problems = await lintWorkflow(broken, "broken.yml");
    const at = (kind: string) => problems.filter((p) => p.kind === kind).map((p) => p.line);
    assertEquals(at("permissions"), [7]);
    assertEquals(at("expression"), [9]);
    assertEquals(at("shellcheck SC2086"), [12]); // unquoted $DIR
    assertEquals(at("shellcheck SC2034"), [11]); // ok assigned, never used
  },
});

Deno.test("release: VERSION is deno.json's; --version prints llmperf's, Deno's and V8's", async () => {
  const deno = JSON.parse(await read("deno.json"));
  assertEquals(VERSION, deno.version);
  const r = await runCli(["--version"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout.trim().split("\n"), [
    `llmperf ${VERSION}`,
    `deno ${Deno.version.deno}`,
    `v8 ${Deno.version.v8}`,
    `typescript ${Deno.version.typescript}`,
  ]);
});

Deno.test("install: `deno install -g` of the package's default export is a working llmperf", async () => {
  const deno = JSON.parse(await read("deno.json"));
  assertEquals(deno.exports["."], "./mod.ts");
  await using root = await tempDir();
  // As `deno install -g -A -n llmperf jsr:@llmperf/llmperf` does with the published package
  // (whose deno.json comes with it; a local file needs --config).
  const install = await new Deno.Command(Deno.execPath(), {
    args: [
      "install",
      "-g",
      "-A",
      "-n",
      "llmperf",
      "--root",
      root.path,
      "--config",
      `${ROOT_DIR}/deno.json`,
      `${ROOT_DIR}/mod.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(install.success, new TextDecoder().decode(install.stderr));
  const bin = `${root.path}/bin/llmperf`;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(bin, {
      args,
      cwd: root.path,
      env: { PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const v = await run("--version");
  assertEquals([v.code, v.stdout.split("\n")[0]], [0, `llmperf ${VERSION}`], v.stderr);
  const help = await run("perf", "--help");
  assertEquals(help.code, 0, help.stderr);
  assert(help.stdout.includes("--max-tokens"), help.stdout);
});

Deno.test("publish: the package ships the CLI and what it loads at run time", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert(out.success, text);
  const files = new Set(
    [...text.matchAll(/file:\/\/(\S+)/g)].map((m) => m[1].slice(ROOT_DIR.length + 1)),
  );
  const needed = ["mod.ts", "main.ts", "plugin.ts", "src/cli/main.ts"];
  for (const p of COMPILE_INCLUDES) {
    if (!p.endsWith("/")) needed.push(p);
    else {
      for await (const e of Deno.readDir(`${ROOT_DIR}/${p}`)) needed.push(`${p}${e.name}`);
    }
  }
  for (const p of needed) assert(files.has(p), `deno publish leaves out ${p}`);
  for (const p of files) assert(!/^(tests|tools|bench|\.ci)\//.test(p), `ships ${p}`);
});

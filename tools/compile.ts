/**
 * `deno task compile [--target TRIPLE]`: build the one-file `llmperf` executable with
 * `deno compile`. Everything that the code loads at run time and that `deno compile` cannot see in
 * the static module graph is listed once here ({@link COMPILE_INCLUDES}): the worker modules
 * (`new Worker(new URL(...))`) and the data files read through `new URL(..., import.meta.url)`.
 * `tests/compile_test.ts` scans the code for such loads and fails when one is not covered.
 *
 * Without `--target` it builds for this machine into `dist/llmperf`; with one (any of
 * {@link RELEASE_TARGETS}) into `dist/<target>/llmperf` (`llmperf.exe` for Windows), as the
 * release workflow does for each platform. `deno compile` downloads the runtime (`denort`) of the
 * target, which needs the network.
 *
 * @module
 */

/** What `deno compile` must embed besides `main.ts`'s static module graph, relative to the root. */
export const COMPILE_INCLUDES: readonly string[] = [
  "data/",
  "src/tokenizer/count_worker.ts",
  "src/workers/worker.ts",
  "src/store/db_worker.ts",
  "src/telemetry/telemetry_worker.ts",
  "src/plugins/items_worker.ts",
];

/** The platforms a release builds binaries for (`deno compile --target` values). */
export const RELEASE_TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** The executable's path for a target (`dist/llmperf` for this machine). */
export function outputPath(target?: string): string {
  if (target === undefined) return "dist/llmperf";
  return `dist/${target}/llmperf${target.includes("windows") ? ".exe" : ""}`;
}

/**
 * The arguments of `deno compile` for a target (undefined: this machine), with every
 * {@link COMPILE_INCLUDES} entry.
 *
 * @example
 * ```ts
 * compileArgs("aarch64-apple-darwin");
 * // ["compile", "-A", "--include", "data/", ..., "--target", "aarch64-apple-darwin",
 * //  "--output", "dist/aarch64-apple-darwin/llmperf", "main.ts"]
 * ```
 */
export function compileArgs(target?: string): string[] {
  const includes = COMPILE_INCLUDES.flatMap((p) => ["--include", p]);
  const targeted = target === undefined ? [] : ["--target", target];
  return ["compile", "-A", ...includes, ...targeted, "--output", outputPath(target), "main.ts"];
}

/** The target named by `--target X` or `--target=X` in `args`; throws on anything else. */
export function targetArg(args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  const target = args[0].startsWith("--target=")
    ? (args.length === 1 ? args[0].slice("--target=".length) : undefined)
    : (args[0] === "--target" && args.length === 2 ? args[1] : undefined);
  if (target === undefined || !RELEASE_TARGETS.includes(target)) {
    throw new Error(
      `usage: deno task compile [--target TRIPLE], TRIPLE one of ${RELEASE_TARGETS.join(", ")}`,
    );
  }
  return target;
}

if (import.meta.main) {
  let target: string | undefined;
  try {
    target = targetArg(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const root = new URL("../", import.meta.url);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target),
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}

/**
 * The `llmperf` command-line entry: `deno run -A main.ts <command> [flags]`. `mod.ts`, run as a
 * program (the JSR package's default export), runs the CLI through {@link main} here: the CLI's
 * modules are imported by this entry only.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

export { main };

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

/**
 * The `llmperf` command-line entry: `deno run -A main.ts <command> [flags]`.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

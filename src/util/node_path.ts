/**
 * `node:path`, imported the first time it is needed.
 *
 * Importing any `node:` module starts Deno's Node compatibility layer in that isolate: ~12 ms of
 * CPU and ~2.5 MB of memory each time a thread starts, measured here. The public `plugin.ts`,
 * which every API plugin imports (and so every transport worker), reaches the dataset hub modules
 * that need `join` and `dirname`; they take them from here, in their async code, so a thread that
 * never downloads a dataset never starts that layer.
 *
 * @example
 * ```ts
 * import { nodePath } from "./node_path.ts";
 * const { join } = await nodePath();
 * join("a", "b");
 * ```
 *
 * @module
 */

let loaded: Promise<typeof import("node:path")> | undefined;

/** The `node:path` module, imported once, on the first call. */
export function nodePath(): Promise<typeof import("node:path")> {
  return loaded ??= import("node:path");
}

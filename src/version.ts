/**
 * llmperf's version, kept equal to `deno.json`'s `version` (a test checks).
 *
 * @module
 */

/** The llmperf version. */
export const VERSION = "0.1.0";

/**
 * What `llmperf --version` prints: llmperf's version, then the Deno, V8 and TypeScript versions
 * it runs on, one per line as `deno --version` has them.
 *
 * @example
 * ```ts
 * versionText(); // "llmperf 0.1.0\ndeno 2.9.6\nv8 15.0.245.2-rusty\ntypescript 6.0.3"
 * ```
 */
export function versionText(): string {
  const v = Deno.version;
  return `llmperf ${VERSION}\ndeno ${v.deno}\nv8 ${v.v8}\ntypescript ${v.typescript}`;
}

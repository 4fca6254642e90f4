/**
 * llmperf's version, kept equal to `deno.json`'s `version` (a test checks).
 *
 * @module
 */

/** The llmperf version. */
export const VERSION = "0.1.0";

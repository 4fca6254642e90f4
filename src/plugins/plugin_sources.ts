/**
 * The text each plugin URL answered in this process, so that another thread imports the very same
 * module: `import_module.ts` records what it fetched, and the run hands it to the transport
 * workers. Kept apart from `import_module.ts`, which imports `node:path` and `node:url` (they start
 * Deno's Node compatibility layer's path and URL modules, ~7 MB): a run with a built-in plugin asks
 * here and never loads that module.
 *
 * @example
 * ```ts
 * import { fetchedSource, rememberFetched } from "./plugin_sources.ts";
 * rememberFetched("https://example.com/p.ts", { source: "export default {}", typescript: true });
 * fetchedSource("https://example.com/p.ts")?.typescript; // true
 * fetchedSource("openai"); // undefined: not a URL
 * ```
 *
 * @module
 */

/** A plugin module's text as fetched from its URL. */
export interface PluginSourceText {
  /** The module's text. */
  source: string;
  /** Whether it is TypeScript (its types are stripped before it is imported). */
  typescript: boolean;
}

/** Whether a spec is an http(s) URL. */
export function isUrlSpec(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

// What each URL answered, so that another thread can import the very same text.
const fetched = new Map<string, PluginSourceText>();

/** Keep the text `url` (normalised, as `new URL(...).href`) answered. */
export function rememberFetched(url: string, text: PluginSourceText): void {
  fetched.set(url, text);
}

/** The text a plugin URL answered in this process, if it was fetched here. */
export function fetchedSource(spec: string): PluginSourceText | undefined {
  return isUrlSpec(spec) ? fetched.get(new URL(spec).href) : undefined;
}

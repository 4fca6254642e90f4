/**
 * Importing a plugin module given by `--api` / `--dataset`: a `.ts`/`.js` file path (or `file:`
 * URL), or an http(s) URL. Every failure becomes one {@link UsageError} line naming the flag, the
 * plugin and the cause (no such file, HTTP status, connection refused, syntax error with its line
 * and column, an import that cannot be resolved, an exception thrown while the module loads).
 *
 * How a module is loaded, and why:
 * - A local file under `deno run` is imported natively, so its own relative imports work.
 * - A URL is fetched by llmperf (a 30 s limit, one line per failure), turned into JavaScript
 *   (TypeScript types stripped with `node:module`'s `stripTypeScriptTypes`) and imported from a
 *   `data:` URL. Deno's own remote import would cache the module until `--reload`, write its hash
 *   into the project's `deno.lock`, and abort the whole process with a multi-line "Integrity
 *   check failed" error once the published plugin changes; it would also treat a `.ts` file served
 *   with an unknown content type (Python's `http.server` says `text/vnd.trolltech.linguist`) as
 *   JavaScript. Fetching it ourselves avoids all of that: each run gets the current version.
 *   The cost: a module loaded from a URL is one self-contained module. Its relative or bare
 *   imports cannot be resolved; absolute `https:`, `npm:` and `jsr:` imports go through Deno.
 *   The text fetched is kept (`plugin_sources.ts`): the transport workers load the plugin from
 *   that same text, so every thread runs the same version and the URL is fetched once.
 * - In a `deno compile` executable (`Deno.build.standalone`) a dynamic import of a file that was
 *   not compiled in fails ("Module not found"), so local files are loaded like URLs: read, types
 *   stripped, imported from a `data:` URL. Setting {@link VIA_SOURCE_ENV}`=1` makes `deno run`
 *   load them that way too, so that tests run the compiled binary's path without compiling.
 *
 * @module
 */
import { extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { errorMessage, UsageError } from "../errors.ts";
import { fetchErrorText } from "../util/fetch_error.ts";
import { isUrlSpec, type PluginSourceText, rememberFetched } from "./plugin_sources.ts";

/** Longest wait for a plugin URL's response, ms. */
export const PLUGIN_FETCH_TIMEOUT_MS = 30_000;

/** File name extensions a plugin file may have. */
export const PLUGIN_EXTENSIONS: readonly string[] = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];

const TS_EXTENSIONS = new Set([".ts", ".mts", ".tsx"]);

/**
 * The environment variable that, set to `1`, loads local plugin files as a compiled llmperf does
 * (read, types stripped, imported from a `data:` URL) under `deno run` as well: for tests.
 */
export const VIA_SOURCE_ENV = "LLMPERF_PLUGINS_VIA_SOURCE";

/** Where a plugin module lives. */
export type PluginLocation =
  | { kind: "url"; url: string }
  | { kind: "file"; path: string };

/** Resolve a spec to a URL or an absolute file path (relative paths against the cwd). */
export function locatePlugin(spec: string): PluginLocation {
  if (isUrlSpec(spec)) return { kind: "url", url: new URL(spec).href };
  if (/^file:/i.test(spec)) return { kind: "file", path: fileURLToPath(spec) };
  return { kind: "file", path: resolve(Deno.cwd(), spec) };
}

/** A stable key of a location (its URL), to recognise a module imported before. */
export function locationKey(loc: PluginLocation): string {
  return loc.kind === "url" ? loc.url : pathToFileURL(loc.path).href;
}

/** Options of {@link importPluginModule}. */
export interface ImportOptions {
  /** A URL module's text, fetched before (by another thread): imported without fetching. */
  source?: PluginSourceText;
  /**
   * Load local files from their source through a `data:` URL, as a compiled executable must
   * (default: when `Deno.build.standalone`, or when {@link VIA_SOURCE_ENV} is `1`).
   */
  viaSource?: boolean;
}

/**
 * Import the plugin module at `loc`. `flag` and `spec` name it in errors
 * (`--api 'x.ts': ...`).
 */
export async function importPluginModule(
  flag: string,
  spec: string,
  loc: PluginLocation,
  opts: ImportOptions = {},
): Promise<Record<string, unknown>> {
  const fail = (why: string): never => {
    throw new UsageError(`${flag} '${spec}': ${why}`);
  };
  if (loc.kind === "file") {
    const ext = extname(loc.path).toLowerCase();
    if (!PLUGIN_EXTENSIONS.includes(ext)) {
      fail(`a plugin file must be TypeScript or JavaScript (.ts or .js), got '${ext || loc.path}'`);
    }
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(loc.path);
    } catch {
      fail(`no such plugin file (${loc.path})`);
    }
    if (!info!.isFile) fail(`not a file (${loc.path})`);
    const viaSource = opts.viaSource ?? (isStandalone() || viaSourceForced());
    if (!viaSource) return await importNative(fail, pathToFileURL(loc.path).href);
    let source = "";
    try {
      source = await Deno.readTextFile(loc.path);
    } catch (e) {
      fail(`cannot read the plugin file: ${errorMessage(e)}`);
    }
    return await importSource(fail, source, TS_EXTENSIONS.has(ext));
  }
  const text = opts.source ?? await fetchSource(fail, loc.url);
  rememberFetched(loc.url, text);
  return await importSource(fail, text.source, text.typescript);
}

function isStandalone(): boolean {
  return (Deno.build as { standalone?: boolean }).standalone === true;
}

/** Whether {@link VIA_SOURCE_ENV} is `1` (asked first: a run without --allow-env is not prompted). */
function viaSourceForced(): boolean {
  try {
    const granted = Deno.permissions.querySync({ name: "env", variable: VIA_SOURCE_ENV });
    return granted.state === "granted" && Deno.env.get(VIA_SOURCE_ENV) === "1";
  } catch {
    return false;
  }
}

async function fetchSource(
  fail: (why: string) => never,
  url: string,
): Promise<PluginSourceText> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "application/typescript, text/javascript, */*" },
      signal: AbortSignal.timeout(PLUGIN_FETCH_TIMEOUT_MS),
    });
  } catch (e) {
    return fail(`cannot fetch the plugin: ${fetchFailure(e)}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return fail(
      `cannot fetch the plugin: HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`,
    );
  }
  let source: string;
  try {
    source = await res.text();
  } catch (e) {
    return fail(`cannot fetch the plugin: ${fetchFailure(e)}`);
  }
  const type = res.headers.get("content-type") ?? "";
  const ext = extname(new URL(url).pathname).toLowerCase();
  return { source, typescript: /typescript/i.test(type) || TS_EXTENSIONS.has(ext) };
}

function fetchFailure(e: unknown): string {
  if ((e as Error)?.name === "TimeoutError") {
    return `no answer within ${PLUGIN_FETCH_TIMEOUT_MS / 1000} s`;
  }
  return fetchErrorText(e);
}

async function importNative(
  fail: (why: string) => never,
  url: string,
): Promise<Record<string, unknown>> {
  try {
    return await import(url);
  } catch (e) {
    return fail(loadFailure(e, [[url, ""]]));
  }
}

async function importSource(
  fail: (why: string) => never,
  source: string,
  typescript: boolean,
): Promise<Record<string, unknown>> {
  let js = source;
  if (typescript) {
    // Imported when needed: only a URL plugin (or one passed as text) is stripped here.
    const { stripTypeScriptTypes } = await import("node:module");
    try {
      js = stripTypeScriptTypes(source, { mode: "transform" });
    } catch (e) {
      fail(loadFailure(e, [["file:///stripTypeScriptTypes.ts", ""]]));
    }
  }
  const dataUrl = `data:text/javascript;charset=utf-8,${encodeURIComponent(js)}`;
  try {
    return await import(dataUrl);
  } catch (e) {
    const text = rawText(e);
    const named = /Import "([^"]+)" not a dependency/.exec(text)?.[1];
    const relative = /relative URL with a cannot-be-a-base base/.test(text)
      ? /\b(?:from|import)\s*\(?\s*["'](\.{0,2}\/[^"']*)["']/.exec(js)?.[1]
      : undefined;
    if (named !== undefined || relative !== undefined) {
      fail(
        `cannot resolve its import '${named ?? relative}': a plugin loaded from a URL (or by a ` +
          `compiled llmperf) must be one self-contained module; use absolute https:, npm: or ` +
          `jsr: imports`,
      );
    }
    return fail(loadFailure(e, [[dataUrl, ""]]));
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function rawText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(ANSI, "");
}

/**
 * One line for an import failure: the error's first line, with the line and column of a syntax
 * error, and module URLs (a long `data:` URL) dropped from it.
 */
export function loadFailure(e: unknown, drop: Array<[string, string]> = []): string {
  let text = rawText(e);
  for (const [from, to] of drop) text = text.split(from).join(to);
  const first = errorMessage(new Error(text)).replace(
    /\s+at\s+\S*:(\d+):(\d+)$/,
    " (line $1, column $2)",
  );
  const where = /^\s*at\s+\S*:(\d+):(\d+)\s*$/m.exec(text);
  const isSyntax = /SyntaxError/.test(first) || (e as Error)?.name === "SyntaxError";
  const prefix = isSyntax && !/SyntaxError/.test(first) ? "SyntaxError: " : "";
  const located = where && !/\(line \d+, column \d+\)$/.test(first)
    ? ` (line ${where[1]}, column ${where[2]})`
    : "";
  return `cannot load the plugin: ${prefix}${first}${located}`;
}

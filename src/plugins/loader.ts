/**
 * Resolve `--api` / `--dataset` to a plugin instance: a registered name, a `.ts`/`.js` file path,
 * or an http(s) URL, imported dynamically (see `import_module.ts`). A module may register its
 * plugin by name (`registerApi` / `registerDataset`), `export default` it (a class, instantiated
 * with the run's parameters; a factory function, called with them; or a plain object), or be the
 * plugin itself (its exports are the methods). Every failure is one {@link UsageError} line naming
 * the plugin and the cause.
 *
 * This module knows the built-in API plugins only (all a transport worker loads); the dataset
 * loader (`dataset_loader.ts`) registers the built-in datasets.
 *
 * @module
 */
import { BUILTIN_APIS } from "./builtin_apis.ts";
import { errorMessage, UsageError } from "../errors.ts";
import {
  apiNames,
  datasetNames,
  type PluginSource,
  registeredApi,
  registeredDataset,
} from "./registry.ts";
import type { ApiPluginLike, PluginParams } from "./types.ts";
// `import_module.ts` (and the `node:path` and `node:url` it imports, which start Deno's Node
// compatibility layer in the isolate) is imported only when a plugin is a file or a URL, so a
// transport worker that runs a built-in plugin never loads it.
import type { PluginSourceText } from "./plugin_sources.ts";

/** What a plugin is for. */
export type PluginKind = "api" | "dataset";
type Kind = PluginKind;

const REQUIRED: Record<Kind, string[]> = {
  api: ["buildRequest", "parseResponses"],
  dataset: ["buildMessages"],
};

/**
 * Load the API plugin named by `spec` for a run with `params`; `source` is the text of a URL
 * plugin fetched before (by the main thread: see `fetchedSource`), imported without fetching.
 */
export async function loadApiPlugin(
  spec: string,
  params: PluginParams,
  source?: PluginSourceText,
): Promise<ApiPluginLike> {
  return await loadPlugin("api", spec, params, source) as ApiPluginLike;
}

function lookup(kind: Kind, name: string): PluginSource<unknown> | undefined {
  return kind === "api" ? registeredApi(name) : registeredDataset(name);
}

function names(kind: Kind): string[] {
  return kind === "api" ? apiNames() : datasetNames();
}

/**
 * Whether another thread (a transport worker) loads the same API plugin from `spec` alone: a
 * module path or URL, or a built-in name still bound to its built-in. A name the caller
 * registered in this process (`registerApi`) is known only here.
 */
export function loadableByName(spec: string): boolean {
  if (isModuleSpec(spec) && registeredApi(spec) === undefined) return true;
  const builtin = BUILTIN_APIS.get(spec);
  return builtin !== undefined && registeredApi(spec) === builtin;
}

/** Whether a spec names a module (file path or URL) rather than a registered name. */
export function isModuleSpec(spec: string): boolean {
  return /^(https?|file):/i.test(spec) || /\.[a-z0-9]+$/i.test(spec) || spec.includes("/") ||
    spec.includes("\\");
}

/**
 * Load a plugin of `kind` from `spec` (a registered name, a module path or URL; `text`: a URL
 * module's source fetched before) and check it has the methods its kind requires. Throws a
 * {@link UsageError} line.
 */
export async function loadPlugin(
  kind: Kind,
  spec: string,
  params: PluginParams,
  text?: PluginSourceText,
): Promise<unknown> {
  const flag = `--${kind}`;
  let source = lookup(kind, spec);
  if (source === undefined) {
    if (!isModuleSpec(spec)) {
      throw new UsageError(
        `${flag} '${spec}': unknown ${kind} plugin (built-in: ${names(kind).join(", ")}; ` +
          `or give a .ts/.js file path or an http(s) URL)`,
      );
    }
    source = await importPlugin(kind, spec, text);
  }
  let plugin: unknown;
  try {
    plugin = await instantiate(source, params);
  } catch (e) {
    throw new UsageError(`${flag} '${spec}': the plugin's constructor failed: ${errorMessage(e)}`);
  }
  const missing = REQUIRED[kind].filter((m) =>
    typeof (plugin as Record<string, unknown>)?.[m] !== "function"
  );
  if (missing.length > 0) {
    throw new UsageError(`${flag} '${spec}': the plugin has no ${missing.join(" or ")} method`);
  }
  return plugin;
}

/** Whether a function is a class (or an old-style constructor with methods on its prototype). */
function isConstructor(f: (...a: unknown[]) => unknown): boolean {
  if (/^class[\s{]/.test(Function.prototype.toString.call(f))) return true;
  const proto = f.prototype as Record<string, unknown> | undefined;
  return proto !== undefined && Object.getOwnPropertyNames(proto).length > 1;
}

/** A class is instantiated with the run's parameters, a factory called with them. */
async function instantiate(source: unknown, params: PluginParams): Promise<unknown> {
  if (typeof source !== "function") return source;
  const f = source as (...a: unknown[]) => unknown;
  if (isConstructor(f)) return new (f as unknown as new (p: PluginParams) => unknown)(params);
  return await f(params);
}

interface ImportedModule {
  module: Record<string, unknown>;
  registered: Record<Kind, string[]>;
}

// Modules imported so far, by URL: `--api` and `--dataset` may name the same module, which is
// evaluated (and registers its plugins) only once.
const imported = new Map<string, ImportedModule>();

async function importPlugin(
  kind: Kind,
  spec: string,
  text?: PluginSourceText,
): Promise<PluginSource<unknown>> {
  const flag = `--${kind}`;
  const { importPluginModule, locatePlugin, locationKey } = await import("./import_module.ts");
  let loc;
  try {
    loc = locatePlugin(spec);
  } catch (e) {
    throw new UsageError(`${flag} '${spec}': not a valid path or URL (${errorMessage(e)})`);
  }
  const key = locationKey(loc);
  let entry = imported.get(key);
  if (entry === undefined) {
    const before = { api: new Set(apiNames()), dataset: new Set(datasetNames()) };
    const module = await importPluginModule(flag, spec, loc, { source: text });
    entry = {
      module,
      registered: {
        api: apiNames().filter((n) => !before.api.has(n)),
        dataset: datasetNames().filter((n) => !before.dataset.has(n)),
      },
    };
    imported.set(key, entry);
  }
  const { module, registered } = entry;
  const added = registered[kind];
  if (added.length === 1) return lookup(kind, added[0])!;
  if (module.default !== undefined) return module.default as PluginSource<unknown>;
  if (added.length > 1) {
    throw new UsageError(
      `${flag} '${spec}': the module registers several ${kind} plugins (${added.join(", ")}) ` +
        `and exports no default one`,
    );
  }
  if (REQUIRED[kind].every((m) => typeof module[m] === "function")) return module;
  throw new UsageError(
    `${flag} '${spec}': the module neither exports a default plugin nor registers one ` +
      `(export default a class or an object with ${REQUIRED[kind].join(" and ")})`,
  );
}

/**
 * Resolve `--api` / `--dataset` to a plugin instance: a registered name, a `.ts`/`.js` file path,
 * or an http(s) URL, imported dynamically. A module may `export default` its plugin (a class or
 * an object) or register it by name. Every failure is one {@link UsageError} line naming the
 * plugin and the cause.
 *
 * @module
 */
import "./builtins.ts";
import { errorMessage, UsageError } from "../errors.ts";
import {
  apiNames,
  datasetNames,
  type PluginSource,
  registeredApi,
  registeredDataset,
} from "./registry.ts";
import type { ApiPluginLike, DatasetPluginLike, PluginParams } from "./types.ts";

type Kind = "api" | "dataset";

const REQUIRED: Record<Kind, string[]> = {
  api: ["buildRequest", "parseResponses"],
  dataset: ["buildMessages"],
};

/** Load the API plugin named by `spec` for a run with `params`. */
export async function loadApiPlugin(spec: string, params: PluginParams): Promise<ApiPluginLike> {
  return await load("api", spec, params) as ApiPluginLike;
}

/** Load the dataset plugin named by `spec` for a run with `params`. */
export async function loadDatasetPlugin(
  spec: string,
  params: PluginParams,
): Promise<DatasetPluginLike> {
  return await load("dataset", spec, params) as DatasetPluginLike;
}

function lookup(kind: Kind, name: string): PluginSource<unknown> | undefined {
  return kind === "api" ? registeredApi(name) : registeredDataset(name);
}

function names(kind: Kind): string[] {
  return kind === "api" ? apiNames() : datasetNames();
}

/** Whether a spec names a module (file path or URL) rather than a registered name. */
export function isModuleSpec(spec: string): boolean {
  return /^https?:\/\//i.test(spec) || /\.(m?[jt]s|tsx?|jsx)$/i.test(spec) ||
    spec.includes("/") || spec.includes("\\");
}

async function load(kind: Kind, spec: string, params: PluginParams): Promise<unknown> {
  const flag = `--${kind}`;
  let source = lookup(kind, spec);
  if (source === undefined) {
    if (!isModuleSpec(spec)) {
      throw new UsageError(
        `${flag} '${spec}': unknown ${kind} plugin (built-in: ${names(kind).join(", ")}; ` +
          `or give a .ts/.js file path or an http(s) URL)`,
      );
    }
    source = await importPlugin(kind, spec);
  }
  let plugin: unknown;
  try {
    plugin = typeof source === "function"
      ? new (source as new (p: PluginParams) => unknown)(params)
      : source;
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

async function importPlugin(kind: Kind, spec: string): Promise<PluginSource<unknown>> {
  const flag = `--${kind}`;
  let url: string;
  if (/^https?:\/\//i.test(spec)) {
    url = spec;
  } else {
    const path = spec.startsWith("/") ? spec : `${Deno.cwd()}/${spec}`;
    try {
      const st = await Deno.stat(path);
      if (!st.isFile) throw new Error("not a file");
    } catch {
      throw new UsageError(`${flag} '${spec}': no such plugin file`);
    }
    url = new URL(`file://${path}`).href;
  }
  const before = new Set(names(kind));
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (e) {
    throw new UsageError(`${flag} '${spec}': cannot import the plugin: ${errorMessage(e)}`);
  }
  if (mod.default !== undefined) return mod.default as PluginSource<unknown>;
  const added = names(kind).filter((n) => !before.has(n));
  if (added.length === 1) return lookup(kind, added[0])!;
  if (added.length > 1) {
    throw new UsageError(
      `${flag} '${spec}': the module registers several ${kind} plugins (${added.join(", ")}); ` +
        `import it and pass one name`,
    );
  }
  throw new UsageError(
    `${flag} '${spec}': the module neither exports a default plugin nor registers one`,
  );
}

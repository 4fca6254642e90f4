/**
 * Plugins by name. Built-ins and users' plugins register here the same way; `--api NAME` and
 * `--dataset NAME` look names up here.
 *
 * @module
 */
import type { ApiPluginLike, DatasetPluginLike, PluginParams } from "./types.ts";

/**
 * A plugin as registered: a class (instantiated with the run's parameters), a factory function
 * (called with them; it may return a promise), or the plugin object itself.
 */
export type PluginSource<T> =
  | T
  | (new (params: PluginParams) => T)
  | ((params: PluginParams) => T | Promise<T>);

interface Registry {
  apis: Map<string, PluginSource<ApiPluginLike>>;
  datasets: Map<string, PluginSource<DatasetPluginLike>>;
}

// One registry per process, kept on globalThis under a registered symbol: a plugin that imports
// `registerApi` from another copy of this module (a published version, a URL) still registers
// with the running llmperf.
const KEY: unique symbol = Symbol.for("llmperf.plugin-registry");
const holder = globalThis as { [KEY]?: Registry };
const registry: Registry = holder[KEY] ??= { apis: new Map(), datasets: new Map() };
const apis = registry.apis;
const datasets = registry.datasets;

/**
 * Register an API plugin under a name, so that `--api name` selects it.
 *
 * @example
 * ```ts
 * import { registerApi } from "@llmperf/llmperf/plugin";
 * registerApi("echo", {
 *   buildRequest: (messages, params) => ({ model: params.model, messages }),
 *   parseResponses: () => ({ promptTokens: 0, completionTokens: 0 }),
 * });
 * ```
 */
export function registerApi(name: string, plugin: PluginSource<ApiPluginLike>): void {
  apis.set(name, plugin);
}

/**
 * Register a dataset plugin under a name, so that `--dataset name` selects it.
 *
 * @example
 * ```ts
 * import { registerDataset } from "@llmperf/llmperf/plugin";
 * registerDataset("hello", { buildMessages: () => [[{ role: "user", content: "Hello!" }]] });
 * ```
 */
export function registerDataset(name: string, plugin: PluginSource<DatasetPluginLike>): void {
  datasets.set(name, plugin);
}

/** The API plugin registered under `name`, if any. */
export function registeredApi(name: string): PluginSource<ApiPluginLike> | undefined {
  return apis.get(name);
}

/** The dataset plugin registered under `name`, if any. */
export function registeredDataset(name: string): PluginSource<DatasetPluginLike> | undefined {
  return datasets.get(name);
}

/** Names of the registered API plugins. */
export function apiNames(): string[] {
  return [...apis.keys()];
}

/** Names of the registered dataset plugins. */
export function datasetNames(): string[] {
  return [...datasets.keys()];
}

/**
 * Resolve `--dataset` to a plugin instance (see `loader.ts` for the forms a spec takes) and check
 * `--dataset-args` against the keys it declares. Importing this module registers the built-in
 * dataset plugins (`builtins.ts`); the transport workers, which never load a dataset, do not.
 *
 * @module
 */
import { BUILTIN_DATASETS } from "./builtins.ts";
import { checkDatasetArgs } from "./dataset_args.ts";
import { loadPlugin } from "./loader.ts";
import { registeredDataset } from "./registry.ts";
import type { DatasetArgsSchema, DatasetPluginLike, PluginParams } from "./types.ts";

/**
 * Load the dataset plugin named by `spec` for a run with `params`, and check `--dataset-args`
 * against the keys it declares (a built-in that declares none takes none; a user's plugin that
 * declares none gets them unchecked). Throws a `UsageError` line.
 */
export async function loadDatasetPlugin(
  spec: string,
  params: PluginParams,
): Promise<DatasetPluginLike> {
  const plugin = await loadPlugin("dataset", spec, params) as DatasetPluginLike;
  const builtin = BUILTIN_DATASETS.has(spec) &&
    registeredDataset(spec) === BUILTIN_DATASETS.get(spec);
  const declared = (plugin as { argsSchema?: DatasetArgsSchema }).argsSchema;
  const schema = declared ?? (builtin ? {} : undefined);
  if (schema !== undefined) checkDatasetArgs(spec, schema, params.datasetArgs);
  return plugin;
}

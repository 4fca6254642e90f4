/**
 * The plugin module: everything a plugin may import, and nothing it must. Built-in plugins import
 * only this, exactly as a user's plugin would (`jsr:@llmperf/llmperf/plugin` once published).
 *
 * @module
 */
export {
  ApiPlugin,
  type ApiPluginLike,
  DatasetPlugin,
  type DatasetPluginLike,
  type Message,
  type PluginParams,
  type RequestBody,
  type TokenCounts,
} from "./src/plugins/types.ts";
export type { PromptTokenizer } from "./src/tokenizer/types.ts";
export { registerApi, registerDataset } from "./src/plugins/registry.ts";
export { modelscopeDatasetFile } from "./src/datasets/modelscope.ts";
export {
  JsonArraySplitter,
  readJsonArray,
  readJsonLines,
  readLines,
} from "./src/plugins/file_readers.ts";

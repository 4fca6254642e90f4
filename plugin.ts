/**
 * The plugin module: everything a plugin may import, and nothing it must. Built-in plugins import
 * only this, exactly as a user's plugin would (`jsr:@llmperf/llmperf/plugin` once published).
 *
 * A plugin is a module given to `--api` or `--dataset` as a `.ts`/`.js` file path or an http(s)
 * URL. It may `export default` a class (constructed with the run's parameters), a factory
 * function or a plain object, or register itself by name with {@link registerApi} /
 * {@link registerDataset}. Any object with the right methods is accepted, so a plugin served from
 * a URL can be one self-contained file with no imports at all. Details: `docs/plugins.md`.
 *
 * @example An API plugin for a server that takes `{"model", "input"}` and streams `{"delta"}` events
 * ```ts
 * import { ApiPlugin, type Message, type PluginParams } from "@llmperf/llmperf/plugin";
 *
 * export default class MyApi extends ApiPlugin {
 *   buildRequest(messages: Message[], params: PluginParams) {
 *     const input = messages.map((m) => m.content).join("\n");
 *     return { model: params.model, input, max_tokens: params.maxTokens, stream: params.stream };
 *   }
 *
 *   parseResponses(responses: string[]) {
 *     const events = responses.map((r) => JSON.parse(r));
 *     const contentChunks = events.flatMap((e, i) => (e.delta ? [i] : []));
 *     const usage = events.findLast((e) => e.usage)?.usage;
 *     return {
 *       promptTokens: usage?.input_tokens ?? 0,
 *       completionTokens: usage?.output_tokens ?? contentChunks.length,
 *       contentChunks, // TTFT and inter-token latency are measured on these events
 *     };
 *   }
 * }
 * ```
 *
 * @example A dataset plugin: one prompt per line of `--dataset-path`, read lazily
 * ```ts
 * import { DatasetPlugin, type Message, readLines } from "@llmperf/llmperf/plugin";
 *
 * export default class Questions extends DatasetPlugin {
 *   async *buildMessages(): AsyncGenerator<Message[]> {
 *     for await (const line of readLines(this.params.datasetPath!)) {
 *       if (line.trim()) yield [{ role: "user", content: line.trim() }];
 *     }
 *   }
 * }
 * ```
 *
 * @module
 */
export {
  ApiPlugin,
  type ApiPluginLike,
  type DatasetArgSpec,
  type DatasetArgsSchema,
  type DatasetArgType,
  type DatasetItem,
  DatasetPlugin,
  type DatasetPluginLike,
  type DatasetRequest,
  type Message,
  type PluginParams,
  type Prompt,
  type PromptItem,
  type PromptKind,
  promptKind,
  type PromptTokenizer,
  type RequestBody,
  type TokenCounts,
  type TokenSource,
  type Turn,
} from "./src/plugins/types.ts";
export { splitTurns } from "./src/plugins/turns.ts";
export { declareErrorMarker, type ErrorInPayload } from "./src/plugins/error_marker.ts";
export { checkDatasetArgs } from "./src/plugins/dataset_args.ts";
export { type BodyField, bodyFields } from "./src/config.ts";
export { warmupCount } from "./src/config/warmup.ts";
export {
  makeOnWorkers,
  resolveNumWorkers,
  type WorkerItems,
} from "./src/plugins/parallel_items.ts";
export {
  estimateTokens,
  type OutputChunks,
  tokenCounts,
  type UsageCounts,
} from "./src/plugins/usage_or_estimate.ts";
export { type MessageText, messageText } from "./src/plugins/message_text.ts";
export { defaultProbeBody } from "./src/plugins/probe_body.ts";
export {
  base64,
  imageDataUrl,
  imageMime,
  type ImageSize,
  imageSize,
  imageTokens,
  imageUrls,
  sniffImageMime,
} from "./src/plugins/images.ts";
export { type PluginSource, registerApi, registerDataset } from "./src/plugins/registry.ts";
export {
  HubDownloadError,
  type HubFileOptions,
  modelscopeDatasetFile,
} from "./src/datasets/modelscope.ts";
export { hubDatasetFile, hubDatasetFiles } from "./src/datasets/hub.ts";
export {
  readWebDataset,
  webDatasetKey,
  type WebDatasetSample,
  webDatasetSamples,
} from "./src/plugins/webdataset.ts";
export {
  JsonArraySplitter,
  readJsonArray,
  readJsonLines,
  readLines,
} from "./src/plugins/file_readers.ts";

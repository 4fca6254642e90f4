/**
 * Registers the built-in API plugins of `plugins/` under their names: all a transport worker's
 * registry needs (the dataset plugins are registered by `builtins.ts`, on the main thread).
 *
 * @module
 */
import OpenAIApi from "../../plugins/api/openai.ts";
import CompletionsApi from "../../plugins/api/completions.ts";
import DashScopeApi from "../../plugins/api/dashscope.ts";
import ZhipuApi from "../../plugins/api/zhipu.ts";
import CustomApi from "../../plugins/api/custom.ts";
import OpenAIResponsesApi from "../../plugins/api/openai_responses.ts";
import OpenAIEmbeddingApi, { OpenAIRerankApi } from "../../plugins/api/openai_embedding.ts";
import { type PluginSource, registerApi } from "./registry.ts";
import type { ApiPluginLike } from "./types.ts";

/** The built-in API plugins by name, as every thread's registry starts with them. */
export const BUILTIN_APIS: ReadonlyMap<string, PluginSource<ApiPluginLike>> = new Map<
  string,
  PluginSource<ApiPluginLike>
>([
  ["openai", OpenAIApi],
  ["completions", CompletionsApi],
  ["dashscope", DashScopeApi],
  ["zhipu", ZhipuApi],
  ["custom", CustomApi],
  ["openai_responses", OpenAIResponsesApi],
  ["openai_response", OpenAIResponsesApi],
  ["responses", OpenAIResponsesApi],
  ["openai_embedding", OpenAIEmbeddingApi],
  ["embedding", OpenAIEmbeddingApi],
  ["openai_rerank", OpenAIRerankApi],
  ["rerank", OpenAIRerankApi],
]);

for (const [name, api] of BUILTIN_APIS) registerApi(name, api);

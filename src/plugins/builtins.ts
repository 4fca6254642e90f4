/**
 * Registers the built-in dataset plugins of `plugins/` under their names (and, through
 * `builtin_apis.ts`, the API plugins). Imported by the dataset loader, so by every command that
 * builds requests; never by a transport worker, which needs only the API plugin: the datasets
 * bring npm packages (PNG, Parquet, tar) that would cost each worker ~100 ms of CPU and ~10 MB to
 * load.
 *
 * @module
 */
export { BUILTIN_APIS } from "./builtin_apis.ts";
import CustomDataset from "../../plugins/datasets/custom.ts";
import SpeedBenchmarkDataset, {
  SpeedBenchmarkLongDataset,
} from "../../plugins/datasets/speed_benchmark.ts";
import OpenQaDataset from "../../plugins/datasets/openqa.ts";
import LongAlpacaDataset from "../../plugins/datasets/longalpaca.ts";
import LineByLineDataset from "../../plugins/datasets/line_by_line.ts";
import RandomDataset from "../../plugins/datasets/random.ts";
import RandomMultiTurnDataset from "../../plugins/datasets/random_multi_turn.ts";
import CustomMultiTurnDataset from "../../plugins/datasets/custom_multi_turn.ts";
import ShareGptMultiTurnDataset from "../../plugins/datasets/share_gpt_multi_turn.ts";
import AgenticTraceDataset from "../../plugins/datasets/agentic_trace.ts";
import WorkloadTraceDataset from "../../plugins/datasets/workload_trace.ts";
import MooncakeDataset from "../../plugins/datasets/mooncake.ts";
import EmbeddingDataset, {
  EmbeddingBatchDataset,
  RandomEmbeddingBatchDataset,
  RandomEmbeddingDataset,
} from "../../plugins/datasets/embedding.ts";
import ShareGptZhDataset, { ShareGptEnDataset } from "../../plugins/datasets/share_gpt.ts";
import RandomVlDataset from "../../plugins/datasets/random_vl.ts";
import ImagesDataset from "../../plugins/datasets/images.ts";
import Flickr8kDataset from "../../plugins/datasets/flickr8k.ts";
import KontextBenchDataset from "../../plugins/datasets/kontext_bench.ts";
import RerankDataset, { RandomRerankDataset } from "../../plugins/datasets/rerank.ts";
import { datasetNames, type PluginSource, registerDataset, registeredDataset } from "./registry.ts";
import type { DatasetPluginLike } from "./types.ts";

registerDataset("openqa", OpenQaDataset);
registerDataset("longalpaca", LongAlpacaDataset);
registerDataset("line_by_line", LineByLineDataset);
registerDataset("random", RandomDataset);
registerDataset("custom", CustomDataset);
registerDataset("speed_benchmark", SpeedBenchmarkDataset);
registerDataset("speed_benchmark_long", SpeedBenchmarkLongDataset);
// --multi-turn conversations (issue 15)
registerDataset("random_multi_turn", RandomMultiTurnDataset);
registerDataset("custom_multi_turn", CustomMultiTurnDataset);
registerDataset("share_gpt_zh_multi_turn", ShareGptMultiTurnDataset);
registerDataset("share_gpt_en_multi_turn", ShareGptMultiTurnDataset);
registerDataset("agentic_trace", AgenticTraceDataset);
registerDataset("workload_trace", WorkloadTraceDataset);
registerDataset("mooncake", MooncakeDataset);
registerDataset("random_vl", RandomVlDataset);
registerDataset("images", ImagesDataset);
registerDataset("flickr8k", Flickr8kDataset);
registerDataset("kontext_bench", KontextBenchDataset);
registerDataset("share_gpt_zh", ShareGptZhDataset);
registerDataset("share_gpt_en", ShareGptEnDataset);
registerDataset("embedding", EmbeddingDataset);
registerDataset("embed", EmbeddingDataset);
registerDataset("embedding_batch", EmbeddingBatchDataset);
registerDataset("random_embedding", RandomEmbeddingDataset);
registerDataset("random_embedding_batch", RandomEmbeddingBatchDataset);
registerDataset("rerank", RerankDataset);
registerDataset("random_rerank", RandomRerankDataset);

/**
 * The built-in dataset plugins by name, as registered above (a built-in that declares no
 * `argsSchema` takes no `--dataset-args`, as evalscope's other plugins).
 */
export const BUILTIN_DATASETS: ReadonlyMap<string, PluginSource<DatasetPluginLike>> = new Map(
  datasetNames().map((n) => [n, registeredDataset(n)!]),
);

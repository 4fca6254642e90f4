/**
 * What the trace-replay datasets (`workload_trace`, `mooncake`) share: their `--dataset-args`
 * checked against the keys each accepts (unknown keys refused, as evalscope's schemas do), the
 * replay `speed`, and the trace read whole from JSON Lines and put in time order (a stable sort,
 * so that equal times keep the file's order).
 *
 * @module
 */
import {
  checkDatasetArgs,
  type DatasetArgsSchema,
  type PluginParams,
  readJsonLines,
} from "../../plugin.ts";

/** One record of a trace file, with its line number and its time in ms from the trace's zero. */
export interface TraceLine {
  /** 1-based line number (for errors). */
  line: number;
  /** The JSON object on the line. */
  record: Record<string, unknown>;
  /** Its timestamp in ms (absolute; offsets are taken from the first). */
  timeMs: number;
}

/**
 * `--dataset-args` of `dataset`, checked against `schema` (unknown keys refused, as evalscope's
 * schemas do; the loader has checked them already against the plugin's `argsSchema`).
 */
export function datasetArgs(
  params: PluginParams,
  dataset: string,
  schema: DatasetArgsSchema,
): Readonly<Record<string, unknown>> {
  return checkDatasetArgs(dataset, schema, params.datasetArgs as Record<string, unknown>);
}

/**
 * Read a JSON Lines trace whole, each record's time from `timeOf` (ms), sorted by time. Throws
 * naming the file and line for a line that is not an object or has no usable time.
 */
export async function readTrace(
  dataset: string,
  path: string | undefined,
  timeOf: (record: Record<string, unknown>) => number | undefined,
): Promise<TraceLine[]> {
  if (!path) throw new Error(`${dataset} needs --dataset-path (a JSON Lines trace)`);
  const out: TraceLine[] = [];
  let line = 0;
  for await (const v of readJsonLines(path)) {
    line++;
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new Error(`${path}: record ${line} is not a JSON object`);
    }
    const record = v as Record<string, unknown>;
    const timeMs = timeOf(record);
    if (timeMs === undefined || !Number.isFinite(timeMs)) {
      throw new Error(`${path}: record ${line} has no usable timestamp`);
    }
    out.push({ line, record, timeMs });
  }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

/**
 * Built-in dataset `workload_trace`: evalscope's trace replay. `--dataset-path` is a JSON Lines
 * file of `{body, timestamp, headers?, request_id?, completion_tokens?}` records:
 *
 * - `body`: the whole request body, an object or its JSON text. The run's settings only fill
 *   the keys it lacks (`model`, `stream`, `max_tokens`...); its prompt is never joined by one.
 * - `timestamp`: epoch seconds (a number) or an ISO-8601 time. Records are sent in time order,
 *   each `(timestamp − first timestamp) / speed` after the run's start.
 * - `completion_tokens`: with `match_output_length`, the reply is asked to be exactly that
 *   long (`max_tokens` and `ignore_eos`), except for bodies that constrain decoding
 *   (`response_format`, `guided_*`, `structured_outputs`), as evalscope does.
 * - `headers`: an object of header names to text values, sent with that request only, over the
 *   run's headers of the same name (`--headers`, `--api-key`'s `Authorization`; names compared
 *   case-insensitively). Credentials among them are kept out of files and logs, as the run's.
 * - `request_id`: kept with its request's record: the result DB's `trace_request_id` (and the
 *   `request_id` of `--compat 2026`'s `benchmark_data.db`, as evalscope writes it). A number is
 *   kept as its text.
 *
 * `--dataset-args` takes `speed` (> 0, default 1: 2 replays twice as fast), `model_override`
 * (a model name for every body), `model_mapping` (`{"trace-model": "served-model"}`) and
 * `match_output_length` (a boolean). `--number` truncates the trace. Each request's due time is
 * its `scheduled_time` in the result DB, so how late it went out is `start_time −
 * scheduled_time`.
 *
 * @module
 */
import {
  type DatasetArgsSchema,
  DatasetPlugin,
  type DatasetRequest,
  type RequestBody,
} from "../../plugin.ts";
import { datasetArgs, readTrace, type TraceLine } from "./trace_records.ts";

const CONSTRAINED = ["response_format", "guided_json", "guided_regex", "guided_choice"];

/** evalscope's `WorkloadTraceArgs` (`workload_trace.py:35-49`). */
const ARGS: DatasetArgsSchema = {
  speed: { type: "positive" },
  model_override: { type: "string" },
  model_mapping: { type: "string-map" },
  match_output_length: { type: "boolean" },
};

/** A record's time in ms: epoch seconds, or an ISO-8601 text. */
export function timestampMs(v: unknown): number | undefined {
  if (typeof v === "number") return v * 1000;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function headersOf(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    typeof v !== "object" || Array.isArray(v) ||
    !Object.values(v).every((x) => typeof x === "string")
  ) {
    throw new Error(`${where}: headers must be an object of header names to text values`);
  }
  const headers = v as Record<string, string>;
  return Object.keys(headers).length > 0 ? headers : undefined;
}

function bodyOf(v: unknown, where: string): RequestBody {
  let body = v;
  if (typeof v === "string") {
    try {
      body = JSON.parse(v);
    } catch {
      throw new Error(`${where}: body is not valid JSON text`);
    }
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new Error(`${where}: body must be a JSON object (or its JSON text)`);
  }
  return body as RequestBody;
}

/** Replays a trace of whole request bodies at their timestamps; see the module doc. */
export default class WorkloadTraceDataset extends DatasetPlugin {
  /** Its `--dataset-args` keys, checked before anything is sent. */
  readonly argsSchema = ARGS;
  /** Each request carries its send time. */
  readonly timed = true;
  /** The trace's prompts are sent as they are. */
  readonly lengthFiltered = true;

  #trace?: Promise<TraceLine[]>;

  /** The trace, read once. */
  #read(): Promise<TraceLine[]> {
    return this.#trace ??= readTrace(
      "workload_trace",
      this.params.datasetPath,
      (r) => timestampMs(r.timestamp),
    );
  }

  /** Every record's own headers (the run reads them ahead for their credentials). */
  async requestHeaders(): Promise<Record<string, string>[]> {
    const out: Record<string, string>[] = [];
    for (const { line, record } of await this.#read()) {
      const h = headersOf(record.headers, `${this.params.datasetPath}: record ${line}`);
      if (h !== undefined) out.push(h);
    }
    return out;
  }

  /** Yield the trace's requests in time order. */
  async *buildMessages(): AsyncGenerator<DatasetRequest> {
    const p = this.params;
    const args = datasetArgs(p, "workload_trace", ARGS);
    const speed = (args.speed as number | undefined) ?? 1;
    const override = args.model_override as string | undefined;
    const mapping = args.model_mapping as Record<string, string> | undefined;
    const match = args.match_output_length === true;
    const trace = await this.#read();
    const t0 = trace[0]?.timeMs ?? 0;
    for (const { line, record, timeMs } of trace) {
      const where = `${p.datasetPath}: record ${line}`;
      const body = bodyOf(record.body, where);
      if (override !== undefined) body.model = override;
      else if (mapping && typeof body.model === "string" && body.model in mapping) {
        body.model = mapping[body.model];
      }
      const item: DatasetRequest = { body, atMs: (timeMs - t0) / speed };
      const headers = headersOf(record.headers, where);
      if (headers !== undefined) item.headers = headers;
      const id = record.request_id;
      if (typeof id === "string" || typeof id === "number") item.requestId = String(id);
      const n = record.completion_tokens;
      if (match && Number.isSafeInteger(n) && (n as number) > 0) {
        const constrained = CONSTRAINED.some((k) => k in body) || "structured_outputs" in body;
        if (!constrained) item.fields = { max_tokens: n, ignore_eos: true };
      }
      yield item;
    }
  }
}

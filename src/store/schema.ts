/**
 * The result DB's layout. Table `result` has evalscope's columns (late-2024 release) in its
 * order, then llmperf's extra columns; table `run` says what the DB measured.
 *
 * @module
 */

/** evalscope's `result` columns, in order. */
export const EVALSCOPE_COLUMNS = [
  "request",
  "start_time",
  "chunk_times",
  "success",
  "response_messages",
  "completed_time",
  "latency",
  "first_chunk_latency",
  "n_chunks",
  "chunk_time",
  "prompt_tokens",
  "completion_tokens",
  "max_gpu_memory_cost",
] as const;

/** llmperf's extra `result` columns (named as later evalscope releases name them, where they do). */
export const EXTRA_COLUMNS = [
  "error",
  "status_code",
  "request_id",
  "is_stream",
  "ttft",
  "time_per_output_token",
  "inter_token_latencies",
  "scheduled_time",
  "token_source",
  "ttfo",
  "reasoning_tokens",
  "retries",
] as const;

/** `CREATE TABLE result ...`: `success` is TEXT holding 'True'/'False', as evalscope's recipe
 * (`WHERE success='True'`) expects. */
export const CREATE_RESULT = `CREATE TABLE IF NOT EXISTS result(
  request TEXT,
  start_time REAL,
  chunk_times TEXT,
  success TEXT,
  response_messages TEXT,
  completed_time REAL,
  latency REAL,
  first_chunk_latency REAL,
  n_chunks INTEGER,
  chunk_time REAL,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  max_gpu_memory_cost REAL,
  error TEXT,
  status_code INTEGER,
  request_id INTEGER,
  is_stream INTEGER,
  ttft REAL,
  time_per_output_token REAL,
  inter_token_latencies TEXT,
  scheduled_time REAL,
  token_source TEXT,
  ttfo REAL,
  reasoning_tokens INTEGER,
  retries INTEGER
)`;

/** `CREATE TABLE run ...`: one row per run. */
export const CREATE_RUN = `CREATE TABLE IF NOT EXISTS run(
  llmperf_version TEXT,
  name TEXT,
  args TEXT,
  started_at REAL,
  ended_at REAL,
  host TEXT,
  platform TEXT,
  runtime TEXT,
  interrupted INTEGER,
  requests INTEGER,
  client TEXT
)`;

/** One `result` row before its pickles are made (plain data, crosses to the DB worker). */
export interface ResultRow {
  /** Request body, or its JSON text (pickled into `request`). */
  request: unknown;
  /** Epoch seconds. */
  start_time: number;
  /** Epoch seconds of each payload. */
  chunk_times: number[] | Float64Array;
  /** Stored as 'True'/'False'. */
  success: boolean;
  /** Raw payloads (pickled into `response_messages`), or them joined by `\r` (see
   * `joinPayloads`: one string crosses threads several times faster than a list). */
  response_messages: string[] | string;
  /** Epoch seconds. */
  completed_time: number;
  /** Seconds; null for failures (as evalscope). */
  latency: number | null;
  /** Seconds; null for failures. */
  first_chunk_latency: number | null;
  /** null for failures. */
  n_chunks: number | null;
  /** Seconds; null for failures. */
  chunk_time: number | null;
  /** null for failures. */
  prompt_tokens: number | null;
  /** null for failures. */
  completion_tokens: number | null;
  /** JSON `{kind, message, status, body}` for failures. */
  error: string | null;
  /** HTTP status, 0 when none. */
  status_code: number;
  /** Dispatch order. */
  request_id: number;
  /** 1 when streamed. */
  is_stream: number;
  /** Seconds to the first token-carrying chunk. */
  ttft: number | null;
  /** Seconds. */
  time_per_output_token: number | null;
  /** JSON list of seconds. */
  inter_token_latencies: string | null;
  /** Epoch seconds when the schedule wanted it sent (`--rate`). */
  scheduled_time: number | null;
  /** usage / tokenizer / chunks / text-length / none. */
  token_source: string | null;
  /** Seconds to the first answer (non-reasoning) token; null when none came, or failed. */
  ttfo: number | null;
  /** Reasoning tokens among `completion_tokens`; null when unknown, or failed. */
  reasoning_tokens: number | null;
  /** Times the request was sent again on a fresh connection; null when unknown (`fetch`). */
  retries: number | null;
}

/** The `run` row. */
export interface RunRow {
  /** llmperf version. */
  llmperf_version: string;
  /** Run name. */
  name: string;
  /** Redacted arguments, JSON. */
  args: string;
  /** Epoch seconds. */
  started_at: number;
  /** Epoch seconds; null until the run ends. */
  ended_at: number | null;
  /** Host name. */
  host: string;
  /** OS and architecture. */
  platform: string;
  /** Deno / V8 versions. */
  runtime: string;
  /** 1 when interrupted. */
  interrupted: number;
  /** Requests recorded. */
  requests: number;
  /** Client self-check (JSON), when measured. */
  client: string | null;
}

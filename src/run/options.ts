/**
 * The options of a run that are not benchmark settings: the abort signal, the logger, extra
 * sinks, and how the run shows and leaves its results.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { ResultSink } from "../records/finished.ts";
import type { OutputOptions } from "../report/run_outputs.ts";

/** Options of a run that are not benchmark settings. */
export interface RunOptions extends OutputOptions {
  /**
   * Aborting stops sending and cancels requests in flight (they are recorded as cancelled); the
   * run still returns its results. Aborted before sending began (loading the dataset, the
   * start-up check), the run rejects at once with `Interrupted`.
   */
  signal?: AbortSignal;
  /** Receives log lines (default: timestamped lines on stderr). */
  log?: Logger;
  /** Extra sinks that receive every finished request, in batches. */
  sinks?: ResultSink[];
  /** Write the SQLite result DB (default true). */
  resultDb?: boolean;
}

/**
 * The process exit codes, in one place: 0 ok, 1 a run that could not go on or an output that
 * could not be written, 2 bad input, 3 an `--slo` goal missed or a run that `--max-error-rate`
 * stopped, 128 + the signal's number when
 * interrupted (129 SIGHUP, 130 SIGINT, 143 SIGTERM), as a shell reports a process a signal ended.
 * The CLI exits with them, the error types carry them, and a W&B run is finished with the code
 * the run ends with.
 *
 * @module
 */

/** Everything went as asked. */
export const EXIT_OK = 0;

/** A run that could not go on (an unreachable server), or an output that could not be written. */
export const EXIT_RUN_FAILED = 1;

/** Bad input: a flag, a file, a plugin name. */
export const EXIT_USAGE = 2;

/** A run that missed an `--slo` goal, or that `--max-error-rate` stopped early. */
export const EXIT_SLO_FAILED = 3;

/** An interrupted run when the signal is not known (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** The signals that interrupt a run, with their numbers (the exit code is 128 + the number). */
export const INTERRUPT_SIGNALS: Readonly<Record<string, number>> = Object.freeze({
  SIGHUP: 1, // the terminal went away (an SSH session dropped)
  SIGINT: 2, // Ctrl-C
  SIGTERM: 15, // kill, timeout, a container stopping
});

/**
 * The exit code of a run interrupted by `signal`: 128 + its number, as a shell reports it
 * ({@link EXIT_INTERRUPTED} when the signal is not known).
 */
export function interruptExitCode(signal: string | undefined): number {
  const n = signal === undefined ? undefined : INTERRUPT_SIGNALS[signal];
  return n === undefined ? EXIT_INTERRUPTED : 128 + n;
}

/** How a run (or a sweep) ended, as far as its exit code goes. */
export interface RunOutcome {
  /** Outputs that could not be written. */
  errors: readonly string[];
  /** Whether it was interrupted before it dispatched everything. */
  interrupted: boolean;
  /** Whether every `--slo` goal passed; undefined without `--slo`. */
  sloPassed?: boolean;
  /** Why `--max-error-rate` stopped it, when it did. */
  stoppedEarly?: string;
}

/**
 * The exit code of a finished run: {@link EXIT_RUN_FAILED} when an output could not be written,
 * else {@link EXIT_INTERRUPTED} when interrupted, else {@link EXIT_SLO_FAILED} when a goal was
 * missed or `--max-error-rate` stopped it, else {@link EXIT_OK}.
 *
 * @example
 * ```ts
 * runExitCode({ errors: [], interrupted: false, sloPassed: false }); // 3
 * ```
 */
export function runExitCode(o: RunOutcome): number {
  if (o.errors.length > 0) return EXIT_RUN_FAILED;
  if (o.interrupted) return EXIT_INTERRUPTED;
  return o.sloPassed === false || o.stoppedEarly !== undefined ? EXIT_SLO_FAILED : EXIT_OK;
}

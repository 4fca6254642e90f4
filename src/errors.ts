/**
 * Error types that map to process exit codes. Anything the user can fix by changing the command
 * line is a {@link UsageError} (exit 2); a run that cannot proceed for an outside reason (the
 * server is unreachable, a file cannot be written) is a {@link RunError} (exit 1).
 *
 * @module
 */
import { EXIT_INTERRUPTED, EXIT_RUN_FAILED, EXIT_USAGE } from "./exit_codes.ts";

/** Bad input from the user: flags, files, plugin names. The CLI prints one line and exits 2. */
export class UsageError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = EXIT_USAGE;
  /** @param message one line, naming the flag or file at fault */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A run that cannot go on for a reason outside the command line. The CLI exits 1. */
export class RunError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = EXIT_RUN_FAILED;
  /** @param message one line saying what failed */
  constructor(message: string) {
    super(message);
    this.name = "RunError";
  }
}

/** One-line text of any thrown value, for logs and records. */
export function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split("\n").map((s) => s.trim()).find((s) => s.length > 0);
  return line ?? (e instanceof Error ? e.name : "unknown error");
}

/**
 * The run was stopped by a signal (SIGINT, SIGTERM, SIGHUP) before it began sending: nothing was
 * measured, so there is nothing to print. The CLI exits with 128 + the signal's number.
 */
export class Interrupted extends Error {
  /** Exit code the CLI uses when the signal is not known (128 + SIGINT). */
  readonly exitCode: number = EXIT_INTERRUPTED;
  /** @param stage what was under way, for the message (`loading the dataset`) */
  constructor(stage = "starting") {
    super(`interrupted while ${stage}: nothing was sent`);
    this.name = "Interrupted";
  }
}

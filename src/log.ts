/**
 * Log lines: timestamped, to standard error, so standard output holds only results.
 *
 * @module
 */

/** Receives one log line (no trailing newline). */
export type Logger = (line: string) => void;

const enc = new TextEncoder();

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

/**
 * The default logger: `2026-11-29 10:00:00,123 - llmperf - INFO: message` on stderr. A line that
 * cannot be written (the terminal hung up, the pipe closed) is dropped: losing the log must not
 * stop a run from finishing its records.
 */
export const stderrLogger: Logger = (line) => {
  try {
    Deno.stderr.writeSync(enc.encode(`${stamp(new Date())} - llmperf - INFO: ${line}\n`));
  } catch { /* nobody is reading */ }
};

/** A logger that drops everything. */
export const silentLogger: Logger = () => {};

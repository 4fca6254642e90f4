/**
 * What every experiment tracker llmperf logs to (`--visualizer wandb|swanlab|clearml`) offers
 * the run's logger (`src/wandb/logger.ts`): queue rows of running numbers, merge a summary, send
 * what is queued, and finish. Each service's own module speaks its HTTP API; a call that fails
 * rejects with a one-line error that never holds a key ({@link jsonCall}).
 *
 * @module
 */
import { scrub } from "../redact.ts";
import { VERSION } from "../version.ts";

/** A live run (experiment, task) at a tracking service. */
export interface TrackedRun {
  /** Where to see it. */
  readonly url: string;
  /** Queue one row of numbers (sent by the next {@link flush}). */
  log(row: Record<string, number | string | boolean | null>): void;
  /** Merge values into the run's summary (sent by the next flush or by {@link finish}). */
  summarize(values: Record<string, unknown>): void;
  /** Send what is queued. */
  flush(): Promise<void>;
  /** Flush, then mark the run finished (exit code 0) or failed. */
  finish(exitcode: number): Promise<void>;
}

/** What to create a run with. */
export interface TrackedRunInit {
  /** Display name (`--name`). */
  name: string;
  /** Group (a sweep's name). */
  group?: string;
  /** The run's settings (secrets redacted). */
  config: Record<string, unknown>;
}

/** A tracking service's call failed. Its message never holds a key. */
export class TrackerError extends Error {
  /** @param message one line */
  constructor(message: string) {
    super(message);
    this.name = "TrackerError";
  }
}

/** One HTTP call of {@link jsonCall}. */
export interface JsonCall {
  /** Full URL. */
  url: string;
  /** Method (default POST). */
  method?: string;
  /** Request headers besides content-type and user-agent. */
  headers?: Record<string, string>;
  /** The body: JSON-encoded unless already text. */
  body?: unknown;
  /** Secrets to keep out of the error message (keys, tokens). */
  secrets: string[];
  /** Longest wait, ms (default 15,000). */
  timeoutMs?: number;
  /** Statuses that are not errors besides 2xx (409 "exists"). */
  accept?: number[];
}

/** Make one JSON call; resolves to the status and the parsed body (`{}` when empty). */
export async function jsonCall(c: JsonCall): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(c.url, {
      method: c.method ?? "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": `llmperf/${VERSION}`,
        ...c.headers,
      },
      body: c.body === undefined
        ? undefined
        : typeof c.body === "string"
        ? c.body
        : JSON.stringify(c.body),
      signal: AbortSignal.timeout(c.timeoutMs ?? 15_000),
    });
  } catch (e) {
    const why = e instanceof Error
      ? e.name === "TimeoutError" ? "timed out" : e.message
      : String(e);
    throw new TrackerError(scrub(`${c.url}: ${why.split("\n")[0]}`, c.secrets));
  }
  const text = await res.text();
  if (!res.ok && !(c.accept ?? []).includes(res.status)) {
    const hint = res.status === 401 || res.status === 403 ? " (bad API key?)" : "";
    throw new TrackerError(scrub(`${c.url}: HTTP ${res.status}${hint}`, c.secrets));
  }
  try {
    return { status: res.status, body: text === "" ? {} : JSON.parse(text) };
  } catch {
    throw new TrackerError(scrub(`${c.url}: the response is not JSON`, c.secrets));
  }
}

/** The numeric entries of a row or summary (what a scalar-only service can take). */
export function numericEntries(values: Record<string, unknown>): Array<[string, number]> {
  return Object.entries(values).filter((e): e is [string, number] =>
    typeof e[1] === "number" && Number.isFinite(e[1])
  );
}

/**
 * A run at a scalar-only service (SwanLab, ClearML): rows of numbers, and the summary's numbers
 * logged as one last row when it finishes.
 */
export abstract class ScalarRun implements TrackedRun {
  /** Where to see it. */
  abstract readonly url: string;
  #summary: Record<string, unknown> = {};

  /** Queue one row of numbers. */
  abstract log(row: Record<string, number | string | boolean | null>): void;
  /** Send what is queued. */
  abstract flush(): Promise<void>;
  /** Flush, then mark the run finished. */
  abstract finish(exitcode: number): Promise<void>;

  /** Merge values into the summary, logged as one last row by {@link logSummary}. */
  summarize(values: Record<string, unknown>): void {
    Object.assign(this.#summary, values);
  }

  /** Queue the summary's numbers as one last row, and send everything queued. */
  protected async flushWithSummary(): Promise<void> {
    const last = Object.fromEntries(numericEntries(this.#summary));
    if (Object.keys(last).length > 0) this.log(last);
    await this.flush();
  }
}

/**
 * A Weights & Biases run over W&B's HTTP API, the protocol its official SDKs speak: a GraphQL
 * `upsertBucket` mutation at `<base>/graphql` creates the run with its config, and
 * `<base>/files/<entity>/<project>/<run>/file_stream` receives history rows
 * (`wandb-history.jsonl`), the summary (`wandb-summary.json`) and the final `complete` mark.
 * Authentication is HTTP Basic `api:<key>`; the key lives only in the request header.
 *
 * (The `@wandb/sdk` npm package loads under Deno, but installs a SIGINT handler that exits the
 * process with code 0, which would break llmperf's interrupt handling, and prints to stdout; so
 * llmperf speaks the protocol itself, with fetch.)
 *
 * @module
 */
import { scrub } from "../redact.ts";
import { VERSION } from "../version.ts";

/** Where and as whom to log. */
export interface WandbSettings {
  /** The API key (never written anywhere). */
  apiKey: string;
  /** API base URL (`WANDB_BASE_URL`, default `https://api.wandb.ai`). */
  baseUrl: string;
  /** Project (`WANDB_PROJECT`, default `perf_benchmark` as evalscope names it). */
  project: string;
  /** Entity (`WANDB_ENTITY`; default: the key's default entity, asked from the server). */
  entity?: string;
  /** Longest wait for one HTTP call, ms (default 15,000). */
  timeoutMs?: number;
}

/** Settings from the key and the standard W&B environment variables. */
export function wandbSettings(
  apiKey: string,
  env: { get(name: string): string | undefined } = Deno.env,
): WandbSettings {
  return {
    apiKey,
    baseUrl: (env.get("WANDB_BASE_URL") || "https://api.wandb.ai").replace(/\/+$/, ""),
    project: env.get("WANDB_PROJECT") || "perf_benchmark",
    entity: env.get("WANDB_ENTITY") || undefined,
  };
}

/** A W&B call failed. Its message never holds the key. */
export class WandbError extends Error {
  /** @param message one line */
  constructor(message: string) {
    super(message);
    this.name = "WandbError";
  }
}

/** What to create the run with. */
export interface WandbRunInit {
  /** Display name (`--name`). */
  name: string;
  /** Group (a sweep's name). */
  group?: string;
  /** The run's settings (secrets redacted). */
  config: Record<string, unknown>;
}

const VIEWER = "query Viewer { viewer { entity } }";
const UPSERT = `mutation UpsertBucket($name: String, $project: String, $entity: String,
  $groupName: String, $displayName: String, $config: JSONString, $jobType: String) {
  upsertBucket(input: { name: $name, modelName: $project, entityName: $entity,
    groupName: $groupName, displayName: $displayName, config: $config, jobType: $jobType }) {
    bucket { name displayName project { name entity { name } } }
  }
}`;

function runId(): string {
  const abc = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => abc[b % abc.length]).join("");
}

/** A live W&B run: queue history rows, set the summary, flush, finish. */
export class WandbRun {
  /** The run's id (its name in W&B's API). */
  readonly id: string;
  /** Entity the run belongs to. */
  readonly entity: string;
  /** Project the run belongs to. */
  readonly project: string;
  /** Link to the run in the W&B app. */
  readonly url: string;
  #s: WandbSettings;
  #rows: string[] = [];
  #offset = 0;
  #summary: Record<string, unknown> = {};
  #summaryDirty = false;
  #started = performance.now();
  #step = 0;

  private constructor(s: WandbSettings, id: string, entity: string) {
    this.#s = s;
    this.id = id;
    this.entity = entity;
    this.project = s.project;
    const app = s.baseUrl.replace("://api.wandb.ai", "://wandb.ai");
    this.url = `${app}/${encodeURIComponent(entity)}/${encodeURIComponent(s.project)}/runs/${id}`;
  }

  /** Create a run (and find the default entity when none is set). */
  static async start(s: WandbSettings, init: WandbRunInit): Promise<WandbRun> {
    let entity = s.entity;
    if (!entity) {
      const v = await graphql(s, VIEWER, {}) as { viewer?: { entity?: string } };
      entity = v.viewer?.entity;
      if (!entity) throw new WandbError("the server did not say which entity the key belongs to");
    }
    const id = runId();
    const config: Record<string, { value: unknown; desc: null }> = {};
    for (const [k, v] of Object.entries(init.config)) config[k] = { value: v, desc: null };
    await graphql(s, UPSERT, {
      name: id,
      project: s.project,
      entity,
      groupName: init.group ?? null,
      displayName: init.name,
      config: JSON.stringify(config),
      jobType: "benchmark",
    });
    return new WandbRun(s, id, entity);
  }

  /** Queue one history row (sent by the next {@link flush}). */
  log(row: Record<string, number | string | boolean | null>): void {
    const full = {
      ...row,
      _step: this.#step++,
      _runtime: (performance.now() - this.#started) / 1000,
      _timestamp: Date.now() / 1000,
    };
    this.#rows.push(JSON.stringify(full));
    Object.assign(this.#summary, full);
    this.#summaryDirty = true;
  }

  /** Merge values into the run's summary (sent by the next {@link flush}). */
  summarize(values: Record<string, unknown>): void {
    Object.assign(this.#summary, values);
    this.#summaryDirty = true;
  }

  /** Send queued rows and the summary, if anything changed. */
  async flush(): Promise<void> {
    if (this.#rows.length === 0 && !this.#summaryDirty) return;
    const rows = this.#rows;
    const files: Record<string, { offset: number; content: string[] }> = {};
    if (rows.length > 0) files["wandb-history.jsonl"] = { offset: this.#offset, content: rows };
    files["wandb-summary.json"] = { offset: 0, content: [JSON.stringify(this.#summary)] };
    this.#rows = [];
    this.#summaryDirty = false;
    await this.#stream({ files });
    this.#offset += rows.length;
  }

  /** Flush, then mark the run finished with an exit code. */
  async finish(exitcode = 0): Promise<void> {
    await this.flush();
    await this.#stream({ complete: true, exitcode });
  }

  async #stream(body: unknown): Promise<void> {
    const path = `/files/${encodeURIComponent(this.entity)}/${encodeURIComponent(this.project)}/` +
      `${this.id}/file_stream`;
    await post(this.#s, path, body);
  }
}

async function post(s: WandbSettings, path: string, body: unknown): Promise<unknown> {
  const url = s.baseUrl + path;
  let res: Response;
  let auth = "";
  try {
    auth = btoa(`api:${s.apiKey}`);
    res = await fetch(url, {
      method: "POST",
      headers: {
        "authorization": "Basic " + auth,
        "content-type": "application/json",
        "user-agent": `llmperf/${VERSION}`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(s.timeoutMs ?? 15_000),
    });
  } catch (e) {
    const why = e instanceof Error
      ? e.name === "TimeoutError" ? "timed out" : e.message
      : String(e);
    throw new WandbError(scrub(`${url}: ${why.split("\n")[0]}`, [s.apiKey, auth]));
  }
  const text = await res.text();
  if (!res.ok) {
    throw new WandbError(
      `${url}: HTTP ${res.status}${res.status === 401 ? " (bad API key?)" : ""}`,
    );
  }
  try {
    return text === "" ? {} : JSON.parse(text);
  } catch {
    throw new WandbError(`${url}: the response is not JSON`);
  }
}

async function graphql(
  s: WandbSettings,
  query: string,
  variables: Record<string, unknown>,
): Promise<unknown> {
  const out = await post(s, "/graphql", { query, variables }) as {
    data?: unknown;
    errors?: Array<{ message?: string }>;
  };
  if (out.errors && out.errors.length > 0) {
    throw new WandbError(`graphql: ${String(out.errors[0].message ?? "error").split("\n")[0]}`);
  }
  return out.data ?? {};
}

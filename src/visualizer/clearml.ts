/**
 * `--visualizer clearml`: a run logged to ClearML as a task, over ClearML's documented REST API
 * (`<api>/<service>.<action>`, JSON in and `{meta, data}` out): `auth.login` with HTTP Basic
 * `access_key:secret_key` gives a token (then `Authorization: Bearer`); `projects.get_all` /
 * `projects.create` find or make the project; `tasks.create` (type `testing`) and
 * `tasks.started` open the task, `tasks.edit_hyper_params` stores the settings (section `Args`);
 * `events.add_batch` takes the scalars (title `Performance Metrics`, one series per key,
 * iteration = a counter from 0, as evalscope's `report_scalar`); `tasks.completed` or
 * `tasks.failed` ends it.
 *
 * Credentials come only from the environment ClearML's SDK reads (`CLEARML_API_ACCESS_KEY`,
 * `CLEARML_API_SECRET_KEY`; host `CLEARML_API_HOST`, default `https://api.clear.ml`; project
 * `CLEARML_PROJECT_NAME`, default `perf_benchmark`), so they never reach a config file.
 *
 * @module
 */
import {
  jsonCall,
  numericEntries,
  ScalarRun,
  type TrackedRunInit,
  TrackerError,
} from "./tracked_run.ts";

/** Where and as whom to log. */
export interface ClearmlSettings {
  /** API base URL (`CLEARML_API_HOST`). */
  apiUrl: string;
  /** Access key. */
  accessKey: string;
  /** Secret key (never written anywhere). */
  secretKey: string;
  /** Project (`CLEARML_PROJECT_NAME`, default `perf_benchmark`). */
  project: string;
  /** Longest wait for one call, ms (default 15,000). */
  timeoutMs?: number;
}

/** Settings from ClearML's environment variables; undefined without both keys. */
export function clearmlSettings(
  env: { get(name: string): string | undefined } = Deno.env,
): ClearmlSettings | undefined {
  const accessKey = env.get("CLEARML_API_ACCESS_KEY");
  const secretKey = env.get("CLEARML_API_SECRET_KEY");
  if (!accessKey || !secretKey) return undefined;
  return {
    apiUrl: (env.get("CLEARML_API_HOST") || "https://api.clear.ml").replace(/\/+$/, ""),
    accessKey,
    secretKey,
    project: env.get("CLEARML_PROJECT_NAME") || "perf_benchmark",
  };
}

/** The title evalscope reports every scalar under. */
export const CLEARML_TITLE = "Performance Metrics";

interface Data {
  data?: Record<string, unknown>;
}

/** A live ClearML task. */
export class ClearmlRun extends ScalarRun {
  /** Link to the task (the API host's web app is not known: the task's API path). */
  readonly url: string;
  #s: ClearmlSettings;
  #token: string;
  #task: string;
  #events: string[] = [];
  #step = 0;

  private constructor(s: ClearmlSettings, token: string, task: string, project: string) {
    super();
    this.#s = s;
    this.#token = token;
    this.#task = task;
    this.url = `${s.apiUrl.replace("://api.", "://app.")}/projects/${project}/experiments/${task}`;
  }

  static #api(
    s: ClearmlSettings,
    action: string,
    body: unknown,
    auth: string,
    secrets: string[],
  ): Promise<Record<string, unknown>> {
    return jsonCall({
      url: `${s.apiUrl}/${action}`,
      body,
      headers: { authorization: auth },
      secrets,
      timeoutMs: s.timeoutMs,
    }).then((r) => (r.body as Data).data ?? {});
  }

  /** Log in, find or create the project, create and start the task with its settings. */
  static async start(s: ClearmlSettings, init: TrackedRunInit): Promise<ClearmlRun> {
    const basic = "Basic " + btoa(`${s.accessKey}:${s.secretKey}`);
    const secrets = [s.secretKey, basic.slice(6)];
    const login = await ClearmlRun.#api(s, "auth.login", {}, basic, secrets);
    const token = typeof login.token === "string" ? login.token : undefined;
    if (!token) throw new TrackerError(`${s.apiUrl}/auth.login: no token in the answer`);
    const bearer = "Bearer " + token;
    const call = (action: string, body: unknown) =>
      ClearmlRun.#api(s, action, body, bearer, [...secrets, token]);
    const found = await call("projects.get_all", {
      name: `^${s.project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
      only_fields: ["id"],
    });
    let project = (found.projects as Array<{ id?: string }> | undefined)?.[0]?.id;
    if (!project) {
      const made = await call("projects.create", { name: s.project, description: "llmperf" });
      project = typeof made.id === "string" ? made.id : undefined;
    }
    if (!project) throw new TrackerError(`${s.apiUrl}/projects.create: no project id`);
    const created = await call("tasks.create", {
      name: init.name,
      type: "testing",
      project,
      ...(init.group ? { tags: [init.group] } : {}),
    });
    const task = typeof created.id === "string" ? created.id : undefined;
    if (!task) throw new TrackerError(`${s.apiUrl}/tasks.create: no task id`);
    await call("tasks.started", { task });
    await call("tasks.edit_hyper_params", {
      task,
      hyperparams: Object.entries(init.config).map(([name, v]) => ({
        section: "Args",
        name,
        value: typeof v === "string" ? v : JSON.stringify(v),
      })),
    });
    return new ClearmlRun(s, token, task, project);
  }

  #call(action: string, body: unknown): Promise<Record<string, unknown>> {
    const auth = "Bearer " + this.#token;
    return ClearmlRun.#api(this.#s, action, body, auth, [this.#s.secretKey, this.#token]);
  }

  /** Queue one row: each numeric entry a scalar of the next iteration. */
  log(row: Record<string, number | string | boolean | null>): void {
    const iter = this.#step++;
    const timestamp = Date.now();
    for (const [variant, value] of numericEntries(row)) {
      this.#events.push(JSON.stringify({
        type: "training_stats_scalar",
        task: this.#task,
        iter,
        timestamp,
        metric: CLEARML_TITLE,
        variant,
        value,
      }));
    }
  }

  /** Send the queued scalars (`events.add_batch`, one JSON event per line). */
  async flush(): Promise<void> {
    if (this.#events.length === 0) return;
    const events = this.#events;
    this.#events = [];
    await this.#call("events.add_batch", events.join("\n"));
  }

  /** Log the summary's numbers, flush, and mark the task completed (or failed). */
  async finish(exitcode: number): Promise<void> {
    await this.flushWithSummary();
    if (exitcode === 0) await this.#call("tasks.completed", { task: this.#task, force: true });
    else {
      await this.#call("tasks.failed", {
        task: this.#task,
        force: true,
        status_reason: `llmperf exit code ${exitcode}`,
      });
    }
  }
}

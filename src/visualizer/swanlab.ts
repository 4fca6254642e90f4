/**
 * `--visualizer swanlab`: a run logged to SwanLab over the HTTP API its Python SDK speaks
 * (`swanlab/core_python`): `POST <api>/login/api_key` with the key in the `authorization` header
 * gives a session id (`sid`, sent as a cookie); `POST <api>/project` creates (or, with 409,
 * finds) the project, `GET <api>/project/<space>/<project>` gives its id; `POST
 * <api>/project/<space>/<project>/experiment` creates the experiment (its `cuid` and `flagId`);
 * `PUT .../runs/<cuid>/profile` stores the config; `POST <api>/experiment/<cuid>/columns`
 * declares each metric; `POST <api>/house/metrics` takes scalar rows; `PUT .../runs/<cuid>/state`
 * marks it finished or crashed.
 *
 * Project `$SWANLAB_PROJ_NAME`, else `perf_benchmark`; space `$SWANLAB_WORKSPACE`, else the key's
 * own; host `--swanlab-host` / `$SWANLAB_HOST` (default `https://swanlab.cn`, API
 * `https://api.swanlab.cn/api`; another host's API is `<host>/api`, or `$SWANLAB_API_HOST`). The key
 * lives only in the login call's header; the session id only in cookies.
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
export interface SwanlabSettings {
  /** The API key (never written anywhere). */
  apiKey: string;
  /** API base URL, e.g. `https://api.swanlab.cn/api`. */
  apiUrl: string;
  /** Web base URL, for the run's link. */
  webUrl: string;
  /** Project (`$SWANLAB_PROJ_NAME`, default `perf_benchmark`). */
  project: string;
  /** Space (`$SWANLAB_WORKSPACE`; default the key's own). */
  workspace?: string;
  /** Longest wait for one call, ms (default 15,000). */
  timeoutMs?: number;
}

const CLOUD = "https://swanlab.cn";

/** Settings from the key, `--swanlab-host` and the standard SwanLab environment variables. */
export function swanlabSettings(
  apiKey: string,
  host: string | undefined,
  env: { get(name: string): string | undefined } = Deno.env,
): SwanlabSettings {
  const web = (host || env.get("SWANLAB_HOST") || CLOUD).replace(/\/+$/, "");
  const api = env.get("SWANLAB_API_HOST") ||
    (web === CLOUD ? "https://api.swanlab.cn/api" : `${web}/api`);
  return {
    apiKey,
    apiUrl: api.replace(/\/+$/, ""),
    webUrl: web,
    project: env.get("SWANLAB_PROJ_NAME") || "perf_benchmark",
    workspace: env.get("SWANLAB_WORKSPACE") || undefined,
  };
}

function field(body: unknown, name: string): string | undefined {
  const v = (body as Record<string, unknown> | null)?.[name];
  return typeof v === "string" ? v : undefined;
}

function colors(): [string, string] {
  return ["#528d59", "#587ad2"];
}

/** A live SwanLab experiment. */
export class SwanlabRun extends ScalarRun {
  /** Link to the experiment. */
  readonly url: string;
  #s: SwanlabSettings;
  #sid: string;
  #space: string;
  #projectId: string;
  #cuid: string;
  #flagId: string | null;
  #rows: Array<{ key: string; index: number; data: number; create_time: string }> = [];
  #columns = new Set<string>();
  #step = 0;

  private constructor(
    s: SwanlabSettings,
    sid: string,
    space: string,
    projectId: string,
    cuid: string,
    flagId: string | null,
  ) {
    super();
    this.#s = s;
    this.#sid = sid;
    this.#space = space;
    this.#projectId = projectId;
    this.#cuid = cuid;
    this.#flagId = flagId;
    this.url = `${s.webUrl}/@${space}/${s.project}/runs/${cuid}`;
  }

  /** Log in, find or create the project, create the experiment and store its config. */
  static async start(s: SwanlabSettings, init: TrackedRunInit): Promise<SwanlabRun> {
    const login = await jsonCall({
      url: `${s.apiUrl}/login/api_key`,
      headers: { authorization: s.apiKey },
      secrets: [s.apiKey],
      timeoutMs: s.timeoutMs,
    });
    const sid = field(login.body, "sid");
    if (!sid) throw new TrackerError(`${s.apiUrl}/login/api_key: no session in the answer`);
    const user = (login.body as { userInfo?: { username?: string } }).userInfo?.username;
    const call = (path: string, body?: unknown, method = "POST", accept?: number[]) =>
      jsonCall({
        url: `${s.apiUrl}${path}`,
        method,
        body,
        headers: { cookie: `sid=${sid}` },
        secrets: [s.apiKey, sid],
        timeoutMs: s.timeoutMs,
        accept,
      });
    const proj = await call(
      "/project",
      {
        name: s.project,
        ...(s.workspace ? { username: s.workspace } : {}),
      },
      "POST",
      [409],
    );
    const space = field(proj.body, "username") ?? s.workspace ?? user;
    if (!space) throw new TrackerError(`${s.apiUrl}/project: no space in the answer`);
    const p = `/project/${encodeURIComponent(space)}/${encodeURIComponent(s.project)}`;
    const info = await call(p, undefined, "GET");
    const projectId = field(info.body, "cuid");
    if (!projectId) throw new TrackerError(`${s.apiUrl}${p}: no project id in the answer`);
    const exp = await call(`${p}/experiment`, {
      name: init.name,
      colors: colors(),
      ...(init.group ? { cluster: init.group } : {}),
      job: "benchmark",
    });
    const cuid = field(exp.body, "cuid");
    if (!cuid) throw new TrackerError(`${s.apiUrl}${p}/experiment: no experiment id`);
    const run = new SwanlabRun(s, sid, space, projectId, cuid, field(exp.body, "flagId") ?? null);
    const config: Record<string, { value: unknown; desc: string; sort: number }> = {};
    Object.entries(init.config).forEach(([k, v], i) => config[k] = { value: v, desc: "", sort: i });
    await run.#call(`${p}/runs/${cuid}/profile`, { config }, "PUT");
    return run;
  }

  #call(path: string, body: unknown, method = "POST"): Promise<unknown> {
    return jsonCall({
      url: `${this.#s.apiUrl}${path}`,
      method,
      body,
      headers: {
        cookie: `sid=${this.#sid}`,
        ...(this.#flagId ? { flagId: this.#flagId } : {}),
      },
      secrets: [this.#s.apiKey, this.#sid],
      timeoutMs: this.#s.timeoutMs,
    });
  }

  /** Queue one row: each numeric entry is a scalar at the next step. */
  log(row: Record<string, number | string | boolean | null>): void {
    const index = this.#step++;
    const create_time = new Date().toISOString();
    for (const [key, data] of numericEntries(row)) {
      this.#rows.push({ key, index, data, create_time });
    }
  }

  /** Declare new metrics, then send the queued rows. */
  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    const fresh = [...new Set(rows.map((r) => r.key))].filter((k) => !this.#columns.has(k));
    if (fresh.length > 0) {
      await this.#call(
        `/experiment/${this.#cuid}/columns`,
        fresh.map((key) => ({ class: "CUSTOM", type: "FLOAT", key })),
      );
      for (const k of fresh) this.#columns.add(k);
    }
    await this.#call("/house/metrics", {
      projectId: this.#projectId,
      experimentId: this.#cuid,
      type: "scalar",
      metrics: rows.map((r) => ({ ...r, epoch: r.index })),
      flagId: this.#flagId,
    });
  }

  /** Log the summary's numbers as a last row, flush, and mark the experiment finished. */
  async finish(exitcode: number): Promise<void> {
    await this.flushWithSummary();
    const p = `/project/${encodeURIComponent(this.#space)}/${encodeURIComponent(this.#s.project)}`;
    await this.#call(`${p}/runs/${this.#cuid}/state`, {
      state: exitcode === 0 ? "FINISHED" : "CRASHED",
      finishedAt: new Date().toISOString(),
      from: "sdk",
    }, "PUT");
  }
}

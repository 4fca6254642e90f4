/**
 * Default dataset files from the ModelScope hub, downloaded once into a cache folder: what
 * `openqa` and `longalpaca` read when no `--dataset-path` is given, as evalscope does.
 *
 * - URL: `{endpoint}/api/v1/datasets/{namespace}/{name}/repo?Revision={revision}&FilePath={file}`,
 *   the file download URL of the `modelscope` Python library (`HubApi.get_dataset_file_url`).
 * - Endpoint: `LLMPERF_MODELSCOPE_ENDPOINT` (a full URL, e.g. a mirror, or a test server), else
 *   `https://` + `MODELSCOPE_DOMAIN` (the `modelscope` library's own variable), else
 *   `https://www.modelscope.cn`.
 * - Cache: `LLMPERF_CACHE_DIR`, else `$XDG_CACHE_HOME/llmperf`, else `~/.cache/llmperf` (on
 *   Windows `%LOCALAPPDATA%\llmperf`); the file goes to `datasets/{namespace}/{name}/{file}`. A
 *   download is streamed into a temporary file that is renamed when complete, so an interrupted
 *   one is never taken for the file.
 * - A failed download (offline, HTTP error) is one {@link RunError} line that says what to do.
 *
 * @module
 */
import { errorMessage, RunError } from "../errors.ts";
import { stderrLogger } from "../log.ts";
import { fetchErrorText } from "../util/fetch_error.ts";
import { nodePath } from "../util/node_path.ts";

/** The public ModelScope hub. */
export const MODELSCOPE_DEFAULT_ENDPOINT = "https://www.modelscope.cn";

/** Longest wait for the hub's response headers, ms. */
export const HUB_CONNECT_TIMEOUT_MS = 30_000;

function env(name: string): string | undefined {
  try {
    const v = Deno.env.get(name);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  } catch {
    return undefined; // no --allow-env
  }
}

/** The hub endpoint in force (see the module documentation). */
export function modelscopeEndpoint(): string {
  const url = env("LLMPERF_MODELSCOPE_ENDPOINT");
  if (url !== undefined) return url.replace(/\/+$/, "");
  const domain = env("MODELSCOPE_DOMAIN");
  return domain !== undefined
    ? `https://${domain.replace(/\/+$/, "")}`
    : MODELSCOPE_DEFAULT_ENDPOINT;
}

/** The download URL of `file` in the ModelScope dataset `dataset` (`namespace/name`). */
export function modelscopeFileUrl(
  dataset: string,
  file: string,
  revision = "master",
  endpoint = modelscopeEndpoint(),
): string {
  const [namespace, name] = dataset.split("/");
  const query = new URLSearchParams({ Revision: revision, FilePath: file });
  return `${endpoint}/api/v1/datasets/${encodeURIComponent(namespace)}/` +
    `${encodeURIComponent(name)}/repo?${query}`;
}

/** llmperf's cache folder (see the module documentation). */
export async function cacheDir(): Promise<string> {
  const own = env("LLMPERF_CACHE_DIR");
  if (own !== undefined) return own;
  const { join } = await nodePath();
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined) return join(xdg, "llmperf");
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA");
    if (local !== undefined) return join(local, "llmperf");
  }
  const home = env("HOME") ?? env("USERPROFILE");
  if (home === undefined) throw new RunError("no cache folder: set LLMPERF_CACHE_DIR");
  return join(home, ".cache", "llmperf");
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Options of {@link modelscopeDatasetFile}. */
export interface HubFileOptions {
  /** Revision (branch or tag) [master]. */
  revision?: string;
  /** Hub endpoint [{@link modelscopeEndpoint}]. */
  endpoint?: string;
  /** Cache folder [{@link cacheDir}]. */
  cacheDir?: string;
  /** Receives the "downloading ..." line (default: the log on stderr). */
  log?: (line: string) => void;
}

/**
 * The local path of `file` from the ModelScope dataset `dataset` (`namespace/name`), downloaded
 * into the cache folder the first time. Throws one {@link RunError} line when it cannot be had.
 *
 * @example
 * ```ts
 * const path = await modelscopeDatasetFile("AI-ModelScope/HC3-Chinese", "open_qa.jsonl");
 * ```
 */
export async function modelscopeDatasetFile(
  dataset: string,
  file: string,
  opts: HubFileOptions = {},
): Promise<string> {
  const revision = opts.revision ?? "master";
  const cache = opts.cacheDir ?? await cacheDir();
  const { join } = await nodePath();
  const local = join(cache, "datasets", ...dataset.split("/"), ...file.split("/"));
  const url = modelscopeFileUrl(dataset, file, revision, opts.endpoint ?? modelscopeEndpoint());
  return await cachedDownload(url, local, {
    what: `${file} of the ModelScope dataset ${dataset}`,
    hint: "set LLMPERF_MODELSCOPE_ENDPOINT to a mirror",
    log: opts.log,
  });
}

/**
 * A hub download that failed: one line (a {@link RunError}), with the HTTP status when the hub
 * answered one, so that a caller can tell a missing file (404) from a failed download.
 */
export class HubDownloadError extends RunError {
  /** The hub's HTTP status, when it answered (404: no such file). */
  readonly status?: number;
  /**
   * @param message one line saying what failed
   * @param status the hub's HTTP status, when it answered
   */
  constructor(message: string, status?: number) {
    super(message);
    this.name = "HubDownloadError";
    this.status = status;
  }
}

/**
 * `url` downloaded to `local` (streamed to a temporary file, renamed when complete), unless
 * `local` is already there; its path. Throws one {@link HubDownloadError} line naming `what`,
 * with `hint` on what to do.
 */
export async function cachedDownload(
  url: string,
  local: string,
  o: { what: string; hint: string; log?: (line: string) => void },
): Promise<string> {
  if (await exists(local)) return local;
  const failed = (why: string, status?: number) =>
    new HubDownloadError(
      `cannot download ${o.what} from ${url}: ${why} ` +
        `(offline? give --dataset-path FILE, or ${o.hint})`,
      status,
    );
  (o.log ?? stderrLogger)(`downloading ${o.what} into ${local}`);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("no answer")), HUB_CONNECT_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { signal: ac.signal });
  } catch (e) {
    throw failed(
      ac.signal.aborted ? `no answer within ${HUB_CONNECT_TIMEOUT_MS / 1000} s` : fetchErrorText(e),
    );
  } finally {
    clearTimeout(timer);
  }
  if (res.status !== 200 || res.body === null) {
    await res.body?.cancel();
    throw failed(`HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`, res.status);
  }
  await Deno.mkdir((await nodePath()).dirname(local), { recursive: true });
  const part = `${local}.${Deno.pid}.${Date.now()}.part`;
  try {
    const out = await Deno.open(part, { write: true, createNew: true });
    await res.body.pipeTo(out.writable);
    await Deno.rename(part, local);
  } catch (e) {
    await Deno.remove(part).catch(() => {});
    throw failed(errorMessage(e));
  }
  return local;
}

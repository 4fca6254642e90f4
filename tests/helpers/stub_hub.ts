/**
 * A stub dataset hub on 127.0.0.1 for `--data-source` tests: it serves fixed files by path and
 * query (what `HF_ENDPOINT` or `LLMPERF_MODELSCOPE_ENDPOINT` point llmperf at), answers 404 to
 * anything else, and records every path asked for, so a test can tell what was downloaded.
 *
 * @module
 */

/** A running stub hub. */
export interface StubHub {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Each request's path and query, in arrival order. */
  readonly paths: string[];
  /** Stop it. */
  close(): Promise<void>;
}

/** Start a stub hub serving `files` (path and query → body). */
export function stubHub(files: Record<string, Uint8Array<ArrayBuffer> | string>): StubHub {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const u = new URL(req.url);
    paths.push(u.pathname + u.search);
    const body = files[u.pathname + u.search];
    return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, paths, close: () => server.shutdown() };
}

/** The path the Hugging Face hub serves `file` of `dataset` at (revision `main`). */
export function hfPath(dataset: string, file: string): string {
  return `/datasets/${dataset}/resolve/main/${file}`;
}

/** The path and query ModelScope serves `file` of `dataset` at (revision `master`). */
export function msPath(dataset: string, file: string): string {
  const [ns, name] = dataset.split("/");
  const q = new URLSearchParams({ Revision: "master", FilePath: file });
  return `/api/v1/datasets/${ns}/${name}/repo?${q}`;
}

/** The environment that points both hubs at `hub` and the cache at `cache`. */
export function hubEnv(hub: { url: string }, cache: string): Record<string, string> {
  return { HF_ENDPOINT: hub.url, LLMPERF_MODELSCOPE_ENDPOINT: hub.url, LLMPERF_CACHE_DIR: cache };
}

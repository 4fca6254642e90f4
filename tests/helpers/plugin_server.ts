/**
 * A local HTTP server that publishes the files of a folder, as a team publishes its plugins at a
 * URL. `.ts` is served as `application/typescript` and `.js` as `text/javascript`, unless the
 * request's `?type=` query names another content type (to mimic servers that get it wrong).
 *
 * @module
 */

/** A running file server. */
export interface PluginServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Paths requested so far. */
  requests: string[];
  /** Stop it. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ts: "application/typescript",
  js: "text/javascript",
  json: "application/json",
};

/** Serve the files under `dir` on a free port of 127.0.0.1. */
export function servePlugins(dir: string): PluginServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const u = new URL(req.url);
    requests.push(u.pathname + u.search);
    const path = decodeURIComponent(u.pathname);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(`${dir}${path}`);
      const type = u.searchParams.get("type") ?? TYPES[path.split(".").pop()!] ?? "text/plain";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/**
 * A proxy in front of a server (the mock) that records every request body it forwards, so that a
 * test can check what the CLI really sent.
 *
 * @module
 */

/** A running capture proxy. */
export interface CaptureProxy {
  /** Base URL to send requests to, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The JSON bodies received, in arrival order. */
  bodies: Record<string, unknown>[];
  /** Stop it. */
  close(): Promise<void>;
}

/** Forward every request to `target` (same method, path and headers), keeping a copy of each POST's JSON body. */
export function captureProxy(target: string): CaptureProxy {
  const bodies: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const text = await req.text();
    // The request bodies: a GET (the run's /metrics scrape, a health check) has none.
    if (req.method === "POST") {
      try {
        bodies.push(JSON.parse(text));
      } catch {
        bodies.push({ unparsable: text });
      }
    }
    const u = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.delete("content-length");
    return await fetch(`${target}${u.pathname}${u.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : text,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    close: () => server.shutdown(),
  };
}

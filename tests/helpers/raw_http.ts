/**
 * A raw TCP server for transport tests: it reads each HTTP/1.1 request and lets the test write
 * whatever bytes it likes back, in as many writes as it likes, so every edge of response parsing
 * can be produced on purpose.
 *
 * @module
 */

/** One request as the server read it. */
export interface RawRequest {
  /** Request line and headers. */
  head: string;
  /** The body text. */
  body: string;
}

/** Writes the response: `write` sends bytes now; `pause` lets them leave as their own segment. */
export interface RawReply {
  /** The request. */
  req: RawRequest;
  /** Which connection (from 0) and which request on it (from 0). */
  conn: number;
  /** Requests served on this connection before this one. */
  seq: number;
  /** Write text or bytes. */
  write(data: string | Uint8Array): Promise<void>;
  /** Wait a little so the next write arrives in its own read. */
  pause(ms?: number): Promise<void>;
  /** Close the connection after this reply. */
  close(): void;
}

/** A running raw server. */
export interface RawServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Requests read so far. */
  requests: RawRequest[];
  /** Stop. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Start a server that answers every request with `reply`. */
export function rawServer(reply: (r: RawReply) => Promise<void>): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const server: RawServer = {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    connections: 0,
    requests: [],
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled([...tasks]);
    },
  };
  const serve = async (conn: Deno.Conn, index: number) => {
    conns.add(conn);
    let pending = new Uint8Array(0);
    const buf = new Uint8Array(65536);
    let seq = 0;
    try {
      for (;;) {
        // Read one request: head, then Content-Length bytes of body.
        let req: RawRequest | undefined;
        while (req === undefined) {
          const text = dec.decode(pending);
          const end = text.indexOf("\r\n\r\n");
          if (end !== -1) {
            const head = text.slice(0, end);
            const m = /content-length:\s*(\d+)/i.exec(head);
            const len = m ? Number(m[1]) : 0;
            const headBytes = enc.encode(text.slice(0, end + 4)).length;
            if (pending.length - headBytes >= len) {
              req = { head, body: dec.decode(pending.subarray(headBytes, headBytes + len)) };
              pending = pending.slice(headBytes + len);
              break;
            }
          }
          const n = await conn.read(buf);
          if (n === null) return;
          const joined = new Uint8Array(pending.length + n);
          joined.set(pending);
          joined.set(buf.subarray(0, n), pending.length);
          pending = joined;
        }
        server.requests.push(req);
        let close = false;
        await reply({
          req,
          conn: index,
          seq: seq++,
          async write(data) {
            const bytes = typeof data === "string" ? enc.encode(data) : data;
            let off = 0;
            while (off < bytes.length) off += await conn.write(bytes.subarray(off));
          },
          pause: (ms = 15) => new Promise((r) => setTimeout(r, ms)),
          close() {
            close = true;
          },
        });
        if (close) return;
      }
    } catch {
      // the client went away
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  (async () => {
    try {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        const t = serve(conn, server.connections++);
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
    } catch { /* listener closed */ }
  })();
  return server;
}

/** An SSE body as one chunk per event (as a streaming server writes it). */
export function chunk(text: string): string {
  return `${enc.encode(text).length.toString(16)}\r\n${text}\r\n`;
}

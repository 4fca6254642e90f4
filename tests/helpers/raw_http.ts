/**
 * A raw TCP server for transport tests: it reads each HTTP/1.1 request and lets the test write
 * whatever bytes it likes back, in as many writes as it likes, then keep the connection open,
 * close it (FIN) or reset it (RST), so every edge of response parsing and of connection reuse can
 * be produced on purpose. It counts every request it read, per connection.
 *
 * Built on `node:net` because a reset needs `SO_LINGER` 0 (`socket.resetAndDestroy()`), which
 * `Deno.Conn` cannot do.
 *
 * @module
 */
import net from "node:net";

/** One request as the server read it. */
export interface RawRequest {
  /** Request line and headers. */
  head: string;
  /** The body text. */
  body: string;
  /** Which connection (from 0). */
  conn: number;
  /** Requests read on this connection before this one. */
  seq: number;
}

/** Writes the response: `write` sends bytes now; `pause` lets them leave as their own segment. */
export interface RawReply {
  /** The request. */
  req: RawRequest;
  /** Which connection (from 0) and which request on it (from 0). */
  conn: number;
  /** Requests served on this connection before this one. */
  seq: number;
  /** Write text or bytes (resolves once they are handed to the kernel). */
  write(data: string | Uint8Array): Promise<void>;
  /** Wait a little so the next write arrives in its own read. */
  pause(ms?: number): Promise<void>;
  /** Close the connection (FIN) after this reply; without this, it stays open for the next. */
  close(): void;
  /** Reset the connection (RST, no FIN) after this reply. */
  reset(): void;
}

/** A running raw server. */
export interface RawServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Requests read so far, in arrival order. */
  requests: RawRequest[];
  /** Stop. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The bytes arriving on a socket, one `read()` at a time; `null` once it ended. */
function reader(sock: net.Socket): () => Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  sock.on("data", (d: Uint8Array) => {
    chunks.push(d);
    poke();
  });
  for (const ev of ["end", "close", "error"]) {
    sock.on(ev, () => {
      ended = true;
      poke();
    });
  }
  return async () => {
    while (chunks.length === 0) {
      if (ended) return null;
      await new Promise<void>((r) => wake = r);
    }
    return chunks.shift()!;
  };
}

/** Start a server that answers every request with `reply`. */
export async function rawServer(reply: (r: RawReply) => Promise<void>): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const tasks = new Set<Promise<void>>();
  const srv = net.createServer();
  const server: RawServer = {
    url: "",
    connections: 0,
    requests: [],
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
      await Promise.allSettled([...tasks]);
    },
  };
  const serve = async (sock: net.Socket, index: number) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const read = reader(sock);
    let pending = new Uint8Array(0);
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
              req = {
                head,
                body: dec.decode(pending.subarray(headBytes, headBytes + len)),
                conn: index,
                seq,
              };
              pending = pending.slice(headBytes + len);
              break;
            }
          }
          const data = await read();
          if (data === null) return;
          const joined = new Uint8Array(pending.length + data.length);
          joined.set(pending);
          joined.set(data, pending.length);
          pending = joined;
        }
        server.requests.push(req);
        let after = "keep" as "keep" | "close" | "reset";
        await reply({
          req,
          conn: index,
          seq: seq++,
          write(data) {
            const bytes = typeof data === "string" ? enc.encode(data) : data;
            return new Promise((resolve, reject) => {
              sock.write(bytes, (err) => err ? reject(err) : resolve());
            });
          },
          pause: (ms = 15) => new Promise((r) => setTimeout(r, ms)),
          close() {
            after = "close";
          },
          reset() {
            after = "reset";
          },
        });
        if (after === "close") {
          sock.end();
          return;
        }
        if (after === "reset") {
          sock.resetAndDestroy();
          return;
        }
      }
    } catch {
      // the client went away
    } finally {
      sockets.delete(sock);
      if (!sock.destroyed) sock.destroy();
    }
  };
  srv.on("connection", (sock: net.Socket) => {
    const t = serve(sock, server.connections++);
    tasks.add(t);
    t.finally(() => tasks.delete(t));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  server.url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  return server;
}

/** An SSE body as one chunk per event (as a streaming server writes it). */
export function chunk(text: string): string {
  return `${enc.encode(text).length.toString(16)}\r\n${text}\r\n`;
}

/** The head of a chunked SSE response. */
export const SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
  "transfer-encoding: chunked\r\n\r\n";

/** The last, zero-length chunk of a chunked body. */
export const LAST_CHUNK = "0\r\n\r\n";

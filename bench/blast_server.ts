/**
 * A server that costs almost nothing per token, for measuring the client alone: it answers every
 * request on a keep-alive connection with one precomputed chunked SSE response (256 OpenAI chat
 * chunks, a usage chunk, `[DONE]`) in a single write. The mock server spends tens of microseconds
 * per chunk; this one spends a fraction of one, so the client's cost is what limits the rate.
 *
 * Run: `deno run -A bench/blast_server.ts [port] [tokens]`; prints `listening on <url>`.
 *
 * @module
 */

const enc = new TextEncoder();

/** The SSE events of one reply of `tokens` chat chunks, a usage chunk and `[DONE]`, in order. */
export function blastEvents(tokens: number): string[] {
  const out: string[] = [];
  const event = (obj: unknown) => out.push(`data: ${JSON.stringify(obj)}\n\n`);
  const base = { id: "blast", object: "chat.completion.chunk", created: 1, model: "blast" };
  event({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" } }] });
  for (let i = 0; i < tokens; i++) {
    event({
      ...base,
      choices: [{
        index: 0,
        delta: { content: ` w${i}` },
        logprobs: null,
        finish_reason: i === tokens - 1 ? "length" : null,
      }],
    });
  }
  event({ ...base, choices: [], usage: { prompt_tokens: 8, completion_tokens: tokens } });
  out.push("data: [DONE]\n\n");
  return out;
}

/** The bytes of one chunked SSE response of `tokens` chat chunks: one HTTP chunk per event. */
export function blastResponse(tokens: number): Uint8Array {
  const body = blastEvents(tokens)
    .map((text) => `${enc.encode(text).length.toString(16)}\r\n${text}\r\n`).join("");
  return enc.encode(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
      body + "0\r\n\r\n",
  );
}

/** Serve `response` to every request until the listener closes. */
export async function serveBlast(listener: Deno.TcpListener, response: Uint8Array): Promise<void> {
  for await (const conn of listener) {
    conn.setNoDelay(true);
    handle(conn, response).catch(() => {});
  }
}

const HEAD_END = enc.encode("\r\n\r\n");

async function handle(conn: Deno.TcpConn, response: Uint8Array): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let filled = 0;
  try {
    for (;;) {
      // One request: the head, then Content-Length bytes.
      let end = -1;
      let need = 0;
      for (;;) {
        if (end === -1) {
          end = indexOf(buf, HEAD_END, filled);
          if (end !== -1) {
            const head = new TextDecoder().decode(buf.subarray(0, end));
            const m = /content-length:\s*(\d+)/i.exec(head);
            need = end + 4 + (m ? Number(m[1]) : 0);
          }
        }
        if (end !== -1 && filled >= need) break;
        const n = await conn.read(buf.subarray(filled));
        if (n === null) return;
        filled += n;
      }
      buf.copyWithin(0, need, filled);
      filled -= need;
      let off = 0;
      while (off < response.length) off += await conn.write(response.subarray(off));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function indexOf(buf: Uint8Array, pat: Uint8Array, end: number): number {
  outer: for (let i = 0; i + pat.length <= end; i++) {
    for (let j = 0; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? 0);
  const tokens = Number(Deno.args[1] ?? 256);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.error(`listening on http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await serveBlast(listener, blastResponse(tokens));
}

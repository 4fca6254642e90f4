/**
 * The network probes of `llmperf doctor`, each one small request or connection that returns
 * plain data (never throws): a TCP connect, a TLS handshake, an HTTP request read whole, and a
 * streamed request read event by event with the time of each. `diagnose.ts` turns them into
 * checks. They use `fetch` (and `Deno.connect` / `Deno.connectTls`): a diagnosis is a handful of
 * requests, not the hot path.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { SseParser } from "../transport/sse.ts";
import { fetchErrorText } from "../util/fetch_error.ts";

/** Longest body kept of a response (the rest is not read). */
export const MAX_PROBE_BODY = 1 << 20;

/** A connection attempt: how long it took, or why it failed. */
export type ConnectProbe = { ok: true; ms: number } | { ok: false; error: string };

/** A TLS handshake: the protocol agreed by ALPN, or why it failed. */
export type TlsProbe = { ok: true; ms: number; alpn: string | null } | { ok: false; error: string };

/** One HTTP request, read whole (up to {@link MAX_PROBE_BODY}). */
export interface HttpProbe {
  /** The status, when a response came. */
  status?: number;
  /** Its `content-type` ("" when none). */
  contentType: string;
  /** Its `Date` header, when it has one. */
  date?: string;
  /** The body text (truncated at {@link MAX_PROBE_BODY}). */
  body: string;
  /** Why no (complete) response came. */
  error?: string;
  /** Milliseconds from sending to the end of the body (or the error). */
  ms: number;
  /** Epoch ms when it was sent, and when its headers came (for the clock check). */
  sentAt: number;
  /** Epoch ms when its headers came. */
  headersAt?: number;
}

/** A streamed request: the response's events, each with its time after sending. */
export interface StreamProbe extends HttpProbe {
  /** The SSE events, in order (only when the response is `text/event-stream`). */
  events: { data: string; type: string; ms: number }[];
  /** Milliseconds from sending to the first byte of the body. */
  firstByteMs?: number;
}

/** A promise that rejects after `ms` with a "no answer" error; `cancel` stops the timer. */
function deadline(ms: number, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Open a TCP connection to `host:port` and close it. */
export async function connectProbe(
  hostname: string,
  port: number,
  timeoutMs: number,
): Promise<ConnectProbe> {
  const t0 = performance.now();
  const limit = deadline(timeoutMs, "connection");
  const attempt = Deno.connect({ hostname, port });
  try {
    const conn = await Promise.race([attempt, limit.promise]);
    const ms = performance.now() - t0;
    conn.close();
    return { ok: true, ms };
  } catch (e) {
    attempt.then((c) => c.close(), () => {});
    return { ok: false, error: errorMessage(e) };
  } finally {
    limit.cancel();
  }
}

/** A TLS handshake with `host:port` (trusting `caCerts` besides the default roots). */
export async function tlsProbe(
  hostname: string,
  port: number,
  caCerts: string[] | undefined,
  timeoutMs: number,
): Promise<TlsProbe> {
  const t0 = performance.now();
  const limit = deadline(timeoutMs, "TLS handshake");
  const attempt = (async () => {
    const conn = await Deno.connectTls({
      hostname,
      port,
      caCerts,
      alpnProtocols: ["h2", "http/1.1"],
    });
    try {
      const info = await conn.handshake();
      return info.alpnProtocol;
    } finally {
      conn.close();
    }
  })();
  try {
    const alpn = await Promise.race([attempt, limit.promise]);
    return { ok: true, ms: performance.now() - t0, alpn };
  } catch (e) {
    attempt.catch(() => {});
    return { ok: false, error: errorMessage(e) };
  } finally {
    limit.cancel();
  }
}

/** How a probe sends: headers, the HTTP client (for `--ca-cert`), the time limit. */
export interface ProbeOptions {
  /** Headers of every request. */
  headers: Record<string, string>;
  /** The `fetch` client (one that trusts `--ca-cert`), or undefined for the default. */
  client?: Deno.HttpClient;
  /** Longest time for the whole request, ms. */
  timeoutMs: number;
}

function failText(e: unknown, timeoutMs: number): string {
  if ((e as Error)?.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  return fetchErrorText(e);
}

/** Send `init` to `url` and read the answer whole. */
export async function httpProbe(
  url: string,
  init: { method: "GET" | "POST"; body?: unknown },
  opts: ProbeOptions,
): Promise<HttpProbe> {
  const r = await streamProbe(url, init, opts, false);
  const { events: _events, firstByteMs: _first, ...probe } = r;
  return probe;
}

/**
 * Send `init` to `url` and read the answer; with `sse` (the default), a `text/event-stream`
 * body is parsed into events as it arrives, each stamped with its arrival time.
 */
export async function streamProbe(
  url: string,
  init: { method: "GET" | "POST"; body?: unknown },
  opts: ProbeOptions,
  sse = true,
): Promise<StreamProbe> {
  const sentAt = Date.now();
  const t0 = performance.now();
  const out: StreamProbe = { contentType: "", body: "", ms: 0, sentAt, events: [] };
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: init.body === undefined ? opts.headers : {
        "content-type": "application/json",
        ...opts.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      client: opts.client,
      redirect: "manual",
      signal,
    });
  } catch (e) {
    out.error = failText(e, opts.timeoutMs);
    out.ms = performance.now() - t0;
    return out;
  }
  out.status = res.status;
  out.headersAt = Date.now();
  out.contentType = res.headers.get("content-type") ?? "";
  out.date = res.headers.get("date") ?? undefined;
  const isSse = sse && /^text\/event-stream\b/i.test(out.contentType.trim());
  const parser = new SseParser((data, type, time) => {
    out.events.push({ data, type, ms: time - t0 });
  });
  const decoder = new TextDecoder();
  try {
    const reader = res.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      const now = performance.now();
      out.firstByteMs ??= now - t0;
      const text = decoder.decode(value, { stream: true });
      if (out.body.length < MAX_PROBE_BODY) out.body += text;
      if (isSse) parser.push(text, now);
      if (!isSse && out.body.length >= MAX_PROBE_BODY) {
        await reader.cancel();
        break;
      }
    }
    if (isSse) parser.end(performance.now());
  } catch (e) {
    out.error = failText(e, opts.timeoutMs);
  }
  out.ms = performance.now() - t0;
  return out;
}

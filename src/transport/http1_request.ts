/**
 * HTTP/1.1 requests for the socket transport: where to connect (the {@link Target} of a URL) and
 * the bytes of a POST request. The header block is built and checked once per URL and header set
 * and cached (compared by value, see {@link sameHeaders}); per request only the body is encoded
 * and `Content-Length` filled in.
 *
 * Credentials in the URL (`http://user:pass@host/...`) are sent as `Authorization: Basic`, as
 * `fetch` does, unless the caller gives an `Authorization` header; they never appear in the
 * request line or `Host`. Header values are bytes (RFC 9110 §5.5): text beyond Latin-1 cannot be
 * sent, and obs-text (U+0080–U+00FF) goes out as one byte each, as `fetch` sends it.
 *
 * @module
 */
import { headerProblem } from "../util/http_header.ts";

/** Where a URL's requests go. */
export interface Target {
  /** Whether to speak TLS. */
  tls: boolean;
  /** Host name or IP address to connect to (IPv6 without brackets). */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Key of the connection pool: one pool of keep-alive connections per origin. */
  origin: string;
  /** The request target: path and query. */
  path: string;
  /** The `Host` header value. */
  host: string;
  /** `Basic ...` from the URL's userinfo, when it has one. */
  basicAuth?: string;
}

function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `Basic base64(user:password)` of a URL's userinfo (percent-decoded, UTF-8), if it has one. */
export function basicAuthOf(u: URL): string | undefined {
  if (u.username === "" && u.password === "") return undefined;
  const bytes = new TextEncoder().encode(
    `${decodeUserinfo(u.username)}:${decodeUserinfo(u.password)}`,
  );
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** The target of an http(s) URL. Throws `TypeError` for anything else. */
export function targetOf(url: string): Target {
  const u = new URL(url);
  const tls = u.protocol === "https:";
  if (!tls && u.protocol !== "http:") throw new TypeError(`not an http(s) URL: ${url}`);
  const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
  const bracketed = u.hostname.startsWith("[");
  const hostname = bracketed ? u.hostname.slice(1, -1) : u.hostname;
  const target: Target = {
    tls,
    hostname,
    port,
    origin: `${u.protocol}//${u.host}`,
    path: (u.pathname || "/") + u.search,
    host: u.host,
  };
  const auth = basicAuthOf(u);
  if (auth !== undefined) target.basicAuth = auth;
  return target;
}

/** Headers the transport sets itself; a caller's values for these are ignored. */
const OWN_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
]);

/**
 * The request line and headers of a POST to `target`, up to (not including) `Content-Length`.
 * Adds `Accept: *` + `/*` when the caller gave no Accept header, as `fetch` does, and the URL's
 * credentials as `Authorization: Basic` when the caller gave no Authorization header. Throws
 * `TypeError` for a header name or value that cannot be sent.
 */
export function requestHead(target: Target, headers: Record<string, string>): string {
  let head = `POST ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  let accept = false;
  let auth = false;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (OWN_HEADERS.has(lower)) continue;
    const value = String(headers[name]);
    const problem = headerProblem(name, value);
    if (problem !== undefined) throw new TypeError(problem);
    if (lower === "accept") accept = true;
    else if (lower === "authorization") auth = true;
    head += `${name}: ${value.trim()}\r\n`;
  }
  if (!accept) head += "accept: */*\r\n";
  if (!auth && target.basicAuth !== undefined) head += `authorization: ${target.basicAuth}\r\n`;
  return head;
}

/** The bytes of a request head: one byte per character (the head holds only Latin-1). */
export function headBytes(head: string): Uint8Array {
  const out = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  return out;
}

/** Whether two header sets hold the same names and values (in any order). */
export function sameHeaders(
  a: Record<string, string>,
  b: Record<string, string> | undefined,
): boolean {
  if (b === undefined) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

const encoder = new TextEncoder();

/**
 * The bytes of a request: `head` from {@link requestHead} (as {@link headBytes}), then
 * `Content-Length` and the UTF-8 body.
 */
export function encodeRequest(head: Uint8Array, body: string): Uint8Array {
  return new RequestEncoder().encode(head, body);
}

/**
 * {@link encodeRequest} with one allocation per request: the body is encoded into a scratch
 * buffer kept between requests, then the head, `Content-Length` and body are copied into the
 * request's own buffer (which must outlive the write, so it cannot be shared).
 */
export class RequestEncoder {
  #scratch = new Uint8Array(4096);

  /** The request's bytes. */
  encode(head: Uint8Array, body: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.#scratch.length < body.length * 3) {
      this.#scratch = new Uint8Array(Math.max(body.length * 3, this.#scratch.length * 2));
    }
    const n = encoder.encodeInto(body, this.#scratch).written;
    const length = `content-length: ${n}\r\n\r\n`;
    const out = new Uint8Array(head.length + length.length + n);
    out.set(head, 0);
    let o = head.length;
    for (let i = 0; i < length.length; i++) out[o++] = length.charCodeAt(i);
    out.set(this.#scratch.subarray(0, n), o);
    return out;
  }
}

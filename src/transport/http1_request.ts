/**
 * HTTP/1.1 requests for the socket transport: where to connect (the {@link Target} of a URL) and
 * the bytes of a POST request. The header block is built and checked once per URL and header set
 * and cached; per request only the body is encoded and `Content-Length` filled in.
 *
 * @module
 */

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
}

/** The target of an http(s) URL. Throws `TypeError` for anything else. */
export function targetOf(url: string): Target {
  const u = new URL(url);
  const tls = u.protocol === "https:";
  if (!tls && u.protocol !== "http:") throw new TypeError(`not an http(s) URL: ${url}`);
  const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
  const bracketed = u.hostname.startsWith("[");
  const hostname = bracketed ? u.hostname.slice(1, -1) : u.hostname;
  return {
    tls,
    hostname,
    port,
    origin: `${u.protocol}//${u.host}`,
    path: (u.pathname || "/") + u.search,
    host: u.host,
  };
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

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\0\r\n]/;

/**
 * The request line and headers of a POST to `target`, up to (not including) `Content-Length`.
 * Adds `Accept: *` + `/*` when the caller gave no Accept header, as `fetch` does. Throws
 * `TypeError` for a header name or value that cannot be sent.
 */
export function requestHead(target: Target, headers: Record<string, string>): string {
  let head = `POST ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  let accept = false;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (OWN_HEADERS.has(lower)) continue;
    const value = String(headers[name]);
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name '${name}'`);
    if (BAD_VALUE.test(value)) throw new TypeError(`invalid value of header '${name}'`);
    if (lower === "accept") accept = true;
    head += `${name}: ${value.trim()}\r\n`;
  }
  if (!accept) head += "accept: */*\r\n";
  return head;
}

const encoder = new TextEncoder();

/** The bytes of a request: `head` from {@link requestHead}, then the UTF-8 body. */
export function encodeRequest(head: string, body: string): Uint8Array {
  const bodyBytes = encoder.encode(body);
  const headBytes = encoder.encode(`${head}content-length: ${bodyBytes.length}\r\n\r\n`);
  const out = new Uint8Array(headBytes.length + bodyBytes.length);
  out.set(headBytes, 0);
  out.set(bodyBytes, headBytes.length);
  return out;
}

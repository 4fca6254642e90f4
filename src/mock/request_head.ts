/**
 * HTTP/1.1 requests as the mock's own server reads them (RFC 9112): the head (request line and
 * header fields), how long the body is (`Content-Length` or chunked), and a decoder of a chunked
 * body once all of it has arrived. Request bodies are small (a JSON prompt), so a chunked body is
 * decoded whole rather than as it streams.
 *
 * @module
 */
import type { MockHeaders } from "./protocol_adapter.ts";
import { headEnd as findHeadEnd } from "../util/head_end.ts";

/** The request is not HTTP/1.x as the mock reads it: answered with `status`, then closed. */
export class BadRequest extends Error {
  /** The status to answer with. */
  readonly status: number;
  /** @param status 400, 413, 431 or 501; @param message one line */
  constructor(status: number, message: string) {
    super(message);
    this.name = "BadRequest";
    this.status = status;
  }
}

/** Longest request head accepted, bytes. */
export const MAX_REQUEST_HEAD_BYTES = 64 * 1024;

/** A parsed request head. */
export interface RequestHead {
  /** The method, as sent. */
  method: string;
  /** The request target, as sent (origin form `/path?query`, or absolute form). */
  target: string;
  /** The path of the target, without its query. */
  path: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** The header fields, by lower-case name; repeated fields joined with `, `. */
  headers: RequestHeaders;
  /** Body length from `Content-Length` (0 without one), or -1 when the body is chunked. */
  length: number;
  /** Whether the connection may carry another request after this one's response. */
  keepAlive: boolean;
  /** Whether the client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
  /** Index of the first body byte. */
  bodyStart: number;
}

/** Header fields by lower-case name. */
export class RequestHeaders implements MockHeaders {
  /** Name (lower case) and value pairs, in order. */
  readonly pairs: Array<[string, string]> = [];
  /** The value of `name` (repeats joined with `, `), or null. */
  get(name: string): string | null {
    const want = name.toLowerCase();
    let out: string | null = null;
    for (const [k, v] of this.pairs) {
      if (k === want) out = out === null ? v : `${out}, ${v}`;
    }
    return out;
  }
}

const LF = 10;
const CR = 13;
const latin1 = new TextDecoder("latin1");
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Find and parse one request head in `buf[start, end)`: undefined while its blank line has not
 * arrived. Accepts bare LF line ends; skips empty lines before the request line (RFC 9112 §2.2).
 * Throws {@link BadRequest} for a malformed or oversized head.
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
): RequestHead | undefined {
  while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
  const headEnd = findHeadEnd(buf, start, end);
  if (headEnd === -1) {
    if (end - start > MAX_REQUEST_HEAD_BYTES) {
      throw new BadRequest(431, "request head too long");
    }
    return undefined;
  }
  const lines = latin1.decode(buf.subarray(start, headEnd)).split("\n");
  const line = /^(.*?)\r?$/.exec(lines[0])![1];
  const m = REQUEST_LINE.exec(line);
  if (m === null) throw new BadRequest(400, "malformed request line");
  const headers = new RequestHeaders();
  for (let j = 1; j < lines.length; j++) {
    const l = lines[j].endsWith("\r") ? lines[j].slice(0, -1) : lines[j];
    if (l === "") continue;
    const colon = l.indexOf(":");
    const name = colon > 0 ? l.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new BadRequest(400, "malformed header field");
    headers.pairs.push([name.toLowerCase(), l.slice(colon + 1).trim()]);
  }
  const minor = Number(m[3]);
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const keepAlive = minor === 1 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  const coding = headers.get("transfer-encoding");
  let length = 0;
  if (coding !== null) {
    if (!/(^|,)\s*chunked\s*$/i.test(coding)) {
      throw new BadRequest(501, `transfer-encoding '${coding}' is not supported`);
    }
    length = -1;
  } else {
    const cl = headers.get("content-length");
    if (cl !== null) {
      if (!/^\d+$/.test(cl)) throw new BadRequest(400, "malformed content-length");
      length = Number(cl);
    }
  }
  const target = m[2];
  const q = target.search(/[?#]/);
  let path = q === -1 ? target : target.slice(0, q);
  const abs = /^https?:\/\/[^/]*/i.exec(path);
  if (abs !== null) path = path.slice(abs[0].length) || "/";
  return {
    method: m[1],
    target,
    path,
    minor,
    headers,
    length,
    keepAlive,
    expectContinue: (headers.get("expect") ?? "").toLowerCase() === "100-continue",
    bodyStart: headEnd,
  };
}

/**
 * A chunked body in `buf[start, end)`, decoded, once all of it (trailers included) has arrived:
 * the body and the index after it; undefined while it is incomplete. Throws {@link BadRequest}
 * when the framing is broken.
 */
export function decodeChunked(
  buf: Uint8Array,
  start: number,
  end: number,
): { body: Uint8Array; end: number } | undefined {
  const parts: Uint8Array[] = [];
  let size = 0;
  let i = start;
  for (;;) {
    const lf = buf.indexOf(LF, i);
    if (lf === -1 || lf >= end) return undefined;
    const line = latin1.decode(buf.subarray(i, lf)).replace(/\r$/, "");
    const m = /^([0-9a-fA-F]+)(;.*)?$/.exec(line);
    if (m === null) throw new BadRequest(400, "malformed chunk size");
    const n = parseInt(m[1], 16);
    i = lf + 1;
    if (n === 0) {
      // Trailer fields until a blank line.
      for (;;) {
        const t = buf.indexOf(LF, i);
        if (t === -1 || t >= end) return undefined;
        const blank = t === i || (t === i + 1 && buf[i] === CR);
        i = t + 1;
        if (blank) break;
      }
      const body = new Uint8Array(size);
      let off = 0;
      for (const p of parts) {
        body.set(p, off);
        off += p.length;
      }
      return { body, end: i };
    }
    if (i + n + 1 > end) return undefined;
    parts.push(buf.subarray(i, i + n));
    size += n;
    i += n;
    if (buf[i] === CR) i++;
    if (i >= end) return undefined;
    if (buf[i] !== LF) throw new BadRequest(400, "malformed chunk");
    i++;
  }
}

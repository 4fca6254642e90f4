/**
 * HTTP/1.1 responses, parsed from bytes as they arrive: the head (status line and headers), how
 * the body is framed (RFC 9112 §6.3: none, `Content-Length`, chunked, or until the connection
 * closes) and an in-place decoder of chunked bodies.
 *
 * Hand-written because it is the hot path of the socket transport: the chunked decoder moves each
 * chunk's data down over the framing in the same buffer, so one read of many SSE events becomes
 * one contiguous run of body bytes (one UTF-8 decode, one SSE parse) with no allocation.
 *
 * @module
 */
import { headEnd as findHeadEnd } from "../util/head_end.ts";

/** The response broke HTTP/1.1; the request is recorded as a `protocol` failure. */
export class ProtocolError extends Error {
  /** @param message one line */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** How a response body ends. */
export type Framing = "none" | "length" | "chunked" | "close";

/** A parsed response head. */
export interface ResponseHead {
  /** Status code. */
  status: number;
  /** Reason phrase (may be empty). */
  reason: string;
  /** Header values by lower-case name; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** How the body is framed. */
  framing: Framing;
  /** Body length when `framing` is `length`, else -1. */
  length: number;
  /** Whether the connection may carry another request after this response's body. */
  keepAlive: boolean;
}

/** Longest response head accepted, in bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;

const LF = 10;
const CR = 13;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const latin1 = new TextDecoder("latin1");

/**
 * Find and parse one response head in `buf[start, end)`. Returns `undefined` when the blank line
 * that ends it has not arrived yet, else the head and the index of the first body byte. Accepts
 * bare LF line ends. Throws {@link ProtocolError} for a malformed or oversized head.
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
): { head: ResponseHead; bodyStart: number } | undefined {
  const headEnd = findHeadEnd(buf, start, end);
  if (headEnd === -1) {
    if (end - start > MAX_HEAD_BYTES) {
      throw new ProtocolError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
    }
    return undefined;
  }
  const text = latin1.decode(buf.subarray(start, headEnd));
  // A server sends the same head for every response of a kind (the mock, vLLM's within one
  // second of its `date`): the last one parsed is kept, and a head equal to it is not parsed
  // again. Heads are frozen, so that no reader can change the one the next response shares.
  if (text !== lastText) {
    lastHead = freezeHead(headOf(text));
    lastText = text;
  }
  return { head: lastHead!, bodyStart: headEnd };
}

let lastText = "";
let lastHead: ResponseHead | undefined;

function freezeHead(head: ResponseHead): ResponseHead {
  Object.freeze(head.headers);
  return Object.freeze(head);
}

/** Parse the text of a response head (status line, header lines, blank line). */
export function headOf(text: string): ResponseHead {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const m = STATUS_LINE.exec(lines[0] ?? "");
  if (!m) {
    throw new ProtocolError(`not an HTTP/1.x status line: '${(lines[0] ?? "").slice(0, 80)}'`);
  }
  const minor = Number(m[1]);
  const status = Number(m[2]);
  const headers: Record<string, string> = {};
  let last = "";
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k];
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      // obsolete line folding: a continuation of the previous header's value
      if (last === "") throw new ProtocolError("header continuation line with no header");
      headers[last] += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ProtocolError(`malformed header line '${line.slice(0, 80)}'`);
    const name = line.slice(0, colon).toLowerCase();
    if (name.trim() !== name) throw new ProtocolError(`whitespace in header name '${name}'`);
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    last = name;
  }
  const connection = (headers["connection"] ?? "").toLowerCase();
  let keepAlive = minor === 1
    ? !/(^|,)\s*close\s*(,|$)/.test(connection)
    : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  let framing: Framing;
  let length = -1;
  const te = headers["transfer-encoding"];
  const ce = headers["content-encoding"];
  if (ce !== undefined && ce.toLowerCase() !== "identity") {
    throw new ProtocolError(`unsupported content-encoding '${ce}' (try --transport fetch)`);
  }
  if ((status >= 100 && status < 200) || status === 204 || status === 304) {
    framing = "none";
  } else if (te !== undefined) {
    if (te.trim().toLowerCase() !== "chunked") {
      throw new ProtocolError(`unsupported transfer-encoding '${te}' (try --transport fetch)`);
    }
    framing = "chunked";
  } else if (headers["content-length"] !== undefined) {
    length = contentLength(headers["content-length"]);
    framing = "length";
  } else {
    framing = "close";
    keepAlive = false;
  }
  return { status, reason: m[3] ?? "", headers, framing, length, keepAlive };
}

function contentLength(value: string): number {
  let n = -1;
  for (const part of value.split(",")) {
    const s = part.trim();
    if (!/^\d{1,15}$/.test(s)) throw new ProtocolError(`invalid content-length '${value}'`);
    const v = Number(s);
    if (n !== -1 && v !== n) throw new ProtocolError(`conflicting content-length '${value}'`);
    n = v;
  }
  return n;
}

// Chunked decoder states.
const SIZE = 0; // reading hex digits of a chunk size
const EXT = 1; // after the size: extensions or whitespace until LF
const DATA = 2; // inside chunk data
const DATA_END = 3; // expecting CRLF after chunk data
const TRAILER = 4; // after the last chunk: trailer lines until an empty one
const DONE = 5;

/** Largest chunk size accepted (far beyond any real response). */
const MAX_CHUNK = 2 ** 40;

/**
 * Decodes a chunked body in place, across any split of the input. Keeps its state between calls,
 * so a read may end anywhere (inside a size line, data, CRLF or trailer).
 */
export class ChunkedDecoder {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineBytes = 0; // trailer: bytes in the current line, CR excluded
  #sawCR = false;
  #rest = 0;
  #partial = 0;

  /** Whether the last chunk and the trailer have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Decode `buf[start, end)`: the data bytes it holds are moved down to `buf[start, returned)`.
   * Stops at the end of the body; {@link rest} then says where unconsumed bytes begin.
   * Throws {@link ProtocolError} for malformed framing ({@link partial} then says how far the
   * data decoded before it reaches).
   */
  decode(buf: Uint8Array, start: number, end: number): number {
    let w = start;
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === DATA) {
        const take = Math.min(this.#remaining, end - i);
        if (w !== i) buf.copyWithin(w, i, i + take);
        w += take;
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) {
          this.#state = DATA_END;
          this.#sawCR = false;
        }
        continue;
      }
      if (state === SIZE && this.#digits === 0) {
        // Fast path: a whole chunk in the buffer, `<hex>\r\n<data>\r\n` (a streamed event each,
        // from most servers), moved down at once instead of byte by byte through the states. It
        // takes only what the states would take the same way; anything else goes through them.
        let j = i;
        let size = 0;
        for (let d = 0; j < end && j - i < 11 && (d = hexValue(buf[j])) !== -1; j++) {
          size = size * 16 + d;
        }
        const from = j + 2;
        if (
          j > i && size > 0 && size <= MAX_CHUNK && from + size + 2 <= end && buf[j] === CR &&
          buf[j + 1] === LF && buf[from + size] === CR && buf[from + size + 1] === LF
        ) {
          if (w !== from) buf.copyWithin(w, from, from + size);
          w += size;
          i = from + size + 2;
          continue;
        }
      }
      const b = buf[i++];
      if (state === SIZE) {
        const d = hexValue(b);
        if (d !== -1) {
          this.#size = this.#size * 16 + d;
          if (++this.#digits > 11 || this.#size > MAX_CHUNK) {
            throw this.#fail(w, "chunk size too large");
          }
          continue;
        }
        if (this.#digits === 0) throw this.#fail(w, `invalid chunk size byte ${b}`);
        this.#state = EXT;
        if (b === LF) this.#endSizeLine();
      } else if (state === EXT) {
        if (b === LF) this.#endSizeLine();
      } else if (state === DATA_END) {
        if (b === CR && !this.#sawCR) this.#sawCR = true;
        else if (b === LF) {
          this.#state = SIZE;
          this.#size = 0;
          this.#digits = 0;
        } else throw this.#fail(w, "missing CRLF after chunk data");
      } else if (state === TRAILER) {
        if (b === LF) {
          if (this.#lineBytes === 0) {
            this.#state = DONE;
            this.#rest = i;
            return w;
          }
          this.#lineBytes = 0;
        } else if (b !== CR) this.#lineBytes++;
      } else {
        // DONE: leave the remaining bytes alone
        this.#rest = i - 1;
        return w;
      }
    }
    this.#rest = end;
    return w;
  }

  /** After {@link decode} threw: the end of the data it had decoded into the buffer. */
  get partial(): number {
    return this.#partial;
  }

  #fail(w: number, message: string): ProtocolError {
    this.#partial = w;
    return new ProtocolError(message);
  }

  /** After {@link decode}: the index of the first byte it did not consume (past the body). */
  get rest(): number {
    return this.#rest;
  }

  #endSizeLine(): void {
    if (this.#size === 0) {
      this.#state = TRAILER;
      this.#lineBytes = 0;
    } else {
      this.#state = DATA;
      this.#remaining = this.#size;
    }
  }
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

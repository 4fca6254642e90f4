/**
 * Failure messages that tell the user what to do: the same words in a request's recorded failure
 * and in the start-up check's one line.
 *
 * @module
 */

/** Said when the server may not speak HTTP/1.1 (the socket transport's only protocol). */
export const HTTP2_HINT = "the server may speak only HTTP/2: try --transport fetch";

/** Said when the server's certificate has an issuer nobody trusts. */
export const CA_CERT_HINT =
  "if the server's certificate comes from a private CA, pass that CA with --ca-cert FILE";

/**
 * A TLS failure's message with the hint that fits it, if one does. `handshake`: the failure came
 * from the handshake on an established TCP connection; a server that then resets or closes it
 * may be one that refused HTTP/1.1 in ALPN (its alert can be lost to the reset).
 */
export function tlsHint(message: string, handshake = false): string {
  if (/unknown ?issuer|self[- ]signed/i.test(message)) return `${message}; ${CA_CERT_HINT}`;
  if (/no ?application ?protocol/i.test(message)) {
    return `${message} (no HTTP/1.1 offered by the server); ${HTTP2_HINT}`;
  }
  if (handshake && /reset|eof|closed|broken pipe/i.test(message)) {
    return `${message} during the TLS handshake; ${HTTP2_HINT}`;
  }
  return message;
}

/**
 * Whether `bytes[start, end)`, where an HTTP/1.1 status line should be, looks like an HTTP/2
 * frame instead (a 9-byte frame header: 24-bit length, a known type, flags, stream id), as an
 * HTTP/2-only server writes (SETTINGS or GOAWAY) when it reads an HTTP/1.1 request.
 */
export function looksLikeHttp2(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 9) return false;
  const type = bytes[start + 3];
  return bytes[start] === 0 && type <= 9 && (bytes[start + 5] & 0x80) === 0;
}

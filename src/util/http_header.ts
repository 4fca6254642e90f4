/**
 * Whether a header can be sent over HTTP/1.1 (RFC 9110 field syntax): one pure check shared by the
 * config (which rejects a bad `--headers` value or API key before anything runs) and the socket
 * transport (which builds request heads). It lives here, below both, so that the config does not
 * import the transport.
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible ASCII, space, tab and obs-text; no other control character, nothing
// beyond one byte per character.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Why a header cannot be sent over HTTP (one line), or `undefined` when it can. Leading and
 * trailing whitespace of the value is allowed (it is trimmed when sent).
 *
 * @example
 * ```ts
 * headerProblem("x-key", "a\nb"); // "the value of header 'x-key' has a control character (U+000A)"
 * ```
 */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `'${name}' is not a valid HTTP header name`;
  const bad = BAD_VALUE.exec(value);
  if (bad === null) return undefined;
  const code = bad[0].codePointAt(0)!;
  const u = "U+" + code.toString(16).toUpperCase().padStart(4, "0");
  return code > 0xff
    ? `the value of header '${name}' has a character that HTTP cannot carry (${u}; ` +
      "header values are Latin-1 bytes)"
    : `the value of header '${name}' has a control character (${u})`;
}

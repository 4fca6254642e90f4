/**
 * Keeping secrets off disk and out of logs: the API key, the wandb key, and any header that
 * looks like a credential are replaced by a marker before arguments are written or printed.
 *
 * @module
 */

/** What a secret is replaced with. */
export const REDACTED = "<redacted>";

const SECRET_HEADER =
  /auth|api[-_]?key|token|secret|password|passwd|cookie|credential|signature|session/i;

const SECRET_KEY = /api_?key$|secret|password|credential/i;

/** Whether a header name looks like it carries a credential. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** Whether a config key holds a secret (`apiKey`, `wandbApiKey`, `api_key`, ...). */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** A copy of `headers` with credential-bearing values redacted. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretHeader(k) ? REDACTED : v;
  return out;
}

/**
 * A deep copy of a config-like object with secrets redacted: keys that name a secret (`apiKey`,
 * `wandbApiKey`, `api_key`, ...) and credential headers in `headers`.
 */
export function redactConfig<T extends Record<string, unknown>>(cfg: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (v === undefined) continue;
    if (k === "headers" && v && typeof v === "object") {
      out[k] = redactHeaders(v as Record<string, string>);
    } else if (isSecretKey(k) && v !== null && v !== "") {
      out[k] = REDACTED;
    } else {
      out[k] = v;
    }
  }
  return out as T;
}

/** Replace every occurrence of the given secret strings in `text`. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

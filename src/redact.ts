/**
 * Keeping credentials off disk and out of logs, in every form they take:
 *
 * - by name: a header whose name says it carries one (`Authorization`, `X-API-Key`,
 *   `Ocp-Apim-Subscription-Key`, `Cookie`, ...), a URL query parameter (`?key=`, `api-key=`,
 *   `token=`, `sig=`, `code=`, ...), a config or body key (`apiKey`, `api_key`, `password`), and
 *   the userinfo of a URL (`http://user:pass@host/`) are replaced by {@link REDACTED};
 * - by value: the secrets a run sends (see {@link runSecrets}) are replaced wherever they appear
 *   in text: server error bodies that echo a header or the key, messages, `--debug` lines, logs.
 *
 * {@link Redactor} applies both. Values shorter than {@link MIN_SECRET_LENGTH} are not replaced
 * in free text (a 2-letter password would blank every such pair of letters); a URL's username
 * alone only from {@link MIN_USERNAME_LENGTH} characters (`user`, `admin` are words, not keys),
 * while `user:pass` together, the password and the Basic-auth token always are.
 *
 * Which settings hold a credential (`apiKey`, `wandbApiKey`) is read from the settings table
 * (`secret: true`); the name patterns are for what the table does not declare: header names,
 * URL parameters, and keys of request bodies and plugin settings.
 *
 * @module
 */
import { type PerfConfig, SECRET_KEYS, type SecretKey, settingKey, SETTINGS } from "./config.ts";

/** What a secret is replaced with. */
export const REDACTED = "<redacted>";

/** Shortest value replaced by value in free text. */
export const MIN_SECRET_LENGTH = 4;

/** Shortest URL username replaced by value on its own in free text. */
export const MIN_USERNAME_LENGTH = 8;

const SECRET_HEADER =
  /auth|key|token|secret|passw|pwd|cookie|credential|signature|session|subscription/i;

const SECRET_PARAM = /key|token|secret|auth|passw|pwd|sig|credential|session|cookie/i;
const SECRET_PARAM_EXACT = /^(code|pass|p|pw)$/i;

const SECRET_KEY = /api_?key$|secret|passw|credential|token$|^auth|authorization|cookie/i;

/** Whether a header name looks like it carries a credential (`X-Api-Key`, `Cookie`, ...). */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** Whether a URL query parameter looks like it carries a credential (`key`, `sig`, `code`...). */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name) || SECRET_PARAM_EXACT.test(name);
}

/**
 * Whether a config or body key holds a secret (`apiKey`, `wandbApiKey`, `api_key`,
 * `access_token`, `password`); `maxTokens` and `tokenizerPath` do not. A setting's name (in any
 * spelling) answers what its entry in the settings table says; any other name, by its pattern.
 */
export function isSecretKey(name: string): boolean {
  const key = settingKey(name);
  if (key !== undefined) return (SETTINGS[key] as { secret?: boolean }).secret === true;
  return SECRET_KEY.test(name);
}

/** A copy of `headers` with credential-bearing values redacted. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretHeader(k) ? REDACTED : v;
  return out;
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/i; // to the last @: `p@ss` is a password
const PARAM = /([?&;#])([^=&;#\s]*)=([^&;#\s]*)/g;

/**
 * A URL with its credentials redacted: the userinfo (`http://<redacted>@host/`) and the values of
 * query (and fragment) parameters whose names carry one (`?key=<redacted>&model=m`). The rest of
 * the text is kept as it was (no normalising).
 *
 * @example
 * ```ts
 * redactUrl("https://u:p@h/x?api-key=k&v=1"); // "https://<redacted>@h/x?api-key=<redacted>&v=1"
 * ```
 */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, `$1${REDACTED}@`).replace(
    PARAM,
    (all, sep: string, name: string, value: string) =>
      value !== "" && value !== REDACTED && isSecretParam(safeDecode(name))
        ? `${sep}${name}=${REDACTED}`
        : all,
  );
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`)\]]+/gi;

/** `text` with every URL in it passed through {@link redactUrl}. */
export function redactUrlsIn(text: string): string {
  if (!text.includes("://")) return text;
  return text.replace(URL_IN_TEXT, redactUrl);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Base64 of a string's UTF-8 bytes (the form of a Basic-auth token). */
function base64(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The decoded text of a Basic-auth token, when it is one. */
function unBase64(s: string): string | undefined {
  try {
    const bin = atob(s);
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
}

/** The secret values a URL carries: userinfo (each form) and secret query parameters. */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const out: string[] = [];
  const info = USERINFO.exec(url)?.[2];
  if (info) {
    const colon = info.indexOf(":");
    const user = colon === -1 ? info : info.slice(0, colon);
    const pass = colon === -1 ? "" : info.slice(colon + 1);
    for (const [u, p] of [[user, pass], [safeDecode(user), safeDecode(pass)]]) {
      const pair = p === "" ? u : `${u}:${p}`;
      out.push(pair, base64(pair), base64(`${u}:${p}`), p);
      if (u.length >= MIN_USERNAME_LENGTH) out.push(u);
    }
  }
  for (const m of url.matchAll(PARAM)) {
    if (m[3] !== "" && isSecretParam(safeDecode(m[2]))) out.push(m[3], safeDecode(m[3]));
  }
  return out;
}

/** The secret values of one credential header's value (`Bearer x` → `Bearer x`, `x`; ...). */
export function headerSecrets(value: string): string[] {
  const out = [value];
  const token = /^(Bearer|Basic|Token|Digest|ApiKey|Key|SharedAccessSignature)\s+(.+)$/i
    .exec(value)?.[2];
  if (token) {
    out.push(token);
    const decoded = unBase64(token);
    if (decoded?.includes(":")) out.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
  }
  // Cookies and parameter lists: each value (`a=1; session=xyz` → `xyz`).
  for (const part of value.split(/[;,]\s*/)) {
    const eq = part.indexOf("=");
    if (eq > 0) out.push(part.slice(eq + 1));
  }
  return out;
}

/**
 * What {@link runSecrets} reads: a run's settings, or any part of them (the secret settings, the
 * headers, and the settings that may hold a URL).
 */
export interface SecretSources extends Partial<Pick<PerfConfig, SecretKey>> {
  /** Extra headers. */
  headers?: Record<string, string>;
  /** The endpoint URL. */
  url?: string;
  /** Every endpoint URL, when there are several. */
  urls?: readonly string[];
  /** Other URLs the run reads (plugin, dataset). */
  api?: string;
  /** A dataset file, or an http(s) URL of one. */
  datasetPath?: string;
  /** A dataset plugin name, file or URL. */
  dataset?: string;
}

/**
 * Every secret value a run sends: the secret settings (the API key, the W&B key), the values of credential headers
 * (also `headers`, e.g. the final ones with a plugin's), and the credentials in its URLs.
 */
export function runSecrets(
  cfg: SecretSources,
  headers: Record<string, string> = {},
): string[] {
  const out: string[] = [];
  for (const key of SECRET_KEYS) {
    const v = (cfg as Record<string, unknown>)[key];
    if (typeof v === "string" && v) out.push(v);
  }
  for (const h of [cfg.headers ?? {}, headers]) {
    for (const [k, v] of Object.entries(h)) {
      if (isSecretHeader(k) && v) out.push(...headerSecrets(v));
    }
  }
  for (const u of [cfg.url, cfg.api, cfg.datasetPath, cfg.dataset, ...cfg.urls ?? []]) {
    out.push(...urlSecrets(u));
  }
  return out;
}

/**
 * The name an endpoint goes by in records, the result DB and the tables: its URL without the
 * credentials, the query or the fragment (`https://user:key@host/v1?key=x` → `https://host/v1`).
 * Text that is not a URL is returned as it is.
 *
 * @example
 * ```ts
 * endpointName("http://u:p@10.0.0.1:8000/v1/chat/completions?k=1"); // "http://10.0.0.1:8000/v1/chat/completions"
 * ```
 */
export function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

/** The environment variables whose URLs may carry credentials (proxies, the dataset hub). */
export const CREDENTIAL_URL_ENV: readonly string[] = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "LLMPERF_MODELSCOPE_ENDPOINT",
];

/** The credentials in the URLs of {@link CREDENTIAL_URL_ENV} (a proxy's `user:password`). */
export function envUrlSecrets(): string[] {
  const out: string[] = [];
  for (const name of CREDENTIAL_URL_ENV) {
    try {
      if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
      out.push(...urlSecrets(Deno.env.get(name)));
    } catch {
      return out; // no --allow-env
    }
  }
  return out;
}

/**
 * Replaces a run's secrets wherever they appear. Cheap when there is nothing to do: one
 * `includes` per secret on text that holds none.
 *
 * @example
 * ```ts
 * const r = new Redactor(runSecrets({ apiKey: "sk-123456" }));
 * r.text('{"error": "bad key sk-123456"}'); // '{"error": "bad key <redacted>"}'
 * ```
 */
export class Redactor {
  #secrets: string[] = [];

  /** @param secrets the values to replace (short and empty ones are ignored) */
  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  /** The values replaced, longest first. */
  get secrets(): readonly string[] {
    return this.#secrets;
  }

  /** Replace these values too. */
  add(secrets: Iterable<string>): void {
    const all = new Set(this.#secrets);
    for (const s of secrets) {
      if (typeof s !== "string" || s.length < MIN_SECRET_LENGTH || s === REDACTED) continue;
      all.add(s);
      // As it appears inside JSON text, and percent-encoded in a URL.
      const json = JSON.stringify(s).slice(1, -1);
      if (json !== s) all.add(json);
      const enc = encodeURIComponent(s);
      if (enc !== s) all.add(enc);
    }
    // Longest first, so that `user:pass` goes before `pass`.
    this.#secrets = [...all].sort((a, b) => b.length - a.length);
  }

  /** Whether `text` holds one of the secrets. */
  has(text: string): boolean {
    for (const s of this.#secrets) if (text.includes(s)) return true;
    return false;
  }

  /** `text` with every secret value replaced by {@link REDACTED}. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  /** `text` with secret values and URL credentials (userinfo, secret parameters) replaced. */
  text(text: string): string {
    return redactUrlsIn(this.scrub(text));
  }

  /**
   * A deep copy of a JSON-like value with secrets replaced: keys that name one
   * ({@link isSecretKey}; in `headers` objects, {@link isSecretHeader}) get {@link REDACTED}, and
   * every string goes through {@link Redactor.text}.
   */
  value<T>(v: T): T {
    return this.#value(v, false) as T;
  }

  #value(v: unknown, inHeaders: boolean): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.#value(x, false));
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      const secret = inHeaders ? isSecretHeader(k) : isSecretKey(k);
      if (secret && x !== null && x !== "" && typeof x !== "boolean") out[k] = REDACTED;
      else out[k] = this.#value(x, k === "headers");
    }
    return out;
  }
}

/**
 * A deep copy of a config-like object with secrets redacted: keys that name a secret (`apiKey`,
 * `wandbApiKey`, `api_key`, ...), credential headers in `headers`, credentials in URLs, and the
 * config's own secret values wherever they appear in other strings (a prompt, a template).
 */
export function redactConfig<T extends Record<string, unknown>>(cfg: T): T {
  return new Redactor(runSecrets(cfg as SecretSources)).value(cfg);
}

/**
 * `e` with its message (and stack) redacted, for errors that leave a run: a test request's error
 * body, a URL in a connection error. Returns `e`, changed in place.
 */
export function redactError<E>(e: E, redactor: Redactor): E {
  if (e instanceof Error) {
    e.message = redactor.text(e.message);
    if (e.stack) e.stack = redactor.text(e.stack);
  }
  return e;
}

/** Replace every occurrence of the given secret strings in `text`. */
export function scrub(text: string, secrets: string[]): string {
  return new Redactor(secrets).scrub(text);
}

/**
 * Whether the environment routes a URL through a proxy, as `fetch` reads it: `HTTP_PROXY` for
 * http targets, `HTTPS_PROXY` for https ones, `ALL_PROXY` for both (upper or lower case), unless
 * `NO_PROXY` lists the host (`*`, a host name, a domain suffix such as `.example.com` or
 * `example.com`, an IP address, each optionally with `:port`).
 *
 * @module
 */

/** Reads an environment variable; `undefined` when unset or unreadable. */
export type EnvReader = (name: string) => string | undefined;

/** The process environment; unreadable (no `--allow-env`) counts as unset, and is never prompted for. */
export const processEnv: EnvReader = (name) => {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

function variable(env: EnvReader, name: string): string | undefined {
  const v = env(name) ?? env(name.toLowerCase());
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** A proxy the environment sets: its URL and the variable that set it. */
export interface ProxySetting {
  /** The proxy URL as given (it may hold credentials: never print it). */
  url: string;
  /** `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY` (as spelled in the environment). */
  variable: string;
}

function setting(env: EnvReader, name: string): ProxySetting | undefined {
  for (const n of [name, name.toLowerCase()]) {
    const v = env(n);
    if (v !== undefined && v.trim() !== "") return { url: v.trim(), variable: n };
  }
  return undefined;
}

/** The proxy the environment sets for `url`, or `undefined` when it goes direct. */
export function proxySettingFor(
  url: string,
  env: EnvReader = processEnv,
): ProxySetting | undefined {
  const u = new URL(url);
  const proxy = setting(env, u.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY") ??
    setting(env, "ALL_PROXY");
  if (proxy === undefined) return undefined;
  const noProxy = variable(env, "NO_PROXY");
  if (noProxy !== undefined && bypasses(u, noProxy)) return undefined;
  return proxy;
}

/** The proxy URL the environment sets for `url`, or `undefined` when it goes direct. */
export function proxyFor(url: string, env: EnvReader = processEnv): string | undefined {
  return proxySettingFor(url, env)?.url;
}

/**
 * A proxy as messages name it: its host and port (never its credentials) and the variable that
 * set it, e.g. `proxy.corp:3128 (from HTTPS_PROXY)`.
 */
export function describeProxy(p: ProxySetting): string {
  let host: string;
  try {
    host = new URL(p.url.includes("://") ? p.url : `http://${p.url}`).host;
  } catch {
    host = p.url.replace(/^[a-z0-9+.-]*:\/\//i, "").replace(/^[^@/]*@/, "").split("/")[0];
  }
  return `${host} (from ${p.variable})`;
}

function bypasses(u: URL, list: string): boolean {
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  for (const raw of list.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ""))!;
    entry = m[1];
    if (m[2] !== undefined && m[2] !== port) continue;
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (host === entry.replace(/^\./, "") || (entry.startsWith(".") && host.endsWith(entry))) {
      return true;
    }
    if (!entry.startsWith(".") && host.endsWith("." + entry)) return true;
  }
  return false;
}

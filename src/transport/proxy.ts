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

/** The proxy URL the environment sets for `url`, or `undefined` when it goes direct. */
export function proxyFor(url: string, env: EnvReader = processEnv): string | undefined {
  const u = new URL(url);
  const proxy =
    (u.protocol === "https:" ? variable(env, "HTTPS_PROXY") : variable(env, "HTTP_PROXY")) ??
      variable(env, "ALL_PROXY");
  if (proxy === undefined) return undefined;
  const noProxy = variable(env, "NO_PROXY");
  if (noProxy !== undefined && bypasses(u, noProxy)) return undefined;
  return proxy;
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

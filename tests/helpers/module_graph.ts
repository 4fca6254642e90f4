import { assert } from "../assert.ts";

const ROOT = new URL("../../", import.meta.url).href;

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/**
 * What a module loads when it is evaluated: its static value imports, followed (type-only imports
 * and dynamic `import()`s left out), from `deno info --json`.
 */
export function loadedAtStart(entry: string): Promise<string[]> {
  return modulesOf(entry, false);
}

/** What a module can ever load: {@link loadedAtStart} with its dynamic `import()`s followed too. */
export function loadedWithDynamic(entry: string): Promise<string[]> {
  return modulesOf(entry, true);
}

async function modulesOf(entry: string, dynamic: boolean): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, ROOT).href],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert(out.success, `deno info ${entry} failed`);
  const modules = new Map<string, InfoModule>();
  for (
    const m of (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] })
      .modules
  ) modules.set(m.specifier, m);
  const seen = new Set<string>();
  const visit = (s: string) => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const d of modules.get(s)?.dependencies ?? []) {
      if (d.code !== undefined && (dynamic || d.isDynamic !== true)) visit(d.code.specifier);
    }
  };
  visit(new URL(entry, ROOT).href);
  return [...seen].map((s) => (s.startsWith(ROOT) ? s.slice(ROOT.length) : s)).sort();
}

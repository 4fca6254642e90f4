/**
 * A run configuration file (`llmperf perf --config run.yaml`): YAML, or JSON (`.json`), holding
 * any settings of the table under any of their spellings (`max_tokens`, `maxTokens`,
 * `max-tokens`, `--max-tokens`), as GuideLLM scenarios and AIPerf configs do and as evalscope
 * users pass a Python dict. Values are of each setting's kind; text is also accepted where the
 * command line would take text (`parallel: "8"`), and `null` means "not given". A sweep setting
 * takes a list (`parallel: [1, 8, 32]`); `slo` takes its goal text, a list of goals, or a map of
 * metric to condition (`{ttft_p99: "<500ms"}`). Paths in it are relative to the working
 * directory, as on the command line.
 *
 * ```yaml
 * url: http://gpu-box:8000/v1/chat/completions
 * model: Qwen/Qwen2.5-7B-Instruct
 * stream: true
 * parallel: [1, 8, 32]
 * number: [10, 80, 320]
 * max_tokens: 256
 * slo: [ttft_p99<500ms, error_rate<1%]
 * ```
 *
 * Every problem is one {@link UsageError} line naming the file and the key
 * (`run.yaml: parallel: expected an integer, got 'x'`). Keys that are no setting are handed back
 * ({@link ConfigFile.other}) for the caller to accept (command-line-only flags) or refuse.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { isJsonObject } from "./json_object.ts";
import { KINDS, type SettingDef } from "./schema.ts";
import { type PerfConfigInput, type SettingKey, settingKey, SETTINGS } from "../config.ts";

/** What a config file holds, by config key. */
export interface ConfigFile {
  /** The file's path as given. */
  path: string;
  /** Each setting's value, of its kind; a sweep setting's first value. */
  settings: PerfConfigInput;
  /** Every value of each sweep setting the file gives (one value: a list of one). */
  sweep: Partial<Record<SettingKey, number[]>>;
  /** How the file spells each key it sets (`max_tokens`), for messages. */
  spelled: Partial<Record<SettingKey, string>>;
  /** Keys that are no setting, as spelled, with their values. */
  other: Record<string, unknown>;
}

const TABLE: Readonly<Record<string, SettingDef>> = SETTINGS;

/**
 * The parsed text of a config file: JSON for `.json`, YAML otherwise (YAML reads JSON too). The
 * YAML parser is imported here, when a file needs it: at start it would cost every command ~3 MB
 * and ~40 ms of CPU (docs/performance.md, v19).
 */
export async function parseConfigText(
  path: string,
  text: string,
): Promise<Record<string, unknown>> {
  const json = /\.json$/i.test(path);
  const parseYaml = json ? undefined : (await import("yaml")).parse;
  let data: unknown;
  try {
    data = parseYaml === undefined ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split("\n")[0].replace(/:$/, "");
    throw new UsageError(
      `${path}: ${json ? "invalid JSON" : "invalid YAML"}: ${first}`,
    );
  }
  if (data === null || data === undefined) return {};
  if (!isJsonObject(data)) {
    throw new UsageError(
      `${path}: expected a mapping of settings (key: value), got ${kindOf(data)}`,
    );
  }
  return data;
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? "a list" : typeof v === "string" ? `'${v}'` : String(v);
}

/**
 * `slo` as its goal text: a string as it is, a list of goals joined by commas, a map of metric to
 * condition (`{ttft_p99: "<500ms"}` → `ttft_p99<500ms`).
 */
function sloText(label: string, v: unknown): unknown {
  if (Array.isArray(v)) {
    if (!v.every((g) => typeof g === "string")) {
      throw new UsageError(`${label}: expected goals as text`);
    }
    return v.join(",");
  }
  if (isJsonObject(v)) {
    return Object.entries(v).map(([metric, cond]) => {
      const c = typeof cond === "number" ? `<${cond}` : cond;
      if (typeof c !== "string") throw new UsageError(`${label}: ${metric}: expected a condition`);
      return `${metric}${c.replace(/\s+/g, "")}`;
    }).join(",");
  }
  return v;
}

/** One value of a setting, checked against its kind; text is read as the command line reads it. */
function settingValue(label: string, def: SettingDef, v: unknown): unknown {
  const rules = KINDS[def.kind];
  // A list for a setting that takes several (`url: [A, B]`): each value checked, the config
  // resolver spreads them (see `listInto`).
  if (Array.isArray(v) && def.listInto !== undefined) {
    return v.map((x) => settingValue(label, def, x));
  }
  let value = v;
  if (typeof v === "string" && def.kind !== "string" && def.kind !== "choice") {
    if (def.kind !== "json" && def.kind !== "json-source") value = rules.fromText(label, [v]);
  } else if (Array.isArray(v) && def.kind === "kv") {
    if (v.every((x) => typeof x === "string")) value = rules.fromText(label, v as string[]);
  }
  const checked = rules.check(value, def, label);
  if (typeof checked === "string") throw new UsageError(`${label}: ${checked}`);
  return checked.value;
}

/**
 * The settings of a parsed config file (see the module doc). `path` names the file in errors.
 *
 * @example
 * ```ts
 * const f = configFromData("run.yaml", { max_tokens: 64, parallel: [1, 8] });
 * f.settings; // { maxTokens: 64, parallel: 1 }
 * f.sweep;    // { parallel: [1, 8] }
 * ```
 */
export function configFromData(path: string, data: Record<string, unknown>): ConfigFile {
  const out: ConfigFile = { path, settings: {}, sweep: {}, spelled: {}, other: {} };
  for (const [name, raw] of Object.entries(data)) {
    const key = settingKey(name);
    if (key === undefined) {
      out.other[name] = raw;
      continue;
    }
    const before = out.spelled[key];
    if (before !== undefined) {
      throw new UsageError(`${path}: ${name}: the same setting as ${before}, given twice`);
    }
    out.spelled[key] = name;
    if (raw === null || raw === undefined) continue; // `key:` with nothing: not given
    const def = TABLE[key];
    const label = `${path}: ${name}`;
    const value = key === "slo" ? sloText(label, raw) : raw;
    if (def.sweep && Array.isArray(value)) {
      if (value.length === 0) throw new UsageError(`${label}: expected at least one value`);
      const values = value.map((v) => settingValue(label, def, v) as number);
      (out.settings as Record<string, unknown>)[key] = values[0];
      out.sweep[key] = values;
      continue;
    }
    (out.settings as Record<string, unknown>)[key] = settingValue(label, def, value);
    if (def.sweep) out.sweep[key] = [out.settings[key] as number];
  }
  return out;
}

/** Read and check a config file (see the module doc). Throws {@link UsageError} naming it. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`--config '${path}': cannot read it: ${why}`);
  }
  return configFromData(path, await parseConfigText(path, text));
}

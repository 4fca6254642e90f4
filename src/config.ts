/**
 * The run's typed configuration, derived from the settings table (`src/config/settings.ts`):
 * the {@link PerfConfig} type, {@link DEFAULTS}, key spellings (camelCase, snake_case, flag), the
 * environment fallbacks and validation ({@link resolveConfig}), and what the table says about
 * request bodies ({@link BODY_KEYS}, {@link bodyFields}) and secrets ({@link SECRET_KEYS}). The
 * CLI and {@link resolveConfig} callers share it, so `runPerfBenchmark(config)` and
 * `llmperf perf` accept exactly the same settings.
 *
 * It imports only the config layer (`src/config/`), `errors.ts` and the HTTP header check: no
 * feature module, so everything can depend on it and nothing it needs depends back.
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { camelKey, flagName, snakeKey } from "./config/keys.ts";
import { drawIntRange, type InputOf, KINDS, type SettingDef } from "./config/schema.ts";
import {
  COMPAT_DEFAULTS,
  MODEL_OPTIONAL_DATASETS,
  type SettingKey,
  SETTINGS,
  type SettingsConfig,
} from "./config/settings.ts";

export { camelKey, flagName, snakeKey } from "./config/keys.ts";
export {
  API_KEY_ENV,
  COMPAT_CHOICES,
  COMPAT_DEFAULTS,
  type CompatChoice,
  GROUPS,
  MAX_WORKERS,
  MIN_RATE,
  type SettingKey,
  SETTINGS,
  TRANSPORT_CHOICES,
  type TransportChoice,
  URL_STRATEGIES,
  type UrlStrategy,
} from "./config/settings.ts";
export type { SettingDef } from "./config/schema.ts";

/**
 * Every setting of one benchmark run, as `SETTINGS` declares them (each field's documentation is
 * on its entry there). Names follow `evalscope perf` flags in camelCase.
 */
export interface PerfConfig extends SettingsConfig {}

/** What {@link resolveConfig} accepts: any subset of the keys, camelCase or snake_case. */
export type PerfConfigInput = InputOf<typeof SETTINGS> & Record<string, unknown>;

const TABLE: Readonly<Record<string, SettingDef>> = SETTINGS;

/** The config keys, in table order. */
export const SETTING_KEYS: readonly SettingKey[] = Object.keys(SETTINGS) as SettingKey[];

/** Default values, as `evalscope perf` has them (plus `outputsDir`). */
export const DEFAULTS: Readonly<Omit<PerfConfig, "model">> = Object.freeze(
  Object.fromEntries(
    SETTING_KEYS.filter((k) => TABLE[k].default !== undefined).map((k) => [k, TABLE[k].default]),
  ),
) as Omit<PerfConfig, "model">;

/**
 * The config keys whose flags are copied into the request body (those with a `body` field), in
 * table order. When one was not given, its default (if it has one) does not override a template
 * field.
 */
export const BODY_KEYS: readonly SettingKey[] = SETTING_KEYS.filter((k) => TABLE[k].body);

const BODY_KEY_OF: ReadonlyMap<string, SettingKey> = new Map(
  BODY_KEYS.map((k) => [TABLE[k].body!, k]),
);

/** A setting that holds a credential (`secret: true`): `apiKey`, `wandbApiKey`. */
export type SecretKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { secret: true } ? K : never;
}[SettingKey];

/** The settings that hold credentials (`secret: true`): redacted wherever a config is written. */
export const SECRET_KEYS: readonly SecretKey[] = SETTING_KEYS.filter((k) =>
  TABLE[k].secret
) as SecretKey[];

/** A setting whose several values run a sweep (`sweep: true`): `number`, `parallel`, `rate`. */
export type SweepKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { sweep: true } ? K : never;
}[SettingKey];

/** A request-body field that a setting is copied into (`max_tokens`, `top_p`, ...). */
export type BodyField = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { body: infer B extends string } ? B : never;
}[SettingKey];

const ALIASES: ReadonlyMap<string, SettingKey> = new Map(
  SETTING_KEYS.flatMap((k) =>
    (TABLE[k].aliases ?? []).filter((a) => a.startsWith("--")).map((a) => [camelKey(a), k])
  ),
);

/**
 * The config key a name spells, in any of the accepted forms: camelCase (`maxTokens`),
 * snake_case (`max_tokens`), the flag (`max-tokens`, `--max-tokens`) or a long alias; undefined
 * for a name that is no setting.
 */
export function settingKey(name: string): SettingKey | undefined {
  const key = camelKey(name);
  if (Object.hasOwn(SETTINGS, key)) return key as SettingKey;
  return ALIASES.get(key);
}

/** The camelCase keys set (not `undefined`) in a config input: the flags that were given. */
export function givenKeys(input: PerfConfigInput): Set<string> {
  const keys = new Set<string>();
  for (const [k, v] of Object.entries(input)) if (v !== undefined) keys.add(camelKey(k));
  return keys;
}

/** The config with evalscope's snake_case keys, for `benchmark_args.json`. */
export function toSnakeCase(cfg: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [snakeKey(k), v]));
}

/** A setting's flag as messages and help name it (`--max-tokens`). */
export function settingFlag(key: string): string {
  return TABLE[key]?.flag ?? flagName(key);
}

/**
 * Turn user input (camelCase, snake_case or flag-spelled keys, defaults missing) into a validated
 * {@link PerfConfig}: unknown keys are refused, unset settings take their default or their
 * environment variable, every value is checked against its kind and its rules. Throws
 * {@link UsageError} (one line, naming the flag) at the first bad value.
 */
export function resolveConfig(input: PerfConfigInput): PerfConfig {
  const given: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const key = settingKey(rawKey);
    if (key === undefined) throw new UsageError(`unknown config key '${rawKey}'`);
    given[key] = value;
  }
  spreadLists(given);
  const cfg: Record<string, unknown> = {};
  // `--compat 2026`: its defaults for the settings that were not given.
  const compat: Readonly<Record<string, unknown>> = given.compat === "2026"
    ? COMPAT_DEFAULTS["2026"]
    : {};
  for (const key of SETTING_KEYS) {
    const def = TABLE[key];
    const fallback = Object.hasOwn(compat, key) ? compat[key] ?? undefined : def.default;
    let value = given[key] ?? freshDefault(fallback);
    if (value === undefined && def.env !== undefined) value = envValue(key, def);
    if (value !== undefined) cfg[key] = value;
  }
  // evalscope's model_id without --model: the dataset's name (only where the model is optional).
  if (cfg.model === undefined && MODEL_OPTIONAL_DATASETS.includes(cfg.dataset as string)) {
    cfg.model = cfg.dataset;
  }
  validate(cfg);
  foldMultiTurnArgs(cfg);
  return cfg as unknown as PerfConfig;
}

/**
 * `--multi-turn-args` (deprecated) merged into `--dataset-args` as evalscope merges it
 * (`setdefault`, `arguments.py:546-577`): on a key both give, `--dataset-args` wins.
 */
function foldMultiTurnArgs(cfg: Record<string, unknown>): void {
  const old = cfg.multiTurnArgs as Record<string, unknown> | undefined;
  if (old === undefined) return;
  cfg.datasetArgs = { ...old, ...(cfg.datasetArgs as Record<string, unknown> | undefined) };
}

/**
 * A list given for a setting with `listInto` (`url: [A, B]`) goes to its list setting (`urls`),
 * the first to itself; its list setting given alone sets it to the first.
 */
function spreadLists(given: Record<string, unknown>): void {
  for (const key of SETTING_KEYS) {
    const into = TABLE[key].listInto;
    if (into === undefined) continue;
    const v = given[key];
    if (Array.isArray(v)) {
      if (v.length > 1) given[into] = v;
      given[key] = v[0];
    } else if (v === undefined && Array.isArray(given[into])) given[key] = given[into][0];
  }
}

/** A default as a fresh copy (objects and lists), so that no two configs share one. */
function freshDefault(v: unknown): unknown {
  return v !== null && typeof v === "object" ? structuredClone(v) : v;
}

/** A setting's value from its environment variables (the first one set), or undefined. */
function envValue(key: string, def: SettingDef): unknown {
  for (const name of def.env ?? []) {
    try {
      // Asked first, so that a run without --allow-env is never prompted for it.
      if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
      const v = Deno.env.get(name)?.trim();
      if (v) return KINDS[def.kind].fromText(`$${name} (for ${settingFlag(key)})`, [v]);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return undefined; // no permission API (another runtime)
    }
  }
  return undefined;
}

function validate(cfg: Record<string, unknown>): void {
  // First every value against its kind, then the rules (which may read other settings).
  for (const key of SETTING_KEYS) {
    const def = TABLE[key];
    const flag = settingFlag(key);
    const v = cfg[key];
    if (def.required && (v === undefined || (typeof v === "string" && v.trim() === ""))) {
      throw new UsageError(`${flag} is required`);
    }
    if (v === undefined) continue;
    const checked = KINDS[def.kind].check(v, def, flag);
    if (typeof checked === "string") throw new UsageError(`${flag}: ${checked}`);
    cfg[key] = checked.value;
  }
  for (const key of SETTING_KEYS) {
    const { validate } = TABLE[key];
    const v = cfg[key];
    if (validate === undefined || v === undefined) continue;
    const problem = (validate as (v: unknown, cfg: unknown) => string | undefined)(v, cfg);
    if (problem !== undefined) throw new UsageError(`${settingFlag(key)}: ${problem}`);
  }
}

/**
 * The request-body fields of the body settings that are set, by field name: what an API plugin
 * copies into a body. A list that is empty is left out (`--stop` with no words sends no `stop`).
 * `fields` picks which, in that order (a protocol that knows only some); default: every body
 * setting, in table order.
 *
 * @example
 * ```ts
 * bodyFields({ maxTokens: 64, temperature: 0.5 }); // { max_tokens: 64, temperature: 0.5 }
 * bodyFields({ maxTokens: 64, topP: 1 }, ["top_p"]); // { top_p: 1 }
 * ```
 */
export function bodyFields(
  params: Readonly<Partial<Record<SettingKey, unknown>>>,
  fields?: readonly BodyField[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = fields === undefined ? BODY_KEYS : fields.map((f) => BODY_KEY_OF.get(f));
  for (const key of keys) {
    if (key === undefined) continue; // a field no setting has (from a plain-JavaScript plugin)
    const v = params[key];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    // A range (`--max-tokens 10 20`) is drawn anew for each body.
    out[TABLE[key].body!] = TABLE[key].kind === "int-range"
      ? drawIntRange(v as number | [number, number])
      : v;
  }
  return out;
}

/**
 * What one setting's declaration holds ({@link SettingDef}), the kinds of value a setting can
 * have ({@link KINDS}: how each is read from command-line or environment text, and checked when it
 * comes from the library or a file), and the types derived from a table of declarations
 * ({@link ConfigOf}). The table itself is `settings.ts`; everything that reads it (the config
 * resolver, the CLI, the README's flag table, the request-body helpers, redaction) goes by these
 * rules, so a setting behaves the same wherever it is given.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { isJsonObject, jsonObjectValue } from "./json_object.ts";
import { parseShard, type Shard, shardProblem } from "./shard.ts";

/** The TypeScript type of each kind of value. */
export interface KindValues {
  /** Text. */
  string: string;
  /** One of the declaration's `choices` (the type narrows to them). */
  choice: string;
  /** A whole number (`min` and `max` bound it). */
  int: number;
  /** A finite number (`min`, `above` bound it). */
  number: number;
  /** A switch: given means true. */
  bool: boolean;
  /** Several words: `--stop a b`. */
  strings: string[];
  /** Several whole numbers: `--stop-token-ids 1 2`. */
  ints: number[];
  /** `key=value` pairs: `--headers k1=v1 k2=v2`. */
  kv: Record<string, string>;
  /** A JSON object, or its JSON text (parsed when the config is resolved). */
  json: Record<string, unknown>;
  /** A JSON object, its JSON text, or `@path` of a JSON file (read when the run starts). */
  "json-source": string | Record<string, unknown>;
  /** Shard I of N: `I/N`, or `auto/N` with I from `$JOB_COMPLETION_INDEX` (see `shard.ts`). */
  shard: Shard;
  /** A fraction in [0, 1]: `0.05` or `5%` on the command line. */
  fraction: number;
  /** A number, or `inf` (kept as the text `"inf"`, so that it survives JSON): `--burstiness`. */
  "number-or-inf": number | "inf";
  /**
   * A whole number, or a range `[min, max]` of them (`--max-tokens 10 20`): each use draws from
   * it (see `drawIntRange`). `min` bounds both ends.
   */
  "int-range": number | [number, number];
}

/** A kind of value. */
export type Kind = keyof KindValues;

/**
 * Checks a value beyond its kind: returns why it is wrong (one line, without the flag: the
 * caller prefixes it), or undefined. `cfg` is the whole resolved config, every value already of
 * its kind, so cross-setting rules (`--min-prompt-length` ≤ `--max-prompt-length`) go here.
 * Declared with `never` so that each validator can type its parameters as its setting needs.
 */
export type Validator = (value: never, cfg: never) => string | undefined;

/**
 * One setting: everything about it in one place. Only `kind`, `group` and `help` are required;
 * the rest default as each field says.
 */
export interface SettingDef {
  /** How its value is read and checked (see {@link KINDS}). */
  kind: Kind;
  /** Its help group (a key of `GROUPS` in `settings.ts`): `--help` lists groups in table order. */
  group: string;
  /** One line for `--help` and the README (without the default: see `defaultHelp`). */
  help: string;
  /** The placeholder of its value in help: `n` prints `--number <n>`. Default by kind. */
  arg?: string;
  /** The flag's spelling; default `--` + the key in kebab case (`maxTokens` → `--max-tokens`). */
  flag?: string;
  /**
   * Other spellings of the flag: a short one (`-n`) is shown beside the flag; long ones
   * (`--max_tokens`) are accepted and not shown.
   */
  aliases?: readonly string[];
  /** The value when not given. A setting with neither `default` nor `required` may be unset. */
  default?: unknown;
  /** What the default is, in words, when that says more than the value (`[no limit]`). */
  defaultHelp?: string;
  /** Must be given (`--model`). */
  required?: boolean;
  /**
   * The request-body field it is copied into when given (`max_tokens`). Such a setting's default
   * does not override a query template's field, so its type is optional even with a default.
   */
  body?: string;
  /** Environment variables read, in order, when it is not given (`$LLMPERF_API_KEY`). */
  env?: readonly string[];
  /** Holds a credential: redacted wherever the config is written or logged. */
  secret?: boolean;
  /**
   * Several values run a sweep (`--parallel 1 8 32`): the CLI takes a list, the config gets the
   * first, and the sweep gets them all. Only for `int` and `number`.
   */
  sweep?: boolean;
  /**
   * A `bool` that can also be switched off on the command line: the help line of its `--no-`
   * form (`--stream` / `--no-stream`). Unset: only the flag itself.
   */
  negatable?: string;
  /**
   * How many values a list kind takes on the command line, `[least, most]` (default
   * `[1, Infinity]`). `[0, Infinity]` makes the value optional (`--stop` alone gives `[]`);
   * `[1, 2]` allows a range (`--max-tokens MIN MAX`).
   */
  arity?: readonly [number, number];
  /** The allowed values of a `choice`. */
  choices?: readonly string[];
  /** The least value of an `int` or `number` (inclusive). */
  min?: number;
  /** The value a `number` must be greater than. */
  above?: number;
  /** Checks beyond the kind (see {@link Validator}). */
  validate?: Validator;
  /**
   * A `string` setting that may be given several times (`--url A --url B`), or as a list in a
   * file or the library: the key of the `strings` setting that then gets every value, in order,
   * while this one gets the first. A value of the list setting alone sets this one to its first.
   */
  listInto?: string;
}

/** A table of settings: config key (camelCase) → declaration. */
export type SettingTable = Readonly<Record<string, SettingDef>>;

/** The value type of one declaration. */
export type ValueOf<D> = D extends { kind: "choice"; choices: readonly (infer C)[] } ? C
  : D extends { kind: infer K extends Kind } ? KindValues[K]
  : never;

/** Whether a declaration's value is always set: required, or defaulted and not a body field. */
type AlwaysSet<D> = D extends { required: true } ? true
  : D extends { body: string } ? false
  : D extends { default: unknown } ? true
  : false;

/**
 * The config type of a settings table: one property per setting, of its kind's type; required
 * when the setting is required or has a default (body fields excepted), else optional.
 */
export type ConfigOf<T extends SettingTable> =
  & { -readonly [K in keyof T as AlwaysSet<T[K]> extends true ? K : never]: ValueOf<T[K]> }
  & { -readonly [K in keyof T as AlwaysSet<T[K]> extends true ? never : K]?: ValueOf<T[K]> };

/** The text a value of some kinds may also be given as (`"1/3"` for a shard, JSON text). */
interface TextForms {
  shard: string;
  json: string;
}

/**
 * What a settings table accepts as input (the library's, a file's): every setting optional, of
 * its value type or, for a kind in {@link TextForms}, its text.
 */
export type InputOf<T extends SettingTable> = {
  -readonly [K in keyof T]?:
    | ValueOf<T[K]>
    | (T[K] extends { kind: infer X extends keyof TextForms } ? TextForms[X] : never);
};

/** How one kind of value is read and checked. */
export interface KindRules {
  /** Takes several values on the command line (`<n...>`). */
  readonly many: boolean;
  /** Takes no value on the command line: giving the flag sets it (`--debug`). */
  readonly switch: boolean;
  /** The placeholder of its value in help when the declaration gives none. */
  readonly arg: string;
  /**
   * The value from command-line or environment text (one string; a list for `many` kinds).
   * Throws {@link UsageError} naming `flag`.
   */
  fromText(flag: string, text: string[]): unknown;
  /**
   * The value as resolved from any source (library, file, command line), or why it is not of
   * this kind (a string, one line, without the flag). May convert (JSON text → object), and may
   * throw a {@link UsageError} that names `flag` itself.
   */
  check(value: unknown, def: SettingDef, flag: string): { value: unknown } | string;
}

/** `s` as an integer, or a {@link UsageError} naming `flag`. */
export function textToInt(flag: string, s: string): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isInteger(v)) {
    throw new UsageError(`${flag}: expected an integer, got '${s}'`);
  }
  return v;
}

/** `s` as a finite number, or a {@link UsageError} naming `flag`. */
export function textToNumber(flag: string, s: string): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v)) {
    throw new UsageError(`${flag}: expected a number, got '${s}'`);
  }
  return v;
}

/**
 * `s` as a fraction: `0.05` or `5%` (a percentage is divided by 100), or a {@link UsageError}
 * naming `flag`. The range is checked by the kind's `check`.
 */
export function textToFraction(flag: string, s: string): number {
  const t = s.trim();
  const percent = t.endsWith("%");
  const v = Number(percent ? t.slice(0, -1) : t);
  if (t === "" || t === "%" || !Number.isFinite(v)) {
    throw new UsageError(`${flag}: expected a fraction (0.05) or a percentage (5%), got '${s}'`);
  }
  return percent ? v / 100 : v;
}

/**
 * One value of an `int-range` setting: the number itself, or a uniform draw from `[min, max]`
 * (both included) with `random` (default `Math.random`).
 *
 * @example
 * ```ts
 * drawIntRange(64); // 64
 * drawIntRange([10, 20]); // 10, 11, ..., or 20
 * ```
 */
export function drawIntRange(
  v: number | readonly [number, number],
  random: () => number = Math.random,
): number {
  if (typeof v === "number") return v;
  return v[0] + Math.floor(random() * (v[1] - v[0] + 1));
}

/** Parse `k=v` pairs (split at the first `=`). */
export function parseKeyValues(flag: string, items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: expected key=value, got '${item}'`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

function intProblem(v: unknown, def: SettingDef): string | undefined {
  if (typeof v !== "number" || !Number.isInteger(v)) return `expected an integer, got ${v}`;
  const min = def.min ?? Number.MIN_SAFE_INTEGER;
  if (v < min) return `must be at least ${min}, got ${v}`;
  if (v > Number.MAX_SAFE_INTEGER) return `must be at most 2^53-1, got ${v}`;
  return undefined;
}

function numberProblem(v: unknown, def: SettingDef): string | undefined {
  if (typeof v !== "number" || !Number.isFinite(v)) return `expected a number, got ${v}`;
  if (def.min !== undefined && v < def.min) return `must be at least ${def.min}, got ${v}`;
  if (def.above !== undefined && !(v > def.above)) {
    return `must be greater than ${def.above}, got ${v}`;
  }
  return undefined;
}

const ok = (value: unknown) => ({ value });
const checked = (problem: string | undefined, value: unknown) => problem ?? ok(value);

/** The rules of every {@link Kind}. */
export const KINDS: { readonly [K in Kind]: KindRules } = {
  string: {
    many: false,
    switch: false,
    arg: "value",
    fromText: (_flag, [s]) => s,
    check: (v) => typeof v === "string" ? ok(v) : `expected text, got ${v}`,
  },
  choice: {
    many: false,
    switch: false,
    arg: "value",
    fromText: (_flag, [s]) => s,
    check: (v, def) =>
      def.choices?.includes(v as string)
        ? ok(v)
        : `expected one of ${def.choices?.join(", ")}, got '${v}'`,
  },
  int: {
    many: false,
    switch: false,
    arg: "n",
    fromText: (flag, [s]) => textToInt(flag, s),
    check: (v, def) => checked(intProblem(v, def), v),
  },
  number: {
    many: false,
    switch: false,
    arg: "x",
    fromText: (flag, [s]) => textToNumber(flag, s),
    check: (v, def) => checked(numberProblem(v, def), v),
  },
  bool: {
    many: false,
    switch: true,
    arg: "",
    fromText: (flag, [s]) => {
      if (/^(1|true|yes|on)$/i.test(s)) return true;
      if (/^(0|false|no|off)$/i.test(s)) return false;
      throw new UsageError(`${flag}: expected true or false, got '${s}'`);
    },
    check: (v) => typeof v === "boolean" ? ok(v) : `expected true or false, got ${v}`,
  },
  strings: {
    many: true,
    switch: false,
    arg: "s",
    fromText: (_flag, list) => list,
    check: (v) =>
      Array.isArray(v) && v.every((x) => typeof x === "string") ? ok(v) : "expected a list",
  },
  ints: {
    many: true,
    switch: false,
    arg: "n",
    fromText: (flag, list) => list.map((s) => textToInt(flag, s)),
    check: (v) =>
      Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))
        ? ok(v)
        : "expected a list of integers",
  },
  kv: {
    many: true,
    switch: false,
    arg: "k=v",
    fromText: parseKeyValues,
    check: (v) => {
      if (!isJsonObject(v)) return "expected an object of names to text values";
      for (const [k, x] of Object.entries(v)) {
        if (typeof x !== "string") return `the value of '${k}' must be text`;
      }
      return ok(v);
    },
  },
  json: {
    many: false,
    switch: false,
    arg: "json",
    fromText: (flag, [s]) => jsonObjectValue(flag, s),
    check: (v, _def, flag) => ok(jsonObjectValue(flag, v)),
  },
  fraction: {
    many: false,
    switch: false,
    arg: "x",
    fromText: (flag, [s]) => textToFraction(flag, s),
    check: (v) =>
      typeof v === "number" && v >= 0 && v <= 1
        ? ok(v)
        : `expected a fraction from 0 to 1 (0.05) or a percentage (5%), got ${v}`,
  },
  "int-range": {
    many: true,
    switch: false,
    arg: "n",
    fromText: (flag, list) => {
      const v = list.map((s) => textToInt(flag, s));
      return v.length === 1 ? v[0] : v;
    },
    check: (v, def) => {
      if (!Array.isArray(v)) return checked(intProblem(v, def), v);
      if (v.length !== 2) return `expected one integer or two (MIN MAX), got ${v.length}`;
      const problem = intProblem(v[0], def) ?? intProblem(v[1], def);
      if (problem !== undefined) return problem;
      if (v[0] > v[1]) return `MIN must not be more than MAX, got ${v[0]} ${v[1]}`;
      return ok([v[0], v[1]]);
    },
  },
  "json-source": {
    many: false,
    switch: false,
    arg: "json",
    fromText: (_flag, [s]) => s,
    check: (v) =>
      typeof v === "string" || (v !== null && typeof v === "object")
        ? ok(v)
        : `expected JSON text, @path of a JSON file, or an object, got ${v}`,
  },
  "number-or-inf": {
    many: false,
    switch: false,
    arg: "x",
    fromText: (flag, [s]) => /^\s*(inf|infinity)\s*$/i.test(s) ? "inf" : textToNumber(flag, s),
    check: (v, def) => {
      if (v === "inf" || v === Infinity) return ok("inf");
      if (typeof v === "string" && /^(inf|infinity)$/i.test(v.trim())) return ok("inf");
      return checked(numberProblem(v, def), v);
    },
  },
  shard: {
    many: false,
    switch: false,
    arg: "i/n",
    fromText: (flag, [s]) => parseShard(flag, s),
    check: (v, _def, flag) => {
      if (typeof v === "string") return ok(parseShard(flag, v));
      const problem = shardProblem(v);
      if (problem !== undefined) return problem;
      const { index, count } = v as Shard;
      return ok({ index, count });
    },
  },
};

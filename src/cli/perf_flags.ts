/**
 * The `perf` command's flags, built from the settings table (`src/config/settings.ts`): each
 * setting's flag, aliases, value form, help group and help line (with its default), plus the
 * flags that only the command line has ({@link CLI_FLAGS}: `--json`). The parsed values become a
 * {@link PerfConfigInput} with only the flags that were given; the config resolver validates the
 * rest. Nothing here names a setting: a new entry in the table is a new flag.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { parseStrict, strictCommand } from "./commander.ts";
import {
  flagName,
  GROUPS,
  type PerfConfigInput,
  type SettingDef,
  SETTINGS,
  type SweepKey,
} from "../config.ts";
import { type Kind, KINDS } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { PERF_EXAMPLES } from "./help.ts";

/** One flag of `llmperf perf`, as commander gets it. */
export interface FlagDef {
  /** Config key it sets (or, for {@link CLI_FLAGS}, the key of {@link ParsedPerfArgs}). */
  key: string;
  /** Commander flag spec, e.g. `-n, --number <n...>`. */
  flags: string;
  /** How its value is read. */
  kind: Kind;
  /** Help group title. */
  group: string;
  /** One-line help, with the default in brackets. */
  help: string;
}

/** A settings table, or a part of one: key → declaration. */
export type FlagTable = Readonly<Record<string, SettingDef>>;

/** Flags of the command line only: where settings come from, and the output; not the run. */
export const CLI_FLAGS: FlagTable = {
  config: {
    kind: "string",
    group: "basic",
    arg: "file",
    help: "read settings from a YAML or JSON file (any flag, as max_tokens, maxTokens or " +
      "max-tokens; lists for sweeps); flags given here override it",
  },
  printConfig: {
    kind: "bool",
    group: "basic",
    help: "print the resolved settings as YAML (JSON with --json), secrets left out, in the " +
      "form --config reads, and exit without running",
  },
  json: {
    kind: "bool",
    group: "results",
    help: "print only the summary, as JSON, on stdout (logs stay on stderr)",
  },
};

/** What a setting's default is, as help shows it in brackets; undefined when not shown. */
export function defaultText(def: SettingDef): string | undefined {
  if (def.defaultHelp !== undefined) return def.defaultHelp;
  const v = def.default;
  if (v === undefined || def.kind === "bool") return undefined;
  if (typeof v === "object" && v !== null && Object.keys(v).length === 0) return undefined;
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** A setting's help line: its help, `(required)`, and its default in brackets. */
export function helpLine(def: SettingDef): string {
  const shown = defaultText(def);
  return def.help + (def.required ? " (required)" : "") +
    (shown === undefined ? "" : ` [${shown}]`);
}

/** A setting's flag (`--max-tokens`). */
function flagOf(key: string, def: SettingDef): string {
  return def.flag ?? flagName(key);
}

/** A help group's title. */
function groupTitle(def: SettingDef): string {
  return (GROUPS as Record<string, string>)[def.group] ?? def.group;
}

/** Whether a setting takes several values on the command line. */
function takesMany(def: SettingDef): boolean {
  return KINDS[def.kind].many || def.sweep === true;
}

/** The placeholder of a setting's value (`n`, `k=v`), or "" for a switch. */
export function argName(def: SettingDef): string {
  return KINDS[def.kind].switch ? "" : def.arg ?? KINDS[def.kind].arg;
}

/** The value part of a flag spec: `<n>`, `<n...>`, `[s...]` (optional), or "" for a switch. */
function valueSpec(def: SettingDef): string {
  const arg = argName(def);
  if (arg === "") return "";
  const many = takesMany(def) ? "..." : "";
  return (def.arity?.[0] === 0 ? ` [${arg}${many}]` : ` <${arg}${many}>`);
}

/** The short alias shown beside a flag (`-n`), if any. */
function shortAlias(def: SettingDef): string | undefined {
  return def.aliases?.find((a) => !a.startsWith("--"));
}

/** The commander spec of a setting's flag: `-n, --number <n...>`. */
export function flagSpec(key: string, def: SettingDef): string {
  const short = shortAlias(def);
  return (short ? `${short}, ` : "") + flagOf(key, def) + valueSpec(def);
}

/** The table's flags as commander gets them, in help order. */
export function flagDefs(table: FlagTable): FlagDef[] {
  return Object.entries(table).map(([key, def]) => ({
    key,
    flags: flagSpec(key, def),
    kind: def.kind,
    group: groupTitle(def),
    help: helpLine(def),
  }));
}

/**
 * The settings table and {@link CLI_FLAGS} together, in `--help` order: by group (as `GROUPS`
 * lists them), then in table order, the command-line-only flags last in their group.
 */
export const HELP_TABLE: FlagTable = Object.fromEntries(
  [...Object.entries(SETTINGS as FlagTable), ...Object.entries(CLI_FLAGS)]
    .map((e, i) => ({ e, i, g: Object.keys(GROUPS).indexOf(e[1].group) }))
    .sort((a, b) => a.g - b.g || a.i - b.i)
    .map(({ e }) => e),
);

/** Every flag of `llmperf perf`, in help order. */
export const PERF_FLAGS: readonly FlagDef[] = flagDefs(HELP_TABLE);

/** The commander options of one setting: its flag, its `--no-` form, its hidden long aliases. */
function optionsOf(key: string, def: SettingDef): Option[] {
  const group = groupTitle(def);
  const main = new Option(flagSpec(key, def), helpLine(def)).helpGroup(group);
  // Given several times: every value, in order (see `listInto`).
  if (def.listInto !== undefined) {
    main.argParser((v: string, prev: unknown) => prev === undefined ? v : [prev, v].flat());
  }
  const out = [main];
  if (def.negatable !== undefined) {
    out.push(new Option(`--no-${flagOf(key, def).slice(2)}`, def.negatable).helpGroup(group));
  }
  for (const alias of def.aliases ?? []) {
    if (alias.startsWith("--")) out.push(new Option(alias + valueSpec(def)).hideHelp());
  }
  return out;
}

/** Add the table's flags to `cmd`; returns, per key, the options that set it. */
export function addFlags(cmd: Command, table: FlagTable): Map<string, Option[]> {
  const byKey = new Map<string, Option[]>();
  for (const [key, def] of Object.entries(table)) {
    const options = optionsOf(key, def);
    for (const o of options) cmd.addOption(o);
    byKey.set(key, options);
  }
  return byKey;
}

/** The values of the flags that were given, by key, and the sweep lists (every value). */
export interface FlagValues {
  /** Each given flag's value, of its kind; a sweep flag's first value. */
  values: Record<string, unknown>;
  /** Every value of each given sweep flag. */
  sweep: Record<string, number[]>;
}

/**
 * Read the flags of `table` from a parsed `cmd` (see {@link addFlags}): only those given on the
 * command line, each converted by its kind. Throws {@link UsageError} naming the flag.
 */
export function readFlags(
  cmd: Command,
  table: FlagTable,
  options: Map<string, Option[]>,
): FlagValues {
  const opts = cmd.opts() as Record<string, unknown>;
  const out: FlagValues = { values: {}, sweep: {} };
  for (const [key, def] of Object.entries(table)) {
    let raw: unknown = undefined;
    for (const o of options.get(key) ?? []) {
      const attr = o.attributeName();
      if (cmd.getOptionValueSource(attr) === "cli") raw = opts[attr];
    }
    if (raw === undefined) continue;
    const flag = flagOf(key, def);
    const rules = KINDS[def.kind];
    if (rules.switch) {
      // A flag spelled `--no-x` (and not the `--no-` form of a negatable one) sets true.
      const spelledNo = flag.startsWith("--no-") && def.negatable === undefined;
      out.values[key] = spelledNo ? raw === false : raw;
      continue;
    }
    // `--x <v>` beside a `--no-x` setting share commander's attribute: `false` is the other's.
    if (raw === false) continue;
    if (def.listInto !== undefined && Array.isArray(raw)) {
      out.values[key] = raw[0];
      out.values[def.listInto] = raw;
      continue;
    }
    const texts = takesMany(def) ? (raw === true ? [] : raw as string[]) : [raw as string];
    const [least, most] = def.arity ?? [1, Infinity];
    if (texts.length < least || texts.length > most) {
      const want = least === most
        ? `${least}`
        : most === Infinity
        ? `at least ${least}`
        : `${least} to ${most}`;
      throw new UsageError(`${flag}: expected ${want} values, got ${texts.length}`);
    }
    if (def.sweep) {
      const values = texts.map((s) => rules.fromText(flag, [s]) as number);
      out.values[key] = values[0];
      out.sweep[key] = values;
    } else {
      out.values[key] = rules.fromText(flag, texts);
    }
  }
  return out;
}

/** The commander definition of `perf` (parsing only; errors are thrown, not printed). */
export function perfCommand(): Command {
  return perfCommandWithOptions().cmd;
}

function perfCommandWithOptions() {
  const cmd = strictCommand("perf", "Benchmark an LLM inference endpoint")
    .usage("[url] --model NAME [options]")
    .argument("[url]", "endpoint (same as --url)")
    .addHelpText("after", PERF_EXAMPLES);
  const settings = addFlags(cmd, SETTINGS);
  const cli = addFlags(cmd, CLI_FLAGS);
  return { cmd, settings, cli };
}

/** The parsed command line: one config, plus any sweep values (several --parallel/--number/--rate). */
export interface ParsedPerfArgs {
  /** Flags given, as config input. Sweep flags hold their first value. */
  config: PerfConfigInput;
  /** Every value of the flags that take several (for sweeps). */
  sweep: Partial<Record<SweepKey, number[]>>;
  /** `--json`: print only the summary, as JSON, on stdout. */
  json: boolean;
  /** The values of the other command-line-only flags given ({@link CLI_FLAGS}), by key. */
  cli: Record<string, unknown>;
}

/** Parse `perf`'s arguments. Throws {@link UsageError} (one line, naming the flag) on bad input. */
export function parsePerfArgs(args: string[]): ParsedPerfArgs {
  const { cmd, settings, cli } = perfCommandWithOptions();
  parseStrict(cmd, args);
  const { values: config, sweep } = readFlags(cmd, SETTINGS, settings);
  const cliValues = readFlags(cmd, CLI_FLAGS, cli).values;
  const [url] = cmd.args;
  if (url !== undefined) {
    if (config.urls !== undefined) {
      throw new UsageError(`the URL is given twice ('${url}' and --url given several times)`);
    }
    if (config.url !== undefined && config.url !== url) {
      throw new UsageError(`the URL is given twice ('${url}' and --url '${config.url}')`);
    }
    config.url = url;
  }
  return {
    config: config as PerfConfigInput,
    sweep: sweep as ParsedPerfArgs["sweep"],
    json: cliValues.json === true,
    cli: cliValues,
  };
}

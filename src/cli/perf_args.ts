/**
 * The settings of one `llmperf perf` command: its flags over its `--config` file. A flag given on
 * the command line overrides the file's value (a sweep flag's list replaces the file's list);
 * everything else comes from the file, then from the defaults. The merged settings are checked
 * here, before anything runs, so that a bad value in the file is reported as the file's
 * (`run.yaml: parallel: must be at least 1, got 0`), and a key that is no setting gets the
 * closest ones (`run.yaml: unknown setting 'max_token' (did you mean max_tokens?)`).
 *
 * @module
 */
import {
  type PerfConfigInput,
  resolveConfig,
  SETTING_KEYS,
  settingFlag,
  type SettingKey,
  snakeKey,
  type SweepKey,
} from "../config.ts";
import { camelKey } from "../config/keys.ts";
import { type ConfigFile, readConfigFile } from "../config/config_file.ts";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../util/closest.ts";
import { CLI_FLAGS, type ParsedPerfArgs, parsePerfArgs } from "./perf_flags.ts";

/** A `perf` command's settings, merged from its flags and its `--config` file. */
export interface PerfArgs extends ParsedPerfArgs {
  /** `--print-config`: print the resolved settings and exit. */
  printConfig: boolean;
  /** The config file read, if any. */
  file?: ConfigFile;
}

/** The command-line-only flags a config file may hold (not `config` itself, nor `printConfig`). */
const FILE_CLI_KEYS = Object.keys(CLI_FLAGS).filter((k) => k !== "config" && k !== "printConfig");

/** Parse `perf`'s arguments and read its `--config` file; throws {@link UsageError}. */
export async function perfArgs(args: string[]): Promise<PerfArgs> {
  const flags = parsePerfArgs(args);
  const path = flags.cli.config as string | undefined;
  const printConfig = flags.cli.printConfig === true;
  if (path === undefined) {
    if (printConfig) check(flags.config, flags.sweep); // else the run checks them, as always
    return { ...flags, printConfig };
  }
  const file = await readConfigFile(path);
  let json = flags.json;
  for (const [name, value] of Object.entries(file.other)) {
    const key = camelKey(name);
    if (!FILE_CLI_KEYS.includes(key)) {
      const known = [...SETTING_KEYS.map(snakeKey), ...FILE_CLI_KEYS.map(snakeKey)];
      throw new UsageError(`${path}: unknown setting '${name}'${didYouMean(name, known)}`);
    }
    if (typeof value !== "boolean") {
      throw new UsageError(`${path}: ${name}: expected true or false`);
    }
    if (key === "json" && !flags.cli.json) json = value;
  }
  const config = { ...file.settings, ...flags.config } as PerfConfigInput;
  const sweep = { ...file.sweep, ...flags.sweep } as ParsedPerfArgs["sweep"];
  const fromFile = (key: string) =>
    file.spelled[key as SettingKey] !== undefined && !(key in flags.config);
  check(
    config,
    sweep,
    (key, why) => fromFile(key) ? `${path}: ${file.spelled[key as SettingKey]}: ${why}` : undefined,
  );
  return { config, sweep, json, cli: flags.cli, printConfig, file };
}

/**
 * Resolve `config` (and each point of each sweep list) to find a bad value now; `inFile` rewords
 * a problem of a key that came from the file.
 */
function check(
  config: PerfConfigInput,
  sweep: ParsedPerfArgs["sweep"],
  inFile: (key: string, why: string) => string | undefined = () => undefined,
): void {
  const attempt = (input: PerfConfigInput) => {
    try {
      resolveConfig(input);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      throw reworded(e, inFile);
    }
  };
  attempt(config);
  for (const [key, values] of Object.entries(sweep) as [SweepKey, number[]][]) {
    for (const v of values.slice(1)) attempt({ ...config, [key]: v });
  }
}

function reworded(e: UsageError, inFile: (key: string, why: string) => string | undefined): Error {
  for (const key of SETTING_KEYS) {
    const flag = settingFlag(key);
    if (!e.message.startsWith(`${flag}: `)) continue;
    const text = inFile(key, e.message.slice(flag.length + 2));
    return text === undefined ? e : new UsageError(text);
  }
  return e;
}

/**
 * `llmperf perf --print-config`: the resolved settings of a command (its flags over its
 * `--config` file over the defaults and the environment) as a file that `--config` reads back
 * to the same run: YAML with snake_case keys in `--help` order (JSON with `--json`), sweeps as
 * lists. What must not be written, or would change the run if it were, is a YAML comment
 * (left out of JSON):
 *
 * - a secret (`api_key`, `wandb_api_key`), a header that carries a credential, a URL with
 *   credentials in it: a secret never reaches a file, and `<redacted>` read back would be sent;
 * - the default of a setting that yields to a `--query-template` field when it is not given
 *   (`max_tokens`, `seed`, `stream`): written, it would count as given and override the template.
 *
 * @module
 */
import { Document, isCollection, isMap } from "yaml";
import {
  BODY_KEYS,
  givenKeys,
  resolveConfig,
  SECRET_KEYS,
  SETTING_KEYS,
  type SettingKey,
  SETTINGS,
  snakeKey,
} from "../config.ts";
import { isSecretHeader, redactConfig, REDACTED } from "../redact.ts";
import { VERSION } from "../version.ts";
import type { PerfArgs } from "./perf_args.ts";

/** One line of the output: a setting written, or a comment about one. */
interface Line {
  /** The setting's key as written (snake_case). */
  key: string;
  /** Its value, when written. */
  value?: unknown;
  /** Why it is a comment instead, with the value shown (redacted), when not written. */
  comment?: string;
}

const YIELDS_TO_TEMPLATE: ReadonlySet<string> = new Set<string>([
  ...BODY_KEYS.filter((k) => (SETTINGS[k] as { default?: unknown }).default !== undefined),
  "stream",
]);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The lines of the resolved settings of `args`, in table order. */
function configLines(args: PerfArgs): Line[] {
  const cfg = resolveConfig(args.config) as unknown as Record<string, unknown>;
  const given = givenKeys(args.config);
  const shown = redactConfig(cfg);
  const lines: Line[] = [];
  for (const key of SETTING_KEYS) {
    const list = (args.sweep as Partial<Record<SettingKey, number[]>>)[key];
    const value = list !== undefined && list.length > 1 ? list : cfg[key];
    if (value === undefined) continue;
    const name = snakeKey(key);
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      const from = given.has(key) ? "" : " (from the environment)";
      lines.push({
        key: name,
        comment: `${REDACTED}${from}: a secret is never written; give it by the environment ` +
          `($LLMPERF_API_KEY) or the command line`,
      });
    } else if (key === "headers" && !same(shown[key], cfg[key])) {
      const headers = value as Record<string, string>;
      const kept = Object.fromEntries(Object.entries(headers).filter(([h]) => !isSecretHeader(h)));
      const dropped = Object.keys(headers).filter((h) => isSecretHeader(h));
      if (Object.keys(kept).length > 0) lines.push({ key: name, value: kept });
      lines.push({ key: name, comment: `${dropped.join(", ")}: credentials, not written` });
    } else if (!same(shown[key], cfg[key])) {
      lines.push({
        key: name,
        comment: `${yamlValue(shown[key])}: holds a credential, not written`,
      });
    } else if (!given.has(key) && YIELDS_TO_TEMPLATE.has(key)) {
      lines.push({
        key: name,
        comment: `${yamlValue(value)} (the default; not written, so that a ` +
          `--query-template field still wins)`,
      });
    } else {
      lines.push({ key: name, value });
    }
  }
  return lines;
}

/** `key: value` as one YAML line: lists and maps in flow style (`[1, 8]`, `{ a: 1 }`). */
function yamlLine(key: string, value: unknown): string {
  const doc = new Document({ [key]: value });
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) if (isCollection(pair.value)) pair.value.flow = true;
  }
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

/** A value as YAML text on one line, for a comment. */
function yamlValue(value: unknown): string {
  return yamlLine("v", value).slice("v: ".length).replaceAll("\n", " ");
}

/**
 * The resolved settings of `args` as `--config` reads them: YAML, or JSON when `format` is
 * `"json"` (see the module doc). Throws {@link UsageError} when they do not resolve.
 */
export function configText(args: PerfArgs, format: "yaml" | "json" = "yaml"): string {
  const lines = configLines(args);
  if (format === "json") {
    const out = Object.fromEntries(
      lines.filter((l) => l.comment === undefined).map((l) => [l.key, l.value]),
    );
    return JSON.stringify(out, null, 2) + "\n";
  }
  const text = lines.map((l) =>
    l.comment === undefined ? yamlLine(l.key, l.value) : `# ${l.key}: ${l.comment}`
  );
  return `# llmperf ${VERSION} perf settings, resolved; run them with: llmperf perf --config FILE\n` +
    text.join("\n") + "\n";
}

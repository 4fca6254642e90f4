/**
 * The README's flag table, generated from the settings table and the command-line-only flags:
 * one row per flag (group, flag with its value form, default, request-body field, meaning), in
 * `--help` order. `deno task flag-table` writes it into README.md between {@link BEGIN} and
 * {@link END}; a test fails when the README and the table differ.
 *
 * @module
 */
import type { SettingDef } from "../config.ts";
import { argName, defaultText, type FlagTable, HELP_TABLE } from "./perf_flags.ts";
import { KINDS } from "../config/schema.ts";
import { flagName } from "../config/keys.ts";

/** The marker line before the generated table in README.md. */
export const BEGIN = "<!-- flag-table:begin (deno task flag-table writes this table) -->";
/** The marker line after it. */
export const END = "<!-- flag-table:end -->";

/**
 * What is code in help text, in order of precedence: a flag with the example values after it
 * (`--stop a b`, `--headers k1=v1 k2=v2`, `--extra-args '{...}'`), a 'quoted' span, `$VARS`,
 * `@path`, `%m`/`%p`, and file or field names (`tokenizer.json`, `stream_options.include_usage`).
 */
const CODE = new RegExp(
  [
    /--[a-z][a-z0-9-]*(?: (?:--[a-z][a-z0-9-]*|'[^']*'|\d[\w.]*|[\w-]+=[^\s,;)]*|[a-z]\b))*/.source,
    /(?<![A-Za-z])'[^']+'(?![A-Za-z])/.source,
    /\$[A-Z_][A-Z0-9_]*|@path|%[mp]\b/.source,
    /\b[a-z_]*_[a-z_]*\.[a-z_]+\b|\b[\w-]+\.json\b/.source,
  ].join("|"),
  "g",
);

/** Help text as Markdown: code-like parts in backticks (quotes dropped), `|` escaped. */
export function helpMarkdown(help: string): string {
  return help.replace(CODE, (m) => "`" + (m.startsWith("'") ? m.slice(1, -1) : m) + "`")
    .replaceAll("|", "\\|");
}

function flagCell(key: string, def: SettingDef): string {
  const flag = def.flag ?? flagName(key);
  const arg = argName(def).toUpperCase();
  const many = KINDS[def.kind].many || def.sweep ? " ..." : "";
  const value = arg === "" ? "" : def.arity?.[0] === 0 ? ` [${arg}${many}]` : ` ${arg}${many}`;
  const short = def.aliases?.find((a) => !a.startsWith("--"));
  const cells = [...(short ? [short] : []), flag + value];
  if (def.negatable !== undefined) cells.push(`--no-${flag.slice(2)}`);
  return cells.map((c) => "`" + c + "`").join(", ");
}

function defaultCell(def: SettingDef): string {
  if (def.required) return "required";
  if (def.kind === "bool") return def.default === true ? "on" : "off";
  const shown = defaultText(def);
  return shown === undefined ? "" : "`" + shown + "`";
}

function meaningCell(def: SettingDef): string {
  const unsaid = (def.env ?? []).filter((e) => !def.help.includes("$" + e));
  const env = unsaid.length === 0
    ? ""
    : `; unset: ${unsaid.map((e) => "`$" + e + "`").join(", else ")}`;
  return helpMarkdown(def.help) + env;
}

function rows(table: FlagTable): string[][] {
  return Object.entries(table).map(([key, def]) => [
    def.group,
    flagCell(key, def),
    defaultCell(def),
    def.body === undefined ? "" : "`" + def.body + "`",
    meaningCell(def),
  ]);
}

/** The table's cells, header row first (the group named only on its first row). */
export function flagTableCells(): string[][] {
  const body = rows(HELP_TABLE);
  let last = "";
  for (const row of body) {
    const group = row[0];
    if (group === last) row[0] = "";
    last = group;
  }
  return [["group", "flag", "default", "request body", "meaning"], ...body];
}

/** The generated table as Markdown (unaligned; `deno fmt` aligns it). */
export function flagTableMarkdown(): string {
  const [head, ...body] = flagTableCells();
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...body.map(line)].join("\n");
}

/** The cells of the Markdown table between the README's markers (as written, trimmed). */
export function readmeTableCells(readme: string): string[][] {
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from === -1 || to < from) throw new Error(`README.md: no ${BEGIN} ... ${END} section`);
  return readme.slice(from + BEGIN.length, to).split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("|") && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}

/** `readme` with the section between the markers replaced by the generated table. */
export function withFlagTable(readme: string): string {
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from === -1 || to < from) throw new Error(`README.md: no ${BEGIN} ... ${END} section`);
  return readme.slice(0, from + BEGIN.length) + "\n\n" + flagTableMarkdown() + "\n\n" +
    readme.slice(to);
}

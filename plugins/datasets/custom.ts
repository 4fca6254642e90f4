/**
 * Built-in dataset `custom`: your own prompts from one file, read lazily, in one of two forms,
 * decided by the file's first non-blank line:
 *
 * - **Plain text**: every non-blank line, trimmed, is one prompt (as evalscope's `custom`).
 * - **JSON Lines** (the first line is a JSON object): each line's prompt is the field named after
 *   `#` in `--dataset-path` (`--dataset-path data.jsonl#prompt`; `a.b` reaches into nested
 *   objects). A string field is one user message; a list of `{role, content}` messages is sent as
 *   it is (a system prompt, a multi-turn chat). With no `#field`, the line's `messages` list is
 *   used when it has one, else the first string among `prompt`, `question`, `instruction`,
 *   `query`, `text`, `input`, `content`. A line without the field is an error naming the line.
 *
 * A path that exists as given is always the file, even when it contains `#`.
 *
 * @module
 */
import { DatasetPlugin, type Message, readLines } from "../../plugin.ts";

/** Fields tried, in order, when a JSON Lines file is given without `#field`. */
export const PROMPT_FIELDS: readonly string[] = [
  "prompt",
  "question",
  "instruction",
  "query",
  "text",
  "input",
  "content",
];

/** `FILE#field` split into the file and the field (`field` undefined when there is none). */
export async function splitFieldSpec(spec: string): Promise<{ path: string; field?: string }> {
  const hash = spec.lastIndexOf("#");
  if (hash <= 0) return { path: spec };
  try {
    await Deno.stat(spec);
    return { path: spec }; // the file's name has a '#'
  } catch {
    return { path: spec.slice(0, hash), field: spec.slice(hash + 1) || undefined };
  }
}

function isMessages(v: unknown): v is Message[] {
  return Array.isArray(v) && v.length > 0 &&
    v.every((m) => m !== null && typeof m === "object" && typeof m.role === "string");
}

function pick(item: Record<string, unknown>, field: string): unknown {
  let v: unknown = item;
  for (const key of field.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** The messages of one JSON Lines item, or a reason why there are none. */
export function itemMessages(item: unknown, field: string | undefined): Message[] | string {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    return "not a JSON object";
  }
  const obj = item as Record<string, unknown>;
  let value: unknown;
  if (field !== undefined) {
    value = pick(obj, field);
    if (value === undefined) return `no field '${field}'`;
  } else if (isMessages(obj.messages)) {
    value = obj.messages;
  } else {
    const name = PROMPT_FIELDS.find((f) => typeof obj[f] === "string");
    if (name === undefined) {
      return `no prompt field (none of messages, ${PROMPT_FIELDS.join(", ")}; ` +
        `name one with --dataset-path FILE#field)`;
    }
    value = obj[name];
  }
  if (typeof value === "string") {
    const text = value.trim();
    return text ? [{ role: "user", content: text }] : [];
  }
  if (isMessages(value)) return value;
  return `field '${field ?? "messages"}' is neither text nor a list of {role, content} messages`;
}

/** Prompts from a plain text or JSON Lines file. */
export default class CustomDataset extends DatasetPlugin {
  /** Yield the file's prompts (see the module documentation). */
  async *buildMessages(): AsyncGenerator<Message[]> {
    const spec = this.params.datasetPath;
    if (!spec) {
      throw new Error(
        "custom needs --dataset-path: a text file (one prompt a line) or JSON Lines (FILE#field)",
      );
    }
    const { path, field } = await splitFieldSpec(spec);
    let mode: "text" | "json" | undefined;
    let n = 0;
    for await (const line of readLines(path)) {
      n++;
      const text = line.trim();
      if (!text) continue;
      if (mode === undefined) {
        mode = text.startsWith("{") && isJsonObject(text) ? "json" : "text";
        if (mode === "text" && field !== undefined) {
          throw new Error(`${path}: '#${field}' names a field, but the file is not JSON Lines`);
        }
      }
      if (mode === "text") {
        yield [{ role: "user", content: text }];
        continue;
      }
      let item: unknown;
      try {
        item = JSON.parse(text);
      } catch (e) {
        throw new Error(`${path}:${n}: not valid JSON (${(e as Error).message})`);
      }
      const messages = itemMessages(item, field);
      if (typeof messages === "string") throw new Error(`${path}:${n}: ${messages}`);
      if (messages.length > 0) yield messages;
    }
  }
}

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

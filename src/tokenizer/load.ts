/**
 * Reading a Hugging Face tokenizer folder (`--tokenizer-path`): `tokenizer.json` (required),
 * `tokenizer_config.json` (special tokens, chat template) and `chat_template.jinja` (newer
 * models keep the template there; it wins over the config's). Every problem is one
 * {@link UsageError} line naming the folder and the file, so a typo never becomes a stack trace.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { HfTokenizer, TokenizerFiles } from "./hf_tokenizer.ts";

/** Options of {@link loadTokenizer}. */
export interface LoadOptions {
  /** Count prompts through the chat template (requires one in the folder). */
  applyChatTemplate?: boolean;
}

function fail(dir: string, why: string): never {
  throw new UsageError(`--tokenizer-path '${dir}': ${why}`);
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n").map((s) => s.trim()).find((s) => s) ?? "unknown error";
}

async function readOptional(dir: string, name: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(`${dir}/${name}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    fail(dir, `cannot read ${name} (${firstLine(e)})`);
  }
}

function parseObject(dir: string, name: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail(dir, `${name} is not valid JSON (${firstLine(e)})`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(dir, `${name} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Read and parse the files of a tokenizer folder. Throws {@link UsageError} on any problem. */
export async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(dir, "no such folder");
    fail(dir, `cannot read the folder (${firstLine(e)})`);
  }
  if (!info.isDirectory) fail(dir, "not a folder (give the folder holding tokenizer.json)");
  const json = await readOptional(dir, "tokenizer.json");
  if (json === undefined) {
    fail(dir, "no tokenizer.json in the folder (a Hugging Face tokenizer folder has one)");
  }
  const tokenizer = parseObject(dir, "tokenizer.json", json);
  if (!tokenizer.model || typeof tokenizer.model !== "object") {
    fail(dir, "tokenizer.json has no 'model' (is it a Hugging Face tokenizer.json?)");
  }
  const configText = await readOptional(dir, "tokenizer_config.json");
  const config = configText === undefined
    ? {}
    : parseObject(dir, "tokenizer_config.json", configText);
  const chatTemplate = await readOptional(dir, "chat_template.jinja");
  return { dir, tokenizer, config, chatTemplate };
}

/**
 * Build a tokenizer from parsed files. Throws {@link UsageError} when the library rejects them or
 * when a chat template is asked for and missing or invalid.
 */
export async function tokenizerFromFiles(
  files: TokenizerFiles,
  opts: LoadOptions = {},
): Promise<HfTokenizer> {
  // Imported here: the tokenizer package and the template engine load only for --tokenizer-path.
  const { HfTokenizer } = await import("./hf_tokenizer.ts");
  let tok: HfTokenizer;
  try {
    tok = new HfTokenizer(files);
    tok.encode("Hello, world! 123"); // some errors (a bad pre-tokenizer regex) show only here
  } catch (e) {
    fail(files.dir, `tokenizer.json cannot be loaded (${firstLine(e)})`);
  }
  if (opts.applyChatTemplate) {
    try {
      tok.useChatTemplate();
    } catch (e) {
      fail(files.dir, `--apply-chat-template: ${firstLine(e)}`);
    }
  }
  return tok;
}

/** Load the tokenizer in `dir` (see the module doc). Throws {@link UsageError} on any problem. */
export async function loadTokenizer(dir: string, opts: LoadOptions = {}): Promise<HfTokenizer> {
  return await tokenizerFromFiles(await readTokenizerFiles(dir), opts);
}

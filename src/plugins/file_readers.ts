/**
 * Lazy file readers for dataset plugins: a file is read in blocks as the run consumes it, never
 * loaded whole, so a 1 GB JSON Lines file costs a few kilobytes of memory.
 *
 * @module
 */

/** A file error that names the file: `cannot read 'x': No such file or directory (os error 2)`. */
function readError(path: string | URL, e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  const why = text.split("\n")[0].replace(/: (open|read|stat) '.*'$/, "");
  return new Error(`cannot read '${path}': ${why}`);
}

async function* textBlocks(path: string | URL): AsyncGenerator<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw readError(path, e);
  }
  // The stream closes the file when it ends or when the consumer stops early.
  const reader = file.readable.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<string>;
      try {
        r = await reader.read();
      } catch (e) {
        throw readError(path, e);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The longest line {@link readLines} accepts, and the longest JSON array element: 64 Mi characters. */
export const MAX_LINE_LENGTH = 64 * 1024 * 1024;

/** Options of the line and element readers. */
export interface ReadLimits {
  /** The longest line (or JSON array element), in characters (default {@link MAX_LINE_LENGTH}). */
  maxLength?: number;
}

function tooLong(where: string, what: string, max: number): Error {
  return new Error(
    `${where}: ${what} is longer than ${max / (1024 * 1024)} Mi characters (the limit); ` +
      "is it a text file?",
  );
}

/**
 * Yield each line of a text file (without its `\n` or `\r\n`), reading it lazily. Linear in the
 * file's size; a line longer than `maxLength` (a file with no newline, `/dev/zero`) throws an
 * error naming the file and line once that much has been read.
 *
 * @example
 * ```ts
 * for await (const line of readLines("prompts.txt")) console.log(line);
 * ```
 */
export async function* readLines(
  path: string | URL,
  limits: ReadLimits = {},
): AsyncGenerator<string> {
  const max = limits.maxLength ?? MAX_LINE_LENGTH;
  const strip = (line: string) => line.endsWith("\r") ? line.slice(0, -1) : line;
  let parts: string[] = []; // the current line's text from earlier blocks
  let size = 0;
  let n = 0;
  for await (const block of textBlocks(path)) {
    let start = 0;
    let nl: number;
    while ((nl = block.indexOf("\n", start)) !== -1) {
      n++;
      let line = block.slice(start, nl);
      if (parts.length > 0) {
        if (size + line.length > max) throw tooLong(`${path}`, `line ${n}`, max);
        parts.push(line);
        line = parts.join("");
        parts = [];
        size = 0;
      } else if (line.length > max) throw tooLong(`${path}`, `line ${n}`, max);
      yield strip(line);
      start = nl + 1;
    }
    if (start < block.length) {
      size += block.length - start;
      if (size > max) throw tooLong(`${path}`, `line ${n + 1}`, max);
      parts.push(start === 0 ? block : block.slice(start));
    }
  }
  if (parts.length > 0) yield strip(parts.join(""));
}

/**
 * Yield each JSON value of a JSON Lines file, lazily; blank lines are skipped. A line that is not
 * JSON throws an error naming the file and line number.
 *
 * @example
 * ```ts
 * for await (const item of readJsonLines("open_qa.jsonl")) {
 *   console.log((item as { question: string }).question);
 * }
 * ```
 */
export async function* readJsonLines(
  path: string | URL,
  limits: ReadLimits = {},
): AsyncGenerator<unknown> {
  let n = 0;
  for await (const line of readLines(path, limits)) {
    n++;
    if (line.trim() === "") continue;
    try {
      yield JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${n}: not valid JSON (${(e as Error).message})`);
    }
  }
}

/**
 * Yield each element of a top-level JSON array in a file, lazily: elements are cut out of the
 * text as it streams in and parsed one by one, so the array is never held whole.
 *
 * @example
 * ```ts
 * for await (const item of readJsonArray("LongAlpaca-12k.json")) {
 *   console.log((item as { instruction: string }).instruction.length);
 * }
 * ```
 */
export async function* readJsonArray(
  path: string | URL,
  limits: ReadLimits = {},
): AsyncGenerator<unknown> {
  const splitter = new JsonArraySplitter(String(path), limits);
  for await (const block of textBlocks(path)) {
    yield* splitter.push(block);
  }
  splitter.end();
}

/**
 * Incremental splitter of a JSON array's text into its elements, for arrays that arrive in
 * pieces (a file, a network stream).
 *
 * @example
 * ```ts
 * const s = new JsonArraySplitter("example");
 * console.log(s.push('[{"a": 1}, {"a"'), s.push(": 2}]")); // [{ a: 1 }] [{ a: 2 }]
 * s.end();
 * ```
 */
export class JsonArraySplitter {
  #where: string;
  #max: number;
  #parts: string[] = []; // the open element's text from earlier blocks
  #size = 0;
  #open = false; // inside an element
  #depth = 0; // nesting inside the current element
  #inString = false;
  #escape = false;
  #state: "before" | "inside" | "after" = "before";
  #count = 0;

  /**
   * A splitter for one array.
   *
   * @param where names the source in error messages
   * @param limits the longest element (default {@link MAX_LINE_LENGTH} characters)
   */
  constructor(where: string, limits: ReadLimits = {}) {
    this.#where = where;
    this.#max = limits.maxLength ?? MAX_LINE_LENGTH;
  }

  /** Feed the next block of text; returns the parsed elements it completed. */
  push(block: string): unknown[] {
    const out: unknown[] = [];
    let start = 0; // where the open element starts in this block
    for (let i = 0; i < block.length; i++) {
      const c = block.charCodeAt(i);
      if (this.#state === "before") {
        if (isSpace(c)) continue;
        if (c !== 91 /* [ */) this.#bad("expected a JSON array");
        this.#state = "inside";
        continue;
      }
      if (this.#state === "after") {
        if (!isSpace(c)) this.#bad("unexpected text after the array");
        continue;
      }
      if (!this.#open) {
        if (isSpace(c) || c === 44 /* , */) continue;
        if (c === 93 /* ] */) {
          this.#state = "after";
          continue;
        }
        this.#open = true;
        start = i;
        this.#depth = 0;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === 92 /* \ */) this.#escape = true;
        else if (c === 34 /* " */) this.#inString = false;
        continue;
      }
      if (c === 34) this.#inString = true;
      else if (c === 123 || c === 91) this.#depth++;
      else if (c === 125 || c === 93) {
        if (this.#depth === 0) { // the array's closing bracket ends a scalar element
          out.push(this.#take(block, start, i));
          this.#state = "after";
          continue;
        }
        this.#depth--;
      } else if (c === 44 && this.#depth === 0) {
        out.push(this.#take(block, start, i));
        continue;
      }
      if (this.#depth === 0 && (c === 125 || c === 93 || c === 34)) {
        // a complete object/array/string element: emit now so memory stays bounded
        if (c !== 34 || !this.#inString) out.push(this.#take(block, start, i + 1));
      }
    }
    // keep only the unfinished element
    if (this.#open) {
      this.#size += block.length - start;
      if (this.#size > this.#max) {
        throw tooLong(this.#where, `element ${this.#count + 1}`, this.#max);
      }
      this.#parts.push(start === 0 ? block : block.slice(start));
    }
    return out;
  }

  /** Check that the array was closed. */
  end(): void {
    if (this.#state !== "after") this.#bad("the JSON array is not closed");
  }

  /** Parse the element that ends at `end` of `block` (and began at `start`, or earlier). */
  #take(block: string, start: number, end: number): unknown {
    let text = block.slice(start, end);
    if (this.#parts.length > 0) {
      this.#parts.push(text);
      text = this.#parts.join("");
      this.#parts = [];
      this.#size = 0;
    }
    this.#open = false;
    this.#count++;
    try {
      return JSON.parse(text);
    } catch (e) {
      this.#bad(`element ${this.#count} is not valid JSON (${(e as Error).message})`);
    }
  }

  #bad(why: string): never {
    throw new Error(`${this.#where}: ${why}`);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

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

/**
 * Yield each line of a text file (without its `\n` or `\r\n`), reading it lazily.
 *
 * @example
 * ```ts
 * for await (const line of readLines("prompts.txt")) console.log(line);
 * ```
 */
export async function* readLines(path: string | URL): AsyncGenerator<string> {
  let rest = "";
  for await (const block of textBlocks(path)) {
    rest += block;
    let start = 0;
    let nl: number;
    while ((nl = rest.indexOf("\n", start)) !== -1) {
      const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield rest.slice(start, end);
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
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
export async function* readJsonLines(path: string | URL): AsyncGenerator<unknown> {
  let n = 0;
  for await (const line of readLines(path)) {
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
export async function* readJsonArray(path: string | URL): AsyncGenerator<unknown> {
  const splitter = new JsonArraySplitter(String(path));
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
  #buf = "";
  #pos = 0; // next char of #buf to scan
  #elemStart = -1; // start of the current element in #buf, -1 when between elements
  #depth = 0; // nesting inside the current element
  #inString = false;
  #escape = false;
  #state: "before" | "inside" | "after" = "before";
  #count = 0;

  /**
   * A splitter for one array.
   *
   * @param where names the source in error messages
   */
  constructor(where: string) {
    this.#where = where;
  }

  /** Feed the next block of text; returns the parsed elements it completed. */
  push(block: string): unknown[] {
    this.#buf += block;
    const out: unknown[] = [];
    const b = this.#buf;
    let i = this.#pos;
    for (; i < b.length; i++) {
      const c = b.charCodeAt(i);
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
      if (this.#elemStart === -1) {
        if (isSpace(c) || c === 44 /* , */) continue;
        if (c === 93 /* ] */) {
          this.#state = "after";
          continue;
        }
        this.#elemStart = i;
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
          out.push(this.#parse(b.slice(this.#elemStart, i)));
          this.#elemStart = -1;
          this.#state = "after";
          continue;
        }
        this.#depth--;
      } else if (c === 44 && this.#depth === 0) {
        out.push(this.#parse(b.slice(this.#elemStart, i)));
        this.#elemStart = -1;
        continue;
      }
      if (this.#depth === 0 && (c === 125 || c === 93 || c === 34)) {
        // a complete object/array/string element: emit now so memory stays bounded
        if (c !== 34 || !this.#inString) {
          out.push(this.#parse(b.slice(this.#elemStart, i + 1)));
          this.#elemStart = -1;
        }
      }
    }
    // keep only the unfinished element
    if (this.#elemStart === -1) {
      this.#buf = "";
      this.#pos = 0;
    } else {
      this.#buf = b.slice(this.#elemStart);
      this.#pos = i - this.#elemStart;
      this.#elemStart = 0;
    }
    return out;
  }

  /** Check that the array was closed. */
  end(): void {
    if (this.#state !== "after") this.#bad("the JSON array is not closed");
  }

  #parse(text: string): unknown {
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

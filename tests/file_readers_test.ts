import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import {
  JsonArraySplitter,
  readJsonArray,
  readJsonLines,
  readLines,
} from "../src/plugins/file_readers.ts";
import { tempDir } from "./helpers/cli.ts";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("readLines: LF and CRLF, no trailing newline, blank lines kept", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/a.txt`, "one\r\ntwo\n\nthree");
  assertEquals(await collect(readLines(`${tmp.path}/a.txt`)), ["one", "two", "", "three"]);
});

Deno.test("readJsonLines: skips blank lines, names the bad line", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/a.jsonl`, '{"q":1}\n\n{"q":2}\n');
  assertEquals(await collect(readJsonLines(`${tmp.path}/a.jsonl`)), [{ q: 1 }, { q: 2 }]);
  await Deno.writeTextFile(`${tmp.path}/b.jsonl`, '{"q":1}\n{oops\n');
  await assertRejects(() => collect(readJsonLines(`${tmp.path}/b.jsonl`)), Error, "b.jsonl:2");
});

const ARRAY = [
  {
    instruction: 'a [tricky] {string} with "quotes", commas and \\ backslashes',
    n: [1, { x: "]" }],
  },
  "plain string, with comma",
  42,
  null,
  [1, [2, 3]],
  { "模型": "多字节 UTF-8 ✓" },
];

Deno.test("JsonArraySplitter: every element, whatever the block boundaries", () => {
  const text = " \n" + JSON.stringify(ARRAY, null, 1) + "\n";
  for (let i = 0; i <= text.length; i++) {
    for (const j of [i, Math.min(text.length, i + 7)]) {
      const s = new JsonArraySplitter("test");
      const got = [
        ...s.push(text.slice(0, i)),
        ...s.push(text.slice(i, j)),
        ...s.push(text.slice(j)),
      ];
      s.end();
      assertEquals(got, ARRAY, `split at ${i},${j}`);
    }
  }
});

Deno.test("readJsonArray: streams a file; errors name the file", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/a.json`, JSON.stringify(ARRAY));
  assertEquals(await collect(readJsonArray(`${tmp.path}/a.json`)), ARRAY);
  await Deno.writeTextFile(`${tmp.path}/b.json`, '{"not": "an array"}');
  await assertRejects(
    () => collect(readJsonArray(`${tmp.path}/b.json`)),
    Error,
    "expected a JSON array",
  );
  await Deno.writeTextFile(`${tmp.path}/c.json`, '[{"a": 1}, {"b": ');
  await assertRejects(() => collect(readJsonArray(`${tmp.path}/c.json`)), Error, "not closed");
});

Deno.test("readJsonArray: a large file is read lazily (stopping early reads little)", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/big.json`;
  const item = JSON.stringify({ instruction: "x".repeat(1000) });
  const f = await Deno.open(path, { write: true, create: true });
  const w = f.writable.getWriter();
  const enc = new TextEncoder();
  await w.write(enc.encode("["));
  for (let i = 0; i < 20000; i++) await w.write(enc.encode((i ? "," : "") + item));
  await w.write(enc.encode("]"));
  await w.close();
  let n = 0;
  for await (const _ of readJsonArray(path)) if (++n === 3) break;
  assertEquals(n, 3);
});

Deno.test("readLines: lines split across read blocks join exactly; CRLF cut between blocks", async () => {
  await using tmp = await tempDir();
  // 200 KB lines span several 64 KB read blocks; a \r\n falls on a block boundary somewhere.
  const lines = Array.from({ length: 6 }, (_, i) => String(i).repeat(200_000 + i));
  await Deno.writeTextFile(`${tmp.path}/a.txt`, lines.join("\r\n") + "\r\n");
  assertEquals(await collect(readLines(`${tmp.path}/a.txt`)), lines);
});

Deno.test("readLines: a line over the limit is an error naming the file and line", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/a.txt`, "short\n" + "x".repeat(300_000) + "\nnext\n");
  const path = `${tmp.path}/a.txt`;
  assertEquals((await collect(readLines(path, { maxLength: 300_000 }))).length, 3);
  await assertRejects(
    () => collect(readLines(path, { maxLength: 299_999 })),
    Error,
    `${path}: line 2 is longer than`,
  );
});

Deno.test("readLines: a file with no newline stops at the limit, quickly", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/sparse.txt`;
  await Deno.writeTextFile(path, "");
  await Deno.truncate(path, 1024 ** 3); // 1 GB of NULs, sparse
  const t0 = performance.now();
  await assertRejects(() => collect(readLines(path, { maxLength: 4 << 20 })), Error, "line 1");
  assert(performance.now() - t0 < 5000, "read about the limit, not the whole file");
});

Deno.test("JsonArraySplitter: an element over the limit is an error naming it", () => {
  const s = new JsonArraySplitter("test", { maxLength: 100 });
  assertEquals(s.push('[{"a": 1}, "' + "x".repeat(60)), [{ a: 1 }]);
  assertThrows(() => s.push("y".repeat(60)), Error, "test: element 2 is longer than");
});

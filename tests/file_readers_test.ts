import { assertEquals, assertRejects } from "./assert.ts";
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

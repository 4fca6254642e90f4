/**
 * WebDataset shards: consecutive tar entries of one key are one sample, split into key and field
 * as the `webdataset` library splits names; read from a tar written here by hand.
 *
 * @module
 */
import { assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { tarOf } from "./helpers/fixture_files.ts";
import { readWebDataset, webDatasetKey } from "../src/plugins/webdataset.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("webDatasetKey: the key is the folder and the name to the first dot", () => {
  assertEquals(webDatasetKey("s0000001.jpg"), { key: "s0000001", field: "jpg" });
  assertEquals(webDatasetKey("a/b/s1.seg.PNG"), { key: "a/b/s1", field: "seg.png" });
  assertEquals(webDatasetKey("v1.0/x.txt"), { key: "v1.0/x", field: "txt" });
  assertEquals(webDatasetKey("README"), undefined);
  assertEquals(webDatasetKey("dir/.hidden"), undefined);
});

Deno.test("readWebDataset: samples in order, fields by extension; stopping early closes it", async () => {
  await using tmp = await tempDir();
  const big = new Uint8Array(1500).map((_, i) => i % 251); // spans blocks, not a multiple of 512
  await Deno.writeFile(
    `${tmp.path}/0.tar`,
    tarOf([
      ["s0.jpg", big],
      ["s0.txt", enc.encode("first")],
      ["NOTES", enc.encode("no dot: skipped")],
      ["s1.txt", enc.encode("second")],
      ["s1.cls", enc.encode("7")],
      ["s0.txt", enc.encode("a later s0 is a new sample, as webdataset reads it")],
    ]),
  );
  const samples = [];
  for await (const s of readWebDataset(`${tmp.path}/0.tar`)) samples.push(s);
  assertEquals(samples.map((s) => [s.key, Object.keys(s.files)]), [
    ["s0", ["jpg", "txt"]],
    ["s1", ["txt", "cls"]],
    ["s0", ["txt"]],
  ]);
  assertEquals(samples[0].files.jpg, big);
  assertEquals(dec.decode(samples[1].files.txt), "second");
  // The test's resource sanitizer fails it if breaking out leaves the file open.
  for await (const s of readWebDataset(`${tmp.path}/0.tar`)) {
    assertEquals(s.key, "s0");
    break;
  }
});

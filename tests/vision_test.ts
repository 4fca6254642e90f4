/**
 * Vision prompts end to end: `random_vl` sends `--image-num` PNG images of the asked size and
 * colour mode in OpenAI's content-part form (decoded here with `fast-png`); the `images` dataset
 * sends local files as data URLs; and when the server reports no usage, images count
 * `ceil(h/p)·ceil(w/p)` prompt tokens each (evalscope's rule), computed here from the sizes.
 *
 * @module
 */
import { decode } from "fast-png";
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { startMockServer } from "../src/mock/server.ts";
import { base64, imageSize, imageTokens, sniffImageMime } from "../src/plugins/images.ts";
import { randomImageUrl } from "../plugins/datasets/random_vl.ts";

/** The messages of a body, as these tests read them. */
type Chat = Array<
  { role: string; content: Array<{ type: string; text: string; image_url: { url: string } }> }
>;

function pngOf(url: string) {
  const prefix = "data:image/png;base64,";
  assert(url.startsWith(prefix), url.slice(0, 40));
  return decode(Uint8Array.from(atob(url.slice(prefix.length)), (c) => c.charCodeAt(0)));
}

Deno.test("random_vl: text then --image-num PNG images of the asked size and mode", async () => {
  const server = chatStub();
  try {
    await using r = await perfRun({
      server,
      flags: { dataset: "random_vl", number: 2, maxPromptLength: 40, noTestConnection: true },
      args: ["--image-num", "2", "--image-width", "64", "--image-height", "48"],
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(server.requests.length, 2);
    for (const q of server.requests) {
      const [m] = q.body.messages as Chat;
      assertEquals(m.role, "user");
      assertEquals(m.content.length, 3);
      assertEquals(m.content[0].type, "text");
      assert(m.content[0].text.length <= 40);
      for (const part of m.content.slice(1)) {
        assertEquals(part.type, "image_url");
        const png = pngOf(part.image_url.url);
        assertEquals([png.width, png.height, png.channels], [64, 48, 3]);
      }
    }
  } finally {
    await server.close();
  }
});

Deno.test("random_vl: with no usage, images count ceil(h/p)·ceil(w/p) prompt tokens", async () => {
  const mock = startMockServer({ port: 0, usage: false, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { dataset: "random_vl", number: 3, maxPromptLength: 20 },
      args: [
        "--image-num",
        "2",
        "--image-width",
        "100",
        "--image-height",
        "50",
        "--image-patch-size",
        "28",
        "--image-format",
        "L",
      ],
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ prompt_tokens: number }>("SELECT prompt_tokens FROM result");
    const perImage = Math.ceil(50 / 28) * Math.ceil(100 / 28); // 2 · 4
    assertEquals(rows.map((x) => x.prompt_tokens), [2 * perImage, 2 * perImage, 2 * perImage]);
  } finally {
    await mock.close();
  }
});

Deno.test("images: a folder and a JSON Lines file of local images and URLs", async () => {
  await using dir = await tempDir();
  const rnd = () => 0.5;
  const png = async (w: number, h: number) =>
    Uint8Array.from(
      atob((await randomImageUrl(w, h, "RGBA", rnd)).split(",")[1]),
      (c) => c.charCodeAt(0),
    );
  await Deno.mkdir(`${dir.path}/pics`);
  await Deno.writeFile(`${dir.path}/pics/a.png`, await png(30, 20));
  await Deno.writeFile(`${dir.path}/pics/b.png`, await png(10, 10));
  await Deno.writeTextFile(`${dir.path}/pics/b.txt`, "What colour is it?\n");
  await Deno.writeTextFile(`${dir.path}/pics/notes.md`, "not an image");
  await Deno.writeTextFile(
    `${dir.path}/list.jsonl`,
    JSON.stringify({ images: ["pics/a.png", "https://example.com/x.jpg"], question: "Compare." }),
  );
  const server = chatStub();
  try {
    await using f = await perfRun({
      server,
      flags: { dataset: "images", datasetPath: `${dir.path}/pics`, noTestConnection: true },
    });
    assertEquals(f.code, 0, f.stderr);
    const sent = server.requests.map((q) => (q.body.messages as Chat)[0].content);
    assertEquals(sent.map((c) => c[0].text), ["Describe the image.", "What colour is it?"]);
    assertEquals(imageSize(sent[0][1].image_url.url), { width: 30, height: 20 });
    assertEquals(imageSize(sent[1][1].image_url.url), { width: 10, height: 10 });
    server.requests.length = 0;
    await using j = await perfRun({
      server,
      flags: { dataset: "images", datasetPath: `${dir.path}/list.jsonl`, noTestConnection: true },
    });
    assertEquals(j.code, 0, j.stderr);
    const [content] = server.requests.map((q) => (q.body.messages as Chat)[0].content);
    assertEquals(content[0].text, "Compare.");
    assertEquals(imageSize(content[1].image_url.url), { width: 30, height: 20 });
    assertEquals(content[2].image_url.url, "https://example.com/x.jpg");
  } finally {
    await server.close();
  }
});

Deno.test("imageSize reads PNG, JPEG and GIF headers; imageTokens sums the images", async () => {
  const data = (bytes: number[]) => `data:image/x;base64,${btoa(String.fromCharCode(...bytes))}`;
  // JPEG: SOI, an APP0 segment of 16 bytes, then SOF0 with height 300 and width 500.
  const jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 16, ...new Array(14).fill(0)];
  jpeg.push(
    0xff,
    0xc0,
    0,
    17,
    8,
    300 >> 8,
    300 & 255,
    500 >> 8,
    500 & 255,
    ...new Array(20).fill(0),
  );
  assertEquals(imageSize(data(jpeg)), { width: 500, height: 300 });
  const gif = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 40, 0, 20, 0, ...new Array(20).fill(0)];
  assertEquals(imageSize(data(gif)), { width: 40, height: 20 });
  assertEquals(imageSize("https://example.com/a.png"), undefined);
  const png = await randomImageUrl(224, 224, "RGB", () => 0.25);
  const messages = [{
    role: "user",
    content: [{ type: "text", text: "x" }, { type: "image_url", image_url: { url: png } }, {
      type: "image_url",
      image_url: { url: data(jpeg) },
    }],
  }];
  assertEquals(imageTokens(messages, 28), 8 * 8 + Math.ceil(300 / 28) * Math.ceil(500 / 28));
});

Deno.test("base64 matches btoa of the bytes; sniffImageMime knows the four signatures", () => {
  assertEquals(base64(new Uint8Array([137, 80, 78, 71])), "iVBORw==");
  let seed = 7;
  const bytes = new Uint8Array(100_003).map(() =>
    (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24
  );
  for (const n of [0, 1, 2, 3, 4, 5, 0x8000 + 1, bytes.length]) {
    const part = bytes.subarray(0, n);
    let bin = "";
    for (const b of part) bin += String.fromCharCode(b);
    assertEquals(base64(part), btoa(bin), `${n} bytes`);
  }
  const sig = (...b: number[]) => sniffImageMime(Uint8Array.from([...b, ...new Array(12).fill(0)]));
  assertEquals(sig(0x89, 0x50, 0x4e, 0x47), "image/png");
  assertEquals(sig(0xff, 0xd8, 0xff), "image/jpeg");
  assertEquals(sig(0x47, 0x49, 0x46, 0x38), "image/gif");
  assertEquals(
    sniffImageMime(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")),
    "image/webp",
  );
  assertEquals(sig(0x42, 0x4d), undefined, "BMP is not one llmperf sends");
});

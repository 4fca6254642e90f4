import { assert, assertEquals } from "./assert.ts";
import { endsInsideCharacter, Utf8Chunks } from "../src/transport/utf8_chunks.ts";
// A seeded generator, so that a failure can be replayed.
import { seeded as rng } from "../plugins/datasets/random.ts";

const enc = new TextEncoder();

/**
 * The reference, read by read: a streaming TextDecoder that keeps every byte-order mark, and the
 * WHATWG rule applied to its output (a mark is dropped only as the text's first character).
 * Deno's own streaming decoder (2.9.6, default `ignoreBOM: false`) drops a mark that begins the
 * first read holding a byte beyond ASCII when every read before it was ASCII, even in the middle
 * of the text (Node's keeps it, as the standard says).
 */
function reference(reads: Uint8Array[]): string[] {
  const d = new TextDecoder("utf-8", { ignoreBOM: true });
  const out = [...reads.map((r) => d.decode(r, { stream: true })), d.decode()];
  const first = out.findIndex((t) => t.length > 0);
  if (first !== -1 && out[first].charCodeAt(0) === 0xfeff) out[first] = out[first].slice(1);
  return out;
}

function decoded(reads: Uint8Array[]): string[] {
  const d = new Utf8Chunks();
  return [...reads.map((r) => d.decode(r)), d.end()];
}

/** Split `b` at random points (empty reads included). */
function split(b: Uint8Array, r: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < b.length) {
    const n = r() < 0.1 ? 0 : 1 + Math.floor(r() * Math.min(12, b.length - i));
    out.push(b.subarray(i, i + n));
    i += n;
  }
  if (r() < 0.2) out.push(new Uint8Array(0));
  return out;
}

const PIECES = [
  "data: ",
  '{"content":"',
  "\n\n",
  "é",
  "ß",
  "€",
  "中文",
  "😀",
  "\ufeff",
  "a",
  " word",
  "\u0000",
  "\u07ff",
  "\u0800",
  "\uffff",
  "\u{10000}",
  "\u{10ffff}",
];

/** Bytes that are often not UTF-8: leads without continuations, stray continuations, etc. */
const ODD = [
  0x80,
  0xbf,
  0xc0,
  0xc1,
  0xc2,
  0xdf,
  0xe0,
  0xed,
  0xef,
  0xf0,
  0xf4,
  0xf5,
  0xff,
  0x9f,
  0xa0,
];

function body(r: () => number): Uint8Array {
  const bytes: number[] = [];
  const parts = 1 + Math.floor(r() * 30);
  for (let p = 0; p < parts; p++) {
    if (r() < 0.25) bytes.push(ODD[Math.floor(r() * ODD.length)]);
    else bytes.push(...enc.encode(PIECES[Math.floor(r() * PIECES.length)]));
  }
  return Uint8Array.from(bytes);
}

Deno.test("Utf8Chunks equals a streaming TextDecoder over 20,000 random bodies and splits", () => {
  const r = rng(13);
  for (let i = 0; i < 20_000; i++) {
    const b = body(r);
    const reads = split(b, r);
    // The whole text, against a one-shot decode of the whole body.
    assertEquals(decoded(reads).join(""), new TextDecoder().decode(b), `body ${i}: ${[...b]}`);
    // Read by read, too: the same text comes out of the same read.
    assertEquals(decoded(reads), reference(reads), `body ${i}: ${[...b]}`);
  }
});

Deno.test("Utf8Chunks equals a streaming TextDecoder on every 1-3 byte sequence, split anywhere", () => {
  const r = rng(7);
  const interesting = [0x00, 0x41, 0x7f, ...ODD, 0x8f, 0x90, 0xa9, 0xbb, 0xe2, 0xf1];
  for (const a of interesting) {
    for (const b of interesting) {
      for (const c of interesting) {
        const whole = Uint8Array.of(a, b, c, 0x41);
        for (let cut = 0; cut <= whole.length; cut++) {
          const reads = [whole.subarray(0, cut), whole.subarray(cut)];
          assertEquals(decoded(reads), reference(reads), `${[a, b, c]} cut at ${cut}`);
        }
        const reads = split(Uint8Array.of(0xef, 0xbb, 0xbf, a, b, c), r);
        assertEquals(decoded(reads), reference(reads), `BOM + ${[a, b, c]}`);
      }
    }
  }
});

Deno.test("Utf8Chunks drops one byte-order mark at the start only, whichever path decodes it", () => {
  const bom = enc.encode("\ufeff");
  assertEquals(decoded([bom, bom, enc.encode("x")]).join(""), "\ufeffx");
  assertEquals(decoded([bom.subarray(0, 1), bom.subarray(1), bom]).join(""), "\ufeff");
  assertEquals(decoded([new Uint8Array(0), bom, enc.encode("a")]).join(""), "a");
  // The streaming path taken after text came: a later mark is text.
  const euro = enc.encode("€");
  assertEquals(decoded([enc.encode("a"), euro.subarray(0, 1), euro.subarray(1), bom]), [
    "a",
    "",
    "€",
    "\ufeff",
    "",
  ]);
});

Deno.test("Utf8Chunks keeps a byte-order mark that begins a later read (it is text there)", () => {
  const reads = [enc.encode(" word"), enc.encode("\ufeffa")];
  assertEquals(decoded(reads), [" word", "\ufeffa", ""]);
  assertEquals(decoded(reads).join(""), new TextDecoder().decode(enc.encode(" word\ufeffa")));
});

Deno.test("endsInsideCharacter: held prefixes of valid sequences, never errors", () => {
  const euro = enc.encode("€"); // e2 82 ac
  const grin = enc.encode("😀"); // f0 9f 98 80
  assertEquals(endsInsideCharacter(euro.subarray(0, 1)), true);
  assertEquals(endsInsideCharacter(euro.subarray(0, 2)), true);
  assertEquals(endsInsideCharacter(euro), false);
  assertEquals(endsInsideCharacter(grin.subarray(0, 3)), true);
  assertEquals(endsInsideCharacter(grin), false);
  assertEquals(endsInsideCharacter(Uint8Array.of(0xe0, 0x80)), false); // overlong: an error now
  assertEquals(endsInsideCharacter(Uint8Array.of(0xed, 0xa0)), false); // a surrogate
  assertEquals(endsInsideCharacter(Uint8Array.of(0xf4, 0x90)), false); // past U+10FFFF
  assertEquals(endsInsideCharacter(Uint8Array.of(0xc0)), false); // leads nothing
  assertEquals(endsInsideCharacter(Uint8Array.of(0x80, 0x80, 0x80)), false);
  assertEquals(endsInsideCharacter(new Uint8Array(0)), false);
});

Deno.test("Utf8Chunks.decodeNarrow: each read's pieces join to decode's text (400 random SSE bodies and splits)", () => {
  const r = rng(17);
  let cut = 0;
  for (let i = 0; i < 400; i++) {
    // Events of the pieces above (wide, Latin-1, marks, odd bytes), long enough to be cut.
    const bytes: number[] = [];
    const n = 100 + Math.floor(r() * 300);
    for (let e = 0; e < n; e++) {
      bytes.push(...enc.encode("data: "));
      const b = body(r);
      bytes.push(...(r() < 0.985 ? b.filter((x) => x < 0x80) : b));
      bytes.push(...enc.encode("\n\n"));
    }
    const all = Uint8Array.from(r() < 0.1 ? [0xef, 0xbb, 0xbf, ...bytes] : bytes);
    const reads: Uint8Array[] = [];
    for (let s = 0; s < all.length;) {
      const len = 1 + Math.floor(r() * 30_000);
      reads.push(all.subarray(s, s + len));
      s += len;
    }
    const whole = new Utf8Chunks();
    const narrow = new Utf8Chunks();
    for (const read of reads) {
      const got = narrow.decodeNarrow(read);
      if (typeof got !== "string") cut++;
      assertEquals(typeof got === "string" ? got : got.join(""), whole.decode(read), `body ${i}`);
    }
    assertEquals(narrow.end(), whole.end());
  }
  assert(cut > 20, `only ${cut} reads were cut`);
});

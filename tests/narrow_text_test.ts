import { assert, assertEquals } from "./assert.ts";
import { NARROW_MIN_BYTES, narrowPieces } from "../src/transport/narrow_text.ts";
import { seeded as rng } from "../plugins/datasets/random.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { ignoreBOM: true });
const decode = (b: Uint8Array): string => dec.decode(b);

/** Whether `s` holds a character V8 cannot keep one byte each (past U+00FF). */
const wide = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return true;
  return false;
};

/** The events of a text, each with the blank line that ends it. */
function events(text: string): string[] {
  return text.split(/(?<=\n\n)/);
}

const ASCII = ["a", " word", '{"content":"', '"}', "0.5", "\\u2019", "\u0000"];
const LATIN1 = ["é", "ß", "\u00ff", "\u0080"];
const WIDE = ["模型", "’", "€", "😀", "\u0100", "\u07ff", "\u0800", "\uffff", "\u{10ffff}"];

/** An SSE body of `n` events, each wide with probability `pWide` and Latin-1 with `pLatin`. */
function sseBody(r: () => number, n: number, pWide: number, pLatin = 0.2): string {
  let s = "";
  for (let e = 0; e < n; e++) {
    s += "data: ";
    const parts = 1 + Math.floor(r() * 12);
    for (let p = 0; p < parts; p++) s += ASCII[Math.floor(r() * ASCII.length)];
    if (r() < pLatin) s += LATIN1[Math.floor(r() * LATIN1.length)];
    if (r() < pWide) s += WIDE[Math.floor(r() * WIDE.length)];
    s += r() < 0.05 ? "\n" : "\n\n"; // a line that does not end the event, now and then
  }
  return s;
}

/** `bytes` copied at `offset` into a larger buffer: the scan's unaligned starts. */
function at(bytes: Uint8Array, offset: number): Uint8Array {
  const big = new Uint8Array(bytes.length + offset + 3);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

Deno.test("narrowPieces: the module's example", () => {
  const bytes = enc.encode('data: {"a":"x"}\n\ndata: {"a":"模型"}\n\ndata: {"a":"y"}\n\n');
  assertEquals(narrowPieces(bytes, decode), [
    'data: {"a":"x"}\n\n',
    'data: {"a":"模型"}\n\n',
    'data: {"a":"y"}\n\n',
  ]);
});

Deno.test("narrowPieces: pieces join to the text, one-byte pieces hold no wide character and every event of a wide piece holds one (3,000 random bodies, every alignment)", () => {
  const r = rng(29);
  let cut = 0;
  for (let i = 0; i < 3_000; i++) {
    const text = sseBody(r, 2 + Math.floor(r() * 120), r() * 0.3);
    const bytes = at(enc.encode(text), i % 4);
    const pieces = narrowPieces(bytes, decode);
    if (pieces === undefined) continue;
    cut++;
    assertEquals(pieces.join(""), text, `body ${i}`);
    for (const piece of pieces) {
      if (!wide(piece)) continue;
      for (const e of events(piece)) assert(wide(e), `body ${i}: a one-byte event in ${piece}`);
    }
    // Wide and one-byte pieces alternate: two wide runs side by side would be one piece.
    for (let k = 1; k < pieces.length; k++) {
      assert(wide(pieces[k]) !== wide(pieces[k - 1]), `body ${i}: pieces ${k - 1} and ${k}`);
    }
  }
  assert(cut > 1_000, `only ${cut} bodies were cut`);
});

Deno.test("narrowPieces: left whole when there is nothing to narrow", () => {
  const r = rng(3);
  const ascii = enc.encode(sseBody(r, 50, 0, 0));
  assertEquals(narrowPieces(ascii, decode), undefined);
  const latin1 = enc.encode(sseBody(r, 50, 0, 0.9));
  assert([...dec.decode(latin1)].some((c) => c.charCodeAt(0) >= 0x80));
  assertEquals(narrowPieces(latin1, decode), undefined); // one-byte already
  // One event, or every event wide: one two-byte run whatever is done.
  assertEquals(narrowPieces(enc.encode('data: {"a":"模型"}\n\n'), decode), undefined);
  assertEquals(narrowPieces(enc.encode(sseBody(r, 30, 1)), decode), undefined);
  // Mostly wide text (a Chinese reply): more than 64 wide characters.
  const chinese = "data: " + "中文".repeat(40) + "\n\ndata: x\n\n" + "data: " + "中".repeat(30);
  assertEquals(narrowPieces(enc.encode(chinese), decode), undefined);
});

Deno.test("narrowPieces: invalid UTF-8 decodes as in one piece (no decoder state crosses a blank line)", () => {
  const r = rng(41);
  const odd = [0x80, 0xbf, 0xc0, 0xc4, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  for (let i = 0; i < 2_000; i++) {
    const parts: number[] = [];
    const n = 2 + Math.floor(r() * 40);
    for (let e = 0; e < n; e++) {
      parts.push(...enc.encode("data: x"));
      if (r() < 0.3) parts.push(odd[Math.floor(r() * odd.length)]);
      if (r() < 0.2) parts.push(...enc.encode("模"));
      parts.push(...enc.encode(r() < 0.1 ? "\n" : "\n\n"));
    }
    const bytes = at(Uint8Array.from(parts), i % 4);
    const pieces = narrowPieces(bytes, decode);
    if (pieces !== undefined) assertEquals(pieces.join(""), decode(bytes), `body ${i}: ${parts}`);
  }
});

Deno.test("narrowPieces: NARROW_MIN_BYTES is more than one paced event", () => {
  // A paced read is one event (~250 bytes with the mock's stamps): never worth a scan.
  assert(NARROW_MIN_BYTES >= 512);
});

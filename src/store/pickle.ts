/**
 * Python pickles of plain data, both ways, so the result DB holds what evalscope's holds
 * (`base64(pickle.dumps(x))`). The encoder writes protocol 2 for null, booleans, numbers,
 * strings, arrays and plain objects, byte for byte as CPython does for data without repeated
 * objects (memo `BINPUT` after each string, list and dict; batches of 1000 items as its C
 * pickler writes them). The decoder accepts only the opcodes
 * of plain data (protocols 0–5) and refuses anything that would import or call — it never
 * executes anything.
 *
 * @module
 */

import { ScratchBytes } from "../util/scratch_bytes.ts";
/** A value a pickle here can hold. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | { [key: string]: PickleValue };

const enc = new TextEncoder();

class ByteWriter {
  buf = new Uint8Array(256);
  len = 0;
  #view = new DataView(this.buf.buffer);
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.#view = new DataView(b.buffer);
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  u16(v: number): void {
    this.ensure(2);
    this.#view.setUint16(this.len, v, true);
    this.len += 2;
  }
  i32(v: number): void {
    this.ensure(4);
    this.#view.setInt32(this.len, v, true);
    this.len += 4;
  }
  u32(v: number): void {
    this.ensure(4);
    this.#view.setUint32(this.len, v, true);
    this.len += 4;
  }
  f64be(v: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.len, v, false);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

// CPython (its C pickler) writes containers in batches of 1000 items, each between MARK and
// APPENDS / SETITEMS, a last batch of one included; only a container of exactly one item gets
// APPEND / SETITEM.
const BATCH = 1000;

/** Encode a plain value as a protocol-2 pickle. Throws for values pickles here cannot hold. */
export function pickleEncode(value: unknown): Uint8Array {
  const w = new ByteWriter();
  let memo = 0;
  const put = () => {
    if (memo < 256) {
      w.byte(0x71); // BINPUT
      w.byte(memo);
    } else {
      w.byte(0x72); // LONG_BINPUT
      w.u32(memo);
    }
    memo++;
  };
  const int = (v: bigint) => {
    if (v >= 0n && v <= 0xffn) {
      w.byte(0x4b); // BININT1
      w.byte(Number(v));
    } else if (v >= 0n && v <= 0xffffn) {
      w.byte(0x4d); // BININT2
      w.u16(Number(v));
    } else if (v >= -0x80000000n && v <= 0x7fffffffn) {
      w.byte(0x4a); // BININT
      w.i32(Number(v));
    } else {
      const bytes = longBytes(v);
      w.byte(0x8a); // LONG1
      w.byte(bytes.length);
      w.bytes(bytes);
    }
  };
  const save = (v: unknown): void => {
    if (v === null || v === undefined) return w.byte(0x4e); // NONE
    if (v === true) return w.byte(0x88); // NEWTRUE
    if (v === false) return w.byte(0x89); // NEWFALSE
    if (typeof v === "bigint") return int(v);
    if (typeof v === "number") {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        // The usual ints straight from the number (no BigInt per value); the rest as `int` does.
        if (v >= 0 && v <= 0xff) {
          w.byte(0x4b); // BININT1
          return w.byte(v);
        }
        if (v >= 0 && v <= 0xffff) {
          w.byte(0x4d); // BININT2
          return w.u16(v);
        }
        if (v >= -0x80000000 && v <= 0x7fffffff) {
          w.byte(0x4a); // BININT
          return w.i32(v);
        }
        return int(BigInt(v));
      }
      w.byte(0x47); // BINFLOAT
      return w.f64be(v);
    }
    if (typeof v === "string") {
      // UTF-8 written in place (at most 3 bytes per UTF-16 unit), its length after.
      w.ensure(5 + 3 * v.length);
      const at = w.len;
      w.buf[at] = 0x58; // BINUNICODE
      const n = enc.encodeInto(v, w.buf.subarray(at + 5)).written;
      w.len = at + 1;
      w.u32(n);
      w.len += n;
      return put();
    }
    if (Array.isArray(v)) {
      w.byte(0x5d); // EMPTY_LIST
      put();
      for (let i = 0; i < v.length; i += BATCH) {
        const n = Math.min(BATCH, v.length - i);
        if (v.length === 1) {
          save(v[i]);
          w.byte(0x61); // APPEND
        } else {
          w.byte(0x28); // MARK
          for (let j = i; j < i + n; j++) save(v[j]);
          w.byte(0x65); // APPENDS
        }
      }
      return;
    }
    if (
      typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype ||
        Object.getPrototypeOf(v) === null)
    ) {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) =>
        x !== undefined
      );
      w.byte(0x7d); // EMPTY_DICT
      put();
      for (let i = 0; i < entries.length; i += BATCH) {
        const n = Math.min(BATCH, entries.length - i);
        if (entries.length === 1) {
          save(entries[i][0]);
          save(entries[i][1]);
          w.byte(0x73); // SETITEM
        } else {
          w.byte(0x28); // MARK
          for (let j = i; j < i + n; j++) {
            save(entries[j][0]);
            save(entries[j][1]);
          }
          w.byte(0x75); // SETITEMS
        }
      }
      return;
    }
    throw new TypeError(
      `cannot pickle a ${typeof v === "object" ? v.constructor?.name : typeof v}`,
    );
  };
  w.byte(0x80); // PROTO
  w.byte(2);
  save(value);
  w.byte(0x2e); // STOP
  return w.buf.slice(0, w.len);
}

/**
 * The protocol-2 pickle of a list of `count` strings given as their UTF-8 bytes joined by the
 * byte `separator` (a list of one string is all of `bytes`, separators included), byte for byte
 * what {@link pickleEncode} writes for the list of those strings: `PROTO 2`, `EMPTY_LIST` and its
 * memo, then in batches of 1000 `MARK`, one `BINUNICODE` and memo per string, `APPENDS` (a list
 * of one string: the string and `APPEND`), then `STOP`. Assembled directly: no string is decoded
 * or encoded again, one output buffer of the exact size.
 *
 * @example
 * ```ts
 * const utf8 = new TextEncoder().encode('{"a":1}\r{"b":2}');
 * pickleUtf8List(utf8, 2); // the bytes of pickleEncode(['{"a":1}', '{"b":2}'])
 * ```
 */
export function pickleUtf8List(
  bytes: Uint8Array,
  count: number,
  lengths?: Uint32Array,
  separator = 0x0d,
): Uint8Array {
  return pickleUtf8ListInto(undefined, bytes, count, separator, lengths);
}

/**
 * The buffer {@link base64PickleUtf8List} pickles into: one allocation for every row, not one
 * each; past 8 MB a pickle gets a buffer of its own, so that one huge row does not hold memory all
 * run.
 */
const scratch = new ScratchBytes(8 * 1024 * 1024);
const grow = (size: number): Uint8Array => scratch.take(size);

/**
 * `base64(pickleUtf8List(bytes, count))`, pickled into a buffer this module keeps and reuses (the
 * result is a string): the result DB's writer stores one per row, and a fresh 50 KB buffer per row
 * costs more than the pickling (the runtime's allocation of large buffers, and the collections
 * their external memory provokes: 47 µs against 25 µs for the pickling of a 256-token reply).
 *
 * @example
 * ```ts
 * const utf8 = new TextEncoder().encode('{"a":1}\r{"b":2}');
 * base64PickleUtf8List(utf8, 2) === bytesToBase64(pickleUtf8List(utf8, 2)); // true
 * ```
 */
export function base64PickleUtf8List(
  bytes: Uint8Array,
  count: number,
  lengths?: Uint32Array,
  separator = 0x0d,
): string {
  return bytesToBase64(pickleUtf8ListInto(grow, bytes, count, separator, lengths));
}

function pickleUtf8ListInto(
  into: ((size: number) => Uint8Array) | undefined,
  bytes: Uint8Array,
  count: number,
  separator: number,
  lengths: Uint32Array | undefined,
): Uint8Array {
  const n = bytes.length;
  const text = count === 0 ? 0 : n - (count - 1); // the strings' bytes, no separators
  const batches = Math.ceil(count / BATCH);
  const single = count === 1 ? 1 : 0; // a list of one: APPEND, no MARK
  const bigMemos = Math.max(0, count - 255); // memo keys 256 and up: LONG_BINPUT
  const size = 2 + 1 + 2 + text + count * (5 + 2) + bigMemos * 3 + (batches - single) * 2 +
    single + 1;
  // The input goes after the pickle in one buffer: each string then moves with `copyWithin` (a
  // memmove) and each separator is found with the native byte search, no view made per string.
  const out = into ? into(size + n) : new Uint8Array(size + n);
  out.set(bytes, size);
  let o = 0;
  out[o++] = 0x80; // PROTO
  out[o++] = 2;
  out[o++] = 0x5d; // EMPTY_LIST
  out[o++] = 0x71; // BINPUT 0
  out[o++] = 0;
  // The strings' ends: from their lengths where the packer knew them (every ASCII blob: no search
  // at all), else each separator searched in the bytes.
  const known = lengths !== undefined && lengthsFit(bytes, count, separator, lengths);
  let start = size;
  for (let i = 0; i < count; i++) {
    const inBatch = i % BATCH;
    const batch = Math.min(BATCH, count - (i - inBatch));
    if (inBatch === 0 && count > 1) out[o++] = 0x28; // MARK
    let end = size + n;
    if (i < count - 1) {
      const at = known ? start - size + lengths![i] : out.indexOf(separator, start) - size;
      if (at < 0) throw new RangeError(`${count} strings expected, ${i + 1} found`);
      end = size + at;
    }
    const len = end - start;
    out[o++] = 0x58; // BINUNICODE, then the length as 4 bytes, little-endian
    out[o++] = len & 0xff;
    out[o++] = (len >>> 8) & 0xff;
    out[o++] = (len >>> 16) & 0xff;
    out[o++] = len >>> 24;
    out.copyWithin(o, start, end);
    o += len;
    const memo = i + 1;
    if (memo < 256) {
      out[o++] = 0x71; // BINPUT
      out[o++] = memo;
    } else {
      out[o++] = 0x72; // LONG_BINPUT
      out[o++] = memo & 0xff;
      out[o++] = (memo >>> 8) & 0xff;
      out[o++] = (memo >>> 16) & 0xff;
      out[o++] = memo >>> 24;
    }
    if (inBatch === batch - 1) out[o++] = count > 1 ? 0x65 : 0x61; // APPENDS : APPEND
    start = end + 1;
  }
  out[o++] = 0x2e; // STOP
  if (o !== size) throw new Error(`pickleUtf8List: wrote ${o} of ${size} bytes`);
  // Into the kept buffer: a view of it; else a buffer of the pickle alone.
  return into ? out.subarray(0, size) : out.slice(0, size);
}

/**
 * Whether `lengths` cut `bytes` into `count` strings, each but the last followed by `separator`.
 * Given lengths that fit are the strings' own: a string may then hold the separator's byte (the
 * search would cut it there; SSE payloads never hold a CR).
 */
function lengthsFit(
  bytes: Uint8Array,
  count: number,
  separator: number,
  lengths: Uint32Array,
): boolean {
  if (lengths.length !== count) return false;
  let at = 0;
  for (let i = 0; i < count - 1; i++) {
    at += lengths[i];
    if (at >= bytes.length || bytes[at] !== separator) return false;
    at++;
  }
  return count === 0 || at + lengths[count - 1] === bytes.length;
}

/** Little-endian two's complement bytes of a big integer, as LONG1 wants them. */
function longBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = out[out.length - 1] & 0x80;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return Uint8Array.from(out);
}

/** The pickle uses something other than plain data, or is damaged. */
export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

const REFUSED: Record<number, string> = {
  0x63: "GLOBAL",
  0x93: "STACK_GLOBAL",
  0x52: "REDUCE",
  0x62: "BUILD",
  0x69: "INST",
  0x6f: "OBJ",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
};

const MARK = Symbol("mark");
const dec = new TextDecoder("utf-8", { fatal: false });

/**
 * Decode a pickle of plain data (None, bool, int, float, str, bytes → str, list, tuple → list,
 * dict). Throws {@link PickleError} for any opcode that would import a class or call something.
 */
export function pickleDecode(data: Uint8Array): PickleValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const need = (n: number) => {
    if (pos + n > data.length) throw new PickleError("truncated pickle");
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), pos += 2, view.getUint16(pos - 2, true));
  const u32 = () => (need(4), pos += 4, view.getUint32(pos - 4, true));
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const bytes = (n: number) => (need(n), pos += n, data.subarray(pos - n, pos));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError("truncated pickle");
    const s = dec.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.splice(i);
        items.shift();
        return items;
      }
    }
    throw new PickleError("damaged pickle: no MARK");
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError("damaged pickle: empty stack");
    return stack[stack.length - 1];
  };
  const long = (b: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
      throw new PickleError("damaged pickle: SETITEMS on a non-dict");
    }
    for (let i = 0; i + 1 < items.length; i += 2) {
      (dict as Record<string, unknown>)[String(items[i])] = items[i + 1];
    }
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError("damaged pickle: stack at STOP");
        return stack[0] as PickleValue;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(long(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(bytes(u32())));
        break;
      case 0x49: { // INT (text; "01"/"00" are booleans in protocol 0)
        const s = line();
        stack.push(s === "01" ? true : s === "00" ? false : Number(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number(line().replace(/L$/, "")));
        break;
      case 0x47: // BINFLOAT
        need(8);
        pos += 8;
        stack.push(view.getFloat64(pos - 8, false));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(dec.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(dec.decode(bytes(u8())));
        break;
      case 0x8d: { // BINUNICODE8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(dec.decode(bytes(n)));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(
          line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
        );
        break;
      case 0x43: // SHORT_BINBYTES
      case 0x55: // SHORT_BINSTRING
        stack.push(dec.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
      case 0x54: // BINSTRING
        stack.push(dec.decode(bytes(u32())));
        break;
      case 0x8e: { // BINBYTES8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(dec.decode(bytes(n)));
        break;
      }
      case 0x96: // BYTEARRAY8
        throw new PickleError("pickle holds a bytearray: not plain data");
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push({});
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x6c: // LIST
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push(stack.splice(-1));
        break;
      case 0x86: // TUPLE2
        stack.push(stack.splice(-2));
        break;
      case 0x87: // TUPLE3
        stack.push(stack.splice(-3));
        break;
      case 0x64: { // DICT
        const d = {};
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = stack.pop();
        const l = top();
        if (!Array.isArray(l)) throw new PickleError("damaged pickle: APPEND on a non-list");
        l.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) throw new PickleError("damaged pickle: APPENDS on a non-list");
        l.push(...items);
        break;
      }
      case 0x73: { // SETITEM
        const v = stack.pop();
        const k = stack.pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
      case 0x90: // ADDITEMS
      case 0x91: // FROZENSET
        throw new PickleError("pickle holds a set: not plain data");
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: { // GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) throw new PickleError("damaged pickle: unknown memo key");
        stack.push(memo.get(k));
        break;
      }
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default: {
        const name = REFUSED[op];
        if (name) {
          throw new PickleError(
            `pickle uses ${name} (it would import or call code): refusing to decode anything but plain data`,
          );
        }
        throw new PickleError(`unknown pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
      }
    }
  }
}

/** `base64(pickle(value))`, as evalscope stores request bodies and response lists. */
export function pickleBase64(value: unknown): string {
  return bytesToBase64(pickleEncode(value));
}

/** Decode a base64 pickle of plain data. */
export function unpickleBase64(text: string): PickleValue {
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(text);
  } catch {
    throw new PickleError("not base64");
  }
  return pickleDecode(bytes);
}

/** The runtime's native `Uint8Array.prototype.toBase64`, where it has one (V8 ≥ 13.x). */
const nativeToBase64 = (Uint8Array.prototype as { toBase64?: () => string }).toBase64;

/** Standard base64 of bytes. */
export function bytesToBase64(b: Uint8Array): string {
  if (nativeToBase64) return nativeToBase64.call(b);
  let s = "";
  const CH = 0x8000;
  for (let i = 0; i < b.length; i += CH) s += String.fromCharCode(...b.subarray(i, i + CH));
  return btoa(s);
}

/** Bytes of standard base64. */
export function base64ToBytes(text: string): Uint8Array {
  const s = atob(text.trim());
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * SQLite's errors as node:sqlite throws them, in words: the primary result code of an error
 * (from its `errcode`, or from SQLite's own text where `exec` gives only that) and a one-line
 * description (`disk full (SQLITE_FULL)`). Shared by the DB writer and the readers.
 *
 * @example
 * ```ts
 * import { describeSqliteError, primaryCode, SQLITE } from "./sqlite_errors.ts";
 * const e = Object.assign(new Error("database or disk is full"), { errcode: 13 });
 * primaryCode(e) === SQLITE.FULL; // true
 * describeSqliteError(e); // "disk full (SQLITE_FULL)"
 * ```
 *
 * @module
 */

/** The primary result codes llmperf tells apart. */
export const SQLITE = {
  PERM: 3,
  BUSY: 5,
  READONLY: 8,
  IOERR: 10,
  CORRUPT: 11,
  FULL: 13,
  CANTOPEN: 14,
  NOTADB: 26,
} as const;

/** Each code: its name, what it means, and SQLite's own text for it. */
const KNOWN: ReadonlyArray<[number, string, string, string]> = [
  [SQLITE.PERM, "SQLITE_PERM", "permission denied", "access permission denied"],
  [SQLITE.BUSY, "SQLITE_BUSY", "the file is locked", "database is locked"],
  [SQLITE.READONLY, "SQLITE_READONLY", "read-only", "attempt to write a readonly database"],
  [SQLITE.IOERR, "SQLITE_IOERR", "I/O error", "disk I/O error"],
  [SQLITE.CORRUPT, "SQLITE_CORRUPT", "the file is corrupt", "database disk image is malformed"],
  [SQLITE.FULL, "SQLITE_FULL", "disk full", "database or disk is full"],
  [SQLITE.CANTOPEN, "SQLITE_CANTOPEN", "cannot open the file", "unable to open database file"],
  [SQLITE.NOTADB, "SQLITE_NOTADB", "not a database", "file is not a database"],
];

function known(e: unknown): [number, string, string, string] | undefined {
  const code = (e as { errcode?: unknown })?.errcode;
  const message = e instanceof Error ? e.message : String(e);
  return KNOWN.find(([n, , , text]) =>
    typeof code === "number" ? (code & 0xff) === n : message.startsWith(text)
  );
}

/** The primary result code of a SQLite error (`errcode & 0xff`, or found by its text). */
export function primaryCode(e: unknown): number | undefined {
  const code = (e as { errcode?: unknown })?.errcode;
  return typeof code === "number" ? code & 0xff : known(e)?.[0];
}

/** A SQLite error in words with its result code: `disk full (SQLITE_FULL)`. */
export function describeSqliteError(e: unknown): string {
  const k = known(e);
  if (k) return `${k[2]} (${k[1]})`;
  const code = (e as { errcode?: unknown })?.errcode;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === "number" ? `${message} (SQLite code ${code})` : message;
}

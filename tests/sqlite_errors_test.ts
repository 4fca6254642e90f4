/**
 * SQLite errors in words: the primary code from an extended `errcode` or from SQLite's own text
 * (errors of `exec` carry only that), and the one line the run prints, on real node:sqlite errors.
 */
import { assertEquals } from "./assert.ts";
import { DatabaseSync } from "node:sqlite";
import { describeSqliteError, primaryCode, SQLITE } from "../src/store/sqlite_errors.ts";

Deno.test("sqlite errors: a statement's extended code and an exec's text give the same primary code", () => {
  const path = Deno.makeTempFileSync({ suffix: ".db" });
  try {
    const setup = new DatabaseSync(path);
    setup.exec("CREATE TABLE t(x)");
    setup.close();
    const ro = new DatabaseSync(path, { readOnly: true });
    let fromStatement: unknown, fromExec: unknown;
    try {
      ro.prepare("INSERT INTO t VALUES (1)").run();
    } catch (e) {
      fromStatement = e;
    }
    try {
      ro.exec("INSERT INTO t VALUES (1)");
    } catch (e) {
      fromExec = e;
    }
    ro.close();
    assertEquals(primaryCode(fromStatement), SQLITE.READONLY);
    assertEquals(primaryCode(fromExec), SQLITE.READONLY);
    assertEquals(describeSqliteError(fromStatement), "read-only (SQLITE_READONLY)");
    assertEquals(describeSqliteError(fromExec), "read-only (SQLITE_READONLY)");
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("sqlite errors: the text of a lock, an extended code, and an error SQLite did not make", () => {
  assertEquals(primaryCode(new Error("database is locked")), SQLITE.BUSY);
  assertEquals(primaryCode(Object.assign(new Error("x"), { errcode: 776 })), SQLITE.READONLY);
  assertEquals(primaryCode(new Error("something else")), undefined);
  assertEquals(
    describeSqliteError(new Error("database or disk is full")),
    "disk full (SQLITE_FULL)",
  );
  assertEquals(
    describeSqliteError(Object.assign(new Error("odd"), { errcode: 99 })),
    "odd (SQLite code 99)",
  );
  assertEquals(describeSqliteError(new Error("something else")), "something else");
});

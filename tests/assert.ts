/**
 * Test assertions over `node:assert` (jsr:@std/assert cannot be installed on these machines).
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Truthiness. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** `|actual − expected| <= tolerance`. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance: number,
  msg?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(
      `${msg ? msg + ": " : ""}expected ${expected} ± ${tolerance}, got ${actual}`,
    );
  }
}

/** `fn` throws an error of `type` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  type?: abstract new (...a: never[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    if (type && !(e instanceof type)) throw new Error(`expected ${type.name}, got ${e}`);
    if (includes && !String((e as Error).message).includes(includes)) {
      throw new Error(`expected message to include '${includes}', got '${(e as Error).message}'`);
    }
    return e as Error;
  }
  throw new Error("expected an error to be thrown");
}

/** `fn` rejects with an error of `type` whose message includes `includes`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  type?: abstract new (...a: never[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (type && !(e instanceof type)) throw new Error(`expected ${type.name}, got ${e}`);
    if (includes && !String((e as Error).message).includes(includes)) {
      throw new Error(`expected message to include '${includes}', got '${(e as Error).message}'`);
    }
    return e as Error;
  }
  throw new Error("expected a rejection");
}

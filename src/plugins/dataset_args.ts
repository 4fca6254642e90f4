/**
 * `--dataset-args` checked against what a dataset plugin declares it takes
 * ({@link DatasetArgsSchema}, as evalscope's `args_schema` with `extra='forbid'`): an unknown key,
 * a value of the wrong type, or a key the plugin declares but does not implement is one
 * {@link UsageError} line naming the dataset, the key and the keys it takes.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { DatasetArgsSchema, DatasetArgType } from "./types.ts";

/** What a value of `type` must be, in words. */
export function describeArgType(type: DatasetArgType): string {
  if (typeof type !== "string") return `one of ${type.map((t) => `"${t}"`).join(", ")}`;
  return {
    "number": "a number",
    "positive": "a number above 0",
    "positive-int": "a whole number above 0",
    "non-negative-int": "a whole number, 0 or more",
    "string": "a text",
    "boolean": "true or false",
    "string-map": "an object of texts",
    "length": "a whole number above 0, or [min, max] of them",
  }[type];
}

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

/** Whether `value` is of `type`. */
export function isArgOfType(value: unknown, type: DatasetArgType): boolean {
  if (typeof type !== "string") return typeof value === "string" && type.includes(value);
  switch (type) {
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "positive":
      return typeof value === "number" && Number.isFinite(value) && value > 0;
    case "positive-int":
      return positiveInt(value);
    case "non-negative-int":
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "string-map":
      return value !== null && typeof value === "object" && !Array.isArray(value) &&
        Object.values(value).every((x) => typeof x === "string");
    case "length":
      return positiveInt(value) ||
        (Array.isArray(value) && value.length === 2 && value.every(positiveInt) &&
          value[0] <= value[1]);
  }
}

/**
 * Check `args` (`--dataset-args`) against `schema`, the keys `dataset` takes; resolves to them.
 * Throws a {@link UsageError} (see the module doc).
 *
 * @example
 * ```ts
 * import { checkDatasetArgs } from "@llmperf/llmperf/plugin";
 * checkDatasetArgs("trace", { speed: { type: "positive" } }, { speed: 2 }); // ok
 * ```
 */
export function checkDatasetArgs(
  dataset: string,
  schema: DatasetArgsSchema,
  args: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> {
  const given = args ?? {};
  const keys = Object.keys(schema);
  const takes = keys.length === 0 ? "it takes none" : `it takes ${keys.join(", ")}`;
  for (const [key, value] of Object.entries(given)) {
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) {
      throw new UsageError(`--dataset-args: ${dataset} has no setting '${key}' (${takes})`);
    }
    if (!isArgOfType(value, spec.type)) {
      throw new UsageError(
        `--dataset-args: ${dataset} '${key}' must be ${describeArgType(spec.type)}, got ` +
          `${JSON.stringify(value)} (${takes})`,
      );
    }
    if (spec.unsupported) {
      const missing = keys.filter((k) => schema[k].unsupported);
      const which = missing.length === keys.length
        ? "none of them implemented yet"
        : `not implemented yet: ${missing.join(", ")}`;
      throw new UsageError(
        `--dataset-args: ${dataset} '${key}' is evalscope's, but llmperf does not implement it ` +
          `(${takes}; ${which})`,
      );
    }
  }
  return given;
}

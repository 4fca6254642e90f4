/**
 * The spellings of a setting's name: camelCase (`logEveryNQuery`, the config key), snake_case
 * (`log_every_n_query`, evalscope's Python names and `benchmark_args.json`) and the flag
 * (`--log-every-n-query`). Pure string functions, no imports.
 *
 * @module
 */

/**
 * `log_every_n_query`, `log-every-n-query` or `--log-every-n-query` → `logEveryNQuery`;
 * camelCase keys pass through unchanged.
 */
export function camelKey(key: string): string {
  return key.replace(/^--?/, "").replace(/[_-]([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/** `logEveryNQuery` → `log_every_n_query`, as evalscope names its arguments. */
export function snakeKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** `logEveryNQuery` → `--log-every-n-query`, the flag's spelling (and how messages name it). */
export function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

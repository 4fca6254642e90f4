/**
 * Running a command pinned to one core (`taskset -c 0`), as a one-core machine runs llmperf: the
 * main thread then sends and writes the result DB itself (`transport_threads.ts`,
 * `result_db.ts`). Where `taskset` or epoll is missing, {@link pinnable} is false and the tests
 * that need it are ignored.
 *
 * @module
 */
import { epollAvailable } from "../../src/transport/epoll.ts";

async function hasTaskset(): Promise<boolean> {
  try {
    return (await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output()).code === 0;
  } catch {
    return false;
  }
}

/** Whether a command can be pinned to one core here, with kernel-stamped reads (Linux, epoll). */
export const pinnable: boolean = Deno.build.os === "linux" && epollAvailable() &&
  await hasTaskset();

/** `argv` as the program and arguments of a `Deno.Command`, pinned to core 0 when `pin`. */
export function pinned(argv: readonly string[], pin = true): [string, string[]] {
  return pin ? ["taskset", ["-c", "0", ...argv]] : [argv[0], argv.slice(1)];
}

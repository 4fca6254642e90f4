/**
 * A server in a process of its own (the mock, the blast server), started and waited for until it
 * says on stderr where it listens: what the bench and the tests that need a mock outside their own
 * thread share.
 *
 * @example
 * ```ts ignore
 * import { spawnListening } from "./listening_process.ts";
 * const s = await spawnListening([Deno.execPath(), "run", "-A", "main.ts", "mock", "--port", "0"], "mock");
 * console.log(s.url);
 * s.drain();
 * s.child.kill("SIGTERM");
 * ```
 *
 * @module
 */

/** A started server process. */
export interface ListeningProcess {
  /** The process (stdout discarded, stderr read here). */
  child: Deno.ChildProcess;
  /** Its base URL, as it printed it. */
  url: string;
  /** What it wrote to stderr until then. */
  banner: string;
  /** The rest of its stderr. */
  stderr: ReadableStreamDefaultReader<string>;
  /** Read the rest of its stderr in the background, so that it never blocks on a full pipe. */
  drain(): void;
}

/**
 * Start `argv` (the program first) and resolve once its stderr says `listening on <url>`; throws,
 * with what it wrote, when it exits first. `what` names it in that error.
 */
export async function spawnListening(argv: string[], what: string): Promise<ListeningProcess> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  let url: string | undefined;
  while (url === undefined) {
    const r = await stderr.read();
    if (r.done) throw new Error(`the ${what} did not start:\n${banner}`);
    banner += r.value;
    url = /listening on (https?:\/\/\S+)/.exec(banner)?.[1];
  }
  return {
    child,
    url,
    banner,
    stderr,
    drain() {
      (async () => {
        while (!(await stderr.read()).done) { /* drain */ }
      })().catch(() => {});
    },
  };
}

/**
 * `llmperf mock` in a process of its own, for tests where the mock must answer while the test's
 * own thread is held, or that check what the CLI prints when it stops.
 *
 * @module
 */
import { ROOT_DIR } from "./cli.ts";
import { spawnListening } from "../../bench/listening_process.ts";

/** A running `llmperf mock` process. */
export interface MockProcess {
  /** Its base URL, as it printed it. */
  url: string;
  /** Stop it (SIGTERM): its exit code and everything it wrote to stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Start `llmperf mock --port 0 ...args`; resolves once it says where it listens. */
export async function startMockProcess(...args: string[]): Promise<MockProcess> {
  const { child, url, banner, stderr: reader } = await spawnListening(
    [Deno.execPath(), "run", "-A", `${ROOT_DIR}/main.ts`, "mock", "--port", "0", ...args],
    "mock",
  );
  let text = banner;
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += r.value;
      }
      return { code: (await child.status).code, stderr: text };
    },
  };
}

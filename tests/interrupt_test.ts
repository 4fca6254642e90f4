/**
 * Interruption: the first SIGINT, SIGTERM or SIGHUP stops sending, cancels what is in flight
 * (recorded as `cancelled`), flushes every row, closes the DB (`run.ended_at` set), prints the
 * summary and exits 128 + the signal's number; a second one exits at once, leaving a DB that
 * opens and holds every row committed so far. A terminal that goes away (an SSH session that
 * drops: SIGHUP, then every write fails) changes none of that. A signal while the dataset loads or
 * during the start-up check stops the run at once.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { DatabaseSync } from "node:sqlite";
import { openForReading } from "../src/store/open_read.ts";
import { LONG_RUN_MOCK, longRunArgs, spawnLongRun, waitForRows } from "./helpers/long_run.ts";
import { perfArgs } from "./helpers/perf_run.ts";

function count(db: DatabaseSync, where = "1=1"): number {
  return (db.prepare(`SELECT COUNT(*) AS c FROM result WHERE ${where}`).get() as { c: number }).c;
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`interrupt: ${signal} cancels in-flight requests, records them, prints the summary, closes the DB, exits ${code}`, async () => {
    await interruptedRun(signal, code);
  });
}

async function interruptedRun(signal: Deno.Signal, code: number) {
  const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK });
  await using tmp = await tempDir();
  try {
    const child = spawnLongRun(mock.url, tmp.path);
    await waitForRows(tmp.path, 4); // the first wave is done and written
    await new Promise((r) => setTimeout(r, 300)); // the second wave is in flight
    child.kill(signal);
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, code, stderr);
    assert(stdout.includes("Benchmarking summary:"), stdout);
    const total = Number(/\| Total requests +\| (\d+)/.exec(stdout)?.[1]);
    const ok = Number(/\| Succeed requests +\| (\d+)/.exec(stdout)?.[1]);
    assert(total >= 8 && total < 100, `total ${total}`);
    assert(ok >= 4 && ok < total, `succeeded ${ok} of ${total}`);
    assert(/\| cancelled +\| +\d+ \|/.test(stdout), stdout);
    const db = new DatabaseSync(`${await onlyRunDir(tmp.path)}/benchmark_data.db`, {
      readOnly: true,
    });
    assertEquals(count(db), total);
    assertEquals(count(db, "success='True'"), ok);
    assertEquals(
      count(db, `success='False' AND json_extract(error, '$.kind') = 'cancelled'`),
      total - ok,
    );
    const run = db.prepare("SELECT interrupted, requests, ended_at FROM run").get() as Record<
      string,
      number
    >;
    db.close();
    assertEquals(run.interrupted, 1);
    assertEquals(run.requests, total);
    assert(run.ended_at > 0, "the DB was closed: the run row has its end time");
    // Every request the server got is a row; a request cancelled as it was being sent may be a
    // row the server never saw (at most one per lane).
    const got = mock.stats.requests - 1; // less the start-up check
    assert(got <= total && got >= total - 4, `server got ${got}, rows ${total}`);
    const report = await runCli(["report", await onlyRunDir(tmp.path), "--json"]);
    const json = JSON.parse(report.stdout);
    assertEquals([json.finished, json.interrupted, json.rows], [true, true, total]);
    assert(String(json.warning).startsWith("the run was interrupted"), json.warning);
  } finally {
    await mock.close();
  }
}

Deno.test("interrupt: a second SIGINT exits at once; the DB opens and keeps the committed rows", async () => {
  const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK });
  await using tmp = await tempDir();
  try {
    const child = spawnLongRun(mock.url, tmp.path);
    await waitForRows(tmp.path, 4);
    child.kill("SIGINT");
    child.kill("SIGINT");
    const out = await child.output();
    assertEquals(out.code, 130);
    // It may have exited inside a transaction: read as `llmperf report` does (rolled back first).
    const db = openForReading(`${await onlyRunDir(tmp.path)}/benchmark_data.db`);
    assert(count(db) >= 4);
    assertEquals(count(db, "success='True'") >= 4, true);
    db.close();
  } finally {
    await mock.close();
  }
});

// Runs argv[2:] on a new pseudo-terminal (as its session leader, as a login shell's job is),
// reading all it writes, until the file argv[1] appears; then closes the terminal (what sshd
// does when the connection drops: the kernel sends SIGHUP and later writes fail) and prints the
// exit status as JSON.
const PTY_DROP = `
import json, os, pty, select, sys, time
flag, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
deadline = time.time() + 60
while not os.path.exists(flag) and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            os.read(fd, 65536)
        except OSError:
            break
os.close(fd)
_, status = os.waitpid(pid, 0)
print(json.dumps({"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                  "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}))
`;

Deno.test({
  name:
    "interrupt: a dropped terminal (SSH hang-up) still records, closes the DB, writes the files",
  ignore: Deno.build.os === "windows",
  async fn() {
    const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK });
    await using tmp = await tempDir();
    const flag = `${tmp.path}/drop`;
    const outputs = `${tmp.path}/outputs`;
    try {
      const child = new Deno.Command("python3", {
        args: [
          "-c",
          PTY_DROP,
          flag,
          Deno.execPath(),
          ...longRunArgs(mock.url, outputs),
        ],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitForRows(outputs, 4);
      await new Promise((r) => setTimeout(r, 300)); // the second wave is in flight
      await Deno.writeTextFile(flag, "");
      const out = await child.output();
      const status = JSON.parse(new TextDecoder().decode(out.stdout));
      assertEquals(status, { exit: 129, signal: null }, new TextDecoder().decode(out.stderr));
      const run = await onlyRunDir(outputs);
      const db = new DatabaseSync(`${run}/benchmark_data.db`, { readOnly: true });
      const total = count(db);
      const cancelled = count(db, `json_extract(error, '$.kind') = 'cancelled'`);
      const row = db.prepare("SELECT interrupted, requests, ended_at FROM run").get() as Record<
        string,
        number
      >;
      db.close();
      assert(total >= 8 && total < 100, `rows ${total}`);
      assert(cancelled >= 1, "the in-flight requests are recorded as cancelled");
      // Every request the server got is a row; a request cancelled as it was being sent may be a
      // row the server never saw (at most one per lane).
      const got = mock.stats.requests - 1; // less the start-up check
      assert(got <= total && got >= total - 4, `server got ${got}, rows ${total}`);
      assertEquals([row.interrupted, row.requests], [1, total]);
      assert(row.ended_at > 0, "the DB was closed");
      const summary = JSON.parse(await Deno.readTextFile(`${run}/benchmark_summary.json`));
      assertEquals(summary["Total requests"], total);
    } finally {
      await mock.close();
    }
  },
});

/** A server that accepts connections and never answers. */
function silentServer(): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) conns.push(c);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

/**
 * Spawn `llmperf <args>` (from {@link perfArgs}), send `signal` once it is inside the stage: when `ready` shows on
 * stderr, or when the `ready` promise resolves; time the exit.
 */
async function signalDuring(
  args: string[],
  ready: RegExp | Promise<unknown>,
  signal: Deno.Signal,
  env = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}/main.ts`, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const dec = new TextDecoder();
  const reader = child.stderr.getReader();
  const deadline = Date.now() + 20000;
  if (ready instanceof RegExp) {
    while (!ready.test(stderr) && Date.now() < deadline) {
      const r = await reader.read();
      if (r.done) break;
      stderr += dec.decode(r.value);
    }
  } else await ready;
  await new Promise((r) => setTimeout(r, 200)); // well inside the stage
  const t0 = performance.now();
  child.kill(signal);
  const rest = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      stderr += dec.decode(r.value);
    }
  })();
  const status = await child.status;
  const ms = performance.now() - t0;
  await rest;
  await child.stdout.cancel();
  return { code: status.code, stderr, ms };
}

Deno.test("interrupt: SIGINT during the start-up check stops at once (exit 130, no run folder)", async () => {
  const server = silentServer();
  await using tmp = await tempDir();
  try {
    const r = await signalDuring(
      perfArgs({ server, flags: { connectTimeout: 60 }, args: ["--outputs-dir", tmp.path] }),
      /checking the endpoint/,
      "SIGINT",
    );
    assertEquals(r.code, 130, r.stderr);
    assert(r.ms < 5000, `took ${r.ms} ms to stop`);
    assert(
      r.stderr.includes("interrupted while checking the endpoint: nothing was sent"),
      r.stderr,
    );
    assertEquals([...Deno.readDirSync(tmp.path)].length, 0, "no run folder");
  } finally {
    server.close();
  }
});

Deno.test("interrupt: SIGHUP while the dataset loads (a pipe nobody writes) stops at once", async () => {
  await using tmp = await tempDir();
  const fifo = `${tmp.path}/prompts`;
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  // Opening a pipe's write end waits for its reader: it returns once the run is reading it.
  const writer = Deno.open(fifo, { write: true });
  const r = await signalDuring(
    perfArgs({
      url: "http://127.0.0.1:9/v1/chat/completions",
      flags: { dataset: "line_by_line", datasetPath: fifo },
      args: ["--outputs-dir", `${tmp.path}/outputs`],
    }),
    writer,
    "SIGHUP",
  );
  (await writer).close();
  assertEquals(r.code, 129, r.stderr);
  assert(r.ms < 5000, `took ${r.ms} ms to stop`);
  assert(r.stderr.includes("interrupted while reading the dataset"), r.stderr);
});

Deno.test("interrupt: SIGTERM during a dataset download that stalls stops at once", async () => {
  const hub = silentServer();
  await using tmp = await tempDir();
  try {
    const r = await signalDuring(
      perfArgs({
        url: "http://127.0.0.1:9/v1/chat/completions",
        flags: { dataset: "openqa" },
        args: ["--outputs-dir", `${tmp.path}/outputs`],
      }),
      /downloading/,
      "SIGTERM",
      {
        LLMPERF_MODELSCOPE_ENDPOINT: hub.url,
        LLMPERF_CACHE_DIR: `${tmp.path}/cache`,
      },
    );
    assertEquals(r.code, 143, r.stderr);
    assert(r.ms < 5000, `took ${r.ms} ms to stop`);
    assert(r.stderr.includes("interrupted while reading the dataset"), r.stderr);
  } finally {
    hub.close();
  }
});

Deno.test({
  name: "interrupt: under nohup (SIGHUP ignored) a hang-up does not stop the run",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK });
    await using tmp = await tempDir();
    try {
      const args = longRunArgs(mock.url, tmp.path, 12); // 3 waves of about 1 s
      const child = new Deno.Command("nohup", {
        args: [Deno.execPath(), ...args],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitForRows(tmp.path, 4);
      child.kill("SIGHUP");
      const out = await child.output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const db = new DatabaseSync(`${await onlyRunDir(tmp.path)}/benchmark_data.db`, {
        readOnly: true,
      });
      assertEquals(count(db, "success='True'"), 12);
      db.close();
    } finally {
      await mock.close();
    }
  },
});

/**
 * A full disk under the outputs folder, for real: the CLI runs in a private mount namespace
 * (`unshare -m`, with `-r` when not root) with a small tmpfs as its `--outputs-dir`, which is
 * copied out when it exits. The run must name the cause (`disk full (SQLITE_FULL)`, the file),
 * stop sending, print the summary of what finished, write what fits, and exit 1; the DB keeps
 * every row committed before the disk filled and no end time (so `report` says it is incomplete).
 *
 * Where namespaces or tmpfs mounts are not allowed the tests are ignored, with the reason printed.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfArgs } from "./helpers/perf_run.ts";
import { pinnable } from "./helpers/pin.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { DatabaseSync } from "node:sqlite";
import { openForReading } from "../src/store/open_read.ts";

const isRoot = Deno.uid() === 0;
const UNSHARE = ["unshare", ...(isRoot ? ["-m"] : ["-r", "-m"])];

// Mount a tmpfs of $3 at $1, optionally fill it ($4 = fill), run the rest, copy $1 to $2.
const SCRIPT = "mnt=$1; out=$2; size=$3; fill=$4; shift 4; " +
  'mount -t tmpfs -o "size=$size" llmperf-full-disk "$mnt" || exit 99; ' +
  'if [ "$fill" = fill ]; then dd if=/dev/zero of="$mnt/.fill" bs=4k 2>/dev/null; fi; ' +
  '"$@"; rc=$?; rm -f "$mnt/.fill"; cp -a "$mnt/." "$out/"; exit $rc';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `llmperf <args> --outputs-dir <a full-able tmpfs>`; its content is copied into `out`.
 * `pin`: on one core (`taskset -c 0`), where the main thread writes the DB.
 */
async function runOnTmpfs(
  args: string[],
  out: string,
  size: string,
  fill = false,
  pin = false,
): Promise<Run> {
  const mnt = await Deno.makeTempDir({ prefix: "llmperf-mnt-" });
  try {
    const r = await new Deno.Command(UNSHARE[0], {
      args: [
        ...UNSHARE.slice(1),
        "sh",
        "-c",
        SCRIPT,
        "sh",
        mnt,
        out,
        size,
        fill ? "fill" : "-",
        ...(pin ? ["taskset", "-c", "0"] : []),
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT_DIR}/main.ts`,
        ...args,
        "--outputs-dir",
        mnt,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  } finally {
    await Deno.remove(mnt, { recursive: true }).catch(() => {});
  }
}

/** Why a small tmpfs cannot be given to a test here, or undefined when it can. */
async function unavailable(): Promise<string | undefined> {
  try {
    const out = await tempDir();
    const r = await runOnTmpfs(["--version"], out.path, "64k");
    await out[Symbol.asyncDispose]();
    if (r.code === 0) return undefined;
    return `'${UNSHARE.join(" ")}' + 'mount -t tmpfs' failed (exit ${r.code}): ${r.stderr.trim()}`;
  } catch (e) {
    return `cannot run '${UNSHARE.join(" ")}': ${(e as Error).message}`;
  }
}

const why = Deno.build.os === "linux" ? await unavailable() : "needs Linux mount namespaces";
if (why) console.warn(`full_disk_test: ignored: ${why}`);

function count(db: DatabaseSync, where = "1=1"): number {
  return (db.prepare(`SELECT COUNT(*) AS c FROM result WHERE ${where}`).get() as { c: number }).c;
}

/**
 * The disk fills during a run: the cause is named, sending stops, the summary prints, the DB
 * keeps what fit. `pin`: on one core, where the main thread writes the DB.
 */
async function fillsUp(pin: boolean): Promise<void> {
  // Each streamed request's row is several KB: a 384 KiB tmpfs fills after some dozens.
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 60 });
  await using out = await tempDir();
  try {
    const r = await runOnTmpfs(
      perfArgs({
        server: mock,
        flags: { prompt: "hello", number: 3000, parallel: 8, stream: true },
      }),
      out.path,
      "384k",
      false,
      pin,
    );
    assertEquals(r.code, 1, r.stderr);
    assert(!r.stderr.includes("cannot rollback"), r.stderr);
    assert(!/\n\s+at /.test(r.stderr), "no stack trace");
    const cause =
      /error: the result DB could not be written: disk full \(SQLITE_FULL\) at (\S+)benchmark_data\.db; it holds (\d+) of the (\d+) requests sent/
        .exec(r.stderr);
    assert(cause, `the cause, the file and the rows kept are named:\n${r.stderr}`);
    // The summary of what finished is printed, and sending stopped well before the 3000.
    assert(r.stdout.includes("Benchmarking summary:"), r.stdout);
    const total = Number(/\| Total requests +\| (\d+)/.exec(r.stdout)?.[1]);
    assert(total > 0 && total < 3000, `total ${total}`);
    assertEquals(Number(cause[3]), total, "requests sent = the summary's total");
    // The server got no request after the stop: it saw at most the requests sent (one cancelled
    // as it was being sent may never have reached it, at most one per lane).
    const got = mock.stats.requests - 1; // less the start-up check
    assert(got <= total && got >= total - 8, `server got ${got}, sent ${total}`);
    // The DB opens and holds exactly the rows it says; no end time: it reads as unfinished.
    const run = await onlyRunDir(out.path);
    // As `llmperf report` reads it (a journal the failed write left is rolled back first).
    const db = openForReading(`${run}/benchmark_data.db`);
    const rows = count(db);
    const ended = (db.prepare("SELECT ended_at FROM run").get() as { ended_at: unknown })
      .ended_at;
    db.close();
    assertEquals(rows, Number(cause[2]));
    assert(rows > 0 && rows < total, `rows ${rows} of ${total}`);
    assertEquals(ended, null);
    // Result files that did not fit are named, and none is left half-written.
    for (const f of ["benchmark_summary.json", "benchmark_percentile.json", "report.html"]) {
      let exists = true;
      try {
        const text = await Deno.readTextFile(`${run}/${f}`);
        if (f.endsWith(".json")) JSON.parse(text); // whole, when there
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        exists = false;
      }
      assert(exists || r.stderr.includes(`cannot write '`), `${f}: missing and not named`);
    }
  } finally {
    await mock.close();
  }
}

Deno.test({
  name: "full disk: the cause is named, sending stops, the summary prints, the DB keeps what fit",
  ignore: why !== undefined,
  fn: () => fillsUp(false),
});

Deno.test({
  name: "full disk: on one core (the main thread writes the DB) the same holds",
  ignore: why !== undefined || !pinnable,
  fn: () => fillsUp(true),
});

Deno.test({
  name: "full disk: a disk already full stops the run before any of its requests, naming the file",
  ignore: why !== undefined,
  async fn() {
    const server = chatStub(); // counts every request, the start-up check too
    await using out = await tempDir();
    try {
      const r = await runOnTmpfs(
        perfArgs({ server, flags: { prompt: "hello", number: 50 } }),
        out.path,
        "64k",
        true,
      );
      assertEquals(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n").filter((l) => l.includes("error"));
      assertEquals(lines.length, 1, r.stderr);
      assert(
        /error: cannot write '\S+benchmark_args\.json': No space left on device/.test(lines[0]),
        lines[0],
      );
      // The start-up check (one token) comes before the run folder; no request of the run.
      assertEquals(server.requests.map((q) => q.body.max_tokens), [1]);
    } finally {
      await server.close();
    }
  },
});

/**
 * The `workload_trace` dataset end to end: a trace of whole bodies replayed against a stub that
 * stamps each request's arrival. Expectations come from the trace file itself: the order and the
 * send times `(timestamp − first) / speed`, the bodies with the run's settings filling only what
 * they lack, `match_output_length`, `--number` truncating; and how late each request went out
 * is in the result DB (`start_time − scheduled_time`).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { type ChatStub, chatStub, type StubRequest } from "./helpers/chat_stub.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { assertOnSchedule } from "./helpers/on_schedule.ts";

const T0 = 1_760_000_000; // epoch seconds
/** The trace, out of time order in the file on purpose; `at` is seconds after T0. */
const RECORDS = [
  { at: 0.9, q: "q3", body: { messages: [{ role: "user", content: "q3" }], max_tokens: 7 } },
  { at: 0, q: "q0", body: { messages: [{ role: "user", content: "q0" }], model: "trace-a" } },
  { at: 0.3, q: "q1", iso: true, body: { messages: [{ role: "user", content: "q1" }] }, n: 11 },
  {
    at: 0.5,
    q: "q2",
    text: true,
    body: { messages: [{ role: "user", content: "q2" }], response_format: { type: "json_object" } },
    n: 5,
  },
  { at: 1.6, q: "q4", body: { prompt: "q4", model: "other" } },
];

function traceText(): string {
  return RECORDS.map((r) =>
    JSON.stringify({
      body: r.text ? JSON.stringify(r.body) : r.body,
      timestamp: r.iso ? new Date((T0 + r.at) * 1000).toISOString() : T0 + r.at,
      ...(r.n === undefined ? {} : { completion_tokens: r.n }),
      headers: { "x-trace": r.q },
    })
  ).join("\n") + "\n";
}

/** Run `fn` with the trace written to a file and a fresh stub, stopped after. */
async function withTrace(fn: (path: string, stub: ChatStub) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  const path = `${dir.path}/trace.jsonl`;
  await Deno.writeTextFile(path, traceText());
  const stub = chatStub();
  try {
    await fn(path, stub);
  } finally {
    await stub.close();
  }
}

/** The first message's text of a request the stub got. */
const firstText = (q: StubRequest) => (q.body.messages as { content: string }[])[0].content;

Deno.test("workload_trace e2e: the trace's bodies reach the server at its times / speed", async () => {
  const byTime = [...RECORDS].sort((a, b) => a.at - b.at);
  await withTrace(async (path, stub) => {
    const speed = 2;
    await using r = await perfRun({
      server: stub,
      flags: {
        model: "served",
        dataset: "workload_trace",
        datasetPath: path,
        parallel: 4,
        stream: true,
        noTestConnection: true,
      },
      args: [
        "--dataset-args",
        JSON.stringify({
          speed,
          model_mapping: { "trace-a": "served-a" },
          match_output_length: true,
        }),
      ],
    });
    assertEquals(r.code, 0, r.stderr);
    const got = stub.requests;
    assertEquals(got.length, RECORDS.length);
    // In time order (the trace's gaps are 150 ms or more at speed 2).
    const textOf = (q: StubRequest) =>
      (q.body.messages as { content: string }[] | undefined)?.[0].content ?? q.body.prompt;
    assertEquals(got.map(textOf), byTime.map((x) => x.q));
    const body = (q: string) => got.find((x) => JSON.stringify(x.body).includes(`"${q}"`))!.body;
    // The run's settings fill only what a body lacks; the trace's own values stay.
    assertEquals(body("q0").model, "served-a", "model_mapping");
    assertEquals(body("q1").model, "served", "a body without a model gets --model");
    assertEquals(body("q3").max_tokens, 7, "the body's max_tokens, not --max-tokens' 2048");
    assertEquals(body("q3").stream, true, "--stream fills a body without stream");
    assertEquals(body("q4").model, "other");
    assertEquals(body("q4").messages, undefined, "a prompt body gets no messages");
    // match_output_length: completion_tokens as max_tokens + ignore_eos, unless constrained.
    assertEquals([body("q1").max_tokens, body("q1").ignore_eos], [11, true]);
    assertEquals([body("q2").max_tokens, body("q2").ignore_eos], [2048, undefined]);
    // How late each went out: recorded as start_time − scheduled_time, the due times the trace's.
    const rows = r.sql<{ due: number; start: number }>(
      "SELECT scheduled_time AS due, start_time AS start FROM result ORDER BY scheduled_time",
    );
    assertEquals(rows.length, RECORDS.length);
    rows.forEach((row, i) => {
      const want = (byTime[i].at - byTime[0].at) * 1000 / speed;
      assertAlmostEquals((row.due - rows[0].due) * 1000, want, 0.01, `due ${i}`);
      const late = row.start - row.due;
      assert(late >= 0 && late < 1, `request ${i} went out ${late} s late`);
    });
    // And each reached the server then: (at − first) / speed after the run's time zero.
    assertOnSchedule(got.map((q) => q.at), rows.map((row) => row.due));
  });
});

Deno.test("workload_trace: --number truncates the trace; bad --dataset-args is a usage error", async () => {
  await withTrace(async (path, stub) => {
    {
      await using r = await perfRun({
        server: stub,
        flags: { dataset: "workload_trace", datasetPath: path, number: 2, noTestConnection: true },
      });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(stub.requests.map(firstText), ["q0", "q1"]);
    }
    {
      await using r = await perfRun({
        server: stub,
        flags: { dataset: "workload_trace", datasetPath: path, noTestConnection: true },
        args: ["--dataset-args", '{"sped": 2}'],
      });
      assertEquals(r.code, 2);
      assert(/workload_trace has no setting 'sped'/.test(r.stderr), r.stderr);
      assert(!/\n\s+at /.test(r.stderr), "no stack trace");
    }
  });
});

Deno.test("workload_trace e2e: a shard sends its requests at their times in the whole trace", async () => {
  const byTime = [...RECORDS].sort((a, b) => a.at - b.at);
  await withTrace(async (path, stub) => {
    await using r = await perfRun({
      server: stub,
      flags: {
        dataset: "workload_trace",
        datasetPath: path,
        parallel: 2,
        noTestConnection: true,
      },
      args: ["--shard", "1/2"],
    });
    assertEquals(r.code, 0, r.stderr);
    // Global requests 1 and 3 of the time-ordered trace: q1 (0.3 s) and q3 (0.9 s).
    const rows = r.sql<{ id: number; due: number }>(
      "SELECT request_id AS id, scheduled_time AS due FROM result ORDER BY request_id",
    );
    assertEquals(rows.map((x) => x.id), [1, 3]);
    const gap = (byTime[3].at - byTime[1].at) * 1000;
    assertAlmostEquals((rows[1].due - rows[0].due) * 1000, gap, 0.01);
    assertEquals(stub.requests.map(firstText), ["q1", "q3"]);
    assertOnSchedule(stub.requests.map((q) => q.at), rows.map((row) => row.due));
  });
});

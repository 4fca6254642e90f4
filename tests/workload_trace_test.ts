/**
 * The `workload_trace` dataset end to end: a trace of whole bodies replayed against a stub that
 * stamps each request's arrival. Expectations come from the trace file itself: the order and the
 * send times `(timestamp − first) / speed`, the bodies with the run's settings filling only what
 * they lack, `match_output_length`, `--number` truncating; and how late each request went out
 * is in the result DB (`start_time − scheduled_time`).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { type ChatStub, chatStub, firstContent, type StubRequest } from "./helpers/chat_stub.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { assertOnSchedule } from "./helpers/on_schedule.ts";
import { DatabaseSync } from "node:sqlite";

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
      assertEquals(stub.requests.map(firstContent), ["q0", "q1"]);
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
    assertEquals(stub.requests.map(firstContent), ["q1", "q3"]);
    assertOnSchedule(stub.requests.map((q) => q.at), rows.map((row) => row.due));
  });
});

/** The headers one request arrived with, as a plain object, without those the transport adds. */
function ownHeaders(h: Headers): Record<string, string> {
  const TRANSPORT = new Set([
    "host",
    "content-length",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
  ]);
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    if (!TRANSPORT.has(k)) out[k] = v;
  });
  return out;
}

/**
 * A stub that keeps each request's headers (by its prompt text) and answers one token, except
 * to `Authorization: Bearer <reject>`: a 401 that echoes the header, as some gateways do.
 */
function headerStub(reject: string) {
  const seen: { q: string; headers: Record<string, string> }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    const q = firstContent({ body });
    seen.push({ q, headers: ownHeaders(req.headers) });
    const auth = req.headers.get("authorization") ?? "";
    if (auth === `Bearer ${reject}`) {
      return new Response(JSON.stringify({ error: `bad key: ${auth}` }), { status: 401 });
    }
    return new Response(
      JSON.stringify({
        choices: [{ index: 0, message: { role: "assistant", content: "ok" } }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
      { headers: { "content-type": "application/json" } },
    );
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** Every file under `dir` as text (the run's outputs: DB, logs, JSON). */
async function allText(dir: string): Promise<string> {
  let out = "";
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    out += e.isDirectory ? await allText(p) : new TextDecoder().decode(await Deno.readFile(p));
  }
  return out;
}

Deno.test("workload_trace e2e: each record's headers go with its request only, over the run's", async () => {
  const REJECT = "trace-key-rejected-9876";
  // The headers of each record (none on some), in time order; the run sets x-run, x-tenant and
  // an API key. A record's header replaces the run's of the same name whatever its case.
  const OWN: (Record<string, string> | undefined)[] = [
    undefined,
    { "X-Tenant": "t1", "x-extra": "e1" },
    undefined,
    { authorization: "Bearer trace-key-accepted-1234" },
    { Authorization: `Bearer ${REJECT}`, "x-tenant": "t4" },
    undefined,
  ];
  const stub = headerStub(REJECT);
  try {
    for (const transport of ["socket", "fetch"] as const) {
      for (const workers of [1, 0]) {
        stub.seen.length = 0;
        await using dir = await tempDir();
        const path = `${dir.path}/trace.jsonl`;
        await Deno.writeTextFile(
          path,
          OWN.map((headers, i) =>
            JSON.stringify({
              body: { messages: [{ role: "user", content: `q${i}` }] },
              timestamp: T0 + i * 0.02,
              ...(headers ? { headers } : {}),
            })
          ).join("\n") + "\n",
        );
        await using r = await perfRun({
          server: stub,
          flags: {
            dataset: "workload_trace",
            datasetPath: path,
            apiKey: "sk-run-key-5678",
            headers: ["X-Run=r", "x-tenant=run"],
            transport,
            workers,
            parallel: 1,
            debug: true,
          },
        });
        const what = `${transport}, --workers ${workers}`;
        assertEquals(r.code, 0, r.stderr);
        const run: Record<string, string> = {
          "content-type": "application/json",
          "user-agent": stub.seen[0].headers["user-agent"],
          "x-run": "r",
          "x-tenant": "run",
          authorization: "Bearer sk-run-key-5678",
        };
        const want = (own: Record<string, string> | undefined) => {
          const h = { ...run };
          for (const [k, v] of Object.entries(own ?? {})) h[k.toLowerCase()] = v;
          return h;
        };
        assert(/^llmperf\//.test(run["user-agent"]), run["user-agent"]);
        // The start-up check first (the first record's, with its headers), then each record.
        assertEquals(stub.seen.map((s) => s.q), ["q0", ...OWN.map((_, i) => `q${i}`)], what);
        stub.seen.slice(1).forEach((s, i) =>
          assertEquals(s.headers, want(OWN[i]), `${what}: q${i}`)
        );
        // The rejected key failed its request; neither trace key is in any file the run left.
        const rows = r.sql<{ ok: string }>("SELECT success AS ok FROM result ORDER BY request_id");
        assertEquals(rows.map((x) => x.ok).join(), "True,True,True,True,False,True", what);
        const files = await allText(r.outputs);
        for (const secret of [REJECT, "trace-key-accepted-1234", "sk-run-key-5678"]) {
          assert(!files.includes(secret), `${what}: ${secret} written to disk`);
          assert(
            !r.stderr.includes(secret) && !r.stdout.includes(secret),
            `${what}: ${secret} logged`,
          );
        }
      }
    }
  } finally {
    await stub.close();
  }
});

Deno.test("workload_trace: a record's header that HTTP cannot carry is a usage error", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/trace.jsonl`;
  const record = (headers: unknown) =>
    JSON.stringify({
      body: { messages: [{ role: "user", content: "q" }] },
      timestamp: T0,
      headers,
    });
  for (
    const [headers, why] of [
      [{ "x-a": "1\n2" }, /a request's headers: the value of header 'x-a' has a control character/],
      [{ "x-a": 1 }, /record 2: headers must be an object of header names to text values/],
    ] as const
  ) {
    await Deno.writeTextFile(path, record({ "x-ok": "1" }) + "\n" + record(headers) + "\n");
    await using r = await perfRun({
      url: "http://127.0.0.1:9/v1/chat/completions",
      flags: { dataset: "workload_trace", datasetPath: path, noTestConnection: true },
    });
    assertEquals(r.code, 2, r.stderr);
    assert(why.test(r.stderr), r.stderr);
    assert(!/\n\s+at /.test(r.stderr), "no stack trace");
  }
});

Deno.test("workload_trace e2e: --warmup-num takes the trace's first records, sent on its clock, in no DB row or statistic", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/trace.jsonl`;
  // Two warmup records, then the benchmark's: seconds after the trace's first.
  const AT = [0, 0.6, 1.0, 1.2, 1.4, 2.4];
  await Deno.writeTextFile(
    path,
    AT.map((at, i) =>
      JSON.stringify({
        body: { messages: [{ role: "user", content: `q${i}` }] },
        timestamp: T0 + at,
      })
    ).join("\n") + "\n",
  );
  const stub = chatStub();
  try {
    for (const duration of [undefined, 0.8]) {
      stub.requests.length = 0;
      await using r = await perfRun({
        server: stub,
        flags: {
          dataset: "workload_trace",
          datasetPath: path,
          parallel: 4,
          noTestConnection: true,
        },
        args: [
          "--warmup-num",
          "2",
          ...(duration === undefined ? [] : ["--duration", `${duration}`]),
        ],
      });
      assertEquals(r.code, 0, r.stderr);
      // --duration 0.8 counts from the first benchmark record (1.0 s): 1.0, 1.2, 1.4 go, 2.4 not.
      // (Counted from the run's start, none would; from the warmup's end, 2.4 would too.)
      const sent = duration === undefined ? 6 : 5;
      assertEquals(stub.requests.map(firstContent), AT.slice(0, sent).map((_, i) => `q${i}`));
      const arrivals = stub.requests.map((q) => q.at - stub.requests[0].at);
      arrivals.forEach((t, i) =>
        assert(Math.abs(t - AT[i] * 1000) < 300, `q${i} at ${t} ms, due ${AT[i] * 1000}`)
      );
      // The warmup records are in no row and no count; the benchmark's are numbered from 0.
      const rows = r.sql<{ id: number; due: number }>(
        "SELECT request_id AS id, scheduled_time AS due FROM result ORDER BY request_id",
      );
      assertEquals(rows.map((x) => x.id), [...Array(sent - 2).keys()]);
      assertAlmostEquals((rows[1].due - rows[0].due) * 1000, (AT[3] - AT[2]) * 1000, 0.01);
      assertEquals(r.summary["Total requests"], sent - 2);
      assertEquals(r.summary["Succeed requests"], sent - 2);
    }
  } finally {
    await stub.close();
  }
});

Deno.test("workload_trace e2e: --open-loop needs no --rate, and no --model is needed", async () => {
  // The reference sheet: every --rate must be > 0 "unless the dataset provides its own arrival
  // schedule (workload_trace)" (arguments.py:643-647), and --model is mandatory unless the
  // dataset sets requires_model=False, only workload_trace, model_id then being the dataset's
  // name (arguments.py:495-501), which names the run folder (<outputs>/<ts>/<model_id>/).
  await withTrace(async (path, stub) => {
    await using r = await perfRun({
      server: stub,
      flags: { model: null, dataset: "workload_trace", datasetPath: path, noTestConnection: true },
      args: ["--compat", "2026", "--open-loop"],
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(stub.requests.length, RECORDS.length, "every record sent");
    assertEquals([...Deno.readDirSync(r.dir)].map((e) => e.name), ["workload_trace"]);
    const body = (q: string) => stub.requests.find((x) => JSON.stringify(x.body).includes(q))!;
    assertEquals(body('"q0"').body.model, "trace-a", "a body's own model is sent as it is");
    assertEquals(body('"q4"').body.model, "other");
  });
  // A dataset without a schedule of its own still needs a --rate with --open-loop.
  await using r = await perfRun({
    url: "http://127.0.0.1:9/v1/chat/completions",
    flags: { dataset: "openqa", number: 3 },
    args: ["--open-loop"],
  });
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("--open-loop: needs --rate greater than 0"), r.stderr);
});

Deno.test("workload_trace e2e: each record's request_id is its row's request_id in the 2026 DB", async () => {
  // The reference's DB schema: `request_id` TEXT, "from workload_trace, else NULL"; a record
  // without one (or an unreplayed dataset) leaves it NULL. Ours keeps it as trace_request_id.
  await using dir = await tempDir();
  const path = `${dir.path}/trace.jsonl`;
  const ids: Record<string, string | number | undefined> = { a: "req-a", b: 42, c: undefined };
  await Deno.writeTextFile(
    path,
    Object.entries(ids).map(([q, id], i) =>
      JSON.stringify({
        body: { messages: [{ role: "user", content: q }] },
        timestamp: T0 + i * 0.05,
        ...(id === undefined ? {} : { request_id: id }),
      })
    ).join("\n") + "\n",
  );
  const stub = chatStub();
  try {
    // Sent from a transport worker, and from the main thread (--workers 0).
    for (const workers of [1, 0]) {
      await using r = await perfRun({
        server: stub,
        flags: { dataset: "workload_trace", datasetPath: path, workers, noTestConnection: true },
        args: ["--compat", "2026", "--open-loop"],
      });
      assertEquals(r.code, 0, r.stderr);
      const [point] = [...Deno.readDirSync(`${r.dir}/m`)].filter((e) => e.isDirectory);
      const read = (db: string, q: string) => {
        const d = new DatabaseSync(`${r.dir}/m/${point.name}/${db}`, { readOnly: true });
        try {
          return d.prepare(q).all() as { request: string; id: string | null }[];
        } finally {
          d.close();
        }
      };
      const rows = read("benchmark_data.db", "SELECT request, request_id AS id FROM result");
      const byPrompt = Object.fromEntries(
        rows.map((x) => [JSON.parse(x.request).messages[0].content, x.id]),
      );
      // TEXT: a number in the trace reads back as its text, as SQLite's TEXT affinity stores it.
      assertEquals(byPrompt, { a: "req-a", b: "42", c: null });
      const ours = read("llmperf_data.db", "SELECT trace_request_id AS id FROM result ORDER BY id");
      assertEquals(ours.map((x) => x.id), [null, "42", "req-a"]);
    }
    // A run of a dataset that is no trace: NULL on every row.
    await using plain = await perfRun({
      server: stub,
      flags: { number: 2, noTestConnection: true },
      args: ["--compat", "2026"],
    });
    assertEquals(plain.code, 0, plain.stderr);
    const run = `${plain.dir}/m/parallel_1_number_2/benchmark_data.db`;
    const d = new DatabaseSync(run, { readOnly: true });
    try {
      const ids = d.prepare("SELECT request_id AS id FROM result").all().map((x) => x.id);
      assertEquals(ids, [null, null]);
    } finally {
      d.close();
    }
  } finally {
    await stub.close();
  }
});

Deno.test("a user's dataset whose requests carry credential headers it never lists ahead: no key reaches a file", async () => {
  // The plugin yields its requests' own headers only as it goes (no `requestHeaders()`), so the
  // result DB is open before the run sees the keys: each is handed to its writer before the
  // request that carries it is sent. The stub's 401 echoes the rejected key into the response.
  const REJECT = "user-plugin-key-rejected-4321";
  const stub = headerStub(REJECT);
  await using dir = await tempDir();
  const plugin = `${dir.path}/keyed.ts`;
  await Deno.writeTextFile(
    plugin,
    `export default {
      async *buildMessages() {
        yield { messages: [{ role: "user", content: "q0" }] };
        yield { messages: [{ role: "user", content: "q1" }],
          headers: { Authorization: "Bearer user-plugin-key-accepted-8765" } };
        yield { messages: [{ role: "user", content: "q2" }],
          headers: { authorization: "Bearer ${REJECT}" } };
      },
    };\n`,
  );
  try {
    await using r = await perfRun({
      server: stub,
      flags: { dataset: plugin, number: 3, parallel: 1, debug: true },
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(stub.seen.slice(-2).map((s) => s.headers.authorization), [
      "Bearer user-plugin-key-accepted-8765",
      `Bearer ${REJECT}`,
    ]);
    const rows = r.sql<{ ok: string }>("SELECT success AS ok FROM result ORDER BY request_id");
    assertEquals(rows.map((x) => x.ok).join(), "True,True,False");
    const files = await allText(r.outputs);
    for (const secret of [REJECT, "user-plugin-key-accepted-8765"]) {
      assert(!files.includes(secret), `${secret} written to disk`);
      assert(!r.stderr.includes(secret) && !r.stdout.includes(secret), `${secret} logged`);
    }
  } finally {
    await stub.close();
  }
});

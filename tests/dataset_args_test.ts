/**
 * `--dataset-args` checked per dataset (issue 14), table-driven from the reference sheet
 * (`../shared/reference/evalscope-perf-2026.md`, "`--dataset-args` schemas" and the Datasets
 * table): every built-in dataset that evalscope has declares exactly the keys its evalscope
 * schema has, in order (`TextDatasetArgs`, `MultiTurnDatasetArgs`, `WorkloadTraceArgs`; every
 * other plugin none), with the choices the reference lists; then the CLI: an unknown key or a
 * wrong type is one line naming the dataset, the key and the keys it takes, exit 2, before
 * anything is sent; a user's plugin that declares nothing gets its keys unchecked.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { REF_2026 } from "./helpers/reference.ts";
import { ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { chatStub, firstContent } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { resolveConfig } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";
import { BUILTIN_DATASETS } from "../src/plugins/builtins.ts";
import { checkDatasetArgs } from "../src/plugins/dataset_args.ts";
import { loadDatasetPlugin } from "../src/plugins/dataset_loader.ts";
import type { DatasetArgsSchema } from "../src/plugins/types.ts";

/** One schema of the reference: its keys in order, the choices it lists, who uses it. */
interface RefSchema {
  name: string;
  keys: string[];
  choices: Record<string, string[]>;
  usedBy: string[];
}

const ticks = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The schemas section of the reference, parsed (see the module doc). */
function refSchemas(ref: string): RefSchema[] {
  const start = ref.indexOf("**`--dataset-args` schemas**");
  const end = ref.indexOf("\n### ", start);
  const lines = ref.slice(start, end).split("\n").slice(1);
  const out: RefSchema[] = [];
  for (const line of lines) {
    const top = /^- `(\w+Args)`(.*)$/.exec(line);
    if (top) {
      const rest = top[2];
      const used = /used by (.*?):/.exec(rest)?.[1] ?? "";
      const names = used.split(/,\s*|\s+and\s+/).map((s) => s.replace(/\(.*\)/, "").trim())
        .filter((s) => s !== "");
      const inline = rest.slice(rest.indexOf(":") + 1);
      // The keys: the identifiers in backticks (not `[min,max]`, nor a source `file.py:33-51`).
      const keys = ticks(inline).filter((t) => /^[a-z][a-z_]*$/.test(t));
      out.push({ name: top[1], keys, choices: {}, usedBy: names });
      continue;
    }
    const sub = /^\s+- `(\w+)`:(.*)$/.exec(line);
    if (sub && out.length > 0) {
      const s = out[out.length - 1];
      s.keys.push(sub[1]);
      const values = ticks(sub[2]).filter((v) => /^[a-z]+$/.test(v));
      if (/\bor\b/.test(sub[2]) && values.length > 1) s.choices[sub[1]] = values;
    }
  }
  return out;
}

/** Whether the reference's `used by` entry (`share_gpt_zh/en`, `share_gpt_*_multi_turn`) names `dataset`. */
function names(entry: string, dataset: string): boolean {
  const slash = /^(.*_)(\w+)\/(\w+)$/.exec(entry);
  if (slash) return dataset === slash[1] + slash[2] || dataset === slash[1] + slash[3];
  const glob = new RegExp(`^${entry.replaceAll("*", "\\w+")}$`);
  return glob.test(dataset);
}

/** The datasets of the reference's Datasets table (§2), each name of its first column. */
function refDatasets(ref: string): Set<string> {
  const start = ref.indexOf("### Datasets");
  const end = ref.indexOf("\n**", start);
  const rows = ref.slice(start, end).split("\n").filter((l) => l.startsWith("| `"));
  return new Set(rows.flatMap((r) => ticks(r.split("|")[1])));
}

async function declared(dataset: string): Promise<DatasetArgsSchema> {
  const plugin = await loadDatasetPlugin(dataset, resolveConfig({ model: "m", dataset }));
  return (plugin as { argsSchema?: DatasetArgsSchema }).argsSchema ?? {};
}

Deno.test({
  name: "--dataset-args: each built-in declares its evalscope schema's keys, from the reference",
  ignore: REF_2026 === undefined,
}, async () => {
  const schemas = refSchemas(REF_2026!);
  assertEquals(schemas.map((s) => s.name), [
    "TextDatasetArgs",
    "MultiTurnDatasetArgs",
    "WorkloadTraceArgs",
  ]);
  // The parse itself: who uses each schema, and the choices the reference lists.
  assertEquals(schemas[0].usedBy, ["openqa", "longalpaca", "share_gpt_zh/en", "line_by_line"]);
  assertEquals(schemas[0].choices, {
    input_len_mode: ["cap", "drop"],
    prefix_role: ["system", "user"],
  });
  assertEquals(schemas[1].usedBy, ["random_multi_turn", "share_gpt_*_multi_turn", "swe_smith"]);
  // WorkloadTraceArgs is workload_trace's own (workload_trace.py:35-49).
  const workload = schemas.find((s) => s.name === "WorkloadTraceArgs")!;
  workload.usedBy.push("workload_trace");
  assert(REF_2026!.includes("Every other plugin accepts no keys."));
  const inRef = refDatasets(REF_2026!);
  let checked = 0;
  for (const dataset of BUILTIN_DATASETS.keys()) {
    if (!inRef.has(dataset)) continue; // ours only (mooncake, agentic_trace, ...)
    const schema = schemas.find((s) => s.usedBy.some((u) => names(u, dataset)));
    const got = await declared(dataset);
    assertEquals(Object.keys(got), schema?.keys ?? [], dataset);
    for (const [key, choices] of Object.entries(schema?.choices ?? {})) {
      assertEquals(got[key].type, choices, `${dataset} ${key}`);
    }
    checked++;
  }
  assert(checked >= 20, `${checked} built-ins checked`);
  // The families the reference names are all there.
  for (const d of ["openqa", "longalpaca", "share_gpt_zh", "share_gpt_en", "line_by_line"]) {
    assertEquals(Object.keys(await declared(d)), schemas[0].keys, d);
  }
  for (const d of ["random_multi_turn", "share_gpt_zh_multi_turn", "share_gpt_en_multi_turn"]) {
    assertEquals(Object.keys(await declared(d)), schemas[1].keys, d);
  }
  assertEquals(Object.keys(await declared("workload_trace")), [
    "speed",
    "model_override",
    "model_mapping",
    "match_output_length",
  ]);
});

Deno.test("--dataset-args: values of each declared type; a wrong one names the key", () => {
  const schema: DatasetArgsSchema = {
    speed: { type: "positive" },
    n: { type: "positive-int" },
    k: { type: "non-negative-int" },
    mode: { type: ["cap", "drop"] },
    map: { type: "string-map" },
    on: { type: "boolean" },
    len: { type: "length" },
    name: { type: "string" },
    x: { type: "number" },
  };
  const ok = {
    speed: 0.5,
    n: 3,
    k: 0,
    mode: "drop",
    map: { a: "b" },
    on: false,
    len: [10, 20],
    name: "q",
    x: -1.5,
  };
  assertEquals(checkDatasetArgs("d", schema, ok), ok);
  assertEquals(checkDatasetArgs("d", schema, { len: 7 }), { len: 7 });
  const bad: Array<[string, unknown]> = [
    ["speed", 0],
    ["speed", "2"],
    ["n", 1.5],
    ["k", -1],
    ["mode", "trim"],
    ["map", { a: 1 }],
    ["on", "yes"],
    ["len", [20, 10]],
    ["len", [1, 2, 3]],
    ["name", 5],
    ["x", null],
  ];
  for (const [key, value] of bad) {
    const e = assertThrows(() => checkDatasetArgs("d", schema, { [key]: value }), UsageError);
    assert(e.message.startsWith(`--dataset-args: d '${key}' must be `), e.message);
    assert(e.message.endsWith(`(it takes ${Object.keys(schema).join(", ")})`), e.message);
  }
  const none = assertThrows(() => checkDatasetArgs("random", {}, { x: 1 }), UsageError);
  assertEquals(none.message, "--dataset-args: random has no setting 'x' (it takes none)");
  // A key declared but marked not implemented (no built-in has one now) is refused by name.
  const later = { a: { type: "number", unsupported: true }, b: { type: "number" } } as const;
  const u = assertThrows(() => checkDatasetArgs("d", later, { a: 1 }), UsageError);
  assertEquals(
    u.message,
    "--dataset-args: d 'a' is evalscope's, but llmperf does not implement it (it takes a, b; " +
      "not implemented yet: a)",
  );
});

Deno.test("--dataset-args CLI: unknown keys and wrong types exit 2 in one line, nothing sent", async () => {
  const stub = chatStub();
  await using tmp = await tempDir();
  const trace = `${tmp.path}/trace.jsonl`;
  await Deno.writeTextFile(
    trace,
    JSON.stringify({ timestamp: 0, body: { messages: [{ role: "user", content: "a" }] } }) + "\n",
  );
  const lines = `${tmp.path}/lines.txt`;
  await Deno.writeTextFile(lines, "one\ntwo\n");
  const trace4 = ["--dataset-path", trace, "--open-loop", "--rate", "1"];
  const WT = "it takes speed, model_override, model_mapping, match_output_length";
  const TEXT = "it takes target_input_len, input_len_mode, prefix_file, prefix_role";
  const cases: Array<[string, string[], object, string]> = [
    [
      "workload_trace",
      trace4,
      { speed: "fast" },
      `--dataset-args: workload_trace 'speed' must be a number above 0, got "fast" (${WT})`,
    ],
    [
      "workload_trace",
      trace4,
      { speedy: 2 },
      `--dataset-args: workload_trace has no setting 'speedy' (${WT})`,
    ],
    [
      "workload_trace",
      trace4,
      { match_output_length: "yes" },
      `--dataset-args: workload_trace 'match_output_length' must be true or false, got "yes" (${WT})`,
    ],
    [
      "line_by_line",
      ["--dataset-path", lines],
      { foo: 1 },
      `--dataset-args: line_by_line has no setting 'foo' (${TEXT})`,
    ],
    [
      "line_by_line",
      ["--dataset-path", lines],
      { target_input_len: 0 },
      `--dataset-args: line_by_line 'target_input_len' must be a whole number above 0, got 0 ` +
      `(${TEXT})`,
    ],
    [
      "random_multi_turn",
      [],
      { first_turn_length: [9, 3] },
      `--dataset-args: random_multi_turn 'first_turn_length' must be a whole number above 0, ` +
      `or [min, max] of them, got [9,3] (it takes first_turn_length, subsequent_turn_length, ` +
      `chars_per_token, num_workers)`,
    ],
    [
      "random",
      ["--max-prompt-length", "20", "--min-prompt-length", "10"],
      { x: 1 },
      "--dataset-args: random has no setting 'x' (it takes none)",
    ],
  ];
  try {
    for (const [dataset, args, value, message] of cases) {
      await using r = await perfRun({
        server: stub,
        flags: { prompt: null, dataset, number: 1 },
        args: [...args, "--dataset-args", JSON.stringify(value)],
      });
      assertEquals(r.code, 2, r.stderr);
      assertEquals(r.stderr.trim(), `llmperf perf: error: ${message}`);
    }
    assertEquals(stub.requests.length, 0, "nothing was sent");
    // A user's plugin that declares no schema gets its keys as they are.
    const plugin = `${tmp.path}/mine.ts`;
    await Deno.writeTextFile(
      plugin,
      `import { DatasetPlugin } from "${ROOT_DIR}/plugin.ts";
export default class Mine extends DatasetPlugin {
  *buildMessages() {
    yield [{ role: "user", content: \`n=\${this.params.datasetArgs?.anything}\` }];
  }
}
`,
    );
    await using ok = await perfRun({
      server: stub,
      flags: { prompt: null, dataset: plugin, number: 1, noTestConnection: true },
      args: ["--dataset-args", '{"anything": 7}'],
    });
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(stub.requests.map(firstContent), [
      "n=7",
    ]);
  } finally {
    await stub.close();
  }
});

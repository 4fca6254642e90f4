/**
 * `deploy/kubernetes/`: the manifests, rendered as the README says (envsubst with its list of
 * variables), are valid against the Kubernetes API schemas (the `kubernetes-models` package's
 * JSON-schema validators, and its types, which refuse a field the API does not have); they fit
 * together (one volume claim, the shards' folder is the merge's input, completions = parallelism
 * = the N of `--shard auto/N`); the shard pod's script, run here with a stand-in for llmperf,
 * passes flags the real CLI accepts, copies the run folder to the shared volume in one rename and
 * keeps llmperf's exit status; the merge pod's arguments are accepted by `llmperf merge`; and the
 * Dockerfile caches every Worker module the compiled binary also includes.
 */
import { parseAllDocuments } from "yaml";
import { Job } from "kubernetes-models/batch/v1";
import { PersistentVolumeClaim, Pod } from "kubernetes-models/v1";
import { assert, assertEquals } from "./assert.ts";
import { COMPILE_INCLUDES } from "../tools/compile.ts";
import { ROOT_DIR, runCli, tempDir } from "./helpers/cli.ts";
import { resolveConfig } from "../src/config.ts";
import { parsePerfArgs } from "../src/cli/perf_flags.ts";

const DIR = `${ROOT_DIR}/deploy/kubernetes`;
const FILES = ["pvc.yaml", "shards-job.yaml", "merge-job.yaml", "results-pod.yaml"];

/** The values the README's walk-through sets. */
const VARS: Record<string, string> = {
  IMAGE: "registry.example.com/llmperf:0.1.0",
  RUN_ID: "run1",
  SHARDS: "4",
  START_AT: "1800000000",
  URL: "http://vllm.default.svc:8000/v1/chat/completions",
  MODEL: "Qwen/Qwen2.5-7B-Instruct",
};

/** What `envsubst '${A} ${B} ...'` does: only the listed variables, in both spellings. */
function envsubst(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}|\$([A-Z_]+)/g, (m, a, b) => vars[a ?? b] ?? m);
}

type K8sObject = Record<string, unknown> & { kind: string; metadata: { name: string } };

async function rendered(file: string): Promise<K8sObject[]> {
  const text = envsubst(await Deno.readTextFile(`${DIR}/${file}`), VARS);
  return parseAllDocuments(text).map((d) => {
    assertEquals(d.errors, [], `${file}: ${d.errors}`);
    return d.toJS() as K8sObject;
  });
}

const all = async () => (await Promise.all(FILES.map(rendered))).flat();
const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
// deno-lint-ignore no-explicit-any
const jobNamed = (objs: K8sObject[], prefix: string): any =>
  objs.find((o) => o.kind === "Job" && o.metadata.name.startsWith(prefix));

Deno.test("kubernetes: the README renders the manifests with exactly the variables they use", async () => {
  const readme = await Deno.readTextFile(`${ROOT_DIR}/README.md`);
  const listed = /envsubst '([^']+)'/.exec(readme)?.[1].match(/[A-Z_]+/g)?.sort();
  const used = new Set<string>();
  for (const f of FILES) {
    for (const m of (await Deno.readTextFile(`${DIR}/${f}`)).matchAll(/\$\{([A-Z_]+)\}/g)) {
      used.add(m[1]);
    }
  }
  assertEquals(listed, [...used].sort());
  assertEquals([...used].sort(), Object.keys(VARS).sort());
  for (const o of await all()) assert(!JSON.stringify(o).includes("${"), o.metadata.name);
});

Deno.test("kubernetes: every manifest is valid against the Kubernetes API schemas", async () => {
  const objs = await all();
  assertEquals(objs.map((o) => o.kind).sort(), ["Job", "Job", "PersistentVolumeClaim", "Pod"]);
  const models = { Job, PersistentVolumeClaim, Pod } as const;
  for (const o of objs) {
    const Model = models[o.kind as keyof typeof models];
    // deno-lint-ignore no-explicit-any
    new Model(o as any).validate(); // throws with the schema path of what is wrong
  }
  // The validators do catch a mistake (a count as text, a container without an image).
  const job = structuredClone(jobNamed(objs, "llmperf-shards"));
  job.spec.completions = "4";
  let caught = "";
  try {
    new Job(job).validate();
  } catch (e) {
    caught = String(e);
  }
  assert(caught.includes("completions must be integer"), caught);
});

Deno.test("kubernetes: no manifest has a field the API does not have (checked by the API's types)", async () => {
  await using tmp = await tempDir();
  const types = {
    Job: "batch/v1/Job",
    PersistentVolumeClaim: "v1/PersistentVolumeClaim",
    Pod: "v1/Pod",
  };
  const lines: string[] = [];
  const objs = await all();
  for (const [kind, path] of Object.entries(types)) {
    lines.push(`import type { I${kind} } from "kubernetes-models/${path}";`);
  }
  objs.forEach((o, i) => lines.push(`export const m${i}: I${o.kind} = ${JSON.stringify(o)};`));
  const file = `${tmp.path}/manifests.ts`;
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const check = async (path: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", `${ROOT_DIR}/deno.json`, path],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stderr) };
  };
  const r = await check(file);
  assertEquals(r.code, 0, r.text);
  // And the check does refuse an unknown field.
  const bad = `${tmp.path}/bad.ts`;
  await Deno.writeTextFile(bad, (await Deno.readTextFile(file)).replace('"image":', '"imagee":'));
  const b = await check(bad);
  assertEquals(b.code, 1);
  assert(b.text.includes("'\"imagee\"' does not exist in type 'IContainer'"), b.text);
});

Deno.test("kubernetes: the manifests fit together", async () => {
  const objs = await all();
  const [pvc] = byKind(objs, "PersistentVolumeClaim");
  // deno-lint-ignore no-explicit-any
  assertEquals((pvc as any).spec.accessModes, ["ReadWriteMany"]);
  const shards = jobNamed(objs, "llmperf-shards");
  const merge = jobNamed(objs, "llmperf-merge");
  assertEquals(shards.spec.completionMode, "Indexed");
  assertEquals([shards.spec.completions, shards.spec.parallelism], [4, 4]);
  const script: string = shards.spec.template.spec.containers[0].args[0];
  assert(script.includes("--shard auto/4 --start-at 1800000000"), script);
  // deno-lint-ignore no-explicit-any
  for (const o of [shards, merge, ...byKind(objs, "Pod")] as any[]) {
    const spec = o.spec.template?.spec ?? o.spec;
    const volumes = new Map(spec.volumes.map((v: { name: string }) => [v.name, v]));
    for (const c of spec.containers) {
      for (const m of c.volumeMounts) assert(volumes.has(m.name), `${o.metadata.name}: ${m.name}`);
    }
    // deno-lint-ignore no-explicit-any
    const claims = spec.volumes.filter((v: any) => v.persistentVolumeClaim);
    assertEquals(
      claims.map((v: { persistentVolumeClaim: { claimName: string } }) =>
        v.persistentVolumeClaim.claimName
      ),
      [pvc.metadata.name],
    );
  }
  assertEquals(merge.spec.template.spec.containers[0].image, VARS.IMAGE);
  assertEquals(shards.spec.template.spec.containers[0].image, VARS.IMAGE);
  const args: string[] = merge.spec.template.spec.containers[0].args;
  assertEquals(args[0], "merge");
  assertEquals(args[1], "/results/run1/shards");
  assert(script.includes("dest=/results/run1/shards"), "the shards go where the merge reads");
});

Deno.test("kubernetes: the shard pod's script runs llmperf with valid flags, copies its folder in one rename and keeps its exit status", async () => {
  const objs = await all();
  const script: string = jobNamed(objs, "llmperf-shards").spec.template.spec.containers[0].args[0];
  for (const status of [0, 3]) {
    await using tmp = await tempDir();
    const bin = `${tmp.path}/bin`;
    await Deno.mkdir(bin);
    // A stand-in for llmperf: keeps its arguments, leaves a run folder, exits with `status`.
    await Deno.writeTextFile(
      `${bin}/llmperf`,
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${tmp.path}/argv\n` +
        `mkdir -p ${tmp.path}/scratch/shard && echo db > ${tmp.path}/scratch/shard/benchmark_data.db\n` +
        `exit ${status}\n`,
    );
    await Deno.chmod(`${bin}/llmperf`, 0o755);
    const local = script.replaceAll("/scratch", `${tmp.path}/scratch`)
      .replaceAll("/results", `${tmp.path}/results`);
    const out = await new Deno.Command("/bin/sh", {
      args: ["-c", local],
      env: { PATH: `${bin}:/usr/bin:/bin`, JOB_COMPLETION_INDEX: "1" },
      stderr: "piped",
    }).output();
    assertEquals(out.code, status, new TextDecoder().decode(out.stderr));
    const dest = `${tmp.path}/results/run1/shards`;
    assertEquals([...Deno.readDirSync(dest)].map((e) => e.name), ["1"]);
    assertEquals(await Deno.readTextFile(`${dest}/1/benchmark_data.db`), "db\n");
    // The flags are the real CLI's, and make a valid shard config.
    const argv = (await Deno.readTextFile(`${tmp.path}/argv`)).trim().split("\n");
    assertEquals(argv[0], "perf");
    const before = Deno.env.get("JOB_COMPLETION_INDEX");
    Deno.env.set("JOB_COMPLETION_INDEX", "1");
    try {
      const cfg = resolveConfig(parsePerfArgs(argv.slice(1)).config);
      assertEquals(cfg.shard, { index: 1, count: 4 });
      assertEquals([cfg.startAt, cfg.url, cfg.model], [1800000000, VARS.URL, VARS.MODEL]);
      assert(cfg.outputsDir.endsWith("/scratch") && cfg.name === "shard");
    } finally {
      if (before === undefined) Deno.env.delete("JOB_COMPLETION_INDEX");
      else Deno.env.set("JOB_COMPLETION_INDEX", before);
    }
  }
});

Deno.test("kubernetes: the merge pod's arguments are llmperf merge's", async () => {
  const objs = await all();
  const args: string[] = jobNamed(objs, "llmperf-merge").spec.template.spec.containers[0].args;
  await using tmp = await tempDir();
  const local = args.map((a) => a.replace("/results", `${tmp.path}/results`))
    .map((a) => (a === "3600" ? "0" : a)); // no wait here
  const r = await runCli(local);
  // Parsed and run: it found no shards (the folder is not there), and said so in one line.
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("results/run1/shards': no such file or folder"), r.stderr);
});

Deno.test("kubernetes: the Dockerfile pins the project's Deno and caches every Worker module", async () => {
  const docker = await Deno.readTextFile(`${DIR}/Dockerfile`);
  const version = (await Deno.readTextFile(`${ROOT_DIR}/.deno-version`)).trim();
  assert(docker.includes(`ARG DENO_VERSION=${version}`), "the image's Deno is .deno-version's");
  const cache = /RUN deno cache --frozen ((?:[^\n\\]|\\\n)+)/.exec(docker)?.[1]
    .replace(/\\\n/g, " ").trim().split(/\s+/);
  // The modules the compiled binary embeds besides main.ts (tools/compile.ts, checked against
  // the code by tests/compile_test.ts).
  const included = COMPILE_INCLUDES.filter((p) => p.endsWith(".ts"));
  assertEquals(cache?.slice(1).sort(), included.sort());
  assertEquals(cache?.[0], "main.ts");
  for (const path of /COPY ([^\n]+) \.\//.exec(docker)![1].split(" ")) {
    await Deno.stat(`${ROOT_DIR}/${path}`); // what it copies exists
  }
  assert(docker.includes('ENTRYPOINT ["llmperf"]'));
});

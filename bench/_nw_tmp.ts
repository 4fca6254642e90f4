import { fixtureTokenizerDir } from "/work/wt/i14-numworkers/tests/helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "/work/wt/i14-numworkers/src/tokenizer/load.ts";
import { resolveConfig } from "/work/wt/i14-numworkers/src/config.ts";
import RandomDataset from "/work/wt/i14-numworkers/plugins/datasets/random.ts";
const dir = await fixtureTokenizerDir("qwen3");
let t = performance.now();
const tok = await loadTokenizer(dir);
console.log("tokenizer load", ((performance.now() - t) / 1000).toFixed(2), "s");
const n = Number(Deno.args[0] ?? 200);
for (const w of (Deno.args[1] ?? "1,2").split(",").map(Number)) {
  const cfg = resolveConfig({ model: "m", dataset: "random", number: n, minPromptLength: 1024, maxPromptLength: 1024, tokenizerPath: dir, numWorkers: w });
  const ds = new RandomDataset({ ...cfg, tokenizer: tok, log: console.log });
  t = performance.now();
  const out: string[] = [];
  for await (const m of ds.buildMessages()) out.push(m[0].content as string);
  console.log(`workers ${w}: ${out.length} prompts in ${((performance.now() - t) / 1000).toFixed(2)} s`);
}

/**
 * `llmperf doctor <url>`: check an endpoint before a benchmark (see `src/doctor/diagnose.ts`)
 * and print what was found, what llmperf will measure there and what it cannot. The flags that
 * say how to reach the server are `perf`'s own (`--model`, `--api-key`, `--headers`, `--ca-cert`,
 * from the settings table, with the same environment fallbacks); `--timeout` bounds each probe.
 * Exit code 0 when the endpoint can be benchmarked, 1 when a check failed, 2 for bad input.
 *
 * @module
 */
import { resolveConfig, SETTINGS } from "../config.ts";
import { diagnose, type DoctorReport } from "../doctor/diagnose.ts";
import { KINDS } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { readCa } from "../workers/transport_threads.ts";
import { parseStrict, strictCommand } from "./commander.ts";
import { addFlags, type FlagTable, readFlags } from "./perf_flags.ts";

/** The settings `doctor` takes from the table: where the server is and how to reach it. */
const SHARED: FlagTable = {
  model: { ...SETTINGS.model, required: false, help: "model to ask (default: the first listed)" },
  apiKey: SETTINGS.apiKey,
  headers: SETTINGS.headers,
  caCert: SETTINGS.caCert,
};

/** `doctor`'s own flags. */
const OWN: FlagTable = {
  timeout: {
    kind: "number",
    group: "basic",
    arg: "s",
    default: 30,
    above: 0,
    help: "longest wait for each check, seconds",
  },
  json: { kind: "bool", group: "basic", help: "print the findings as JSON" },
};

const EXAMPLES = `
Examples:
  llmperf doctor http://gpu-box:8000/v1/chat/completions
  llmperf doctor https://api.example.com/v1 --model my-model --ca-cert corp-ca.pem
`;

const MARK = { ok: "ok", warn: "warn", fail: "FAIL", skip: "--" } as const;

/** The report as text: one line per check, then what llmperf will and will not measure. */
export function formatReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [`llmperf doctor ${r.endpoint}`, ""];
  for (const c of r.checks) {
    lines.push(`  ${MARK[c.status].padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  }
  if (r.measures.length > 0) {
    lines.push("", "What llmperf will measure here:", ...r.measures.map((m) => `  - ${m}`));
  }
  if (r.cannot.length > 0) {
    lines.push("", "What it cannot:", ...r.cannot.map((m) => `  - ${m}`));
  }
  if (r.command !== undefined) lines.push("", `Try: ${r.command}`);
  lines.push(
    "",
    r.ok ? "The endpoint can be benchmarked." : "The endpoint cannot be benchmarked as it is.",
  );
  return lines.join("\n") + "\n";
}

/** Run `llmperf doctor` with `args`; returns the exit code. */
export async function doctorMain(args: string[]): Promise<number> {
  const cmd = strictCommand("doctor", "Check an endpoint before a benchmark")
    .usage("<url> [--model NAME] [--api-key KEY] [--headers k=v ...] [--ca-cert FILE]")
    .argument("[url]", "the endpoint, or the server's base URL (http://host:8000)")
    .addHelpText("after", EXAMPLES);
  const shared = addFlags(cmd, SHARED);
  const own = addFlags(cmd, OWN);
  parseStrict(cmd, args);
  const values = readFlags(cmd, SHARED, shared).values;
  const opts = readFlags(cmd, OWN, own).values;
  for (const [key, v] of Object.entries(opts)) {
    const checked = KINDS[OWN[key].kind].check(v, OWN[key], `--${key}`);
    if (typeof checked === "string") throw new UsageError(`--${key}: ${checked}`);
  }
  const [url] = cmd.args;
  if (url === undefined) {
    throw new UsageError("doctor needs the endpoint's URL: llmperf doctor <url>");
  }
  const cfg = resolveConfig({ ...values, url, model: (values.model as string) ?? "-" });
  const report = await diagnose({
    url: cfg.url,
    model: values.model as string | undefined,
    apiKey: cfg.apiKey,
    headers: cfg.headers,
    caCerts: cfg.caCert === undefined ? undefined : await readCa(cfg.caCert),
    timeoutMs: ((opts.timeout as number | undefined) ?? (OWN.timeout.default as number)) * 1000,
  });
  const text = opts.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report);
  Deno.stdout.writeSync(new TextEncoder().encode(text));
  return report.ok ? 0 : 1;
}

/**
 * The CLI: picks a command and maps errors and results to exit codes (`src/exit_codes.ts`: 0 ok,
 * 1 run failed or an output could not be written, 2 bad input, 3 an `--slo` goal failed, 128 +
 * the signal's number when interrupted). Each command is a thin layer over the library.
 *
 * @module
 */
import { errorMessage, Interrupted, RunError, UsageError } from "../errors.ts";
import {
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_RUN_FAILED,
  EXIT_USAGE,
  INTERRUPT_SIGNALS,
  interruptExitCode,
  runExitCode,
} from "../exit_codes.ts";
import { stderrLogger } from "../log.ts";
import { runPerfBenchmark } from "../perf.ts";
import { versionText } from "../version.ts";
import { HelpShown } from "./commander.ts";
import { COMMAND_NAMES, usageText } from "./help.ts";
import { didYouMean } from "../util/closest.ts";
import { type PerfArgs, perfArgs } from "./perf_args.ts";
import { startLocalServer } from "../run/local_server.ts";
import { printResult } from "./print.ts";
import { isSweep, runSweep } from "../run/sweep.ts";
import { printJson, repeatJson, runJson, slaJson, sweepJson } from "../report/json_output.ts";
import { runRepeats } from "../run/repeat.ts";
import { runSlaAutoTune } from "../run/sla_tune.ts";
import { formatSlaTable } from "../report/sla_table.ts";
import { formatRepeatTable } from "../report/repeat_table.ts";
import { resolveConfig } from "../config.ts";
import { formatSweepTable } from "../report/sweep_table.ts";
import { headerSecrets, isSecretHeader, Redactor, urlSecrets } from "../redact.ts";

/** Say each output that could not be written, one `error:` line each, on stderr. */
function reportErrors(errors: string[], command = "perf"): void {
  for (const e of errors) writeStderr(`llmperf ${command}: error: ${e}\n`);
}

/** Run `perf` with parsed flags, print the tables; handles SIGINT, SIGTERM and SIGHUP. */
async function perfMain(args: string[]): Promise<number> {
  const parsed = await perfArgs(args);
  if (parsed.printConfig) {
    // Its YAML writer is loaded only here (~3 MB and ~40 ms at start otherwise).
    const { configText } = await import("./print_config.ts");
    writeStdout(configText(parsed, parsed.json ? "json" : "yaml"));
    return 0;
  }
  // --api local_vllm: a vLLM server started for the run (and stopped after it).
  const local = await startLocalServer(parsed.config, stderrLogger);
  try {
    return await perfRuns({ ...parsed, config: local.input });
  } finally {
    await local.server?.stop();
  }
}

/** The runs of `perf`: a sweep, repeats, or one run. */
async function perfRuns(parsed: PerfArgs): Promise<number> {
  const { config, sweep, json } = parsed;
  if (resolveConfig(config).slaAutoTune) {
    return await withInterrupt(async (signal) => {
      const r = await runSlaAutoTune(config, { signal });
      if (json) printJson(slaJson(r));
      else writeStdout(`\n${formatSlaTable(r.rows)}\nResults: ${r.outputDir}\n`);
      reportErrors(r.errors);
      return runExitCode({ errors: r.errors, interrupted: r.interrupted });
    });
  }
  if (isSweep(sweep)) {
    return await withInterrupt(async (signal) => {
      const s = await runSweep(config, sweep, { signal });
      if (json) printJson(sweepJson(s));
      else {
        writeStdout(`\n${formatSweepTable(s.rows)}\nResults and report.html: ${s.outputDir}\n`);
      }
      reportErrors(s.errors);
      return runExitCode({
        ...s,
        sloPassed: !s.rows.some((r) => r.sloPassed === false),
        stoppedEarly: s.rows.find((r) => r.stoppedEarly)?.stoppedEarly ?? undefined,
      });
    });
  }
  if (resolveConfig(config).repeat > 1) {
    return await withInterrupt(async (signal) => {
      const rr = await runRepeats(config, { signal });
      if (json) printJson(repeatJson(rr));
      else {
        const last = rr.results[rr.results.length - 1];
        if (last) printResult(last);
        writeStdout(
          `\n${formatRepeatTable(rr.summary)}\nResults and report.html: ${rr.outputDir}\n`,
        );
      }
      reportErrors(rr.errors);
      return runExitCode({
        errors: rr.errors,
        interrupted: rr.interrupted,
        sloPassed: !rr.results.some((r) => r.slo?.passed === false),
        stoppedEarly: rr.results.find((r) => r.stoppedEarly)?.stoppedEarly,
      });
    });
  }
  return await withInterrupt(async (signal) => {
    const result = await runPerfBenchmark(config, { signal });
    if (json) printJson(runJson(result));
    else printResult(result);
    reportErrors(result.errors);
    return runExitCode({ ...result, sloPassed: result.slo?.passed });
  });
}

/**
 * Run `fn` with a signal that aborts on the first SIGINT, SIGTERM or SIGHUP (all three stop the
 * run the same way: in-flight requests recorded as cancelled, the summary printed, the DB
 * closed); a second one exits at once. An interrupted run exits with 128 + the first signal's
 * number. Output to a terminal that has gone (SIGHUP) is dropped, never fatal.
 */
async function withInterrupt(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const ac = new AbortController();
  let received: string | undefined;
  const listeners = new Map<Deno.Signal, () => void>();
  const signals =
    (Deno.build.os === "windows" ? ["SIGINT"] : Object.keys(INTERRUPT_SIGNALS)) as Deno.Signal[];
  for (const s of signals) {
    const onSignal = () => {
      if (s === "SIGHUP" && HANGUP_IGNORED) {
        stderrLogger("hang-up (SIGHUP) ignored: llmperf was started with SIGHUP ignored (nohup)");
        return;
      }
      if (ac.signal.aborted) Deno.exit(interruptExitCode(received));
      received = s;
      stderrLogger(
        `${s === "SIGHUP" ? "hang-up" : "interrupted"} (${s}): stopping, finishing the ` +
          "records (interrupt again to quit at once)",
      );
      ac.abort();
    };
    listeners.set(s, onSignal);
    Deno.addSignalListener(s, onSignal);
  }
  try {
    const code = await fn(ac.signal);
    return code === EXIT_INTERRUPTED ? interruptExitCode(received) : code;
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    writeStderr(`llmperf: ${e.message}\n`);
    return interruptExitCode(received);
  } finally {
    for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
  }
}

/**
 * Whether this process was started with SIGHUP ignored (`nohup llmperf ...`), read from
 * /proc/self/status on Linux (elsewhere: false). Read when this module loads, before any signal
 * listener exists: the runtime installs its handlers for SIGHUP, SIGINT and SIGTERM together at
 * the first listener, which undoes the ignore, so a hang-up is then ignored by the listener.
 */
function hangupIgnored(): boolean {
  try {
    const path = "/proc/self/status";
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync(path))?.[1];
    return mask !== undefined && (parseInt(mask.slice(-1), 16) & 1) === 1; // bit 0: signal 1
  } catch {
    return false;
  }
}

const HANGUP_IGNORED = Deno.build.os === "linux" && hangupIgnored();

const encoder = new TextEncoder();

/** Write to stdout; a closed pipe or a terminal that has gone is not an error. */
function writeStdout(text: string): void {
  try {
    Deno.stdout.writeSync(encoder.encode(text));
  } catch { /* nobody is reading */ }
}

/** Write to stderr; a closed pipe or a terminal that has gone is not an error. */
function writeStderr(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text));
  } catch { /* nobody is reading */ }
}

/** `llmperf demo`: the quick start against an in-process mock server with a shipped sample. */
async function demoMain(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(
      "llmperf demo: start the mock server on a free port and benchmark it\n" +
        "  (--parallel 1 --model qwen2.5 --number 15 --api openai --dataset openqa --stream)",
    );
    return EXIT_OK;
  }
  if (args.length > 0) throw new UsageError(`demo takes no arguments, got '${args[0]}'`);
  const { startMockServer } = await import("../mock/server.ts");
  const server = startMockServer({
    port: 0,
    ttftMs: 30,
    itlMs: 2,
    outputTokens: 32,
    outputTokensMax: 128,
  });
  const sample = new URL("../../data/open_qa_sample.jsonl", import.meta.url);
  try {
    stderrLogger(`mock server on ${server.url}`);
    return await withInterrupt(async (signal) => {
      const result = await runPerfBenchmark({
        url: `${server.url}/v1/chat/completions`,
        parallel: 1,
        model: "qwen2.5",
        number: 15,
        api: "openai",
        dataset: "openqa",
        datasetPath: sample.protocol === "file:"
          ? decodeURIComponent(sample.pathname)
          : sample.href,
        stream: true,
      }, { signal });
      printResult(result);
      reportErrors(result.errors, "demo");
      return runExitCode(result);
    });
  } finally {
    await server.close();
  }
}

/**
 * The secret values on a command line (`--api-key`, `--wandb-api-key`, `--swanlab-api-key`,
 * credential `--headers`,
 * URL credentials), for errors raised before there is a config (a bad flag that echoes a value).
 */
export function argvRedactor(args: string[]): Redactor {
  const out: string[] = [];
  args.forEach((a, i) => {
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (flag === "--api-key" || flag === "--wandb-api-key" || flag === "--swanlab-api-key") {
      const v = flag === a ? args[i + 1] : a.slice(eq + 1);
      if (v) out.push(v);
    }
    if (a.includes("://")) out.push(...urlSecrets(a));
    if (eq > 0 && isSecretHeader(a.slice(0, eq))) out.push(...headerSecrets(a.slice(eq + 1)));
  });
  return new Redactor(out);
}

/**
 * Run the CLI with `args`; returns the exit code. Never throws. Each command but `perf` is loaded
 * when it is run, so that a benchmark's process holds none of the others (`mock`, `report`,
 * `doctor`, `merge`, `export`: ~2 MB of memory less at start).
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "perf":
        return await perfMain(rest);
      case "mock":
        return await (await import("./mock_command.ts")).mockMain(rest);
      case "demo":
        return await demoMain(rest);
      case "report":
        return await (await import("./report_command.ts")).reportMain(rest);
      case "doctor":
        return await (await import("./doctor_command.ts")).doctorMain(rest);
      case "merge":
        return await (await import("./merge_command.ts")).mergeMain(rest);
      case "export":
        return await (await import("./export_command.ts")).exportMain(rest);
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(usageText());
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      case "-V":
      case "--version":
        console.log(versionText());
        return EXIT_OK;
      default:
        throw new UsageError(
          `unknown command '${command}'${didYouMean(command, COMMAND_NAMES)} ` +
            `(commands: ${COMMAND_NAMES.join(", ")})`,
        );
    }
  } catch (e) {
    if (e instanceof HelpShown) return EXIT_OK;
    const name = command && !command.startsWith("-") ? `llmperf ${command}` : "llmperf";
    const redact = argvRedactor(rest);
    if (e instanceof UsageError || e instanceof RunError) {
      writeStderr(`${name}: error: ${redact.text(e.message)}\n`);
      return e.exitCode;
    }
    writeStderr(`${name}: error: ${redact.text(errorMessage(e))}\n`);
    if (Deno.env.get("LLMPERF_TRACE")) console.error(redact.text(String((e as Error)?.stack ?? e)));
    return EXIT_RUN_FAILED;
  }
}

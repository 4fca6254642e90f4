/**
 * The first stage of a run, `prepare`: everything that can fail on bad input, before anything is
 * written to disk or sent under load. The config, the query template, the tokenizer, the
 * plugins, the request source and its first request, the transport settings, the `--slo` goals,
 * and the start-up check (one small request). An abort during it rejects at once with
 * {@link Interrupted}.
 *
 * @module
 */
import { givenKeys, type PerfConfig, type PerfConfigInput, resolveConfig } from "../config.ts";
import { Interrupted, UsageError } from "../errors.ts";
import { type Logger, stderrLogger } from "../log.ts";
import { checkEndpoint, probeRequest } from "../load/preflight.ts";
import { startAtProblem } from "../load/start_at.ts";
import { shardText } from "../config/shard.ts";
import { type Job, type PromptSource, requestHeaders, RequestSource } from "../load/requests.ts";
import { bodyBuilder, loadQueryTemplate, withTemplateStream } from "../load/template.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import { loadDatasetPlugin } from "../plugins/dataset_loader.ts";
import type { ApiPluginLike, Message, PluginParams } from "../plugins/types.ts";
import { envUrlSecrets, type Redactor, runSecrets } from "../redact.ts";
import { parseSlo, type SloGoal } from "../config/slo_goals.ts";
import type { HfTokenizer } from "../tokenizer/hf_tokenizer.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { createTransport, type TransportSpec } from "../transport/create.ts";
import type { TransportTimeouts } from "../transport/types.ts";
import { abortable } from "../util/abortable.ts";
import { readTextFileLimited } from "../util/text_file.ts";
import { transportSpec } from "../workers/transport_threads.ts";
import type { RunOptions } from "./options.ts";
import { checkReusedFolder2026, folders2026 } from "../report/evalscope2026/outputs.ts";

/** What the later stages start from. Nothing in it is changed after this stage. */
export interface PreparedRun {
  /** The resolved config, with the query template's `stream` applied. */
  readonly cfg: PerfConfig;
  /** The run's secrets, replaced wherever text leaves the run. */
  readonly redactor: Redactor;
  /** The run's logger (every line redacted). */
  readonly log: Logger;
  /** Whether `log` is the default stderr logger (the live progress line needs the terminal). */
  readonly defaultLogger: boolean;
  /** The caller's abort signal. */
  readonly signal?: AbortSignal;
  /** The run's tokenizer (`--tokenizer-path`). */
  readonly tokenizer?: HfTokenizer;
  /** The API plugin. */
  readonly api: ApiPluginLike;
  /** The requests to send. */
  readonly source: RequestSource;
  /** The first request, pulled here so that dataset errors come before anything is sent. */
  readonly first: Job;
  /** How to build the transport. */
  readonly spec: TransportSpec;
  /** The `--slo` goals, parsed once (absent without `--slo`). */
  readonly goals?: readonly SloGoal[];
}

/** Read `--prompt`: the text itself, or a file's content for `@path` (at most 64 MiB). */
export async function loadPrompt(prompt: string): Promise<string> {
  if (!prompt.startsWith("@")) return prompt;
  const path = prompt.slice(1);
  try {
    return await readTextFileLimited(path);
  } catch (e) {
    throw new UsageError(`--prompt '@${path}': cannot read the file (${(e as Error).message})`);
  }
}

async function promptSource(cfg: PluginParams): Promise<PromptSource> {
  if (cfg.prompt !== undefined) {
    return { kind: "prompt", messages: [{ role: "user", content: await loadPrompt(cfg.prompt) }] };
  }
  return { kind: "dataset", name: cfg.dataset, plugin: await loadDatasetPlugin(cfg.dataset, cfg) };
}

/** The transport's time limits from the config (seconds there, milliseconds here). */
function timeoutsOf(cfg: PerfConfig): TransportTimeouts {
  return {
    connectMs: cfg.connectTimeout * 1000,
    readMs: cfg.readTimeout * 1000,
    totalMs: cfg.totalTimeout !== undefined ? cfg.totalTimeout * 1000 : Infinity,
  };
}

/**
 * Prepare a run: resolve `input`, load what it names, pull the first request, and (unless
 * `--no-test-connection`) check the endpoint with one small request. `redactor` receives the
 * run's secrets as they become known. Throws {@link UsageError} for bad input, `RunError` for an
 * endpoint that fails the check, {@link Interrupted} when aborted.
 */
export async function prepareRun(
  input: PerfConfigInput,
  options: RunOptions,
  redactor: Redactor,
): Promise<PreparedRun> {
  const resolved = resolveConfig(input);
  // --start-at already past: said before anything is loaded or sent.
  const late = resolved.startAt === undefined ? undefined : startAtProblem(resolved.startAt);
  if (late !== undefined) throw new UsageError(late);
  redactor.add([...runSecrets(resolved), ...envUrlSecrets()]);
  const baseLog = options.log ?? stderrLogger;
  const log: Logger = (line) => baseLog(redactor.text(line));
  const signal = options.signal;
  // An abort stops the run at once, whatever step is under way.
  const stage = <T>(what: string, work: Promise<T>) => abortable(work, signal, what);
  // --query-template: read before the plugins, as its `stream` may switch streaming.
  const given = givenKeys(input);
  const template = resolved.queryTemplate === undefined
    ? undefined
    : await stage("reading --query-template", loadQueryTemplate(resolved.queryTemplate));
  const cfg = withTemplateStream(resolved, template, given);
  const goals = cfg.slo === undefined ? undefined : parseSlo(cfg.slo);
  // The tokenizer (--tokenizer-path) measures prompts here and reaches plugins as
  // params.tokenizer; a second copy counts tokens in a worker (see the open stage).
  const tokenizer = cfg.tokenizerPath === undefined ? undefined : await stage(
    "loading the tokenizer",
    loadTokenizer(cfg.tokenizerPath, { applyChatTemplate: usesChatTemplate(cfg) }),
  );
  const params: PluginParams = tokenizer ? { ...cfg, tokenizer, log } : { ...cfg, log };
  const api = await stage("loading the API plugin", loadApiPlugin(cfg.api, params));
  redactor.add(runSecrets({}, requestHeaders(cfg, api))); // a plugin's own credential headers
  const measure = tokenizer && ((m: Message[]) => tokenizer.promptLength(m));
  const prompts = await stage("loading the dataset", promptSource(params));
  const source = new RequestSource(params, api, prompts, log, measure);
  source.bodyBuilder = bodyBuilder(api, { template, extraArgs: cfg.extraArgs, given });
  source.onSecrets = (values) => redactor.add(values); // a trace's own credential headers
  const first = await stage("reading the dataset", source.next());
  if (first === undefined) {
    throw new UsageError(
      cfg.shard && source.dispatched > 0
        ? `--shard ${shardText(cfg.shard)}: the dataset's ${source.dispatched} requests leave ` +
          "this shard none"
        : `--dataset '${cfg.dataset}': no prompts`,
    );
  }
  // --compat 2026 --no-timestamp into a folder that holds a run: refused before anything is sent.
  if (cfg.compat === "2026" && cfg.noTimestamp && options.group === undefined) {
    await checkReusedFolder2026(folders2026(cfg, source.expected ?? 0, new Date()).run);
  }
  const spec = await stage("starting", transportSpec(cfg, timeoutsOf(cfg), log));
  if (!cfg.noTestConnection) {
    const limitMs = cfg.connectTimeout * 1000;
    const timeouts = { connectMs: limitMs, readMs: limitMs, totalMs: limitMs };
    const probe = createTransport({ ...spec, timeouts });
    try {
      const urls = source.urls;
      log(
        urls.length === 1
          ? `checking the endpoint ${cfg.url} with one small request (skip: --no-test-connection)`
          : `checking the ${urls.length} endpoints with one small request each ` +
            "(skip: --no-test-connection)",
      );
      const req = probeRequest(api, first, params);
      // Every endpoint: a dead replica is one line naming it, before the run.
      for (const url of urls) {
        await stage(
          "checking the endpoint",
          checkEndpoint(probe, { ...req, url }, cfg.connectTimeout, signal),
        );
      }
    } finally {
      await probe.close();
    }
  }
  if (signal?.aborted) throw new Interrupted("starting");
  return {
    cfg,
    redactor,
    log,
    defaultLogger: options.log === undefined,
    signal,
    tokenizer,
    api,
    source,
    first,
    spec,
    goals,
  };
}

/**
 * Whether prompts go through the tokenizer's chat template: `--apply-chat-template`, or
 * `--tokenize-prompt` on a chat URL (evalscope 2026 renders chat messages to ids through it).
 */
export function usesChatTemplate(
  cfg: Pick<PerfConfig, "applyChatTemplate" | "tokenizePrompt" | "url">,
): boolean {
  return cfg.applyChatTemplate === true ||
    (cfg.tokenizePrompt && /\/chat\/completions\/?$/.test(cfg.url.replace(/[?#].*$/, "")));
}

/**
 * `llmperf doctor <url>`: checks an OpenAI-compatible endpoint before a benchmark, and says what
 * llmperf will measure there and what it cannot. In order: the TCP connection, TLS (https), the
 * `/v1/models` listing (which also tells whether a key is needed), one streamed request exactly
 * as `llmperf perf --stream` sends it (the built-in `openai` API plugin builds the body, with
 * `stream_options.include_usage`, and reads the token counts as a run would), one non-streamed
 * request, the server's `/metrics`, and its clock (the `Date` header against this machine's).
 * Each check is plain data ({@link Check}); the report adds the conclusions. Nothing here prints.
 *
 * @module
 */
import { resolveConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { requestHeaders } from "../load/requests.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import type { ApiPluginLike, TokenCounts } from "../plugins/types.ts";
import { Redactor, runSecrets } from "../redact.ts";
import {
  connectProbe,
  type HttpProbe,
  httpProbe,
  type ProbeOptions,
  type StreamProbe,
  streamProbe,
  tlsProbe,
} from "./probes.ts";

/** How a check came out: `fail` makes the endpoint unusable for a benchmark. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** One check: its name, its outcome, and one line saying what was found. */
export interface Check {
  /** Short name (`reachable`, `tls`, `models`, `auth`, `request`, `streaming`, `usage`, ...). */
  name: string;
  /** The outcome. */
  status: CheckStatus;
  /** What was found, in one line. */
  detail: string;
}

/** What `llmperf doctor` found. */
export interface DoctorReport {
  /** The URL as given. */
  url: string;
  /** The endpoint checked (the given URL, or `/v1/chat/completions` under it). */
  endpoint: string;
  /** The model used for the test requests (given, or the first listed). */
  model?: string;
  /** The checks, in the order run. */
  checks: Check[];
  /** What llmperf will measure at this endpoint. */
  measures: string[];
  /** What it cannot (and what to do about it). */
  cannot: string[];
  /** A `llmperf perf` command for this endpoint, when the requests worked. */
  command?: string;
  /** Whether no check failed. */
  ok: boolean;
}

/** What to check, and how. */
export interface DoctorOptions {
  /** The endpoint (or the server's base URL). */
  url: string;
  /** The model; default: the first that `/v1/models` lists. */
  model?: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** PEM text of CA certificates to trust besides the default roots. */
  caCerts?: string[];
  /** Longest time for each probe, ms. */
  timeoutMs: number;
}

/** The prompt of the test requests, and the most tokens asked for. */
const PROMPT = "Say hello in a few words.";
const MAX_TOKENS = 16;

/** A clock difference below this is within the `Date` header's one-second resolution. */
const CLOCK_TOLERANCE_S = 1.5;

/** Where the endpoint is: the URL as given when it names one, else chat completions under it. */
export function endpointOf(url: string): { endpoint: string; guessed: boolean } {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, "");
  if (/\/completions$/.test(path)) return { endpoint: url, guessed: false };
  u.pathname = /\/v1$/.test(path) ? `${path}/chat/completions` : `${path}/v1/chat/completions`;
  return { endpoint: u.href, guessed: true };
}

/** The `/v1/models` URL beside an endpoint (`.../v1/chat/completions` → `.../v1/models`). */
export function modelsUrl(endpoint: string): string {
  const u = new URL(endpoint);
  u.search = "";
  u.pathname = u.pathname.replace(/\/(chat\/)?completions\/*$/, "/models");
  return u.href;
}

/** Seconds the server's clock is ahead of this machine's (negative: behind), from `Date`. */
export function clockSkewS(p: HttpProbe): number | undefined {
  if (p.date === undefined || p.headersAt === undefined) return undefined;
  const server = Date.parse(p.date);
  if (!Number.isFinite(server)) return undefined;
  // `Date` is truncated to the second: the server's time was in [server, server + 1 s).
  return (server + 500 - (p.sentAt + p.headersAt) / 2) / 1000;
}

/** Which engine a Prometheus text names, by its metric prefixes. */
export function metricsEngine(text: string): string | undefined {
  if (/^vllm:/m.test(text)) return "vLLM";
  if (/^sglang:/m.test(text)) return "SGLang";
  if (/^tgi_/m.test(text)) return "TGI";
  if (/^ollama_/m.test(text)) return "Ollama";
  return undefined;
}

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;

function excerpt(body: string): string {
  const t = body.replace(/\s+/g, " ").trim();
  return t === "" ? "" : `: ${t.length > 160 ? t.slice(0, 160) + "..." : t}`;
}

function listModels(body: string): string[] | undefined {
  try {
    const js = JSON.parse(body) as { data?: { id?: unknown }[] };
    if (!Array.isArray(js.data)) return undefined;
    return js.data.map((m) => m?.id).filter((id): id is string => typeof id === "string");
  } catch {
    return undefined;
  }
}

/** What a probe's failure says about the key, or undefined when it is not about the key. */
function authProblem(p: HttpProbe, keyGiven: boolean): string | undefined {
  if (p.status !== 401 && p.status !== 403) return undefined;
  return keyGiven
    ? `the server refused the key (HTTP ${p.status})${excerpt(p.body)}`
    : `the server wants a key (HTTP ${p.status}): give --api-key or set $LLMPERF_API_KEY`;
}

/** Run every check against `opts.url` and conclude. Never throws for what the server does. */
export async function diagnose(opts: DoctorOptions): Promise<DoctorReport> {
  const { endpoint, guessed } = endpointOf(opts.url);
  const secrets = new Redactor(runSecrets({ apiKey: opts.apiKey, headers: opts.headers ?? {} }));
  const report: DoctorReport = {
    url: opts.url,
    endpoint,
    model: opts.model,
    checks: [],
    measures: [],
    cannot: [],
    ok: true,
  };
  const add = (name: string, status: CheckStatus, detail: string) => {
    report.checks.push({ name, status, detail: secrets.text(detail) });
    if (status === "fail") report.ok = false;
  };
  if (guessed) {
    add(
      "url",
      "warn",
      `${opts.url} names no /chat/completions or /completions endpoint: checking ${endpoint} ` +
        "(llmperf perf needs the endpoint's URL)",
    );
  }
  const u = new URL(endpoint);
  const https = u.protocol === "https:";
  const port = Number(u.port || (https ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, "");

  const conn = await connectProbe(host, port, opts.timeoutMs);
  if (!conn.ok) {
    add("reachable", "fail", `cannot connect to ${u.host}: ${conn.error}`);
    return report;
  }
  add("reachable", "ok", `${u.host} accepted a connection in ${ms(conn.ms)}`);
  if (https) {
    const tls = await tlsProbe(host, port, opts.caCerts, opts.timeoutMs);
    if (!tls.ok) {
      const hint = /UnknownIssuer|certificate/i.test(tls.error) && !opts.caCerts
        ? " (a private CA? give it with --ca-cert FILE)"
        : "";
      add("tls", "fail", `TLS handshake failed: ${tls.error}${hint}`);
      return report;
    }
    const alpn = tls.alpn ? `, ALPN ${tls.alpn}` : "";
    add("tls", "ok", `certificate trusted, handshake in ${ms(tls.ms)}${alpn}`);
  } else {
    add("tls", "skip", "plain http: no TLS (requests and the key travel unencrypted)");
  }

  const keyGiven = Boolean(opts.apiKey) ||
    Object.keys(opts.headers ?? {}).some((h) => /^authorization$/i.test(h));
  const cfg = resolveConfig({
    url: endpoint,
    model: opts.model ?? "llmperf-doctor",
    apiKey: opts.apiKey,
    headers: opts.headers ?? {},
    maxTokens: MAX_TOKENS,
    stream: true,
  });
  let api: ApiPluginLike;
  try {
    api = await loadApiPlugin("openai", cfg);
  } catch (e) {
    add("request", "fail", errorMessage(e));
    return report;
  }
  let client: Deno.HttpClient | undefined;
  if (opts.caCerts) client = Deno.createHttpClient({ caCerts: opts.caCerts });
  const probe: ProbeOptions = {
    headers: requestHeaders(cfg, api),
    client,
    timeoutMs: opts.timeoutMs,
  };
  try {
    await requests(report, add, { endpoint, cfg, api, probe, keyGiven, opts });
  } finally {
    client?.close();
  }
  return report;
}

interface RequestContext {
  endpoint: string;
  cfg: ReturnType<typeof resolveConfig>;
  api: ApiPluginLike;
  probe: ProbeOptions;
  keyGiven: boolean;
  opts: DoctorOptions;
}

type Add = (name: string, status: CheckStatus, detail: string) => void;

async function requests(report: DoctorReport, add: Add, c: RequestContext): Promise<void> {
  const { endpoint, cfg, api, probe, keyGiven, opts } = c;
  // /v1/models: the listing, the model, and whether a key is needed.
  const listUrl = modelsUrl(endpoint);
  const models = await httpProbe(listUrl, { method: "GET" }, probe);
  const listed = models.status === 200 ? listModels(models.body) : undefined;
  let authFailed = authProblem(models, keyGiven);
  if (listed !== undefined) {
    const shown = listed.slice(0, 5).join(", ") + (listed.length > 5 ? ", ..." : "");
    add("models", "ok", `${new URL(listUrl).pathname} lists ${listed.length} model(s): ${shown}`);
    if (opts.model !== undefined && !listed.includes(opts.model)) {
      add("model", "warn", `'${opts.model}' is not among the listed models`);
    }
  } else if (authFailed === undefined) {
    const why = models.error ?? `HTTP ${models.status}${excerpt(models.body)}`;
    add("models", "warn", `no model listing at ${new URL(listUrl).pathname} (${why})`);
  }
  const model = opts.model ?? listed?.[0];
  report.model = model;
  if (model === undefined) {
    if (authFailed !== undefined) add("auth", "fail", authFailed);
    add("request", "fail", "no model to ask: give --model NAME (the server lists none)");
    return;
  }
  cfg.model = model;

  // One streamed request, as `llmperf perf --stream` sends it.
  const streamBody = await api.buildRequest([{ role: "user", content: PROMPT }], cfg) ?? {};
  const streamed = await streamProbe(endpoint, { method: "POST", body: streamBody }, probe);
  authFailed ??= authProblem(streamed, keyGiven);
  if (authFailed !== undefined) {
    add("auth", "fail", authFailed);
    return;
  }
  add(
    "auth",
    "ok",
    keyGiven
      ? "the key (or Authorization header) was accepted"
      : "no key needed: the server answered without one",
  );
  const path = new URL(endpoint).pathname;
  if (streamed.status !== 200) {
    const why = streamed.error ?? `HTTP ${streamed.status}${excerpt(streamed.body)}`;
    const hint = streamed.status === 404 ? "; check the URL and --model" : "";
    add("request", "fail", `POST ${path} (model ${model}): ${why}${hint}`);
    return;
  }
  add("request", "ok", `POST ${path}, model ${model}: HTTP 200 in ${ms(streamed.ms)}`);
  const stream = streamFindings(streamed, api, streamBody);
  add("streaming", stream.status, stream.detail);

  // One non-streamed request: usage in whole replies.
  const wholeCfg = { ...cfg, stream: false };
  const wholeBody = await api.buildRequest([{ role: "user", content: PROMPT }], wholeCfg) ?? {};
  const whole = await httpProbe(endpoint, { method: "POST", body: wholeBody }, probe);
  const wholeCounts = whole.status === 200 ? countsOf(api, [whole.body], wholeBody) : undefined;
  const streamUsage = stream.counts?.source === "usage";
  const wholeUsage = wholeCounts?.source === "usage";
  const usageText = (yes: boolean, n?: number) => yes ? `yes (${n} completion tokens)` : "no";
  add(
    "usage",
    streamUsage && wholeUsage ? "ok" : "warn",
    `usage in streams (stream_options.include_usage): ` +
      `${stream.sse ? usageText(streamUsage, stream.counts?.completionTokens) : "no stream"}; ` +
      `in whole replies: ${
        whole.status === 200
          ? usageText(wholeUsage, wholeCounts?.completionTokens)
          : `HTTP ${whole.status ?? whole.error}`
      }`,
  );

  // /metrics: informational (llmperf does not read it).
  const metricsAt = new URL("/metrics", endpoint).href;
  const metrics = await httpProbe(metricsAt, { method: "GET" }, probe);
  if (metrics.status === 200 && /^# (TYPE|HELP) /m.test(metrics.body)) {
    const engine = metricsEngine(metrics.body);
    add("metrics", "ok", `/metrics serves Prometheus metrics${engine ? ` (${engine})` : ""}`);
  } else {
    const why = metrics.error ?? `HTTP ${metrics.status}`;
    add("metrics", "warn", `no Prometheus metrics at /metrics (${why})`);
  }

  // The clock: from the streamed request's Date header (else the listing's).
  const skew = clockSkewS(streamed) ?? clockSkewS(models);
  if (skew === undefined) {
    add("clock", "warn", "no Date header: the server's clock cannot be compared with this one");
  } else if (Math.abs(skew) <= CLOCK_TOLERANCE_S) {
    add("clock", "ok", "the server's clock is within 1 s of this machine's (Date header)");
  } else {
    const side = skew > 0 ? "ahead of" : "behind";
    add(
      "clock",
      "warn",
      `the server's clock is ${Math.abs(skew).toFixed(0)} s ${side} this machine's`,
    );
  }
  conclude(report, { stream, streamUsage, wholeUsage, skew, metrics: metrics.status === 200 });
}

/** The token counts llmperf reads from `payloads`, or undefined when it cannot read them. */
function countsOf(
  api: ApiPluginLike,
  payloads: string[],
  body: Record<string, unknown>,
): TokenCounts | undefined {
  try {
    const r = api.parseResponses(payloads, body);
    return Array.isArray(r) ? { promptTokens: r[0], completionTokens: r[1] } : r as TokenCounts;
  } catch {
    return undefined;
  }
}

interface StreamFindings {
  status: CheckStatus;
  detail: string;
  /** Whether the answer was an event stream with tokens in it. */
  sse: boolean;
  /** Whether the stream ended with `data: [DONE]`. */
  done: boolean;
  counts?: TokenCounts;
}

function streamFindings(
  p: StreamProbe,
  api: ApiPluginLike,
  body: Record<string, unknown>,
): StreamFindings {
  const type = p.contentType.split(";")[0].trim() || "no content type";
  if (!/^text\/event-stream$/i.test(type)) {
    return {
      status: "warn",
      detail: `asked to stream, the server answered ${type} in one piece, not an event stream`,
      sse: false,
      done: false,
    };
  }
  const done = p.events.at(-1)?.data.trim() === "[DONE]";
  const kept = p.events.filter((e) => e.data.trim() !== "" && e.data.trim() !== "[DONE]");
  const payloads = kept.map((e) => e.data);
  const counts = countsOf(api, payloads, body);
  if (counts === undefined) {
    return {
      status: "fail",
      detail: `text/event-stream, but llmperf cannot read its ${payloads.length} events ` +
        `(not OpenAI chunks, or no choice finished)${excerpt(payloads[0] ?? "")}`,
      sse: true,
      done,
    };
  }
  const chunks = counts.contentChunks ?? [];
  const first = chunks.length > 0 ? kept[chunks[0]]?.ms : undefined;
  const parts = [
    `text/event-stream, ${payloads.length} events`,
    first !== undefined ? `first token after ${ms(first)}` : "no token in it",
    done ? "ends with [DONE]" : "no [DONE] at the end",
  ];
  return {
    status: chunks.length > 0 && done ? "ok" : "warn",
    detail: parts.join(", "),
    sse: chunks.length > 0,
    done,
    counts,
  };
}

/** What llmperf will measure at the endpoint, and what it cannot. */
function conclude(
  report: DoctorReport,
  f: {
    stream: StreamFindings;
    streamUsage: boolean;
    wholeUsage: boolean;
    skew: number | undefined;
    metrics: boolean;
  },
): void {
  const { measures, cannot } = report;
  const stream = f.stream.sse ? " --stream" : "";
  report.command = `llmperf perf ${report.endpoint} --model ${report.model}${stream} ` +
    "--parallel 8 --number 200";
  if (f.stream.sse) {
    measures.push(
      "with --stream: TTFT, TTFO, TPOT, ITL and end-to-end latency of each request, from the " +
        "times its stream's events arrive",
    );
  } else {
    cannot.push(
      "no streaming: TTFT, TPOT and ITL cannot be measured (the server does not stream); " +
        "latency and throughput can",
    );
  }
  measures.push("request and token throughput, latency percentiles, and failures by kind");
  if (f.stream.sse) {
    if (f.streamUsage) measures.push("token counts of streamed requests from the server's usage");
    else {
      cannot.push(
        "no usage in streams: token counts will be estimates (one token per content chunk) " +
          "unless --tokenizer-path",
      );
    }
    if (!f.stream.done) {
      measures.push(
        "the end of each stream from its finish_reason and the close of the response " +
          "(the server sends no [DONE])",
      );
    }
  }
  if (f.wholeUsage) measures.push("token counts of whole (non-streamed) replies from usage");
  else {
    cannot.push(
      "no usage in whole replies: without --stream, token counts will be estimates from the " +
        "text length unless --tokenizer-path",
    );
  }
  if (f.skew !== undefined && Math.abs(f.skew) > CLOCK_TOLERANCE_S) {
    cannot.push(
      `lining up llmperf's epoch times with the server's logs as they are: its clock is ` +
        `${Math.abs(f.skew).toFixed(0)} s off (llmperf's durations are unaffected)`,
    );
  }
  if (!f.metrics) {
    cannot.push(
      "server-side metrics to compare with (no /metrics); llmperf measures the client side",
    );
  }
}

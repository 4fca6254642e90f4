/**
 * Scraping a server's `/metrics` during a run: each scrape is parsed (`prometheus_text.ts`),
 * filtered to the families stored (`server_families.ts`), turned into `server_metrics` rows, and
 * folded into what the report and summary need: the role series (running, waiting, KV-cache use,
 * prefix-cache hit rate) and the histograms and counters at the first and last scrape.
 *
 * @module
 */
import { histogramOf, type HistogramSnapshot } from "./histogram.ts";
import { parsePrometheusText, type Sample } from "./prometheus_text.ts";
import { MAX_SERIES, ROLES, sampleFilter, serverKind } from "./server_families.ts";
import type { ServerSeries, ServerTelemetry } from "./types.ts";
import type { ServerMetricRow } from "../store/telemetry_db.ts";

/** Points kept per series in memory (the DB keeps every scrape); thinned evenly past this. */
export const MAX_POINTS = 4096;

/** What one scrape gave. */
export type ScrapeOutcome =
  | { ok: true; rows: ServerMetricRow[] }
  | { ok: false; why: string };

/** The longest a scrape may take, ms (a slower one counts as failed). */
const SCRAPE_TIMEOUT_MS = 5_000;

/** The largest `/metrics` body read, bytes. */
const MAX_BODY = 64 << 20;

function sortedLabels(labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  if (keys.length <= 1) return JSON.stringify(labels);
  keys.sort();
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = labels[k];
  return JSON.stringify(out);
}

/** The first of `names` that `samples` has (as a gauge), summed or averaged over label sets. */
function gauge(
  byName: Map<string, number[]>,
  names: readonly string[],
  how: "sum" | "mean",
): number | null {
  for (const n of names) {
    const vs = byName.get(n);
    if (!vs || vs.length === 0) continue;
    const sum = vs.reduce((a, b) => a + b, 0);
    return how === "sum" ? sum : sum / vs.length;
  }
  return null;
}

/** A counter's value (its `_total` sample, or the bare name), summed over label sets. */
function counter(byName: Map<string, number[]>, names: readonly string[]): number | null {
  for (const n of names) {
    const vs = byName.get(`${n}_total`) ?? byName.get(n);
    if (vs && vs.length > 0) return vs.reduce((a, b) => a + b, 0);
  }
  return null;
}

function histogram(
  samples: readonly Sample[],
  names: readonly string[],
): { name: string; h: HistogramSnapshot } | undefined {
  for (const name of names) {
    const h = histogramOf(samples, name);
    if (h) return { name, h };
  }
  return undefined;
}

/** Scrapes one endpoint and keeps what the run needs from each scrape. */
export class ServerScraper {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #keep: (name: string) => boolean;
  readonly #series: ServerSeries = {
    t: [],
    running: [],
    waiting: [],
    kvUsage: [],
    prefixHitRate: [],
  };
  #histograms: ServerTelemetry["histograms"] = {};
  #prefix: ServerTelemetry["prefixCache"];
  #lastPrefix: { hits: number; queries: number } | undefined;
  #server: ServerTelemetry["server"] = "unknown";
  #scrapes = 0;
  #failed = 0;

  /**
   * @param url the `/metrics` endpoint
   * @param headers sent with each scrape (the run's credentials, for the benchmark's own origin)
   * @param extra more families to store (`--server-metrics-names`)
   */
  constructor(url: string, headers: Record<string, string> = {}, extra: readonly string[] = []) {
    this.#url = url;
    this.#headers = headers;
    this.#keep = sampleFilter(extra);
  }

  /** Scrapes that succeeded so far. */
  get scrapes(): number {
    return this.#scrapes;
  }

  /** Fetch, parse and fold one scrape taken now. */
  async scrape(): Promise<ScrapeOutcome> {
    const time = Date.now() / 1000;
    let text: string;
    try {
      const res = await fetch(this.#url, {
        headers: this.#headers,
        signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        return this.#fail(`HTTP ${res.status}`);
      }
      const length = Number(res.headers.get("content-length") ?? 0);
      if (length > MAX_BODY) {
        await res.body?.cancel();
        return this.#fail(`a ${length}-byte body is not a metrics page`);
      }
      text = await res.text();
    } catch (e) {
      const err = e as Error;
      return this.#fail(err.name === "TimeoutError" ? "no answer in 5 s" : err.message);
    }
    return this.fold(time, text);
  }

  #fail(why: string): ScrapeOutcome {
    if (this.#scrapes > 0) this.#failed++;
    return { ok: false, why };
  }

  /** Fold exposition `text` scraped at `time` (epoch seconds): see {@link scrape}. */
  fold(time: number, text: string): ScrapeOutcome {
    const { samples, bad } = parsePrometheusText(text, this.#keep);
    if (samples.length === 0) {
      return this.#fail(bad > 0 ? "not Prometheus text" : "no metrics llmperf knows");
    }
    return this.foldSamples(time, samples);
  }

  /**
   * Fold the samples of one scrape taken at `time` (epoch seconds), already parsed (read back
   * from a result DB's `server_metrics` table, say).
   */
  foldSamples(time: number, samples: readonly Sample[]): ScrapeOutcome {
    this.#scrapes++;
    const byName = new Map<string, number[]>();
    const rows: ServerMetricRow[] = [];
    for (const s of samples) {
      let list = byName.get(s.name);
      if (!list) byName.set(s.name, list = []);
      list.push(s.value);
      if (rows.length < MAX_SERIES) {
        rows.push({ time, name: s.name, labels: sortedLabels(s.labels), value: s.value });
      }
    }
    if (this.#scrapes === 1) this.#server = serverKind(byName.keys());
    this.#foldHistograms(samples);
    const hitRate = this.#foldPrefix(byName);
    const s = this.#series;
    s.t.push(time);
    s.running.push(gauge(byName, ROLES.running, "sum"));
    s.waiting.push(gauge(byName, ROLES.waiting, "sum"));
    s.kvUsage.push(gauge(byName, ROLES.kvUsage, "mean"));
    s.prefixHitRate.push(hitRate);
    if (s.t.length > MAX_POINTS) this.#thin();
    return { ok: true, rows };
  }

  #foldHistograms(samples: readonly Sample[]): void {
    for (const role of ["ttft", "queueTime", "e2e"] as const) {
      const found = histogram(samples, ROLES[role]);
      if (!found) continue;
      const pair = this.#histograms[role];
      if (!pair) this.#histograms[role] = { name: found.name, first: found.h, last: found.h };
      else pair.last = found.h;
    }
  }

  #foldPrefix(byName: Map<string, number[]>): number | null {
    const hits = counter(byName, ROLES.prefixHits);
    const queries = counter(byName, ROLES.prefixQueries);
    if (hits === null || queries === null) {
      return gauge(byName, ROLES.cacheHitRate, "mean");
    }
    const name = (names: readonly string[]) =>
      names.find((n) => byName.has(`${n}_total`) || byName.has(n)) ?? names[0];
    if (!this.#prefix) {
      this.#prefix = {
        hits: { name: name(ROLES.prefixHits), first: hits, last: hits },
        queries: { name: name(ROLES.prefixQueries), first: queries, last: queries },
      };
    } else {
      this.#prefix.hits.last = hits;
      this.#prefix.queries.last = queries;
    }
    const prev = this.#lastPrefix;
    this.#lastPrefix = { hits, queries };
    if (!prev) return null;
    const dq = queries - prev.queries;
    return dq > 0 ? Math.max(0, hits - prev.hits) / dq : null;
  }

  #thin(): void {
    const s = this.#series;
    for (const k of Object.keys(s) as Array<keyof ServerSeries>) {
      const a = s[k] as unknown[];
      let j = 0;
      for (let i = 0; i < a.length; i += 2) a[j++] = a[i];
      a.length = j;
    }
  }

  /** What was scraped over the run. */
  data(): ServerTelemetry {
    return {
      url: this.#url,
      server: this.#server,
      scrapes: this.#scrapes,
      failedScrapes: this.#failed,
      series: this.#series,
      histograms: this.#histograms,
      ...(this.#prefix ? { prefixCache: this.#prefix } : {}),
    };
  }
}

/**
 * A parser of Prometheus' text exposition format (version 0.0.4, and the OpenMetrics text that
 * servers send in its place): one sample per line, `name{label="value",...} value [timestamp]`,
 * with `# TYPE` lines naming each family's type. Samples a `keep` predicate refuses are skipped
 * before their labels are read, so that scraping a large endpoint each second stays cheap. A line
 * that does not parse is counted and skipped: one odd line never loses a whole scrape.
 *
 * Hand-written: the one npm parser (`parse-prometheus-text-format`) is unmaintained, drops the
 * `_sum` and `_count` of histograms that have labels (vLLM's all have `model_name`), merges the
 * buckets of different label sets, and throws away the whole scrape at the first line it does
 * not know. The format is small (a line grammar), and this parser is ~120 lines.
 *
 * @module
 */

/** One sample: the series' name, its labels, its value. */
export interface Sample {
  /** The sample's name as exposed (`vllm:time_to_first_token_seconds_bucket`). */
  name: string;
  /** Its labels (`le` included for a bucket). */
  labels: Record<string, string>;
  /** Its value (NaN, ±Infinity allowed). */
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  /** The samples kept, in the order exposed. */
  samples: Sample[];
  /** Each family's type from its `# TYPE` line (`histogram`, `counter`, `gauge`, ...). */
  types: Map<string, string>;
  /** Lines that did not parse (skipped). */
  bad: number;
}

/** The suffixes a sample name adds to its family's (histograms, summaries, counters). */
const SUFFIXES = ["_bucket", "_count", "_sum", "_total", "_created", "_gcount", "_gsum"];

/** The family a sample name belongs to: the name without its type's suffix, if it has one. */
export function familyOf(sampleName: string): string {
  for (const s of SUFFIXES) {
    if (sampleName.endsWith(s)) return sampleName.slice(0, -s.length);
  }
  return sampleName;
}

function value(token: string): number {
  switch (token) {
    case "NaN":
      return NaN;
    case "+Inf":
    case "Inf":
    case "+inf":
    case "inf":
      return Infinity;
    case "-Inf":
    case "-inf":
      return -Infinity;
  }
  return token === "" ? NaN : Number(token);
}

/** Parse `{k="v",...}` at `text[i]` (the `{`); returns the labels and the index after `}`. */
function labelsAt(text: string, i: number): [Record<string, string>, number] | undefined {
  const labels: Record<string, string> = {};
  i++; // `{`
  for (;;) {
    while (text[i] === " " || text[i] === ",") i++;
    if (text[i] === "}") return [labels, i + 1];
    const eq = text.indexOf("=", i);
    if (eq < 0) return undefined;
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    while (text[i] === " ") i++;
    if (text[i] !== '"' || key === "") return undefined;
    i++;
    let v = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === "\\") {
        const n = text[i + 1];
        v += n === "n" ? "\n" : n === "\\" ? "\\" : n === '"' ? '"' : `\\${n ?? ""}`;
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[key] = v;
    i++; // closing quote
  }
}

/**
 * Parse exposition text. `keep` (default: every sample) is asked with each sample's name before
 * its labels are parsed; `_created` samples (creation times, not measurements) are never kept.
 *
 * @example
 * ```ts
 * const { samples } = parsePrometheusText('vllm:num_requests_running{model_name="m"} 4\n');
 * // [{ name: "vllm:num_requests_running", labels: { model_name: "m" }, value: 4 }]
 * ```
 */
export function parsePrometheusText(
  text: string,
  keep: (name: string) => boolean = () => true,
): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let bad = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^#\s+(TYPE|EOF)\b\s*(\S*)\s*(\S*)/.exec(line);
      if (m?.[1] === "EOF") break;
      if (m?.[1] === "TYPE" && m[2]) types.set(m[2], m[3].toLowerCase());
      continue;
    }
    const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!m) {
      bad++;
      continue;
    }
    const name = m[1];
    if (name.endsWith("_created") || !keep(name)) continue;
    let i = m[0].length;
    let labels: Record<string, string> = {};
    if (line[i] === "{") {
      const parsed = labelsAt(line, i);
      if (!parsed) {
        bad++;
        continue;
      }
      [labels, i] = parsed;
    }
    // The value, then an optional timestamp, then (OpenMetrics) an optional ` # exemplar`.
    const rest = line.slice(i).trim().split(/\s+/);
    const v = value(rest[0] ?? "");
    if (Number.isNaN(v) && rest[0] !== "NaN") {
      bad++;
      continue;
    }
    samples.push({ name, labels, value: v });
  }
  return { samples, types, bad };
}

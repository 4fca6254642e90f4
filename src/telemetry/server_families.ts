/**
 * The `/metrics` families llmperf knows, of vLLM, SGLang and TGI: which are stored (every known
 * one, plus what `--server-metrics-names` adds), and which play a role in the report and the
 * summary (requests running and waiting, KV-cache use, prefix-cache hits, the TTFT, queue-time
 * and latency histograms). Each role lists its names in order of preference: a server exports
 * one of them (vLLM V1 `kv_cache_usage_perc`, V0 `gpu_cache_usage_perc`).
 *
 * @module
 */
import { familyOf } from "./prometheus_text.ts";

/** The metrics that the report and summary use, each with the names servers give it. */
export const ROLES = {
  /** Requests being generated (gauge). */
  running: ["vllm:num_requests_running", "sglang:num_running_reqs", "tgi_batch_current_size"],
  /** Requests waiting to be scheduled (gauge). */
  waiting: ["vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size"],
  /** KV-cache use, a fraction (gauge). */
  kvUsage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"],
  /** Prefix-cache hits, in tokens (counter). */
  prefixHits: ["vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits"],
  /** Prefix-cache queries, in tokens (counter). */
  prefixQueries: ["vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries"],
  /** The prefix-cache hit rate as the server computes it (gauge, 0–1). */
  cacheHitRate: ["sglang:cache_hit_rate"],
  /** Time to first token, seconds (histogram). */
  ttft: ["vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds"],
  /** Time a request waited before being scheduled, seconds (histogram). */
  queueTime: [
    "vllm:request_queue_time_seconds",
    "sglang:queue_time_seconds",
    "tgi_request_queue_duration",
  ],
  /** End-to-end request latency at the server, seconds (histogram). */
  e2e: [
    "vllm:e2e_request_latency_seconds",
    "sglang:e2e_request_latency_seconds",
    "tgi_request_duration",
  ],
} as const;

/** A role of {@link ROLES}. */
export type Role = keyof typeof ROLES;

/** Every family stored by default: the roles', and the others these servers export. */
export const KNOWN_FAMILIES: ReadonlySet<string> = new Set<string>([
  ...Object.values(ROLES).flat(),
  // vLLM
  "vllm:num_requests_swapped",
  "vllm:num_preemptions",
  "vllm:prompt_tokens",
  "vllm:generation_tokens",
  "vllm:request_success",
  "vllm:time_per_output_token_seconds",
  "vllm:inter_token_latency_seconds",
  "vllm:request_prefill_time_seconds",
  "vllm:request_decode_time_seconds",
  "vllm:request_inference_time_seconds",
  "vllm:request_prompt_tokens",
  "vllm:request_generation_tokens",
  "vllm:spec_decode_num_accepted_tokens",
  "vllm:spec_decode_num_draft_tokens",
  "vllm:spec_decode_num_drafts",
  // SGLang
  "sglang:gen_throughput",
  "sglang:num_used_tokens",
  "sglang:inter_token_latency_seconds",
  "sglang:time_per_output_token_seconds",
  "sglang:prompt_tokens",
  "sglang:generation_tokens",
  "sglang:num_requests",
  "sglang:spec_accept_length",
  // TGI
  "tgi_request_count",
  "tgi_request_success",
  "tgi_request_failure",
  "tgi_batch_current_max_tokens",
  "tgi_batch_next_size",
  "tgi_request_inference_duration",
  "tgi_request_mean_time_per_token_duration",
  "tgi_request_generated_tokens",
  "tgi_request_input_length",
  "tgi_batch_inference_duration",
  "tgi_batch_forward_duration",
]);

/** The most series kept from one scrape when every family is asked for (`*`). */
export const MAX_SERIES = 5000;

/**
 * Which sample names to keep: the known families, and the `extra` names or prefixes (ending in
 * `*`; `*` alone keeps everything).
 *
 * @example
 * ```ts
 * const keep = sampleFilter(["vllm:cache_config*"]);
 * keep("vllm:time_to_first_token_seconds_bucket"); // true (known)
 * keep("vllm:cache_config_info"); // true (asked for)
 * keep("python_gc_objects_collected_total"); // false
 * ```
 */
export function sampleFilter(extra: readonly string[] = []): (name: string) => boolean {
  if (extra.includes("*")) return () => true;
  const names = new Set(extra.filter((e) => !e.endsWith("*")));
  const prefixes = extra.filter((e) => e.endsWith("*")).map((e) => e.slice(0, -1));
  const known = new Map<string, boolean>();
  return (name) => {
    let k = known.get(name);
    if (k === undefined) {
      const family = familyOf(name);
      k = KNOWN_FAMILIES.has(name) || KNOWN_FAMILIES.has(family) || names.has(name) ||
        names.has(family) || prefixes.some((p) => name.startsWith(p));
      if (known.size < 100_000) known.set(name, k);
    }
    return k;
  };
}

/** The server a set of sample names comes from, by its prefix. */
export function serverKind(names: Iterable<string>): "vLLM" | "SGLang" | "TGI" | "unknown" {
  for (const n of names) {
    if (n.startsWith("vllm:")) return "vLLM";
    if (n.startsWith("sglang:")) return "SGLang";
    if (n.startsWith("tgi_")) return "TGI";
  }
  return "unknown";
}

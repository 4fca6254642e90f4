/**
 * The body of the start-up check (one small request before the run, see `src/load/preflight.ts`):
 * the first request's body made as cheap as the server allows. An API plugin may say how for its
 * protocol (`ApiPluginLike.probeBody`); {@link defaultProbeBody} is what the others get.
 *
 * @module
 */
import type { RequestBody } from "./types.ts";

/** Top-level fields that bound the output length in the protocols llmperf knows. */
const LIMIT_FIELDS = ["max_tokens", "max_completion_tokens", "max_new_tokens"] as const;

/** Fields that ask for at least so many tokens: lowered with the limit (vLLM refuses min > max). */
const FLOOR_FIELDS = ["min_tokens", "min_new_tokens"] as const;

/**
 * The default start-up check body: a copy of `body` with every output-length field it has set to
 * one token: `max_tokens`, `max_completion_tokens`, `max_new_tokens` (OpenAI, vLLM, TGI) and
 * `parameters.max_tokens` (DashScope); `min_tokens` / `min_new_tokens` above one lowered to one
 * (a trace replay's exact output lengths). Fields the body does not have are not added.
 *
 * @example
 * ```ts
 * import { defaultProbeBody } from "@llmperf/llmperf/plugin";
 * defaultProbeBody({ model: "m", max_tokens: 512, stream: true });
 * // { model: "m", max_tokens: 1, stream: true }
 * ```
 */
export function defaultProbeBody(body: RequestBody): RequestBody {
  const out: RequestBody = { ...body };
  for (const k of LIMIT_FIELDS) if (out[k] !== undefined) out[k] = 1;
  for (const k of FLOOR_FIELDS) {
    if (typeof out[k] === "number" && (out[k] as number) > 1) out[k] = 1;
  }
  const params = out.parameters as Record<string, unknown> | undefined;
  if (params && typeof params === "object" && params.max_tokens !== undefined) {
    out.parameters = { ...params, max_tokens: 1 };
  }
  return out;
}

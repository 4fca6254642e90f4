/**
 * `llmperf mock`: run the built-in OpenAI-compatible mock server until interrupted.
 *
 * @module
 */
import { parseStrict, strictCommand } from "./commander.ts";
import { UsageError } from "../errors.ts";
import {
  MOCK_DEFAULTS,
  type MockOptions,
  REASONING_FIELDS,
  type ReasoningField,
  startMockServer,
} from "../mock/server.ts";
import { FAULT_MODES, parseFault } from "../mock/faults.ts";
import {
  MOCK_PROTOCOL_NAMES,
  MOCK_PROTOCOLS,
  type MockProtocolName,
} from "../mock/protocol_registry.ts";

function nonNegative(flag: string, s: string, integer: boolean): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new UsageError(`${flag}: expected a ${integer ? "whole " : ""}number >= 0, got '${s}'`);
  }
  return v;
}

/** Parse `mock`'s arguments into server options. */
export function parseMockArgs(args: string[]): MockOptions {
  const d = MOCK_DEFAULTS;
  const cmd = strictCommand(
    "mock",
    "Run an OpenAI-compatible mock server with exact, configurable timing",
  )
    .option("--host <host>", `interface to listen on [${d.host}]`)
    .option("--port <port>", `port, 0 for any free one [${d.port}]`)
    .option("--ttft-ms <ms>", `time to first token [${d.ttftMs}]`)
    .option("--itl-ms <ms>", `time between tokens [${d.itlMs}]`)
    .option(
      "--latency-per-inflight-ms <ms>",
      "each other request in flight when one arrives adds this to its TTFT and to each gap " +
        "between its tokens (latency that grows with load) [0]",
    )
    .option("--output-tokens <n>", `tokens per reply (capped by max_tokens) [${d.outputTokens}]`)
    .option("--output-tokens-max <n>", "when given, lengths are uniform in [--output-tokens, this]")
    .option(
      "--reasoning-tokens <n>",
      "reasoning tokens per chat reply, streamed before the answer at the same pacing [0]",
    )
    .option(
      "--reasoning-field <name>",
      `the delta/message field reasoning comes in: ${REASONING_FIELDS.join(", ")} [reasoning]`,
    )
    .option("--no-usage", "never send usage")
    .option(
      "--prefill-ms-per-token <ms>",
      "prefill time per prompt token the prefix cache did not hold, added to --ttft-ms [0]",
    )
    .option(
      "--report-cached-tokens",
      "report the prefix cache's hits in usage.prompt_tokens_details.cached_tokens",
    )
    .option("--prefix-cache-blocks <n>", "prefix-cache size in blocks of 16 tokens (LRU) [1048576]")
    .option("--seed <n>", `seeds reply lengths and words [${d.seed}]`)
    .option("--protocol <name>", `wire protocol: ${MOCK_PROTOCOL_NAMES.join(", ")} [openai]`)
    .option(
      "--fault <mode=amount...>",
      `inject faults: a rate in (0, 1) or a count of requests; modes: ${FAULT_MODES.join(", ")}`,
    )
    .option(
      "--fault-skip <n>",
      "the first N requests get no fault (1: a client's start-up check goes through) [0]",
    )
    .option("--stall-ms <ms>", "how long stall faults last [3600000]")
    .option("--slow-ms <ms>", "delay of the slow-headers fault [1000]")
    .option(
      "--stamp-times",
      "add mock_received_ms and mock_sent_ms (epoch ms) to every chunk and body, in every " +
        "protocol: timing ground truth",
    )
    .option("--tls-cert <path>", "PEM certificate chain: serve https (with --tls-key)")
    .option("--tls-key <path>", "PEM private key of --tls-cert");
  parseStrict(cmd, args);
  const o = cmd.opts();
  const opts: MockOptions = { ...d, usage: o.usage !== false };
  if (o.host !== undefined) opts.host = o.host;
  if (o.port !== undefined) opts.port = nonNegative("--port", o.port, true);
  if (opts.port > 65535) throw new UsageError(`--port: must be at most 65535, got ${opts.port}`);
  if (o.ttftMs !== undefined) opts.ttftMs = nonNegative("--ttft-ms", o.ttftMs, false);
  if (o.itlMs !== undefined) opts.itlMs = nonNegative("--itl-ms", o.itlMs, false);
  if (o.latencyPerInflightMs !== undefined) {
    opts.latencyPerInflightMs = nonNegative(
      "--latency-per-inflight-ms",
      o.latencyPerInflightMs,
      false,
    );
  }
  if (o.outputTokens !== undefined) {
    opts.outputTokens = nonNegative("--output-tokens", o.outputTokens, true);
  }
  if (o.outputTokensMax !== undefined) {
    opts.outputTokensMax = nonNegative("--output-tokens-max", o.outputTokensMax, true);
    if (opts.outputTokensMax < opts.outputTokens) {
      throw new UsageError("--output-tokens-max: must be at least --output-tokens");
    }
  }
  if (o.seed !== undefined) opts.seed = nonNegative("--seed", o.seed, true);
  if (o.reasoningTokens !== undefined) {
    opts.reasoningTokens = nonNegative("--reasoning-tokens", o.reasoningTokens, true);
  }
  if (o.reasoningField !== undefined) {
    if (!(REASONING_FIELDS as readonly string[]).includes(o.reasoningField)) {
      throw new UsageError(
        `--reasoning-field: expected one of ${
          REASONING_FIELDS.join(", ")
        }, got '${o.reasoningField}'`,
      );
    }
    opts.reasoningField = o.reasoningField as ReasoningField;
  }
  if (o.stampTimes === true) opts.stampTimes = true;
  if (o.prefillMsPerToken !== undefined) {
    opts.prefillMsPerToken = nonNegative("--prefill-ms-per-token", o.prefillMsPerToken, false);
  }
  if (o.reportCachedTokens === true) opts.reportCachedTokens = true;
  if (o.prefixCacheBlocks !== undefined) {
    opts.prefixCacheBlocks = nonNegative("--prefix-cache-blocks", o.prefixCacheBlocks, true);
    if (opts.prefixCacheBlocks < 1) throw new UsageError("--prefix-cache-blocks: must be >= 1");
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (o.tlsCert !== undefined) {
    const read = (flag: string, path: string) => {
      try {
        return Deno.readTextFileSync(path);
      } catch (e) {
        throw new UsageError(`${flag} '${path}': cannot read the file (${(e as Error).message})`);
      }
    };
    opts.tls = { cert: read("--tls-cert", o.tlsCert), key: read("--tls-key", o.tlsKey) };
  }
  if (o.protocol !== undefined) {
    if (!(MOCK_PROTOCOL_NAMES as readonly string[]).includes(o.protocol)) {
      throw new UsageError(
        `--protocol: unknown protocol '${o.protocol}' (one of ${MOCK_PROTOCOL_NAMES.join(", ")})`,
      );
    }
    opts.protocol = o.protocol as MockProtocolName;
  }
  if (o.fault !== undefined) {
    const faults = (o.fault as string[]).map((f) => {
      try {
        return parseFault(f);
      } catch (e) {
        throw new UsageError(`--fault: ${(e as Error).message}`);
      }
    });
    opts.faults = { faults, seed: opts.seed };
    if (o.stallMs !== undefined) opts.faults.stallMs = nonNegative("--stall-ms", o.stallMs, false);
    if (o.slowMs !== undefined) opts.faults.slowMs = nonNegative("--slow-ms", o.slowMs, false);
    if (o.faultSkip !== undefined) {
      opts.faults.skip = nonNegative("--fault-skip", o.faultSkip, true);
    }
  } else if (o.stallMs !== undefined || o.slowMs !== undefined || o.faultSkip !== undefined) {
    throw new UsageError("--stall-ms, --slow-ms and --fault-skip need --fault");
  }
  return opts;
}

/** Run the mock server until SIGINT/SIGTERM. */
export async function mockMain(args: string[]): Promise<number> {
  const opts = parseMockArgs(args);
  let server;
  try {
    server = startMockServer(opts);
  } catch (e) {
    throw new UsageError(`cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}`);
  }
  console.error(
    `llmperf mock listening on ${server.url} (ttft ${opts.ttftMs} ms, itl ${opts.itlMs} ms, ` +
      `${opts.outputTokens}${opts.outputTokensMax ? `-${opts.outputTokensMax}` : ""} tokens` +
      (opts.reasoningTokens
        ? ` after ${opts.reasoningTokens} reasoning tokens in '${
          opts.reasoningField ?? "reasoning"
        }'`
        : "") +
      ")",
  );
  const protocol = MOCK_PROTOCOLS[opts.protocol ?? "openai"];
  if (opts.protocol !== undefined) console.error(`  protocol: ${protocol.name}`);
  for (const line of protocol.endpoints) {
    console.error(`  ${line.replace(" /", ` ${server.url}/`)}`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  });
  const s = server.stats;
  console.error(
    `llmperf mock: ${s.requests} requests received, at most ${s.peakInFlight} in flight ` +
      `and ${s.peakOpenStreams} streams open at once`,
  );
  await server.close();
  return 0;
}

/**
 * The bench's scenarios: what the server does, what the client does, and on which cores.
 *
 * @module
 */

import type { FloorReader } from "./floor_client.ts";

/** The server's timing. */
export interface ServerTiming {
  /** Time to first token, ms. */
  ttftMs: number;
  /** Time between tokens, ms. */
  itlMs: number;
  /** Tokens per reply. */
  tokens: number;
}

/** One bench scenario. */
export interface Scenario {
  /** Short name (the `--only` filter matches it). */
  name: string;
  /** One line on what it shows. */
  about: string;
  /** `mock`: `llmperf mock --stamp-times`; `blast`: the near-free server of `blast_server.ts`. */
  server: "mock" | "blast";
  /** The server's timing. */
  timing: ServerTiming;
  /** Streamed (SSE) or not. */
  stream: boolean;
  /** Requests in flight. */
  parallel: number;
  /** Requests in all. */
  number: number;
  /** Open loop: Poisson arrivals at this many requests/s (`parallel` caps in-flight). */
  rate?: number;
  /** `--transport` (default: llmperf's own default). */
  transport?: "socket" | "fetch";
  /** `--api` (default: `openai`). */
  api?: string;
  /** `--workers` (default: llmperf's own default for the client's cores). */
  workers?: number;
  /** Client on every core instead of one (the scaling rows). */
  clientAllCores?: boolean;
  /** Part of the quick subset (`--quick`), with this many requests. */
  quick?: number;
  /**
   * What reads the streams: llmperf (the default), or the floor (`bench/floor_client.ts`): a bare
   * read loop over `Deno.connect` (`deno`) or `node:net` (`node`), with nothing else.
   */
  floor?: FloorReader;
  /**
   * What reads the streams, when it is a peer tool instead: `vllm`, vLLM's benchmark client's
   * request loop (`bench/peer_vllm.py`: Python, aiohttp), the client llmperf's targets compare with.
   */
  peer?: "vllm";
  /**
   * The peer keeps the mock's stamps and checks its timing against them (its CPU and memory then
   * include that check's): the timing rows, beside the cost rows that run without.
   */
  peerTruth?: boolean;
  /**
   * `false`: llmperf keeps no ground truth (the bench's sink counts the events and asks for no
   * payloads, as a user's run sends none to the main thread): its cost as a user runs it, beside
   * the cost rows of vLLM's loop, which keep none either. The mock stamps its payloads all the same.
   */
  truth?: false;
}

/** Requests in flight: `parallel`, or for an open loop the average (rate × reply time). */
export function inFlight(s: Scenario): number {
  if (s.rate === undefined) return s.parallel;
  const t = s.timing;
  return Math.round((s.rate * (t.ttftMs + (t.tokens - 1) * t.itlMs)) / 1000);
}

const UNTHROTTLED: ServerTiming = { ttftMs: 0, itlMs: 0, tokens: 256 };
const PACED: ServerTiming = { ttftMs: 200, itlMs: 50, tokens: 32 };

/** The streams of `unthrottled-c64`, which the rows compared with it read too. */
const UNTHROTTLED_C64 = {
  server: "mock",
  timing: UNTHROTTLED,
  stream: true,
  parallel: 64,
  number: 1000,
} as const;

/** The streams of `paced-1024`, which its floors and peers read too. */
const PACED_1024 = {
  server: "mock",
  timing: PACED,
  stream: true,
  parallel: 1024,
  number: 2048,
} as const;

/** Every scenario, in the order they run and print. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: "unthrottled-c1",
    about: "one stream, tokens as fast as the mock writes them",
    server: "mock",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 1,
    number: 100,
  },
  {
    name: "unthrottled-c64",
    about: "64 streams as fast as the mock writes",
    ...UNTHROTTLED_C64,
    quick: 200,
  },
  {
    name: "unthrottled-c64-bare",
    about: "unthrottled-c64 without the bench's ground truth: llmperf's cost as a user runs it",
    ...UNTHROTTLED_C64,
    truth: false,
  },
  {
    name: "peer-vllm-c64",
    about: "vLLM's benchmark client's request loop on unthrottled-c64's streams",
    ...UNTHROTTLED_C64,
    peer: "vllm",
  },
  {
    name: "unthrottled-c64-fetch",
    about: "the same through fetch, for comparison",
    ...UNTHROTTLED_C64,
    transport: "fetch",
  },
  {
    name: "unthrottled-c512",
    about: "512 streams as fast as the mock writes",
    server: "mock",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 512,
    number: 2048,
  },
  {
    name: "paced-64",
    about: "TTFT 200 ms, ITL 50 ms, 32 tokens, 64 streams",
    server: "mock",
    timing: PACED,
    stream: true,
    parallel: 64,
    number: 192,
    quick: 64,
  },
  {
    name: "paced-1024",
    about: "the same, 1,024 streams (about 20k events/s)",
    ...PACED_1024,
    quick: 1024,
  },
  {
    name: "paced-1024-bare",
    about: "paced-1024 without the bench's ground truth: llmperf's cost as a user runs it",
    ...PACED_1024,
    truth: false,
  },
  {
    name: "paced-1",
    about: "one paced request: what llmperf's start and finish cost, whatever the run's length",
    server: "mock",
    timing: PACED,
    stream: true,
    parallel: 1,
    number: 1,
  },
  {
    name: "floor-1024",
    about: "the floor: paced-1024's streams read by a bare Deno.connect + conn.read loop",
    ...PACED_1024,
    quick: 1024,
    floor: "deno",
  },
  {
    name: "floor-1024-node",
    about: "the same floor through node:net sockets (net.connect, on('data'))",
    ...PACED_1024,
    floor: "node",
  },
  {
    name: "floor-1024-epoll",
    about: "the same floor through epoll and read(2) over FFI (src/transport/epoll.ts)",
    ...PACED_1024,
    floor: "epoll",
  },
  {
    name: "paced-1024-long",
    about: "paced-1024 three times as long (6,144 requests): less paced-1024, the cost once warm",
    ...PACED_1024,
    number: PACED_1024.number * 3,
  },
  {
    name: "floor-1024-long",
    about: "floor-1024 three times as long: the floor's cost once warm, the same way",
    ...PACED_1024,
    number: PACED_1024.number * 3,
    floor: "deno",
  },
  {
    name: "peer-vllm-1024",
    about: "vLLM's benchmark client's request loop (Python, aiohttp) on paced-1024's streams",
    ...PACED_1024,
    peer: "vllm",
  },
  {
    name: "peer-vllm-1024-timing",
    about: "the same, its TTFT and ITL checked against the mock's stamps (costs it ~10% more)",
    ...PACED_1024,
    peer: "vllm",
    peerTruth: true,
  },
  {
    name: "paced-4096",
    about: "the same, 4,096 streams (about 82k events/s)",
    server: "mock",
    timing: PACED,
    stream: true,
    parallel: 4096,
    number: 8192,
  },
  {
    name: "paced-1024-poisson",
    about: "1,024 streams on average, Poisson arrivals (streams out of step)",
    server: "mock",
    timing: PACED,
    stream: true,
    parallel: 2048,
    number: 3072,
    rate: 1024 / 1.75,
  },
  {
    name: "paced-4096-poisson",
    about: "4,096 streams on average, Poisson arrivals (about 82k events/s, out of step)",
    server: "mock",
    timing: PACED,
    stream: true,
    parallel: 8192,
    number: 12288,
    rate: 4096 / 1.75,
  },
  {
    name: "nonstream-64",
    about: "non-streamed 256-token replies, 64 in flight",
    server: "mock",
    timing: UNTHROTTLED,
    stream: false,
    parallel: 64,
    number: 5000,
    quick: 500,
  },
  {
    name: "floor-blast-c64",
    about: "the floor unthrottled: the blast server read by a bare conn.read loop, 64 streams",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    floor: "deno",
  },
  {
    name: "floor-blast-c64-node",
    about: "the same through node:net sockets",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    floor: "node",
  },
  {
    name: "floor-blast-c64-epoll",
    about: "the same through epoll and read(2) over FFI",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    floor: "epoll",
  },
  {
    name: "peer-vllm-blast-c64",
    about: "vLLM's benchmark client's request loop against the blast server, 64 streams",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    peer: "vllm",
    clientAllCores: true, // placed as blast-w1, which the unthrottled target divides by it
  },
  {
    name: "blast-w1",
    about: "near-free server, client on every core with 1 worker",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    workers: 1,
    clientAllCores: true,
  },
  {
    name: "blast-w2",
    about: "the same with 2 workers (scaling)",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 4000,
    workers: 2,
    clientAllCores: true,
  },
  {
    name: "blast-light-w1",
    about: "near-free server and a plugin that parses only usage: 1 worker",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 6000,
    workers: 1,
    api: "bench/light_api.ts",
    clientAllCores: true,
  },
  {
    name: "blast-light-w2",
    about: "the same with 2 workers (scaling of the transport workers)",
    server: "blast",
    timing: UNTHROTTLED,
    stream: true,
    parallel: 64,
    number: 6000,
    workers: 2,
    api: "bench/light_api.ts",
    clientAllCores: true,
  },
];

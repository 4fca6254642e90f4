/**
 * Both transports against one stub server, for tests that must hold over each: build one, send
 * a request, time it.
 *
 * @module
 */
import { newRecord, type RequestRecord } from "../../src/records/record.ts";
import { FetchTransport } from "../../src/transport/fetch.ts";
import { SocketTransport } from "../../src/transport/socket.ts";
import type { Transport, TransportTimeouts } from "../../src/transport/types.ts";
import { type RawReply, type RawServer, rawServer } from "./raw_http.ts";

/** The transports every such test runs over. */
export const TRANSPORT_KINDS = ["socket", "fetch"] as const;

/** A transport name. */
export type Kind = typeof TRANSPORT_KINDS[number];

/** Generous limits: a test that needs a timeout sets its own. */
export const TEST_TIMEOUTS: TransportTimeouts = {
  connectMs: 5000,
  readMs: 30_000,
  totalMs: Infinity,
};

/** A transport of `kind`. */
export function transportOf(kind: Kind, timeouts: TransportTimeouts = TEST_TIMEOUTS): Transport {
  return kind === "socket" ? new SocketTransport({ timeouts }) : new FetchTransport({ timeouts });
}

/** One request's record and how long `send` took, ms. */
export interface Sent {
  /** The record. */
  rec: RequestRecord;
  /** Wall time of `send`, ms. */
  ms: number;
}

/** Send a small JSON request to `url` over `t`. */
export async function sendOne(
  t: Transport,
  url: string,
  opts: { stream?: boolean; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const stream = opts.stream ?? true;
  const rec = newRecord(0, stream);
  const t0 = performance.now();
  await t.send(
    { url, headers: opts.headers ?? { "content-type": "application/json" }, body: "{}", stream },
    rec,
  );
  return { rec, ms: performance.now() - t0 };
}

/**
 * Run `fn` with a stub server answering with `reply` and a transport of `kind` (or the one
 * `kind` makes); stop both.
 */
export async function withStub(
  kind: Kind | (() => Transport),
  reply: (r: RawReply) => Promise<void>,
  fn: (url: string, t: Transport, server: RawServer) => Promise<void>,
  timeouts: TransportTimeouts = TEST_TIMEOUTS,
): Promise<void> {
  const server = await rawServer(reply);
  const t = typeof kind === "function" ? kind() : transportOf(kind, timeouts);
  try {
    await fn(server.url, t, server);
  } finally {
    await t.close();
    await server.close();
  }
}

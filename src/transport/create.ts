/**
 * Choosing and building a transport. A {@link TransportSpec} is plain data, so the same spec
 * builds the transport of the main thread or of each worker.
 *
 * `auto` picks the socket transport (an order of magnitude cheaper per streamed token) for http
 * and https targets, and `fetch` when the environment routes the target through a proxy, which
 * only `fetch` speaks.
 *
 * @module
 */
import { FetchTransport } from "./fetch.ts";
import { type EnvReader, processEnv, proxyFor } from "./proxy.ts";
import { SocketTransport } from "./socket.ts";
import type { Transport, TransportTimeouts } from "./types.ts";

/** A transport implementation. */
export type TransportKind = "socket" | "fetch";

/** What `--transport` accepts. */
export type TransportChoice = TransportKind | "auto";

/** The transport choices, for validation and help. */
export const TRANSPORT_CHOICES: readonly TransportChoice[] = ["auto", "socket", "fetch"];

/** Everything needed to build a transport (plain data: it crosses to workers). */
export interface TransportSpec {
  /** Which implementation. */
  kind: TransportKind;
  /** Timeouts in milliseconds. */
  timeouts: TransportTimeouts;
  /** PEM certificates trusted in addition to the default roots. */
  caCerts?: string[];
}

/** The transport `choice` resolves to for `url`, and a note for the log when there is one. */
export function chooseTransport(
  choice: TransportChoice,
  url: string,
  env: EnvReader = processEnv,
): { kind: TransportKind; note?: string } {
  const proxy = proxyFor(url, env);
  if (choice === "fetch") return { kind: "fetch" };
  if (choice === "socket") {
    return proxy === undefined ? { kind: "socket" } : {
      kind: "socket",
      note: `--transport socket connects directly: the proxy set in the environment is not used`,
    };
  }
  if (proxy !== undefined) {
    return { kind: "fetch", note: "a proxy is set in the environment: using the fetch transport" };
  }
  return { kind: "socket" };
}

/** Build the transport a spec describes. */
export function createTransport(spec: TransportSpec): Transport {
  if (spec.kind === "socket") {
    return new SocketTransport({ timeouts: spec.timeouts, caCerts: spec.caCerts });
  }
  if (!spec.caCerts || spec.caCerts.length === 0) {
    return new FetchTransport({ timeouts: spec.timeouts });
  }
  const client = Deno.createHttpClient({ caCerts: spec.caCerts });
  const inner = new FetchTransport({ timeouts: spec.timeouts, client });
  return {
    send: (req, rec, signal) => inner.send(req, rec, signal),
    async close() {
      await inner.close();
      client.close();
    },
  };
}

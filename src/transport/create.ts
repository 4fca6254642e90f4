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
import type { TransportChoice } from "../config/settings.ts";
import { FetchTransport } from "./fetch.ts";
import { describeProxy, type EnvReader, processEnv, proxySettingFor } from "./proxy.ts";
import { SocketTransport } from "./socket.ts";
import type { StreamEndRule } from "./stream_end.ts";
import type { Transport, TransportTimeouts } from "./types.ts";

/** A transport implementation: a `--transport` choice other than `auto`. */
export type TransportKind = Exclude<TransportChoice, "auto">;

// What `--transport` accepts is declared with the setting (the config sits below the transport).
export type { TransportChoice } from "../config/settings.ts";

/** Everything needed to build a transport (plain data: it crosses to workers). */
export interface TransportSpec {
  /** Which implementation. */
  kind: TransportKind;
  /** Timeouts in milliseconds. */
  timeouts: TransportTimeouts;
  /** PEM certificates trusted in addition to the default roots. */
  caCerts?: string[];
  /** What completes a stream (the built-in protocols' rule when unset). */
  streamEnd?: StreamEndRule;
  /** `fetch` through a proxy set in the environment: the proxy, as messages name it. */
  proxy?: string;
}

/**
 * The transport `choice` resolves to for `url`, a note for the log when there is one, and the
 * proxy `fetch` will go through (as messages name it), when it will.
 */
export function chooseTransport(
  choice: TransportChoice,
  url: string,
  env: EnvReader = processEnv,
): { kind: TransportKind; note?: string; proxy?: string } {
  const setting = proxySettingFor(url, env);
  const proxy = setting && describeProxy(setting);
  if (choice === "fetch") return proxy === undefined ? { kind: "fetch" } : { kind: "fetch", proxy };
  if (choice === "socket") {
    return proxy === undefined ? { kind: "socket" } : {
      kind: "socket",
      note: `--transport socket connects directly: the proxy set in the environment is not used`,
    };
  }
  if (proxy !== undefined) {
    return {
      kind: "fetch",
      note: `a proxy is set in the environment: using the fetch transport, through ${proxy}`,
      proxy,
    };
  }
  return { kind: "socket" };
}

/** Build the transport a spec describes. */
export function createTransport(spec: TransportSpec): Transport {
  const { timeouts, streamEnd } = spec;
  if (spec.kind === "socket") {
    return new SocketTransport({ timeouts, caCerts: spec.caCerts, streamEnd });
  }
  if (!spec.caCerts || spec.caCerts.length === 0) {
    return new FetchTransport({ timeouts, streamEnd, proxy: spec.proxy });
  }
  const client = Deno.createHttpClient({ caCerts: spec.caCerts });
  const inner = new FetchTransport({ timeouts, client, streamEnd, proxy: spec.proxy });
  return {
    send: (req, rec, signal) => inner.send(req, rec, signal),
    async close() {
      await inner.close();
      client.close();
    },
  };
}

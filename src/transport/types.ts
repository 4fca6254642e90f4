/**
 * The transport interface: one small seam so that `fetch` and a raw-socket HTTP/1.1 client are
 * interchangeable. A transport sends a prepared request, reads the response, timestamps each
 * payload, and fills in the record. It never throws for a failed request: the failure is recorded.
 *
 * @module
 */
import type { RequestRecord } from "../records/record.ts";

/** A request ready for the wire: URL, headers and the serialised body. */
export interface PreparedRequest {
  /** Absolute http(s) URL. */
  url: string;
  /** Header names to values (Content-Type included). */
  headers: Record<string, string>;
  /** The JSON body text. */
  body: string;
  /** Whether an SSE response is expected. */
  stream: boolean;
}

/** Timeouts, in milliseconds. */
export interface TransportTimeouts {
  /** To establish the connection (fetch: to receive response headers, together with `read`). */
  connectMs: number;
  /** Longest silence between bytes of the response. */
  readMs: number;
  /** Whole request, send to last byte; `Infinity` for none. */
  totalMs: number;
}

/** Sends requests and records what came back. */
export interface Transport {
  /**
   * Send `req`, read the whole response into `rec` (start/end times, status, payloads and their
   * arrival times, failure). Resolves when the request is finished, successful or not.
   */
  send(req: PreparedRequest, rec: RequestRecord, signal?: AbortSignal): Promise<void>;
  /** Release connections and timers. */
  close(): Promise<void>;
}

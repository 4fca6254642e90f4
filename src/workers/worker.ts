/**
 * A transport worker: its own thread, event loop and transport (its own keep-alive connections).
 * It sends what the main thread hands it, measures the response in its own clock, and posts the
 * measured record back; it also watches its own event loop and CPU ({@link LoopMonitor}).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { newRecord } from "../records/record.ts";
import { createTransport } from "../transport/create.ts";
import type { Transport } from "../transport/types.ts";
import { LoopMonitor } from "./loop_monitor.ts";
import { type FromWorker, joinPayloads, type MeasuredRecord, type ToWorker } from "./messages.ts";

/** The worker's global scope, typed here (a `lib` directive would not be allowed on JSR). */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(m: FromWorker): void;
  close(): void;
};

let transport: Transport | undefined;
let monitor: LoopMonitor | undefined;
const cancel = new AbortController();
let requests = 0;
let events = 0;
const NO_BODY = {};

function post(m: FromWorker): void {
  scope.postMessage(m);
}

async function send(m: Extract<ToWorker, { t: "send" }>): Promise<void> {
  const rec = newRecord(0, NO_BODY, m.stream);
  try {
    await transport!.send(
      { url: m.url, headers: m.headers, body: m.body, stream: m.stream },
      rec,
      cancel.signal,
    );
  } catch (err) {
    // Transports record failures rather than throw; a throw is a bug, still never a lost record.
    rec.endMs = performance.now();
    rec.success = false;
    rec.failure = { kind: "network", message: errorMessage(err) };
  }
  requests++;
  events += rec.payloads.length;
  const out: MeasuredRecord = {
    timeOriginMs: rec.timeOriginMs,
    startMs: rec.startMs,
    headersAtMs: rec.headersAtMs,
    chunkTimesMs: Float64Array.from(rec.chunkTimesMs),
    payloads: joinPayloads(rec.payloads),
    endMs: rec.endMs,
    status: rec.status,
    success: rec.success,
    failure: rec.failure,
    retries: rec.retries,
  };
  post({ t: "done", id: m.id, rec: out });
}

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    switch (m.t) {
      case "send":
        await send(m);
        break;
      case "init":
        transport = createTransport(m.spec);
        monitor = new LoopMonitor(m.name);
        monitor.start();
        post({ t: "ready" });
        break;
      case "cancel":
        cancel.abort();
        break;
      case "close": {
        await transport?.close();
        const load = { ...monitor!.stop(), requests, events };
        post({ t: "closed", load });
        scope.close();
        break;
      }
    }
  } catch (err) {
    post({ t: "error", message: errorMessage(err) });
  }
};

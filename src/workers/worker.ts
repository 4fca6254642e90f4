/**
 * A transport worker: its own thread, event loop and transport (its own keep-alive connections),
 * and its own copy of the API plugin. It sends what the main thread hands it, measures the
 * response in its own clock and finishes it there (`finish_request.ts`): the plugin parses the
 * payloads next to the socket, the result DB's row goes to the writer on this worker's own port,
 * texts to count go to the counting worker on another, and only the compact record is posted to
 * the main thread (its buffers transferred). With a plugin that cannot be loaded here, records
 * go to the main thread raw, to be finished there. It also watches its own event loop and CPU
 * ({@link LoopMonitor}).
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { loadApiPlugin } from "../plugins/loader.ts";
import {
  finishAndHand,
  finishedTransfers,
  type Finishing,
  markUnfinished,
} from "../records/finish_request.ts";
import type { FinishedRequest } from "../records/finished.ts";
import { packPayloads } from "../records/payloads.ts";
import { newRecord, releaseRecord, type RequestRecord } from "../records/record.ts";
import { RowQueue } from "../store/rows.ts";
import { ChannelCounter } from "../tokenizer/token_counters.ts";
import { createTransport } from "../transport/create.ts";
import type { Transport } from "../transport/types.ts";
import { LoopMonitor } from "./loop_monitor.ts";
import { SlicedQueue } from "./sliced_queue.ts";
import { TurnBatch } from "./turn_batch.ts";
import { runConversation } from "./conversation.ts";
import {
  type FromWorker,
  type RawRecord,
  type SendOrder,
  type SendTarget,
  spanOf,
  targetEndpoints,
  type ToWorker,
} from "./messages.ts";

/** The worker's global scope, typed here (a `lib` directive would not be allowed on JSR). */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  close(): void;
};

let transport: Transport | undefined;
let target: SendTarget = { url: "", headers: {} };
/** Each endpoint's URL and name, by index (made once, so a request allocates none). */
let endpoints: { url: string; name: string }[] = [];
let monitor: LoopMonitor | undefined;
let finishing: Finishing | undefined;
let rows: RowQueue | undefined;
let counter: ChannelCounter | undefined;
const cancel = new AbortController();
/** Records still being finished (counted) after their request ended. */
const counting = new Set<Promise<void>>();
let requests = 0;
let events = 0;
/**
 * The closed loop's queued requests (`SendOrder.after`), by the id of the request they follow: sent
 * the moment that one ends, here, so that refilling a slot waits for nothing on the main thread.
 */
const followers = new Map<number, SendOrder>();
/**
 * `chained` requests that ended before their follower came: when (epoch ms; `NaN`: not sent), by
 * id. A follower takes its entry; those of a lane's last request and of dropped followers stay
 * till the worker ends: about 2 × `--parallel` per run (warmup and benchmark) at most.
 */
const endedChained = new Map<number, number>();

/**
 * Finished records, posted together at the end of the loop's turn (`turn_batch.ts`), their buffers
 * transferred. A record holds plain data only (the plugin's counts are copied field by field,
 * `toCounts`), so a batch that cannot be posted is a bug in a plugin's known fields or in llmperf:
 * its buffers are then detached, and each of its requests is recorded as a `client` failure
 * ({@link unpostable}) rather than lost, the worker going on.
 */
const finished = new TurnBatch<[number, FinishedRequest]>((items) => {
  const ids = new Array<number>(items.length);
  const fs = new Array<FinishedRequest>(items.length);
  const transfer: Transferable[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    ids[i] = item[0];
    fs[i] = item[1];
    finishedTransfers(item[1], transfer);
  }
  try {
    scope.postMessage({ t: "done", ids, fs }, transfer);
  } catch (err) {
    for (const [id, f] of items) scope.postMessage({ t: "raw", id, rec: unpostable(f, err) });
  }
});

/** A finished record that could not be posted, as a failed one the main thread finishes. */
function unpostable(f: FinishedRequest, err: unknown): RawRecord {
  return {
    ...f.record,
    chunkTimesMs: [], // detached by the failed post
    payloads: packPayloads([]),
    success: false,
    failure: { kind: "client", message: `the record could not be posted: ${errorMessage(err)}` },
  };
}

function post(m: FromWorker, transfer: Transferable[] = []): void {
  finished.flush(); // what finished before goes first
  scope.postMessage(m, transfer);
}

function done(id: number, f: FinishedRequest): void {
  finished.add([id, f]);
}

/**
 * Send one body to endpoint `endpointIndex` and measure it (`previousEnd`: when its slot's
 * previous request ended).
 */
async function measure(
  index: number,
  body: string,
  stream: boolean,
  endpointIndex: number | undefined,
  scheduledEpochMs?: number,
  previousEndEpochMs?: number,
  headers: Record<string, string> = target.headers,
): Promise<RequestRecord> {
  const rec = newRecord(index, stream);
  const endpoint = endpoints[endpointIndex ?? 0];
  rec.endpoint = endpoint.name;
  if (scheduledEpochMs !== undefined) {
    rec.scheduledMs = scheduledEpochMs - performance.timeOrigin; // into this thread's clock
  }
  try {
    await transport!.send(
      { url: endpoint.url, headers, body, stream },
      rec,
      cancel.signal,
    );
  } catch (err) {
    // Transports record failures rather than throw; a throw is a bug, still never a lost record.
    rec.endMs = performance.now();
    rec.success = false;
    rec.failure = { kind: "network", message: errorMessage(err) };
  }
  if (previousEndEpochMs !== undefined) {
    rec.refillLateMs = Math.max(0, rec.timeOriginMs + rec.startMs - previousEndEpochMs);
  }
  requests++;
  events += rec.payloads.length;
  return rec;
}

/** Run a conversation's turns here, each reply appended as it arrives (`conversation.ts`). */
async function converse(m: SendOrder): Promise<void> {
  const now = performance.timeOrigin + performance.now();
  let span = { startEpochMs: now, endEpochMs: now };
  try {
    span = await runConversation(
      m.conversation!,
      async (index, body, first) => {
        const rec = await measure(
          index,
          body,
          m.stream,
          m.endpoint,
          undefined,
          first ? m.previousEndEpochMs : undefined,
        );
        if (m.warmup) rec.warmup = true; // a warmup conversation's turns: no DB row, no sink
        return rec;
      },
      finishing!, // the pool sends conversations only to workers that loaded the plugin
      (f) => post({ t: "turn", id: m.id, f }, finishedTransfers(f)),
      cancel.signal,
      (rec, body, err) => unfinishedTurn(m.id, rec, body, err),
    );
  } finally {
    post({ t: "ended", id: m.id, ...span }); // its slot is freed whatever happened
  }
}

/**
 * A `chained` request ended at `end` (epoch ms; `NaN`: it was not sent): its follower, if it
 * came, goes now; else the end is kept for it.
 */
function chainEnded(m: SendOrder, end: number): void {
  if (!m.chained) return;
  const f = followers.get(m.id);
  if (f === undefined) endedChained.set(m.id, end);
  else {
    followers.delete(m.id);
    follow(f, end);
  }
}

/** Send `f`, queued behind a request that ended at `end`, or drop it (see `SendOrder.after`). */
function follow(f: SendOrder, end: number): void {
  const now = performance.timeOrigin + performance.now();
  if (
    Number.isNaN(end) || cancel.signal.aborted ||
    (f.notAfterEpochMs !== undefined && now >= f.notAfterEpochMs)
  ) {
    post({ t: "dropped", id: f.id });
    chainEnded(f, NaN); // what was queued behind it is dropped too
    return;
  }
  f.previousEndEpochMs = end;
  send(f).catch((err) => sendFailed(f, err));
}

/**
 * The records of closed-loop requests, finished in later tasks (`sliced_queue.ts`): the records of
 * the requests that end together (a paced server ends its streams in waves) are finished once that
 * task's reads are done and each slot's next request sent, in short slices between which the reads
 * go on.
 */
const deferred = new SlicedQueue<{ m: SendOrder; rec: RequestRecord; at: number }>(({ m, rec }) => {
  try {
    finish(m, rec);
  } catch (err) {
    sendFailed(m, err); // recorded, as `send`'s caller would have
  }
});

/** Drop every queued follower: not sent (a cancel, or the worker closing). */
function dropFollowers(): void {
  for (const [after, f] of followers) {
    followers.delete(after);
    follow(f, NaN);
  }
}

/** An order from the main thread: sent now, or queued behind the request it follows. */
function take(o: SendOrder): void {
  if (o.after === undefined) {
    send(o).catch((err) => sendFailed(o, err));
    return;
  }
  const end = endedChained.get(o.after);
  if (end === undefined) followers.set(o.after, o);
  else {
    endedChained.delete(o.after);
    follow(o, end);
  }
}

async function send(m: SendOrder): Promise<void> {
  if (m.conversation !== undefined) return await converse(m);
  let rec: RequestRecord | undefined;
  try {
    rec = await measure(
      m.index,
      m.body,
      m.stream,
      m.endpoint,
      m.scheduledEpochMs,
      m.previousEndEpochMs,
      m.headers,
    );
  } finally {
    // Its slot's next request goes first (after a failure too: the slot's loop carries on).
    if (m.chained) {
      chainEnded(
        m,
        rec ? rec.timeOriginMs + rec.endMs : performance.timeOrigin + performance.now(),
      );
    }
  }
  if (m.warmup) rec.warmup = true; // no DB row, no sink (--warmup-num)
  if (m.requestId !== undefined) rec.requestId = m.requestId;
  // A closed loop's next request went first; its record can wait for the other reads.
  if (m.chained) deferred.push({ m, rec, at: performance.now() });
  else finish(m, rec);
}

/** Finish `rec` here, or hand it over raw; never lost (see {@link unfinished}). */
function finish(m: SendOrder, rec: RequestRecord): void {
  if (finishing === undefined) return raw(m.id, rec);
  let counted: Promise<void> | undefined;
  try {
    counted = finishAndHand(finishing, rec, m.body, (r) => done(m.id, r));
    if (counted === undefined) return;
  } catch (err) {
    return unfinished(m.id, rec, err);
  }
  // Counted in the counting worker: the slot is free now, the record follows.
  post({ t: "free", id: m.id, ...spanOf(rec) });
  const p = counted.catch((err) => unfinished(m.id, rec, err));
  counting.add(p);
  p.finally(() => counting.delete(p));
}

/**
 * Sending an order failed outside its transport (a bug): its request is still recorded, as a
 * client failure, and its slot freed. A conversation has freed its own (`ended`, whatever
 * happened); a record posted twice is taken once (the main thread keeps only pending ids).
 */
function sendFailed(o: SendOrder, err: unknown): void {
  if (o.conversation !== undefined) return;
  const rec = newRecord(o.index, o.stream);
  rec.startMs = rec.endMs = performance.now();
  rec.endpoint = endpoints[o.endpoint ?? 0]?.name; // (the index itself may be what failed)
  if (o.warmup) rec.warmup = true;
  if (o.requestId !== undefined) rec.requestId = o.requestId;
  unfinished(o.id, rec, err);
}

/** Hand the record to the main thread to finish. */
function raw(id: number, rec: RequestRecord): void {
  const r: RawRecord = { ...rec, payloads: packPayloads(rec.payloads) };
  post({ t: "raw", id, rec: r }, [r.payloads.utf8.buffer as ArrayBuffer]);
  releaseRecord(rec); // after the post, which copies `r` (its chunkTimesMs is rec's own array)
}

/**
 * Finishing the record here failed (a bug, or a plugin that throws): the request is still
 * recorded, as failed with the reason, by the main thread, and its slot is freed. Never lost.
 */
function unfinished(id: number, rec: RequestRecord, err: unknown): void {
  markUnfinished(rec, err);
  raw(id, rec);
}

/**
 * As {@link unfinished}, for a turn of a conversation: the main thread finishes its record with
 * the turn's own body; the conversation's slot stays held until it ends.
 */
function unfinishedTurn(id: number, rec: RequestRecord, body: string, err: unknown): void {
  markUnfinished(rec, err);
  const r: RawRecord = { ...rec, payloads: packPayloads(rec.payloads) };
  post({ t: "rawTurn", id, rec: r, body }, [r.payloads.utf8.buffer as ArrayBuffer]);
}

async function init(m: Extract<ToWorker, { t: "init" }>): Promise<void> {
  transport = createTransport(m.spec);
  target = m.target;
  endpoints = targetEndpoints(target);
  const db = m.db;
  if (db !== undefined) rows = new RowQueue((msg, transfer) => db.postMessage(msg, transfer));
  if (m.count !== undefined) counter = new ChannelCounter(m.count);
  const api = m.finish.api;
  if (api !== undefined) {
    finishing = {
      api: await loadApiPlugin(api.spec, api.params, api.source),
      tokens: counter,
      rows,
      needs: m.finish.needs,
    };
  }
  monitor = new LoopMonitor(m.name);
  monitor.start();
}

async function close(): Promise<void> {
  dropFollowers(); // nothing left to follow them
  deferred.drain(); // every record finished before the report
  await transport?.close();
  await Promise.all(counting);
  rows?.end(); // every row posted, then the writer stops waiting for this worker
  await counter?.close();
  const load = { ...monitor!.stop(), requests, events };
  post({ t: "closed", load });
  scope.close();
}

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    switch (m.t) {
      case "send":
        for (const o of m.orders) take(o);
        break;
      case "init":
        await init(m);
        post({ t: "ready" });
        break;
      case "cancel":
        cancel.abort();
        dropFollowers();
        break;
      case "secrets":
        rows?.secrets(m.secrets);
        break;
      case "close":
        await close();
        break;
    }
  } catch (err) {
    post({ t: "error", message: errorMessage(err) });
  }
};

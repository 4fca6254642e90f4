/**
 * Finishing a request where its bytes arrived: the thread that sent it (a transport worker, or
 * the main thread with `--workers 0` or a plugin given as an object) turns its measured
 * {@link RequestRecord} into the one {@link FinishedRequest} that every sink receives. In order:
 * the API plugin's `errorInPayload` looks for an error sent inside a 200 response; its
 * `parseResponses` reads the token counts; with `--tokenizer-path`, where the response had no
 * usage, the plugin's texts are counted by the counting worker (`usage_or_tokenizer.ts`); the
 * metrics are derived (`requestMetrics`, the one definition); the result-DB row is built and
 * queued for the writer; and the payloads and body are put on the record only when a sink needs
 * them.
 *
 * A request whose counting goes through the counting worker (or whose plugin answers with a
 * promise) finishes later: {@link finishRequest} then returns a promise, and the caller can free
 * the request's slot at once, before its record is done.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { requestMetrics } from "../metrics/request_metrics.ts";
import { errorMarkerOf, holdsMarker } from "../plugins/error_marker.ts";
import type { ApiPluginLike, RequestBody, TokenCounts } from "../plugins/types.ts";
import type { RowSink } from "../store/rows.ts";
import { toResultRow } from "../store/schema.ts";
import type { TokenCounter } from "../tokenizer/token_counters.ts";
import { fillCounts, wantsCounting } from "../tokenizer/usage_or_tokenizer.ts";
import type { FinishedRequest, MeasuredRecord, SinkNeeds } from "./finished.ts";
import { copyPayloads, packRuns, type PayloadBlob, payloadRuns } from "./payloads.ts";
import { releaseRecord, type RequestRecord } from "./record.ts";

/** How a thread finishes its requests. */
export interface Finishing {
  /** Reads errors and token counts from the payloads. */
  api: ApiPluginLike;
  /** Counts tokens where a response had no usage (`--tokenizer-path`). */
  tokens?: TokenCounter;
  /** Where the result DB's rows go (absent without the DB). */
  rows?: RowSink;
  /** What the sinks need on each record beyond the measurements. */
  needs: SinkNeeds;
}

/** The fields of {@link TokenCounts}, all that a record keeps of a plugin's counts. */
const COUNT_FIELDS = [
  "source",
  "contentChunks",
  "answerChunks",
  "imageTokens",
  "reasoningTokens",
  "cachedTokens",
] as const satisfies readonly (keyof TokenCounts)[];

/**
 * Normalise a plugin's `parseResponses` result: a fresh object with {@link TokenCounts}' fields
 * only, so that whatever else a plugin put beside them (a function, a class instance) never
 * reaches a record, which must cross threads as plain data.
 */
export function toCounts(v: TokenCounts | [number, number]): TokenCounts {
  if (Array.isArray(v)) return { promptTokens: v[0] ?? 0, completionTokens: v[1] ?? 0 };
  const out: TokenCounts = { promptTokens: v.promptTokens, completionTokens: v.completionTokens };
  for (const k of COUNT_FIELDS) {
    if (v[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = v[k];
  }
  return out;
}

/** `counts` without its per-payload lists (`contentChunks`, `answerChunks`). */
function withoutLists(counts: TokenCounts): TokenCounts {
  if (counts.contentChunks === undefined && counts.answerChunks === undefined) return counts;
  const { contentChunks: _c, answerChunks: _a, ...rest } = counts;
  return rest;
}

/**
 * The request body for the plugin, parsed from its text only if the plugin reads it (most read
 * one field, `stream`; some none): a stand-in object that parses on first use.
 */
export function lazyBody(text: string): RequestBody {
  let body: RequestBody | undefined;
  const get = (): RequestBody => body ??= JSON.parse(text);
  return new Proxy({} as RequestBody, {
    get: (_, k) => Reflect.get(get(), k),
    set: (_, k, v) => Reflect.set(get(), k, v),
    has: (_, k) => Reflect.has(get(), k),
    deleteProperty: (_, k) => Reflect.deleteProperty(get(), k),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, k) => Reflect.getOwnPropertyDescriptor(get(), k),
    defineProperty: (_, k, d) => Reflect.defineProperty(get(), k, d),
  });
}

/**
 * Whether any of `texts` (a response's runs) holds `marker`: each payload lies whole in one run, so
 * none that holds it is missed.
 */
function holdsAnyMarker(texts: readonly string[], marker: string): boolean {
  for (const t of texts) if (holdsMarker(t, marker)) return true;
  return false;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === "function";
}

/**
 * Mark a record whose finishing failed (a bug, or a plugin that throws) as a `client` failure with
 * the reason, so that it is still recorded, never lost.
 */
export function markUnfinished(rec: RequestRecord, err: unknown): void {
  rec.success = false;
  rec.failure = {
    kind: "client",
    message: `the record could not be finished: ${errorMessage(err)}`,
  };
}

/**
 * Finish one request and hand its record to `use`, then release the request's own arrays
 * (`releaseRecord`): what every sender does with a request that is not a conversation's turn.
 * Returns `undefined` when that was done at once, else a promise of when it is (rejected only
 * where {@link finishRequest} or `use` fails: the arrays are then kept for the failure's record).
 */
export function finishAndHand(
  f: Finishing,
  rec: RequestRecord,
  bodyText: string,
  use: (r: FinishedRequest) => void,
): Promise<void> | undefined {
  const out = finishRequest(f, rec, bodyText);
  if (!(out instanceof Promise)) {
    use(out);
    releaseRecord(rec);
    return undefined;
  }
  return out.then((r) => {
    use(r);
    releaseRecord(rec);
  });
}

/**
 * Finish one request (see the module doc). `bodyText` is the body as sent. Returns the record at
 * once, or a promise of it when counting (or the plugin) is asynchronous. Never throws for a
 * plugin's failure: an `errorInPayload` or `parseResponses` that throws makes the request a
 * `protocol` failure.
 */
export function finishRequest(
  f: Finishing,
  rec: RequestRecord,
  bodyText: string,
): FinishedRequest | Promise<FinishedRequest> {
  const api = f.api;
  const payloads = rec.payloads;
  const marker = rec.success ? errorMarkerOf(api.errorInPayload) : undefined;
  // The payloads as one blob, for the DB row and for a sink that needs them: packed once, as they
  // arrived (before the plugin may change its array), from the joined runs the error search uses.
  const wantsBlob = (f.rows !== undefined && !rec.warmup) || f.needs.payloads === true;
  const runs = wantsBlob || marker !== undefined ? payloadRuns(payloads) : undefined;
  const packed = wantsBlob ? packRuns(runs!, payloads) : undefined;
  if (
    rec.success && api.errorInPayload && (marker === undefined || holdsAnyMarker(runs!, marker))
  ) {
    try {
      for (const p of payloads) {
        const err = api.errorInPayload(p);
        if (err !== undefined) {
          rec.success = false;
          rec.failure = {
            kind: "server-error",
            message: String(err).split("\n")[0],
            body: p.slice(0, 500),
          };
          break;
        }
      }
    } catch (e) {
      rec.success = false;
      rec.failure = { kind: "protocol", message: `errorInPayload failed: ${errorMessage(e)}` };
    }
  }
  if (!rec.success) return complete(f, rec, bodyText, undefined, packed);
  const body = lazyBody(bodyText);
  let parsed: TokenCounts | [number, number] | Promise<TokenCounts | [number, number]>;
  try {
    parsed = api.parseResponses(rec.payloads, body);
  } catch (e) {
    return complete(f, parseFailed(rec, e), bodyText, undefined, packed);
  }
  if (isPromise(parsed)) {
    // A native promise whatever the plugin's is: its callers tell a record from a promise of one
    // by `instanceof Promise`, and release the record's arrays at once when it is not.
    return Promise.resolve(parsed).then(
      (c) => counted(f, rec, bodyText, body, toCounts(c), packed),
      (e) => complete(f, parseFailed(rec, e), bodyText, undefined, packed),
    );
  }
  return counted(f, rec, bodyText, body, toCounts(parsed), packed);
}

function parseFailed(rec: RequestRecord, e: unknown): RequestRecord {
  rec.success = false;
  rec.failure = { kind: "protocol", message: `parseResponses failed: ${errorMessage(e)}` };
  return rec;
}

/** With the plugin's counts: the tokenizer's turn where it has one, then the record. */
function counted(
  f: Finishing,
  rec: RequestRecord,
  bodyText: string,
  body: RequestBody,
  counts: TokenCounts,
  packed: PayloadBlob | undefined,
): FinishedRequest | Promise<FinishedRequest> {
  if (f.tokens === undefined || !wantsCounting(f.api, counts)) {
    return complete(f, rec, bodyText, counts, packed);
  }
  return fillCounts(f.api, rec.payloads, body, counts, f.tokens).then(
    (c) => complete(f, rec, bodyText, c, packed),
    () => complete(f, rec, bodyText, counts, packed),
  );
}

/** The record, its metrics, its DB row; the payloads and body only where a sink needs them. */
function complete(
  f: Finishing,
  rec: RequestRecord,
  bodyText: string,
  counts: TokenCounts | undefined,
  packed: PayloadBlob | undefined,
): FinishedRequest {
  const record: MeasuredRecord = {
    index: rec.index,
    stream: rec.stream,
    timeOriginMs: rec.timeOriginMs,
    scheduledMs: rec.scheduledMs,
    startMs: rec.startMs,
    headersAtMs: rec.headersAtMs,
    // A copy, as everything here: the record's own arrays are emptied once it is finished
    // (`releaseRecord`), possibly before this record is posted.
    chunkTimesMs: Float64Array.from(rec.chunkTimesMs),
    endMs: rec.endMs,
    status: rec.status,
    success: rec.success,
    failure: rec.failure,
    retries: rec.retries,
    refillLateMs: rec.refillLateMs,
    connectMs: rec.connectMs,
    tlsMs: rec.tlsMs,
    endpoint: rec.endpoint,
  };
  if (rec.warmup) record.warmup = true;
  if (rec.requestId !== undefined) record.requestId = rec.requestId;
  if (rec.conversation !== undefined) {
    record.conversation = rec.conversation;
    record.turn = rec.turn;
  }
  const out: FinishedRequest = {
    record,
    metrics: requestMetrics(record, counts),
    // The per-payload lists index the payloads: kept only where a sink has those (the metrics
    // hold what they measure). Two lists of 257 numbers cost a 256-token record ~8 us to post
    // and as much to receive, a quarter of its crossing.
    counts: counts !== undefined && f.needs.payloads !== true ? withoutLists(counts) : counts,
  };
  if (packed !== undefined && f.rows !== undefined && !rec.warmup) {
    // The row's buffers go to the writer's thread (transferred, so detached here, as soon as its
    // batch is full: possibly inside `add`): a sink that needs the payloads gets a copy made first.
    if (f.needs.payloads) out.payloads = copyPayloads(packed);
    f.rows.add(toResultRow({ ...out, bodyText, payloads: packed }));
  } else if (f.needs.payloads) out.payloads = packed;
  if (f.needs.bodyText) out.bodyText = bodyText;
  return out;
}

/**
 * The buffers of a finished request that can be handed to another thread instead of copied (its
 * chunk times, its gaps, its payloads): each was made for this record alone. Added to `out` (a
 * batch's transfer list) when given.
 */
export function finishedTransfers(r: FinishedRequest, out: Transferable[] = []): Transferable[] {
  out.push(r.record.chunkTimesMs.buffer as ArrayBuffer);
  const itl = r.metrics.itlS;
  if (ArrayBuffer.isView(itl)) out.push(itl.buffer as ArrayBuffer);
  if (r.payloads !== undefined) out.push(r.payloads.utf8.buffer as ArrayBuffer);
  return out;
}

/**
 * One conversation of `--multi-turn`, run where its requests are sent (a transport worker, or
 * the main thread with `--workers 0`), so that each reply is appended where it arrives: its
 * turns go one after another on one slot of the load; before each, the turn's delay (think time,
 * tool latency) is waited, its messages are appended to the history and the whole history is
 * sent in the conversation's body (`messages` replaced, the turn's `max_tokens` set); after a
 * success, the reply's generated text (reasoning and answer, as the API plugin's
 * `generatedTexts` reads it) is appended as an assistant message. A failed turn ends the
 * conversation. Every turn is finished into its own record, with its conversation and turn
 * numbers, and emitted as it ends.
 *
 * @module
 */
import type { Turn } from "../plugins/types.ts";
import { type Finishing, finishRequest } from "../records/finish_request.ts";
import type { FinishedRequest } from "../records/finished.ts";
import { releaseRecord, type RequestRecord } from "../records/record.ts";
import { sleepUntil } from "../util/sleep.ts";
import type { ConversationOrder, Span } from "./messages.ts";

/**
 * Sends one turn's body and returns its measured record (the caller's transport; a failure is
 * recorded on the record, never thrown).
 */
export type SendTurn = (index: number, body: string, first: boolean) => Promise<RequestRecord>;

/** The body text of turn `k`: the base with the whole history and the turn's `max_tokens`. */
export function turnBody(base: Record<string, unknown>, history: unknown[], turn: Turn): string {
  const body: Record<string, unknown> = { ...base, messages: history };
  if (turn.maxTokens !== undefined) {
    if ("max_completion_tokens" in base) body.max_completion_tokens = turn.maxTokens;
    else body.max_tokens = turn.maxTokens;
  }
  return JSON.stringify(body);
}

/**
 * Run conversation `c`: see the module doc. `emit` receives each turn's finished record in
 * order; resolves to when its first turn was sent and its last ended. Stops after the turn in
 * flight when `signal` aborts. A turn whose record cannot be finished goes to `unfinished` (to be
 * recorded as failed, never lost) and ends the conversation; without it, the error is thrown.
 *
 * @example In a thread that sends (`send` measures one body on its transport)
 * ```ts
 * const span = await runConversation(order, send, finishing, (f) => records.push(f), signal);
 * ```
 */
export async function runConversation(
  c: ConversationOrder,
  send: SendTurn,
  finishing: Finishing,
  emit: (f: FinishedRequest) => void,
  signal: AbortSignal,
  unfinished?: (rec: RequestRecord, body: string, err: unknown) => void,
): Promise<Span> {
  const base = JSON.parse(c.base) as Record<string, unknown>;
  const history: unknown[] = [];
  // A conversation stopped before its first turn (an interrupted run) spans no time.
  let start = performance.timeOrigin + performance.now();
  let end = start;
  for (let k = 0; k < c.turns.length; k++) {
    const turn = c.turns[k];
    if (turn.delayMs !== undefined && turn.delayMs > 0) {
      await sleepUntil(performance.now() + turn.delayMs, signal);
    }
    if (signal.aborted) break;
    for (const m of turn.messages) history.push(m);
    const body = turnBody(base, history, turn);
    const rec = await send(c.firstIndex + k, body, k === 0);
    rec.conversation = c.id;
    rec.turn = k;
    if (k === 0) start = rec.timeOriginMs + rec.startMs;
    end = rec.timeOriginMs + rec.endMs;
    let f: FinishedRequest;
    try {
      f = await finishRequest(finishing, rec, body);
    } catch (err) {
      if (unfinished === undefined) throw err;
      unfinished(rec, body, err); // recorded as failed elsewhere; the conversation ends
      break;
    }
    emit(f);
    if (!f.record.success || signal.aborted) {
      releaseRecord(rec);
      break;
    }
    let reply = "";
    try {
      reply = finishing.api.generatedTexts?.(rec.payloads)[0] ?? "";
    } catch {
      // A plugin that cannot read its own reply: the history goes on with an empty one.
    }
    releaseRecord(rec);
    history.push({ role: "assistant", content: reply });
  }
  return { startEpochMs: start, endEpochMs: end };
}

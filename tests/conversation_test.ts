/**
 * `runConversation` (src/workers/conversation.ts) when a turn's record cannot be finished (a
 * bug: here the result DB's row sink throws; a throwing plugin is a recorded failure instead,
 * not this): the turn goes to `unfinished` with its own
 * body, nothing is emitted for it, and the conversation ends there, never lost; without the
 * callback the error is thrown, as before.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import type { ApiPluginLike } from "../src/plugins/types.ts";
import type { Finishing } from "../src/records/finish_request.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import { runConversation } from "../src/workers/conversation.ts";
import type { ConversationOrder } from "../src/workers/messages.ts";

const ORDER: ConversationOrder = {
  id: 3,
  firstIndex: 10,
  base: JSON.stringify({ model: "m", messages: [], stream: true }),
  turns: [
    { messages: [{ role: "user", content: "one" }] },
    { messages: [{ role: "user", content: "two" }] },
  ],
};

/** A plugin that reads every response as 1 prompt and 1 completion token. */
const API = {
  buildRequest: () => ({}),
  parseResponses: () => ({ promptTokens: 1, completionTokens: 1 }),
} as unknown as ApiPluginLike;

/** Finishing whose row sink fails on every row. */
const FINISHING: Finishing = {
  api: API,
  needs: {},
  rows: {
    add() {
      throw new Error("cannot queue the row");
    },
  },
};

/** A send that "measures" a successful record at once. */
function sent(bodies: string[]) {
  return (index: number, body: string): Promise<RequestRecord> => {
    bodies.push(body);
    const rec = newRecord(index, true);
    rec.startMs = performance.now();
    rec.endMs = rec.startMs + 1;
    rec.status = 200;
    rec.success = true;
    return Promise.resolve(rec);
  };
}

Deno.test("conversation: a turn that cannot be finished goes to unfinished and ends the conversation", async () => {
  const bodies: string[] = [];
  const emitted: FinishedRequest[] = [];
  const lost: { index: number; turn?: number; conversation?: number; body: string }[] = [];
  await runConversation(
    ORDER,
    sent(bodies),
    FINISHING,
    (f) => emitted.push(f),
    new AbortController().signal,
    (rec, body, err) => {
      assertEquals((err as Error).message, "cannot queue the row");
      lost.push({ index: rec.index, turn: rec.turn, conversation: rec.conversation, body });
    },
  );
  assertEquals(bodies.length, 1, "the second turn was not sent");
  assertEquals(emitted.length, 0);
  assertEquals(lost, [{ index: 10, turn: 0, conversation: 3, body: bodies[0] }]);
  assertEquals(JSON.parse(bodies[0]).messages, [{ role: "user", content: "one" }]);
});

Deno.test("conversation: without an unfinished callback the finishing error is thrown", async () => {
  await assertRejects(() =>
    runConversation(ORDER, sent([]), FINISHING, () => {}, new AbortController().signal)
  );
});

Deno.test("conversation: each reply goes into the history before its record's payloads are released", async () => {
  const bodies: string[] = [];
  const records: RequestRecord[] = [];
  const send = sent(bodies);
  const streamed = async (index: number, body: string) => {
    const rec = await send(index, body);
    rec.payloads.push(`{"text":"reply ${index}"}`);
    rec.chunkTimesMs.push(rec.startMs + 0.5);
    records.push(rec);
    return rec;
  };
  const api = {
    ...API,
    generatedTexts: (payloads: string[]) => [payloads.map((p) => JSON.parse(p).text).join("")],
  } as unknown as ApiPluginLike;
  const emitted: FinishedRequest[] = [];
  await runConversation(
    ORDER,
    streamed,
    { api, needs: {} },
    (f) => emitted.push(f),
    new AbortController().signal,
  );
  assertEquals(JSON.parse(bodies[1]).messages, [
    { role: "user", content: "one" },
    { role: "assistant", content: "reply 10" },
    { role: "user", content: "two" },
  ]);
  // Emptied once read (record.ts, releaseRecord); the emitted records kept their own copies.
  assertEquals(records.map((r) => [r.payloads.length, r.chunkTimesMs.length]), [[0, 0], [0, 0]]);
  assertEquals(emitted.map((f) => f.record.chunkTimesMs.length), [1, 1]);
});

/**
 * `--stamp-times` for every protocol: a wrapper around any {@link ProtocolAdapter} that adds
 * `mock_received_ms` (when the request arrived) and `mock_sent_ms` (when this event or body was
 * made, just before it is written) as the last two fields of every JSON object the reply sends:
 * each streamed event and the whole body. Times are wall-clock epoch milliseconds with
 * microsecond precision (`performance.timeOrigin + performance.now()`), the ground truth
 * `deno task bench` and the pacing tests measure against.
 *
 * It relies on the adapters' contract that a streamed event is one JSON object ended by a blank
 * line: the stamps go before each `}\n\n` (JSON text never holds a raw newline, so that is always
 * an event's end).
 *
 * @module
 */
import { asObject, type MockReply, type ProtocolAdapter } from "./protocol_adapter.ts";

/** Epoch ms rounded to the microsecond. */
function ms(epochMs: number): number {
  return Math.round(epochMs * 1000) / 1000;
}

function nowMs(): number {
  return ms(performance.timeOrigin + performance.now());
}

/** Per reply, the stamps' text up to the sent time (`,"mock_received_ms":R,"mock_sent_ms":`). */
const heads = new WeakMap<MockReply, string>();

const END = "}\n\n";

function stamp(text: string, r: MockReply): string {
  if (text === "") return text;
  let head = heads.get(r);
  if (head === undefined) {
    head = `,"mock_received_ms":${ms(r.receivedMs)},"mock_sent_ms":`;
    heads.set(r, head);
  }
  const tail = head + nowMs() + END;
  // Most texts are one event: its end is the text's end.
  const first = text.indexOf(END);
  if (first === text.length - END.length) return text.slice(0, first) + tail;
  return text.replaceAll(END, tail);
}

/**
 * `p` with time stamps in every event and body it formats.
 *
 * @example
 * ```ts
 * import { withStamps } from "./stamps.ts";
 * import { openaiProtocol } from "./openai.ts";
 * const stamped = withStamps(openaiProtocol); // serves the same, stamped
 * ```
 */
export function withStamps(p: ProtocolAdapter): ProtocolAdapter {
  return {
    name: p.name,
    endpoints: p.endpoints,
    route: (path) => p.route(path),
    parse: (route, path, headers, body) => p.parse(route, path, headers, body),
    reasons: p.reasons && ((call) => p.reasons!(call)),
    errorBody: (status, message) => p.errorBody(status, message),
    full(r) {
      const body = p.full(r);
      const o = asObject(body);
      if (o !== undefined) {
        o.mock_received_ms = ms(r.receivedMs);
        o.mock_sent_ms = nowMs();
      }
      return body;
    },
    event: (r, i) => stamp(p.event(r, i), r),
    tail: (r) => stamp(p.tail(r), r),
  };
}

/**
 * What the SSE parser costs per event, by the size of the text each read hands it: the blast
 * server's 256-token reply (`bench/blast_server.ts`, ~170 bytes per event) cut into reads of
 * each size, each read decoded to a fresh string as the socket transport does, fed to an
 * {@link EventRecorder} (the parser and the record's payloads and times). Unthrottled streams
 * coalesce ~100 events per read, paced ones one.
 *
 *   deno run -A bench/sse_parse.ts [--replies 2000] [--rounds 3] [--reads 0,200,16384,65536]
 *
 * A read size of 0 is one event per read (a paced stream); 200 cuts most events across two reads.
 *
 * It prints the wall µs per event for each read size (single-threaded, nothing else runs). A cost
 * that grows with the read size means the parser scans the whole text per event: until
 * 2026-12-02 it did, for the carriage-return test that V8 moved into the event loop (0.3 µs per
 * event at 16 KiB reads, 0.7 µs for a whole reply per read; 0.06–0.1 after).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { newRecord } from "../src/records/record.ts";
import { EventRecorder } from "../src/transport/record_body.ts";
import { blastEvents } from "./blast_server.ts";

const { values } = parseArgs({
  options: {
    replies: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    reads: { type: "string", default: "0,200,16384,65536" },
  },
});
const replies = Number(values.replies);
const rounds = Number(values.rounds);

const enc = new TextEncoder();
const dec = new TextDecoder();
const reply = blastEvents(256);
const bytes = enc.encode(reply.join(""));

for (const size of values.reads.split(",").map(Number)) {
  const reads: Uint8Array[] = [];
  if (size === 0) {
    for (const event of reply) reads.push(enc.encode(event));
  } else {
    for (let i = 0; i < bytes.length; i += size) reads.push(bytes.subarray(i, i + size));
  }
  for (let r = 0; r < rounds; r++) {
    let events = 0;
    const t0 = performance.now();
    for (let k = 0; k < replies; k++) {
      const rec = newRecord(k, true);
      const recorder = new EventRecorder(rec);
      for (const read of reads) recorder.push(dec.decode(read), 1);
      recorder.end(2);
      events += rec.payloads.length;
    }
    const us = (performance.now() - t0) * 1e3 / events;
    console.log(
      `${size === 0 ? "one event per read" : `reads of ${size} bytes`}: ${
        us.toFixed(3)
      } µs per event (${events} events)`,
    );
  }
}

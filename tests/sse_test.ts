import { assertEquals } from "./assert.ts";
import { parseSseText, SseParser } from "../src/transport/sse.ts";

type Ev = { type: string; data: string };

/** Parse `text` fed in the given pieces. */
function parsePieces(pieces: string[]): Ev[] {
  const out: Ev[] = [];
  const p = new SseParser((data, type) => out.push({ type, data }));
  for (const piece of pieces) p.push(piece, 0);
  p.end(0);
  return out;
}

/** A real stream as vLLM sends it: role chunk, content chunks, usage chunk, [DONE]. */
const VLLM = [
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"}}]}`,
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" wörld 模型"}}]}`,
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
  `data: [DONE]`,
].join("\n\n") + "\n\n";

const EDGE = [
  ": a comment line",
  "data:no-space",
  "",
  "event: error",
  'data: {"error":"boom"}',
  "",
  "data: line one",
  "data: line two",
  "id: 7",
  "retry: 100",
  "",
  "data",
  "",
  "data:  two spaces",
  "",
  "unknownfield: x",
  "",
  "data: last without blank line",
].join("\r\n");

const EDGE_EVENTS: Ev[] = [
  { type: "", data: "no-space" },
  { type: "error", data: '{"error":"boom"}' },
  { type: "", data: "line one\nline two" },
  { type: "", data: "" },
  { type: "", data: " two spaces" },
  { type: "", data: "last without blank line" },
];

Deno.test("sse: a vLLM stream parses into its five events", () => {
  const evs = parseSseText(VLLM);
  assertEquals(evs.length, 5);
  assertEquals(evs[4].data, "[DONE]");
  assertEquals(JSON.parse(evs[2].data).choices[0].delta.content, " wörld 模型");
});

Deno.test("sse: comments, no-space data, event types, multi-line, CRLF, last event without blank line", () => {
  assertEquals(parseSseText(EDGE), EDGE_EVENTS);
});

Deno.test("sse: LF, CR and CRLF line ends give the same events", () => {
  const lf = EDGE.replaceAll("\r\n", "\n");
  const cr = EDGE.replaceAll("\r\n", "\r");
  assertEquals(parseSseText(lf), EDGE_EVENTS);
  assertEquals(parseSseText(cr), EDGE_EVENTS);
});

for (
  const [name, text, expected] of [
    ["vLLM stream", VLLM, parseSseText(VLLM)],
    ["edge cases (CRLF)", EDGE, EDGE_EVENTS],
    ["edge cases (CR)", EDGE.replaceAll("\r\n", "\r"), EDGE_EVENTS],
  ] as const
) {
  Deno.test(`sse: ${name} split at every single offset`, () => {
    for (let i = 0; i <= text.length; i++) {
      assertEquals(parsePieces([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
    }
  });

  Deno.test(`sse: ${name} split at every pair of offsets`, () => {
    const step = text.length > 200 ? 3 : 1;
    for (let i = 0; i <= text.length; i += step) {
      for (let j = i; j <= text.length; j += step) {
        const pieces = [text.slice(0, i), text.slice(i, j), text.slice(j)];
        assertEquals(parsePieces(pieces), expected, `split at ${i},${j}`);
      }
    }
  });

  Deno.test(`sse: ${name} fed one character at a time`, () => {
    assertEquals(parsePieces([...text]), expected);
  });
}

Deno.test("sse: each event carries the time of the read that completed it", () => {
  const got: Array<[string, number]> = [];
  const p = new SseParser((data, _type, t) => got.push([data, t]));
  p.push("data: a\n\ndata: b", 1);
  p.push("\n", 2);
  p.push("\ndata: c\n\n", 3);
  p.push("data: d", 4);
  p.end(5);
  assertEquals(got, [["a", 1], ["b", 3], ["c", 3], ["d", 5]]);
});

Deno.test("sse: a CRLF cut between two reads is one line end, not two", () => {
  const got: string[] = [];
  const p = new SseParser((data) => got.push(data));
  p.push("data: x\r", 0);
  p.push("\ndata: y\r\n\r\n", 0);
  p.end(0);
  assertEquals(got, ["x\ny"]);
});

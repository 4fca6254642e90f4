/**
 * The `openai` plugin reads the plain chat chunk (nearly every token of vLLM, SGLang and
 * OpenAI-compatible servers) from a regular expression instead of `JSON.parse`. These tests hold
 * it to what `JSON.parse` gives: a reference written here from the rule (`JSON.parse`, then
 * `messageText` on `delta ?? message`, a truthy `finish_reason`, an `object` ending in `.chunk`)
 * against `readChoices` on real servers' chunk shapes, and on thousands of seeded mutations of
 * them (a mutant that is not JSON must still be refused, one that is must read the same).
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { PLAIN_CHUNK, PLAIN_TOKEN, readChoices } from "../plugins/api/openai.ts";
import { messageText } from "../plugin.ts";

/** What the reference reads from one payload; `"throws"` when `JSON.parse` refuses it. */
function reference(p: string): string {
  let js: unknown;
  try {
    js = JSON.parse(p);
  } catch {
    return "throws";
  }
  if (!js || typeof js !== "object") return "throws";
  const o = js as Record<string, unknown>;
  const usage = o.usage && typeof o.usage === "object" ? JSON.stringify(o.usage) : "-";
  const chunked = typeof o.object === "string" && o.object.endsWith(".chunk");
  let finished = false;
  let answer = false;
  let reasoning = false;
  if (Array.isArray(o.choices)) {
    for (const c of o.choices as Array<Record<string, unknown> | null>) {
      if (c?.finish_reason) finished = true;
      if (!c || typeof c !== "object") continue;
      const t = typeof c.text === "string"
        ? { answer: c.text, reasoning: "" }
        : messageText(c.delta ?? c.message);
      if (t.answer !== "") answer = true;
      if (t.reasoning !== "") reasoning = true;
    }
  }
  return JSON.stringify({ usage, chunked, finished, answer, reasoning });
}

/** The same facts as `readChoices` reports them for a one-payload stream. */
function read(p: string): string {
  let r;
  try {
    r = readChoices([p], false);
  } catch {
    return "throws";
  }
  return JSON.stringify({
    usage: r.usage ? JSON.stringify(r.usage) : "-",
    chunked: r.chunked,
    finished: r.finished,
    answer: r.answerChunks.length > 0,
    reasoning: r.reasoningChunks.length > 0,
  });
}

const chunk = (delta: string, finish = "null", tail = "") =>
  `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1796139764,"model":"Qwen/Qwen3-8B",` +
  `"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}${tail}}]}`;

/** Chunk shapes as servers send them: the plain ones first, then others the parse must read. */
const PLAIN = [
  chunk(`{"role":"assistant","content":""}`), // vLLM, the mock: the first chunk
  chunk(`{"content":" the"}`),
  chunk(`{"content":" be"}`, `"length"`),
  chunk(`{"content":""}`, `"stop"`, `,"stop_reason":null`), // vLLM's last
  chunk(`{"content":"x"}`, `"stop"`, `,"stop_reason":128009`),
  chunk(`{"content":"\\n\\u00e9\\"\\\\"}`), // escapes
  chunk(`{"content":"é 中文 🙂"}`),
  chunk(`{"content":null}`),
  chunk(`{"content":"a"}`, `""`), // an empty reason is not finished
  chunk(`{"content":"a"}`, `"null"`), // the string "null" is a reason
  // SGLang
  `{"id":"a1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,` +
  `"delta":{"role":null,"content":" the","reasoning_content":null,"tool_calls":null},` +
  `"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}`,
  // OpenAI
  `{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"gpt",` +
  `"system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hi"},` +
  `"logprobs":null,"finish_reason":null}],"service_tier":"default","obfuscation":"ab"}`,
  // the mock with --stamp-times
  `{"id":"mock-1","object":"chat.completion.chunk","created":1796142793,"model":"m","choices":` +
  `[{"index":0,"delta":{"content":"server"},"logprobs":null,"finish_reason":null}],` +
  `"mock_received_ms":1796142793854.708,"mock_sent_ms":1.79614279385535e12}`,
];
const OTHERS = [
  chunk(`{"reasoning_content":"think"}`),
  chunk(`{"reasoning":"think","reasoning_content":"think"}`),
  chunk(`{"content":null,"reasoning":"hm"}`),
  chunk(`{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{"}}]}`),
  chunk(`{"content":[{"type":"text","text":"parts"}]}`),
  chunk(`{"refusal":"no"}`),
  chunk(`{"content":"a","content":""}`), // a repeated key: JSON.parse keeps the last
  `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],` +
  `"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
  `{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,` +
  `"text":" hi","logprobs":null,"finish_reason":null}]}`,
  `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,` +
  `"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"extra":{"a":1}}`,
  // a repeated key of interest after the choices: JSON.parse keeps the last
  `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,` +
  `"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"choices":null}`,
  `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,` +
  `"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"object":"x"}`,
  `{"error":{"message":"overloaded"}}`,
];

Deno.test("openai chunk: the plain shapes are read from the match, the same as parsed", () => {
  for (const p of PLAIN) {
    assert(PLAIN_CHUNK.test(p), `not matched (it would be parsed): ${p}`);
    assertEquals(read(p), reference(p), p);
  }
});

Deno.test("openai chunk: other shapes are parsed, and read the same", () => {
  for (const p of OTHERS) {
    assert(!PLAIN_CHUNK.test(p), `matched, but the match cannot read it: ${p}`);
    assertEquals(read(p), reference(p), p);
  }
});

Deno.test("openai chunk: near-misses that are not JSON are refused, as JSON.parse refuses them", () => {
  const bad = [
    PLAIN[1].replace('"created":1796139764', '"created":01796139764'), // a leading zero
    PLAIN[1].replace('"index":0', '"index":00'),
    PLAIN[1].replace('" the"', '" t\\x"'), // an unknown escape
    PLAIN[1].replace('" the"', '" t\\u00g0"'),
    PLAIN[1].replace('" the"', '" t\u0001e"'), // a raw control character
    PLAIN[1].replace('" the"', '" t\te"'), // a raw tab
    PLAIN[1] + ",",
    PLAIN[1].slice(0, -1),
  ];
  for (const p of bad) {
    assertEquals(reference(p), "throws", p);
    assertEquals(read(p), "throws", p);
  }
});

Deno.test("openai chunk: a content literal matches exactly when JSON's string grammar takes it", () => {
  // Runs of plain characters between escapes, escapes at either end and back to back, and the
  // ways a literal breaks the grammar (PLAIN_TOKEN wants a non-empty content and a null finish).
  const literals = [
    String.raw`"a"`,
    String.raw`" the"`,
    String.raw`"\""`,
    String.raw`"\\"`,
    String.raw`"a\"b\u00e9c\n"`,
    String.raw`"\u00e9\u4f60\t\/\b\f\r"`,
    String.raw`"ends with\\"`,
    `"模型 推理"`,
    `""`,
    String.raw`"\"`,
    String.raw`"a\x"`,
    String.raw`"\u12"`,
    String.raw`"\u12g4"`,
    `"a\u0001b"`, // a raw control character
    `"tab\there"`, // a raw tab
    String.raw`"a\\"b"`,
  ];
  for (const literal of literals) {
    const p = PLAIN[1].replace('" the"', literal);
    assert(p.includes(`"content":${literal}}`), literal);
    let parsed = false;
    try {
      const js = JSON.parse(p);
      parsed = typeof js.choices[0].delta.content === "string" &&
        js.choices[0].delta.content !== "";
    } catch { /* refused */ }
    assertEquals(PLAIN_TOKEN.test(p), parsed, literal);
    assertEquals(read(p), reference(p), literal);
  }
});

Deno.test("openai chunk: mutated chunks read as JSON.parse reads them, or are refused as it refuses them", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const alphabet = [
    '"',
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "0",
    "1",
    "a",
    " ",
    "\u0001",
    "u",
    "n",
  ];
  let mutants = 0;
  let matched = 0;
  let tokens = 0;
  for (const base of [...PLAIN, ...OTHERS]) {
    for (let k = 0; k < 400; k++) {
      let p = base;
      for (let edits = 1 + rand(2); edits > 0; edits--) {
        const at = rand(p.length);
        const op = rand(3);
        const ch = alphabet[rand(alphabet.length)];
        p = op === 0
          ? p.slice(0, at) + p.slice(at + 1)
          : op === 1
          ? p.slice(0, at) + ch + p.slice(at)
          : p.slice(0, at) + ch + p.slice(at + 1);
      }
      mutants++;
      if (PLAIN_CHUNK.test(p)) matched++;
      // The capture-free test of a mid-stream token matches only such plain chunks, and all.
      const m = PLAIN_CHUNK.exec(p);
      const token = m !== null && m[1].length > 2 && m[1].charCodeAt(0) === 34 && m[2] === "null";
      assertEquals(PLAIN_TOKEN.test(p), token, `PLAIN_TOKEN on ${p}`);
      if (token) tokens++;
      assertEquals(read(p), reference(p), `mutant of ${base}:\n${p}`);
    }
  }
  // The mutations reach both paths: some stay plain chunks, most do not.
  assert(matched > 100 && matched < mutants / 2, `${matched} of ${mutants} mutants matched`);
  assert(tokens > 50 && tokens < matched, `${tokens} of the ${matched} matched are tokens`);
});

Deno.test("openai chunk: a stream of plain chunks counts as before (usage, content chunks)", () => {
  const stream = [
    PLAIN[0],
    PLAIN[1],
    PLAIN[2],
    `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],` +
    `"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
  ];
  const r = readChoices(stream, false);
  assertEquals(r.contentChunks, [1, 2]);
  assertEquals(r.answerChunks, [1, 2]);
  assertEquals(r.chunked, true);
  assertEquals(r.finished, true);
  assertEquals(
    JSON.stringify(r.usage),
    `{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}`,
  );
  assertThrows(() => readChoices([PLAIN[1], "{not json"], false));
});

/**
 * The mock server's own cost: CPU per SSE event it writes, and how late it writes its tokens. The
 * mock runs in its own process (`llmperf mock`, pinned to the last core when there are two), a
 * raw TCP client (one `Deno.connect` per stream, keep-alive, no HTTP library) on the first core
 * reads every stream to its end, and the mock's CPU (user + system, all its threads, from
 * `/proc/PID/stat`) over the measured rounds is divided by the SSE payloads it wrote.
 *
 * ```sh
 * deno run -A bench/mock_cost.ts                                 # paced: 1,024 streams, 32 tokens
 * deno run -A bench/mock_cost.ts --streams 64 --itl 0 --ttft 0 --tokens 256 --rounds 20
 * deno run -A bench/mock_cost.ts --stamp-times --protocol zhipu
 * deno run -A bench/mock_cost.ts --main ../other-checkout/main.ts   # another version's mock
 * deno run -A bench/mock_cost.ts --vs ../other-checkout/main.ts --repeat 6   # both, alternating
 * ```
 *
 * With `--stamp-times` it also reports the mock's lateness: when it wrote token `k` (its
 * `mock_sent_ms`) minus when the token was due (`mock_received_ms + ttft + k · itl`). With `--vs`
 * the two mocks run one after the other `--repeat` times (this machine is shared and noisy), and
 * the medians and their ratio are printed last.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { procCpuTimes } from "../src/workers/loop_monitor.ts";
import { stat } from "./ground_truth.ts";
import { spawnListening } from "./listening_process.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "1024" },
    tokens: { type: "string", default: "32" },
    ttft: { type: "string", default: "200" },
    itl: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    "stamp-times": { type: "boolean", default: false },
    protocol: { type: "string", default: "openai" },
    main: { type: "string", default: `${ROOT}/main.ts` },
    vs: { type: "string" },
    repeat: { type: "string", default: "1" },
  },
});
const streams = Number(values.streams);
const tokens = Number(values.tokens);
const ttft = Number(values.ttft);
const itl = Number(values.itl);
const rounds = Number(values.rounds);
const stamp = values["stamp-times"];

const ROUTES: Record<string, { path: string; body: (i: number) => unknown }> = {
  openai: {
    path: "/v1/chat/completions",
    body: (i) => ({ model: "m", messages: [{ role: "user", content: `q${i}` }], stream: true }),
  },
  zhipu: {
    path: "/api/paas/v4/chat/completions",
    body: (i) => ({ model: "m", messages: [{ role: "user", content: `q${i}` }], stream: true }),
  },
  triton: {
    path: "/v2/models/m/generate_stream",
    body: (i) => ({ text_input: `q${i}`, stream: true }),
  },
};
const route = ROUTES[values.protocol];
if (route === undefined) throw new Error(`--protocol: one of ${Object.keys(ROUTES).join(", ")}`);

const cores = navigator.hardwareConcurrency;
const pin = (core: number) => (cores >= 2 ? ["taskset", "-c", String(core)] : []);
if (cores >= 2) {
  // This process (the client) on the first core.
  await new Deno.Command("taskset", { args: ["-p", "-c", "0", String(Deno.pid)], stdout: "null" })
    .output();
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const END = "\r\n0\r\n\r\n";
const STAMPS = /"mock_received_ms":([0-9.]+),"mock_sent_ms":([0-9.]+)\}/;
const TOKEN = stamp && values.protocol === "openai" ? /"(content|text_output)":"[^"]/ : /./;

/** One measurement of one mock. */
interface Measured {
  /** Events read. */
  events: number;
  /** Wall seconds of the measured rounds. */
  wall: number;
  /** The mock's user and system CPU seconds over them. */
  user: number;
  sys: number;
  /** Lateness of each stamped token event, ms. */
  late: number[];
}

/** Start the mock of `main`, read `rounds` rounds of `streams` streams from it, stop it. */
async function measure(main: string): Promise<Measured> {
  const mockArgs = [
    "run",
    "-A",
    main,
    "mock",
    "--port",
    "0",
    "--ttft-ms",
    String(ttft),
    "--itl-ms",
    String(itl),
    "--output-tokens",
    String(tokens),
    ...(values.protocol === "openai" ? [] : ["--protocol", values.protocol]),
    ...(stamp ? ["--stamp-times"] : []),
  ];
  const server = pin(cores - 1);
  const { child, url, drain } = await spawnListening(
    [...server, Deno.execPath(), ...mockArgs],
    "mock",
  );
  drain();
  const { hostname, port } = new URL(url);
  const seen = { events: 0, late: [] as number[] };

  async function stream(conn: Deno.Conn, i: number): Promise<void> {
    const body = JSON.stringify(route.body(i));
    await conn.write(enc.encode(
      `POST ${route.path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    ));
    const buf = new Uint8Array(1 << 16);
    let text = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the mock closed the connection");
      text += dec.decode(buf.subarray(0, n), { stream: true });
      if (text.endsWith(END)) break;
    }
    let k = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith("data:")) continue;
      seen.events++;
      if (!stamp) continue;
      const m = STAMPS.exec(line);
      if (m === null || !TOKEN.test(line)) continue;
      seen.late.push(Number(m[2]) - (Number(m[1]) + ttft + k * itl));
      k++;
    }
  }

  const conns = await Promise.all(
    Array.from({ length: streams }, () => Deno.connect({ hostname, port: Number(port) })),
  );
  const round = () => Promise.all(conns.map((c, i) => stream(c, i)));
  await round(); // warm-up: the mock's JIT and its connections
  await round();
  seen.events = 0;
  seen.late.length = 0;
  const cpu = () => procCpuTimes(`/proc/${child.pid}/stat`) ?? { user: NaN, sys: NaN };
  const cpu0 = cpu();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) await round();
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpu();
  for (const c of conns) c.close();
  child.kill("SIGTERM");
  await child.status;
  return {
    events: seen.events,
    wall,
    user: cpu1.user - cpu0.user,
    sys: cpu1.sys - cpu0.sys,
    late: seen.late,
  };
}

const us = (m: Measured) => ((m.user + m.sys) / m.events) * 1e6;
const f2 = (v: number) => v.toFixed(2);

function line(label: string, m: Measured): string {
  const late = stat(m.late);
  return `${label}: ${m.events} events in ${f2(m.wall)} s; mock CPU ${f2(m.user + m.sys)} s = ` +
    `${f2(us(m))} µs per event (user ${f2((m.user / m.events) * 1e6)}, system ` +
    `${f2((m.sys / m.events) * 1e6)})` +
    (stamp
      ? `; late mean ${f2(late.mean)} ms, p99 ${f2(late.p99)} ms, max ${f2(late.max)} ms`
      : "");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

console.log(
  `mock ${values.protocol}${stamp ? " --stamp-times" : ""}: ${streams} streams × ${tokens} ` +
    `tokens, ttft ${ttft} ms, itl ${itl} ms, ${rounds} rounds`,
);
const mains = values.vs === undefined ? [values.main] : [values.main, values.vs];
const runs: Measured[][] = mains.map(() => []);
const repeat = Math.max(1, Number(values.repeat));
for (let i = 0; i < repeat; i++) {
  for (let j = 0; j < mains.length; j++) {
    const m = await measure(mains[j]);
    runs[j].push(m);
    console.log(line(`  ${mains[j]} #${i + 1}`, m));
  }
}
if (repeat > 1 || mains.length > 1) {
  const med = runs.map((rs) => ({
    us: median(rs.map(us)),
    lo: Math.min(...rs.map(us)),
    hi: Math.max(...rs.map(us)),
    late: median(rs.map((m) => stat(m.late).mean)),
    p99: median(rs.map((m) => stat(m.late).p99)),
  }));
  mains.forEach((m, j) => {
    const x = med[j];
    console.log(
      `median ${m}: ${f2(x.us)} µs per event (${f2(x.lo)}–${f2(x.hi)})` +
        (stamp ? `; late mean ${f2(x.late)} ms, p99 ${f2(x.p99)} ms (medians)` : ""),
    );
  });
  if (mains.length > 1) {
    const ratios = runs[0].map((m, i) => us(m) / us(runs[1][i]));
    console.log(
      `ratio ${mains[0]} / ${mains[1]}: median of the paired runs ${f2(median(ratios))} ` +
        `(${ratios.map(f2).join(", ")})`,
    );
  }
}

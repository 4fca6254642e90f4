"""The peer in the bench: vLLM's benchmark client, reduced to its request loop.

What `vllm bench serve` does per request, written for this bench from the behaviour of its
request function (`vllm/benchmarks/lib/endpoint_request_func.py`, 2026), not copied from it:

- one `aiohttp.ClientSession` for the run, a `TCPConnector` limited to the concurrency,
  keep-alive connections, a 6-hour total timeout;
- every request a task created up front, admitted by an `asyncio.Semaphore` of
  `--max-concurrency` (here `parallel`), the body posted with `json=` (serialised per request);
- the body read with `response.content.iter_any()`: each chunk stripped, decoded and buffered;
  a message ends at a blank line, or is the buffer's `data: ...` when that parses as JSON (so a
  stripped chunk holding one whole event is one message, at the cost of a second `json.loads`);
- per message: `[DONE]` skipped, a `time.perf_counter()` stamp, `json.loads`; an event with
  `choices` gives the TTFT (the first) or an inter-token gap and appends its `delta.content` to
  the text; one with `usage` gives the output tokens.

Not here: the dataset, the tokenizer, the metrics after the run, the progress bar (vLLM's
client holds those in the same process, so its real memory is higher than this loop's).

It measures itself as `bench/floor_client.ts` does: CPU of the whole process from before the
first connection to the last byte (`getrusage`), resident memory from `/proc/self/status`, and
prints one JSON line in the shape of `bench/client_process.ts`'s `ClientReport`. The bench's own
additions, marked where they are: each request's start and end (for the requests it kept in
flight) and, with `"truth": true` in its arguments, per event the two stamps of the mock's
`--stamp-times`, checked after the run as `bench/ground_truth.ts` checks llmperf's records (the
event's delay after the mock sent it, the TTFT delay and error, the inter-token error). Keeping
them costs the loop ~10% more CPU and, held to the end, memory, so the rows that measure its cost
run without them.

Run by `bench/run.ts`: `python3 bench/peer_vllm.py '<FloorArgs as JSON>'` (the `reader` field is
ignored, `truth` read). Needs aiohttp (Debian: `apt-get install python3-aiohttp`).
"""

import asyncio
import json
import math
import resource
import sys
import time

import aiohttp

HEADERS = {"Content-Type": "application/json"}
TIMEOUT = aiohttp.ClientTimeout(total=6 * 60 * 60)


def status_mb(field):
    """A memory field of /proc/self/status (VmRSS, VmHWM), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


class Messages:
    """SSE messages out of stripped chunks, buffered as text.

    As in vLLM's client, a chunk is decoded on its own and stripped before it is buffered: a read
    that ends inside a multi-byte character, or right after `data:`, fails its request. Over
    loopback aiohttp hands over whole events (1,169 chunks for 1,000 of the mock's replies), so the
    bench's runs do not meet it; a failure is counted, never hidden.
    """

    def __init__(self):
        self.buffer = ""

    def add(self, chunk):
        self.buffer += chunk.decode("utf-8")
        out = []
        while "\n\n" in self.buffer:
            message, self.buffer = self.buffer.split("\n\n", 1)
            message = message.strip()
            if message:
                out.append(message)
        if self.buffer.startswith("data: "):
            rest = self.buffer[len("data: "):].strip()
            if rest == "[DONE]":
                out.append(self.buffer.strip())
                self.buffer = ""
            elif rest:
                try:
                    json.loads(rest)
                except json.JSONDecodeError:
                    pass  # not whole yet: wait for more
                else:
                    out.append(self.buffer.strip())
                    self.buffer = ""
        return out


class Result:
    __slots__ = (
        "success", "ttft", "itl", "latency", "text", "output_tokens", "events", "error", "start",
        "end", "stamps",
    )

    def __init__(self):
        self.start = 0.0
        self.end = 0.0
        self.stamps = []
        self.success = False
        self.ttft = 0.0
        self.itl = []
        self.latency = 0.0
        self.text = ""
        self.output_tokens = 0
        self.events = 0
        self.error = ""


async def one_request(session, url, payload, keep_stamps):
    out = Result()
    st = out.start = time.perf_counter()
    most_recent = st
    try:
        async with session.post(url=url, json=payload, headers=HEADERS) as response:
            if response.status != 200:
                out.error = f"http {response.status}"
                return out
            messages = Messages()
            async for chunk in response.content.iter_any():
                chunk = chunk.strip()
                if not chunk:
                    continue
                for message in messages.add(chunk):
                    data_text = message.removeprefix("data: ")
                    if data_text == "[DONE]":
                        continue
                    out.events += 1
                    timestamp = time.perf_counter()
                    data = json.loads(data_text)
                    choices = data.get("choices")
                    content = None
                    if choices:
                        content = choices[0]["delta"].get("content")
                        if out.ttft == 0.0:
                            out.ttft = timestamp - st
                        else:
                            out.itl.append(timestamp - most_recent)
                        out.text += content or ""
                        most_recent = timestamp
                    elif usage := data.get("usage"):
                        out.output_tokens = usage.get("completion_tokens") or 0
                    if keep_stamps:  # the bench's own: the mock's stamps, read after the run
                        sent = data.get("mock_sent_ms")
                        if sent is not None:
                            out.stamps.append(
                                (timestamp, data["mock_received_ms"], sent, bool(content))
                            )
            out.success = True
            out.latency = most_recent - st
    except Exception as e:  # a failed request is counted, as vLLM's client counts it
        out.error = repr(e)
    out.end = time.perf_counter()  # the bench's own: how many were in flight
    return out


async def run(args):
    payload = json.loads(args["body"])
    parallel = args["parallel"]
    connector = aiohttp.TCPConnector(
        limit=parallel,
        limit_per_host=parallel,
        ttl_dns_cache=300,
        use_dns_cache=True,
        keepalive_timeout=60,
        enable_cleanup_closed=True,
        force_close=False,
    )
    session = aiohttp.ClientSession(connector=connector, trust_env=True, timeout=TIMEOUT)
    semaphore = asyncio.Semaphore(parallel)

    async def limited():
        async with semaphore:
            return await one_request(session, args["url"], payload, args.get("truth", False))

    try:
        tasks = [asyncio.create_task(limited()) for _ in range(args["number"])]
        return await asyncio.gather(*tasks)
    finally:
        await session.close()


def stat(values):
    """Mean, 99th percentile (nearest rank) and maximum, as `bench/ground_truth.ts`'s `stat`."""
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "p99": None, "max": None}
    v = sorted(values)
    return {"n": n, "mean": sum(v) / n, "p99": v[min(n - 1, math.ceil(0.99 * n) - 1)], "max": v[-1]}


def epoch_offset_ms():
    """Epoch ms minus `perf_counter()` ms: the narrowest of a few samples."""
    best = None
    for _ in range(5):
        a = time.perf_counter()
        e = time.time() * 1000
        b = time.perf_counter()
        if best is None or b - a < best[0]:
            best = (b - a, e - (a + b) / 2 * 1000)
    return best[1]


def ground_truth(results, first_wave, offset):
    """The mock's stamps against the client's, as `bench/ground_truth.ts` checks llmperf's."""
    ev, ttft_delay, ttft_error, send_delay, cold, itl = [], [], [], [], [], []
    stamped = 0
    by_start = sorted(results, key=lambda r: r.start)
    for i, r in enumerate(by_start):
        if not r.success:
            continue
        start = r.start * 1000 + offset
        k = 0
        prev_arrival = prev_sent = None
        for timestamp, received, sent, token in r.stamps:
            stamped += 1
            arrival = timestamp * 1000 + offset
            ev.append(arrival - sent)
            if not token:
                continue
            if k == 0:
                ttft_delay.append(arrival - sent)
                error = (arrival - start) - (sent - received)
                if i < first_wave:
                    cold.append(error)
                else:
                    ttft_error.append(error)
                    send_delay.append(received - start)
            elif prev_arrival is not None:
                itl.append(abs((arrival - prev_arrival) - (sent - prev_sent)))
            k += 1
            prev_arrival, prev_sent = arrival, sent
    return stamped, {
        "eventDelay": stat(ev),
        "ttftDelay": stat(ttft_delay),
        "ttftError": stat(ttft_error),
        "sendDelay": stat(send_delay),
        "coldTtftError": stat(cold),
        "itlError": stat(itl),
    }


def main():
    args = json.loads(sys.argv[1])
    offset = epoch_offset_ms()
    rss_before = status_mb("VmRSS")
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    results = asyncio.run(run(args))
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    peak = status_mb("VmHWM")
    # Requests in flight, time-weighted, from the first send to the last end; saturated as
    # llmperf's self-check judges a closed loop: nearly all of a core (its one thread) used, or
    # less than 95% of the concurrency kept in flight.
    first = min(r.start for r in results)
    span = max(r.end for r in results) - first
    achieved = sum(r.end - r.start for r in results) / span if span > 0 else 0.0
    target = min(args["parallel"], len(results))
    saturated = (seconds > 0 and cpu / seconds >= 0.9) or achieved < 0.95 * target
    ok = [r for r in results if r.success]
    failures = {}
    for r in results:
        if not r.success:
            kind = "http" if r.error.startswith("http ") else "network"
            failures[kind] = failures.get(kind, 0) + 1
    stamped, truth = ground_truth(results, target, offset)
    none = stat([])
    report = {
        "seconds": seconds,
        "cpuSeconds": cpu,
        "rssBeforeMb": rss_before,
        "peakRssMb": peak,
        "failures": failures,
        "truth": {
            "requests": len(results),
            "succeeded": len(ok),
            "events": sum(r.events for r in results),
            "stamped": stamped,
            **truth,
            "mockLate": none,
            "sinkMs": 0,
        },
        "client": {
            "transport": "peer-vllm",
            "workers": 0,
            "saturated": saturated,
            "concurrency": {"target": target, "achieved": achieved, "closedLoop": True},
        },
        "threads": [],
    }
    if failures:
        first = next(r.error for r in results if not r.success)
        print(f"peer_vllm: {sum(failures.values())} failed, the first: {first}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

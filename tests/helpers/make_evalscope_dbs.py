"""Result DBs as evalscope writes them, built with Python's standard library from the facts of
../shared/reference/: `evalscope-perf-2026.md` §4 "SQLite benchmark_data.db" (today's layout:
JSON request text, success 1/0, inter_token_latencies, completed_time 0.0 and NULL metrics for
failures, response_messages base64(pickle(list of choices-bearing chunks)), protocol 4) and
`evalscope-perf.md` §6 (late 2024: pickled request, chunk_times, success 'True'/'False',
n_chunks, chunk_time, response_messages base64(pickle(list of payload strings))).

Usage: python3 make_evalscope_dbs.py <dir> <rows.json>
rows.json: {"requests": [{"start", "ttft", "itl": [...], "latency", "prompt", "completion",
"success"}...]}; writes <dir>/es2026/benchmark_data.db and <dir>/es2024/benchmark_data.db.
"""
import base64
import json
import os
import pickle
import sqlite3
import sys

COLUMNS_2026 = [
    ("request", "TEXT"), ("start_time", "REAL"), ("inter_token_latencies", "TEXT"),
    ("success", "INTEGER"), ("response_messages", "TEXT"), ("completed_time", "REAL"),
    ("latency", "REAL"), ("first_chunk_latency", "REAL"), ("time_per_output_token", "REAL"),
    ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"),
    ("max_gpu_memory_cost", "REAL"), ("request_id", "TEXT"), ("is_stream", "INTEGER"),
]
COLUMNS_2024 = [
    ("request", "TEXT"), ("start_time", "REAL"), ("chunk_times", "TEXT"), ("success", "TEXT"),
    ("response_messages", "TEXT"), ("completed_time", "REAL"), ("latency", "REAL"),
    ("first_chunk_latency", "REAL"), ("n_chunks", "INTEGER"), ("chunk_time", "REAL"),
    ("prompt_tokens", "INTEGER"), ("completion_tokens", "INTEGER"),
    ("max_gpu_memory_cost", "REAL"),
]
BODY = {"messages": [{"role": "user", "content": "hello"}], "model": "m", "max_tokens": 2048,
        "stream": True, "stream_options": {"include_usage": True}, "temperature": 0.0}


def chunk(text):
    return {"id": "x", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def usage(r):
    return {"id": "x", "object": "chat.completion.chunk", "choices": [],
            "usage": {"prompt_tokens": r["prompt"], "completion_tokens": r["completion"]}}


def b64pickle(v, protocol):
    return base64.b64encode(pickle.dumps(v, protocol=protocol)).decode()


def create(path, columns):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE result(%s)" % ", ".join("%s %s" % c for c in columns))
    return con


def main():
    out, spec = sys.argv[1], json.load(open(sys.argv[2]))
    reqs = spec["requests"]
    con = create(os.path.join(out, "es2026", "benchmark_data.db"), COLUMNS_2026)
    for r in reqs:
        ok = r["success"]
        n = r["completion"]
        chunks = [chunk("w%d " % i) for i in range(len(r["itl"]) + 1)] if ok else []
        tpot = (r["latency"] - r["ttft"]) / (n - 1) if ok and n > 1 else 0.0
        con.execute(
            "INSERT INTO result VALUES (%s)" % ", ".join("?" * len(COLUMNS_2026)),
            (json.dumps(BODY, ensure_ascii=False), r["start"],
             json.dumps(r["itl"] if ok else []), 1 if ok else 0, b64pickle(chunks, 4),
             r["start"] + r["latency"] if ok else 0.0, r["latency"] if ok else None,
             r["ttft"] if ok else None, tpot if ok else None, r["prompt"] if ok else None,
             n if ok else None, 0.0 if ok else None, None, 1))
    con.commit()
    con.close()
    con = create(os.path.join(out, "es2024", "benchmark_data.db"), COLUMNS_2024)
    for r in reqs:
        ok = r["success"]
        times = []
        if ok:
            t = r["start"] + r["ttft"]
            times.append(t)
            for gap in r["itl"]:
                t += gap
                times.append(t)
            times.append(r["start"] + r["latency"])  # the usage chunk, last
        payloads = [json.dumps(chunk("w%d " % i)) for i in range(len(r["itl"]) + 1)]
        payloads.append(json.dumps(usage(r)))
        con.execute(
            "INSERT INTO result VALUES (%s)" % ", ".join("?" * len(COLUMNS_2024)),
            (b64pickle(BODY, 2), r["start"], json.dumps(times), "True" if ok else "False",
             b64pickle(payloads if ok else [], 2), r["start"] + r["latency"] if ok else r["start"],
             r["latency"] if ok else None, times[0] - r["start"] if ok else None,
             len(times) - 2 if ok else None, times[-2] - times[0] if ok else None,
             r["prompt"] if ok else None, r["completion"] if ok else None, 0.0))
    con.commit()
    con.close()


if __name__ == "__main__":
    main()

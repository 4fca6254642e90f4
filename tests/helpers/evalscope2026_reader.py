"""What today's evalscope (fde259d2) reads from a results tree, re-written from the facts of
../shared/reference/evalscope-perf-2026.md (each with its source line there), standard library
only: the run loader (§4 "Folder layout": <outputs>/<ts>/<name>/parallel_P_number_N/), the summary
model (§3: the 18 keys always present, in order), the percentile reader (utils/db_util.py:141-259:
rows WHERE success=1, v[int(n*p/100)], round 2), the summary rows (utils/benchmark_util.py:230-393)
and the notebook recipe (json.loads(request), pickle.loads(base64.b64decode(response_messages)),
choices[0].delta.content). Independent of llmperf's code: the test compares what llmperf wrote
with what this computes.

Usage: python3 evalscope2026_reader.py <outputs-dir>  -> JSON on stdout.
"""
import base64
import glob
import json
import math
import os
import pickle
import sqlite3
import sys

SUMMARY_KEYS = [
    "Test Duration (s)", "Concurrency", "Request Rate (req/s)", "Total Requests",
    "Success Requests", "Failed Requests", "Stream Requests", "Non-Stream Requests",
    "Req Throughput (req/s)", "Avg Latency (s)", "Avg Input Tokens",
    "Output Throughput (tok/s)", "Total Throughput (tok/s)", "Avg TTFT (ms)", "Avg TPOT (ms)",
    "Avg ITL (ms)", "Avg Output Tokens", "Input Throughput (tok/s)",
]
LABELS = [("min", 0), ("1%", 1), ("5%", 5), ("10%", 10), ("25%", 25), ("50%", 50),
          ("75%", 75), ("90%", 90), ("95%", 95), ("99%", 99), ("max", 100)]


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    v = values[-1] if p >= 100 else values[int(len(values) * p / 100)]
    return round(v, 2)


def div(a, b):
    return -1 if b == 0 else a / b


def read_run(folder):
    con = sqlite3.connect(os.path.join(folder, "benchmark_data.db"))
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM result").fetchall()
    columns = [c[1] for c in con.execute("PRAGMA table_info(result)")]
    ok = con.execute("SELECT * FROM result WHERE success=1").fetchall()
    # The percentile reader.
    streamed = [r for r in ok if r["is_stream"] == 1] or ok
    itl = [x * 1000 for r in ok for x in json.loads(r["inter_token_latencies"])]
    cols = {
        "Latency (s)": [r["latency"] for r in ok],
        "TTFT (ms)": [r["first_chunk_latency"] * 1000 for r in streamed],
        "ITL (ms)": itl,
        "TPOT (ms)": [r["time_per_output_token"] * 1000 for r in streamed],
        "Input tokens": [r["prompt_tokens"] for r in ok],
        "Output tokens": [r["completion_tokens"] for r in ok],
        "Output (tok/s)": [r["completion_tokens"] / r["latency"] for r in ok],
        "Total (tok/s)": [(r["prompt_tokens"] + r["completion_tokens"]) / r["latency"] for r in ok],
        "Decode (tok/s)": [1 / r["time_per_output_token"] for r in streamed
                           if r["time_per_output_token"] > 0],
    }
    percentiles = []
    for label, p in LABELS:
        row = {"Percentiles": label}
        for k, v in cols.items():
            row[k] = pct(v, p)
        percentiles.append(row)
    # The summary rows.
    n = len(ok)
    first = min(r["start_time"] for r in rows)
    last = max(r["completed_time"] for r in rows if r["completed_time"] > 0)
    t = last - first
    prompt = sum(r["prompt_tokens"] for r in ok)
    completion = sum(r["completion_tokens"] for r in ok)
    summary = {
        "Test Duration (s)": round(t, 4),
        "Total Requests": len(rows),
        "Success Requests": n,
        "Failed Requests": len(rows) - n,
        "Req Throughput (req/s)": round(div(n, t), 4),
        "Avg Latency (s)": round(div(sum(r["latency"] for r in ok), n), 4),
        "Avg Input Tokens": round(div(prompt, n), 4),
        "Output Throughput (tok/s)": round(div(completion, t), 4),
        "Total Throughput (tok/s)": round(div(prompt + completion, t), 4),
        "Avg TTFT (ms)": round(div(sum(r["first_chunk_latency"] for r in streamed),
                                   len(streamed)) * 1000, 2),
        "Avg TPOT (ms)": round(div(sum(r["time_per_output_token"] for r in streamed),
                                   len(streamed)) * 1000, 2),
        "Avg ITL (ms)": round(div(sum(itl) / 1000, len(itl)) * 1000, 2),
        "Avg Output Tokens": round(div(completion, n), 4),
    }
    # The notebook recipe.
    texts = []
    bodies = []
    for r in ok:
        bodies.append(json.loads(r["request"]))
        chunks = pickle.loads(base64.b64decode(r["response_messages"]))
        texts.append("".join(c["choices"][0]["delta"].get("content") or "" for c in chunks))
    failures = [dict(r) for r in rows if r["success"] == 0]
    with open(os.path.join(folder, "benchmark_summary.json")) as f:
        written_summary = json.load(f)
    with open(os.path.join(folder, "benchmark_percentile.json")) as f:
        written_percentiles = json.load(f)
    with open(os.path.join(folder, "workload_timeline.json")) as f:
        timeline = json.load(f)
    with open(os.path.join(folder, "workload_throughput.json")) as f:
        throughput = json.load(f)
    points = timeline["points"]
    wall = points[-1]["t"]
    return {
        "folder": folder,
        "columns": columns,
        "success_types": sorted({type(r["success"]).__name__ for r in rows}),
        "success_values": sorted({r["success"] for r in rows}),
        "summary_keys_ok": list(written_summary.keys())[:18] == SUMMARY_KEYS,
        "summary": summary,
        "written_summary": written_summary,
        "percentiles": percentiles,
        "written_percentiles": written_percentiles,
        "percentiles_equal": json.dumps(percentiles) == json.dumps(written_percentiles),
        "texts": texts,
        "bodies": bodies,
        "failures": [{"completed_time": r["completed_time"], "latency": r["latency"],
                      "first_chunk_latency": r["first_chunk_latency"],
                      "inter_token_latencies": r["inter_token_latencies"]} for r in failures],
        "completion_rate_overall": points[-1]["cum_completion"] / wall if wall > 0 else 0,
        "throughput_rows": throughput["rows"],
        "n_samples": throughput["n_samples"],
    }


def main():
    out = sys.argv[1]
    runs = sorted(glob.glob(os.path.join(out, "*", "*", "parallel_*_number_*")) +
                  glob.glob(os.path.join(out, "*", "*", "rate_*_number_*")))
    print(json.dumps({"runs": [read_run(r) for r in runs]},
                     default=lambda x: None, allow_nan=True))


if __name__ == "__main__":
    main()

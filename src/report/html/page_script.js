// The report page's script: draws every chart of a run report or a sweep report with uPlot, from
// the JSON in <script id="report-data">. Runs in the browser, offline; llmperf embeds it as text.
// When done it sets data-charts (charts drawn) and data-ready on <body>, for tests.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const drawn = [];
  const BLUE = "#2563eb", ORANGE = "#ea580c", GREEN = "#16a34a", RED = "#dc2626";
  const GREY = "#94a3b8";

  function size(el) {
    return { width: Math.max(320, el.clientWidth || 600), height: 260 };
  }

  function make(id, opts, series) {
    const el = document.getElementById(id);
    if (!el) return;
    const u = new uPlot(Object.assign({}, opts, size(el)), series, el);
    drawn.push({ id: id, points: series[0].length, plot: u });
  }

  function histogramChart(id, dist, label) {
    const h = dist.histogram;
    if (h.counts.length === 0) return empty(id);
    make(id, {
      scales: { x: { time: false, range: [h.edges[0], h.edges[h.edges.length - 1] + h.width] } },
      axes: [{ label: label }, { label: "requests" }],
      legend: { show: false },
      series: [{}, {
        label: "count",
        fill: BLUE + "99",
        stroke: BLUE,
        paths: uPlot.paths.bars({ size: [1, Infinity], align: 1, gap: 1 }),
        points: { show: false },
      }],
    }, [h.edges, h.counts]);
  }

  function cdfChart(id, dist, label) {
    const c = dist.cdf;
    if (c.x.length === 0) return empty(id);
    make(id, {
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: label }, { label: "% of values ≤ x" }],
      legend: { show: false },
      series: [{}, { label: "CDF", stroke: ORANGE, width: 2, points: { show: false } }],
    }, [c.x, c.p]);
  }

  function empty(id) {
    const el = document.getElementById(id);
    if (el) el.classList.add("empty");
    if (el) el.textContent = "no data";
  }

  function seriesCharts(s) {
    if (s.t.length === 0) {
      empty("chart-throughput");
      empty("chart-inflight");
      return;
    }
    make("chart-throughput", {
      scales: { x: { time: false } },
      axes: [
        { label: "seconds since start" },
        { label: "output tokens/s", scale: "tok" },
        { label: "requests/s", scale: "req", side: 1, grid: { show: false } },
      ],
      series: [
        { label: "t (s)" },
        { label: "output tok/s", scale: "tok", stroke: BLUE, width: 2 },
        { label: "finished req/s", scale: "req", stroke: GREEN, width: 1.5 },
        { label: "failed req/s", scale: "req", stroke: RED, width: 1 },
      ],
    }, [s.t, s.outputTokensPerS, s.requestsPerS, s.failuresPerS]);
    make("chart-inflight", {
      scales: { x: { time: false } },
      axes: [{ label: "seconds since start" }, { label: "requests in flight" }],
      series: [{ label: "t (s)" }, {
        label: "in flight (mean)",
        stroke: ORANGE,
        fill: ORANGE + "33",
        width: 2,
      }],
    }, [s.t, s.inFlight]);
  }

  function timelineChart(t) {
    const n = t.start.length;
    if (n === 0) return empty("chart-timeline");
    const rank = t.start.map(function (_, i) {
      return i;
    });
    let maxEnd = 0;
    for (let i = 0; i < n; i++) maxEnd = Math.max(maxEnd, t.end[i]);
    make("chart-timeline", {
      scales: { x: { time: false, range: [0, maxEnd * 1.02 || 1] }, y: { range: [-1, n] } },
      axes: [{ label: "seconds since start" }, { label: "request (by start)" }],
      legend: { show: false },
      series: [{}, {
        label: "request",
        paths: function () {
          return null;
        },
        points: { show: false },
      }],
      hooks: {
        draw: [function (u) {
          const ctx = u.ctx;
          const h = Math.max(1, Math.min(6, (u.bbox.height / n) * 0.8));
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          for (let i = 0; i < n; i++) {
            const y = u.valToPos(i, "y", true) - h / 2;
            const x0 = u.valToPos(t.start[i], "x", true);
            const x1 = u.valToPos(t.firstToken[i], "x", true);
            const x2 = u.valToPos(t.end[i], "x", true);
            if (t.ok[i]) {
              ctx.fillStyle = GREY;
              ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
              ctx.fillStyle = BLUE;
              ctx.fillRect(x1, y, Math.max(1, x2 - x1), h);
            } else {
              ctx.fillStyle = RED;
              ctx.fillRect(x0, y, Math.max(1, x2 - x0), h);
            }
          }
          ctx.restore();
        }],
      },
    }, [t.start, rank]);
  }

  const PALETTE = [BLUE, ORANGE, GREEN, RED, "#7c3aed", "#0891b2", "#ca8a04", "#db2777"];

  function telemetryCharts(tc) {
    const s = tc && tc.server;
    if (s && s.t.length > 0) {
      make("chart-server-requests", {
        scales: { x: { time: false } },
        axes: [{ label: "seconds since start" }, { label: "requests" }],
        series: [
          { label: "t (s)" },
          { label: "server running", stroke: BLUE, width: 2 },
          { label: "server waiting", stroke: RED, width: 2 },
          { label: "client in flight", stroke: ORANGE, width: 1.5, dash: [6, 4] },
        ],
      }, [s.t, s.running, s.waiting, s.clientInFlight]);
      make("chart-server-cache", {
        scales: { x: { time: false }, y: { range: [0, 100] } },
        axes: [{ label: "seconds since start" }, { label: "%" }],
        series: [
          { label: "t (s)" },
          { label: "KV-cache use", stroke: GREEN, width: 2 },
          { label: "prefix-cache hit rate", stroke: BLUE, width: 1.5, spanGaps: true },
        ],
      }, [s.t, s.kvUsagePct, s.prefixHitPct]);
    }
    const g = tc && tc.gpu;
    if (g && g.t.length > 0) {
      const perGpu = function (id, key, label) {
        make(
          id,
          {
            scales: { x: { time: false } },
            axes: [{ label: "seconds since start" }, { label: label }],
            series: [{ label: "t (s)" }].concat(g.gpus.map(function (x, i) {
              return { label: "GPU " + x.index, stroke: PALETTE[i % PALETTE.length], width: 1.5 };
            })),
          },
          [g.t].concat(g.gpus.map(function (x) {
            return x[key];
          })),
        );
      };
      perGpu("chart-gpu-util", "utilizationPct", "%");
      perGpu("chart-gpu-memory", "memoryUsedGiB", "GiB");
      perGpu("chart-gpu-power", "powerW", "W");
      perGpu("chart-gpu-clock", "smClockMHz", "MHz");
    }
  }

  // One metric run by run, with its mean and the ends of its 95% confidence interval.
  function repeatCharts(charts) {
    charts.forEach(function (c) {
      const x = c.values.map(function (_, i) {
        return i + 1;
      });
      const flat = function (v) {
        return x.map(function () {
          return v;
        });
      };
      make(c.id, {
        scales: { x: { time: false, range: [0.5, x.length + 0.5] } },
        axes: [{ label: "run" }, { label: c.metric }],
        series: [
          { label: "run" },
          { label: "value", stroke: BLUE, width: 0, points: { show: true, size: 8, fill: BLUE } },
          { label: "mean", stroke: GREEN, width: 1.5 },
          { label: "95% CI low", stroke: GREY, width: 1, dash: [4, 4] },
          { label: "95% CI high", stroke: GREY, width: 1, dash: [4, 4] },
        ],
      }, [x, c.values, flat(c.mean), flat(c.ciLow), flat(c.ciHigh)]);
    });
  }

  // Error bars (95% CI) of sweep points with repeats: whiskers drawn over a series' points.
  function errorBars(xs, lo, hi, xLo, xHi, color) {
    return function (u) {
      const ctx = u.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
      ctx.clip(); // an interval wider than the axes (two runs: t = 12.7) stops at the edge
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      for (let i = 0; i < xs.length; i++) {
        if (lo[i] === null || hi[i] === null || xs[i] === null) continue;
        const x = u.valToPos(xs[i], "x", true);
        const y0 = u.valToPos(lo[i], "y", true);
        const y1 = u.valToPos(hi[i], "y", true);
        ctx.beginPath();
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y1);
        ctx.moveTo(x - 4, y0);
        ctx.lineTo(x + 4, y0);
        ctx.moveTo(x - 4, y1);
        ctx.lineTo(x + 4, y1);
        if (xLo && xLo[i] !== null && xHi[i] !== null) {
          const y = u.valToPos((lo[i] + hi[i]) / 2, "y", true);
          ctx.moveTo(u.valToPos(xLo[i], "x", true), y);
          ctx.lineTo(u.valToPos(xHi[i], "x", true), y);
        }
        ctx.stroke();
      }
      ctx.restore();
    };
  }

  function sweepCharts(points) {
    const byThroughput = points.slice().sort(function (a, b) {
      return (a.outputThroughput || 0) - (b.outputThroughput || 0);
    });
    const x = byThroughput.map(function (p) {
      return p.outputThroughput || 0;
    });
    const ci = function (p, key, end) {
      return p.ci && p.ci[key] ? p.ci[key][end] : null;
    };
    const curve = function (id, key, unit) {
      const bars = [];
      if (
        byThroughput.some(function (p) {
          return p.ci;
        })
      ) {
        const xLo = byThroughput.map(function (p) {
          return ci(p, "outputThroughput", 0);
        });
        const xHi = byThroughput.map(function (p) {
          return ci(p, "outputThroughput", 1);
        });
        [["P50", BLUE], ["P99", ORANGE]].forEach(function (q) {
          bars.push(errorBars(
            x,
            byThroughput.map(function (p) {
              return ci(p, key + q[0], 0);
            }),
            byThroughput.map(function (p) {
              return ci(p, key + q[0], 1);
            }),
            xLo,
            xHi,
            q[1],
          ));
        });
      }
      make(id, {
        hooks: { draw: bars },
        scales: { x: { time: false } },
        axes: [{ label: "output tokens/s" }, { label: key + " (" + unit + ")" }],
        series: [
          { label: "output tok/s" },
          { label: key + " p50", stroke: BLUE, width: 2, points: { show: true, size: 7 } },
          { label: key + " p99", stroke: ORANGE, width: 2, points: { show: true, size: 7 } },
        ],
      }, [
        x,
        byThroughput.map(function (p) {
          return p[key + "P50"];
        }),
        byThroughput.map(function (p) {
          return p[key + "P99"];
        }),
      ]);
    };
    curve("chart-sweep-ttft", "ttft", "ms");
    curve("chart-sweep-tpot", "tpot", "ms");
    curve("chart-sweep-latency", "latency", "s");
    make("chart-sweep-rate", {
      scales: { x: { time: false } },
      axes: [{ label: "sweep point" }, { label: "per second" }],
      series: [
        { label: "point" },
        { label: "requests/s", stroke: GREEN, width: 2, points: { show: true, size: 7 } },
        { label: "goodput req/s", stroke: BLUE, width: 2, points: { show: true, size: 7 } },
      ],
    }, [
      points.map(function (_, i) {
        return i + 1;
      }),
      points.map(function (p) {
        return p.requestThroughput;
      }),
      points.map(function (p) {
        return p.goodput;
      }),
    ]);
  }

  try {
    if (data.kind === "run") {
      const d = data.charts.distributions;
      histogramChart("chart-ttft-hist", d.ttft, "TTFT (ms)");
      cdfChart("chart-ttft-cdf", d.ttft, "TTFT (ms)");
      histogramChart("chart-tpot-hist", d.tpot, "TPOT (ms)");
      cdfChart("chart-tpot-cdf", d.tpot, "TPOT (ms)");
      histogramChart("chart-itl-hist", d.itl, "ITL (ms)");
      cdfChart("chart-itl-cdf", d.itl, "ITL (ms)");
      histogramChart("chart-latency-hist", d.latency, "latency (s)");
      cdfChart("chart-latency-cdf", d.latency, "latency (s)");
      seriesCharts(data.charts.series);
      timelineChart(data.charts.timeline);
      telemetryCharts(data.telemetry);
    } else if (data.kind === "sweep") {
      sweepCharts(data.points);
    } else if (data.kind === "repeat") {
      repeatCharts(data.charts);
    }
  } finally {
    globalThis.llmperfCharts = drawn;
    document.body.dataset.charts = String(drawn.length);
    document.body.dataset.ready = "1";
  }
})();

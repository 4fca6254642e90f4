/**
 * The third stage of a run, `drive`: the load itself. Requests are pulled from the request source
 * and sent under the load plan (`--parallel`, `--rate`) through the sending threads; each
 * finished record goes into the result pipeline (the sending threads hand it over). It ends when
 * everything is sent and answered,
 * or early when the run's signal aborts (the caller's abort, a result DB that cannot be
 * written); the sending threads are closed then, whatever happened. With `--start-at` the load
 * waits for its start instant first; a shard (`--shard`) sends its share of `--parallel` and its
 * requests' times on the global schedule.
 *
 * @module
 */
import { shardCount, shardText } from "../config/shard.ts";
import { Interrupted } from "../errors.ts";
import type { Job } from "../load/requests.ts";
import { type Follow, type LoadStats, runLoad } from "../load/runner.ts";
import { arrivalShape, describeSchedule } from "../load/arrivals.ts";
import { waitForStartAt } from "../load/start_at.ts";
import type { Outgoing } from "../workers/messages.ts";
import type { ClientCheck } from "../workers/self_check.ts";
import type { OpenRun } from "./open.ts";
import type { PreparedRun } from "./prepare.ts";
import { abortable } from "../util/abortable.ts";

/** What the load leaves for the results. */
export interface Driven {
  /** Requests sent. */
  sent: number;
  /** The client's self-check. */
  client: ClientCheck;
  /** What the load kept up (absent when it stopped on an error). */
  load?: LoadStats;
}

/**
 * `--duration` for a trace with warmup records: the deadline is `durationMs` after the first
 * benchmark job's due time (`t0 + atMs`, taken when the load pulls it, before it is due), as
 * evalscope takes it at the first non-warmup dispatch. `signal` stops dispatching at the deadline
 * or with `outer`; what is in flight finishes.
 */
function deadlineAtFirstBenchmark(
  next: () => Promise<Job | undefined>,
  t0: number,
  durationMs: number,
  outer: AbortSignal,
): { next: () => Promise<Job | undefined>; signal: AbortSignal; [Symbol.dispose](): void } {
  const stop = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    next: async () => {
      const job = await next();
      if (job !== undefined && !job.warmup && timer === undefined) {
        const deadline = t0 + (job.atMs ?? 0) + durationMs;
        timer = setTimeout(() => stop.abort(), Math.max(0, deadline - performance.now()));
      }
      return job;
    },
    signal: AbortSignal.any([outer, stop.signal]),
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

/** Send the run's requests; see the module doc. */
export async function driveLoad(prep: PreparedRun, run: OpenRun): Promise<Driven> {
  const { cfg, source } = prep;
  const threads = run.threads;
  let pending: Job | undefined = prep.first;
  const next = async () => {
    if (pending) {
      const j = pending;
      pending = undefined;
      return j;
    }
    // A dataset that takes long to yield (filtering a huge file) does not hold up a stop.
    try {
      return await abortable(source.next(), run.signal, "reading the dataset");
    } catch (e) {
      if (e instanceof Interrupted) return undefined;
      throw e;
    }
  };
  let sent = 0;
  const outgoing = (
    job: Job,
    scheduled: number | undefined,
    previousEnd: number | undefined,
    ready?: number,
  ): Outgoing => {
    const { body, stream } = job.prepared;
    const req: Outgoing = {
      index: job.index,
      body,
      stream,
      scheduledMs: scheduled,
      previousEndEpochMs: previousEnd,
      conversation: job.conversation,
    };
    if (ready !== undefined) req.readyMs = ready;
    if (job.warmup) req.warmup = true;
    if (job.headers) req.headers = job.headers;
    if (job.requestId !== undefined) req.requestId = job.requestId;
    return req;
  };
  const execute = (
    job: Job,
    scheduled: number | undefined,
    previousEnd: number | undefined,
    ready?: number,
  ) => {
    if (!job.warmup) sent += job.conversation?.turns.length ?? 1; // a conversation: its turns
    const req = outgoing(job, scheduled, previousEnd, ready);
    if (follow !== undefined && scheduled === undefined) req.chained = true; // a closed loop's
    return threads.send(req, run.signal);
  };
  // The closed loop's next request of a slot waits behind its predecessor, in its transport worker
  // or on this thread's sender (not for conversations, whose turns hold their slot already),
  // counted once it was sent. The promise is the threads' own: the next one follows it by identity.
  const sendAfter = threads.sendAfter;
  const follow: Follow<Job> | undefined = sendAfter === undefined || cfg.multiTurn
    ? undefined
    : (job, previous, stop) => {
      const req = outgoing(job, undefined, undefined);
      req.chained = true;
      // `--duration`'s stop is its deadline; the run's signal cancels, as for `send`.
      const p = sendAfter(req, previous, stop.deadlineMs, run.signal);
      if (!job.warmup) p.then((span) => span && sent++);
      return p;
    };
  // --warmup-num: the warmup jobs (the source's first) end where the first benchmark job comes.
  const nextWarmup = async () => {
    const job = await next();
    if (job === undefined || job.warmup) return job;
    pending = job;
    return undefined;
  };
  const parallel = shardCount(cfg.parallel, cfg.shard);
  const shape = arrivalShape(cfg);
  const timedJobs = source.timed;
  const unit = cfg.multiTurn ? "conversations" : "requests";
  prep.log(
    `benchmarking ${cfg.urls ? cfg.urls.join(", ") : cfg.url} (${cfg.model}): ` +
      (cfg.urls ? `${cfg.urlStrategy ?? "round-robin"}, ` : "") +
      (cfg.shard
        ? `shard ${shardText(cfg.shard)} (requests i with i mod ${cfg.shard.count} = ` +
          `${cfg.shard.index}), `
        : "") +
      (timedJobs
        ? `replaying the dataset's trace (each request at its own time), at most ${parallel} ` +
          "in flight"
        : shape?.rampUp
        ? `a ${shape.rampUp.strategy} ramp, at most ${parallel} in flight`
        : cfg.multiTurn && cfg.rate !== -1
        ? `${parallel} in flight, each turn after an exponential gap of mean ${1 / cfg.rate} s`
        : cfg.rate === -1
        ? `${parallel} in flight`
        : `${cfg.rate} req/s${cfg.shard ? " in all" : ""}, at most ${parallel} in flight`) +
      (source.expected !== undefined
        ? `, ${source.expected} ${unit}`
        : ", one pass over the dataset") +
      (source.warmup > 0
        ? timedJobs
          ? `, the trace's first ${source.warmup} requests as warmup (not measured)`
          : `, after ${source.warmup} warmup ${unit} (not measured)`
        : "") +
      (cfg.duration !== undefined ? `, for at most ${cfg.duration} s` : ""),
  );
  // evalscope 2026's schedule for a rate: --open-loop (the config requires a --rate), or a closed
  // loop under --compat 2026 (not a trace, nor one of our own shapes, which keep theirs; a
  // conversation's turns are paced one by one).
  const rescaled = cfg.number !== undefined && cfg.rate > 0 && !timedJobs && !cfg.multiTurn &&
    (cfg.openLoop || (cfg.compat === "2026" && shape === undefined));
  if (rescaled) {
    prep.log(
      `arrival schedule: evalscope 2026's (${cfg.number} exponential gaps, rescaled so the last ` +
        `request is due at ${cfg.number! / cfg.rate} s)` +
        (cfg.openLoop
          ? ""
          : `; at most ${parallel * taskMultiplier(cfg)} created and unfinished at once ` +
            "(--parallel × --in-flight-task-multiplier)"),
    );
  } else if (!timedJobs && !cfg.multiTurn && (cfg.rate !== -1 || shape?.rampUp)) {
    // The schedule's own statistics, so that a shape can be checked before its results are read.
    prep.log(describeSchedule(cfg.rate, cfg.seed ?? 42, Math.min(cfg.number ?? 1000, 1e6), {
      burstiness: 1,
      ...shape,
    }));
  }
  const plan = {
    parallel,
    // --multi-turn: conversations run closed loop; --rate paces their turns (the request source).
    rate: cfg.multiTurn ? -1 : cfg.rate,
    seed: cfg.seed ?? 42,
    signal: run.signal,
    shard: cfg.shard,
    rescaledCount: rescaled ? cfg.number : undefined,
    uncapped: cfg.openLoop,
    // The closed loop's cap on requests created ahead of their slot (--in-flight-task-multiplier).
    taskCap: rescaled && !cfg.openLoop ? parallel * taskMultiplier(cfg) : undefined,
    shape,
    timedJobs,
  };
  let load: LoadStats | undefined;
  try {
    let startMs = cfg.startAt === undefined
      ? undefined
      : await waitForStartAt(cfg.startAt, prep.log, run.signal);
    // A trace's warmup is its first records, sent on its own clock with the rest (evalscope's
    // workload_trace): no phase of its own; --duration counts from the first benchmark record.
    const traceWarmup = timedJobs && source.warmup > 0;
    if (source.warmup > 0 && !traceWarmup) {
      // The same plan (parallel, rate), without --duration, run to completion first.
      const rescaledCount = plan.rescaledCount === undefined ? undefined : source.warmup;
      await runLoad(nextWarmup, execute, { ...plan, startMs, rescaledCount }, follow);
      startMs = undefined;
      if (run.signal.aborted) return { sent, client: await run.closeSending(), load };
      prep.log(`warmup done (${source.warmup} ${unit}): benchmarking`);
    }
    run.db?.setLoadStart((performance.timeOrigin + performance.now()) / 1000);
    await run.outputs.start();
    const durationMs = cfg.duration === undefined ? undefined : cfg.duration * 1000;
    if (traceWarmup && durationMs !== undefined) {
      startMs ??= performance.now();
      using stop = deadlineAtFirstBenchmark(next, startMs, durationMs, run.signal);
      load = await runLoad(stop.next, execute, { ...plan, startMs, signal: stop.signal });
    } else load = await runLoad(next, execute, { ...plan, startMs, durationMs }, follow);
  } finally {
    await run.closeSending(load);
  }
  return { sent, client: await run.closeSending(), load };
}

/** `--in-flight-task-multiplier`, a value of 0 or less raised to 1 (as evalscope's). */
function taskMultiplier(cfg: { inFlightTaskMultiplier: number }): number {
  return Math.max(1, cfg.inFlightTaskMultiplier);
}

/**
 * When to send: the closed loop (`--parallel N` keeps N requests in flight) and the open loop
 * (`--rate R`: arrivals on a seeded Poisson schedule, with `--parallel` capping in-flight
 * requests). The runner knows nothing of HTTP: it pulls jobs and calls `execute`, which says
 * when each request was sent and ended ({@link Span}); from those the runner measures the
 * concurrency it actually kept ({@link LoadStats}), and hands each closed-loop request the end
 * of its slot's previous one, so that the sender can record how late the slot was refilled.
 *
 * @module
 */
import type { Shard } from "../config/shard.ts";
import { sleepUntil } from "../util/sleep.ts";
import { absoluteOffsets, arrivalOffsets, type ArrivalShape } from "./arrivals.ts";

/** How to pace the run. */
export interface LoadPlan {
  /** In-flight requests (closed loop), or the cap on them (with `rate`). */
  parallel: number;
  /** Requests per second (Poisson), or -1 for no pacing. */
  rate: number;
  /** Seeds the arrival schedule. */
  seed: number;
  /** The shard whose part of the global schedule is sent (`--shard`; default: all of it). */
  shard?: Shard;
  /** The schedule's time zero, `performance.now()` ms (`--start-at`; default: when it starts). */
  startMs?: number;
  /** Stops dispatching when aborted; requests already sent are left to `execute`. */
  signal?: AbortSignal;
  /**
   * The gaps' shape (`--burstiness`, `--ramp-up-*`; default Poisson). A ramp-up paces the run
   * by its own rates, even with `rate` -1.
   */
  shape?: ArrivalShape;
  /**
   * Trace replay: `true` when each job says when it is due itself (its offset from the run's
   * start, see {@link TimedJob}), instead of the `rate` schedule.
   */
  timedJobs?: boolean;
  /**
   * `--duration`: stop dispatching this many ms after the load starts (a soft stop: requests in
   * flight finish). Unset: no limit.
   */
  durationMs?: number;
  /**
   * evalscope 2026's schedule for `rate`: the global number of requests, sent on the absolute
   * schedule of `absoluteOffsets` (rescaled to `count / rate` s) instead of the Poisson stream.
   * `--open-loop` sets it with {@link LoadPlan.uncapped}; alone it is 2026's closed loop with a
   * rate (each request due on the schedule, then waiting for one of `parallel` slots).
   */
  rescaledCount?: number;
  /** No cap on requests in flight (`--open-loop`): `parallel` is ignored. */
  uncapped?: boolean;
  /**
   * evalscope 2026's closed loop with a rate (with {@link LoadPlan.rescaledCount}): a job is
   * *created* when it is due, at most this many created and unfinished at once
   * (`parallel × --in-flight-task-multiplier`), and a created job waits for one of `parallel`
   * slots, then is sent whatever `--duration`'s deadline says (only the caller's abort stops it):
   * at most `taskCap − parallel` are sent after the deadline. The job whose wait for its time the
   * deadline cut short is still created when the cap has room, as evalscope's `closed_loop.py`. Send times are those of the plain capped schedule (the slots are
   * first come, first served); what the cap changes is what `--duration` still sends.
   */
  taskCap?: number;
}

/** A job that carries its own send time (trace replay): ms from the run's start. */
export interface TimedJob {
  /** When to send it, ms after the schedule's time zero. */
  atMs?: number;
}

/** Pulls the next job; `undefined` when there are no more. Called by one caller at a time. */
export type NextJob<J> = () => Promise<J | undefined>;

/** When a request was sent and when it ended, epoch ms. */
export interface Span {
  /** Sent. */
  startEpochMs: number;
  /** Ended. */
  endEpochMs: number;
}

/**
 * Runs one job to completion (its slot is free when it resolves): `scheduled` is the
 * `performance.now()` time it was due (`--rate`), `previousEnd` when the previous request of its
 * closed-loop slot ended (epoch ms), `ready` (`--rate`) when it could first be sent: due, and
 * one of `--parallel` slots free (`performance.now()`; later than `scheduled` when it waited for
 * a slot, which is the load's queue, not the client's lateness). Resolves to when it was sent
 * and ended, when known.
 */
export type Execute<J> = (
  job: J,
  scheduled: number | undefined,
  previousEnd: number | undefined,
  ready?: number,
) => Promise<Span | void>;

/**
 * The closed loop's request after the one its slot has in flight (`previous`, as {@link Execute}
 * or this returned it): sent the moment `previous` ends, by whoever sends it (a transport worker
 * queues it next to its socket, so a slot is refilled without a round trip through this thread).
 * Resolves `undefined`, sending nothing, when dispatch has stopped by the time `previous` ends:
 * `stop` aborted (the caller, or `--duration`'s deadline, `deadlineMs` in `performance.now()`).
 * `previous` resolving `undefined` (not sent) means the same. Its record's refill lag counts from
 * `previous`'s end.
 */
export type Follow<J> = (
  job: J,
  previous: Promise<Span | void>,
  stop: { signal?: AbortSignal; deadlineMs?: number },
) => Promise<Span | void>;

/**
 * {@link Follow} for any {@link Execute}: wait for `previous` here, then execute `job` with its
 * end as the slot's previous end, unless dispatch has stopped by then.
 */
export function followHere<J>(execute: Execute<J>): Follow<J> {
  return async (job, previous, stop) => {
    const span = await previous;
    if (!span || stop.signal?.aborted) return undefined;
    if (stop.deadlineMs !== undefined && performance.now() >= stop.deadlineMs) return undefined;
    return await execute(job, undefined, span.endEpochMs);
  };
}

/** What the load kept up. */
export interface LoadStats {
  /** Whether it was a closed loop. */
  closedLoop: boolean;
  /** Slots of the closed loop (at most `--parallel`, at most the jobs); `--parallel` otherwise. */
  slots: number;
  /**
   * The time-weighted mean of requests in flight: closed loop, the sum over slots of the share
   * of each slot's life (first send to last end) that a request was in flight, which leaves the
   * ramp-up and the tail out; open loop, the requests' total time over the run's. `null` when no
   * request said when it ran.
   */
  meanInFlight: number | null;
}

/**
 * Run every job the source yields under the plan; resolves when all have finished. `follow`:
 * the closed loop pulls each slot's next job while its request is in flight and hands it over
 * with that request, to be sent the moment it ends (see {@link Follow}); without it, the next
 * job is pulled and executed once the slot's request has ended.
 */
export async function runLoad<J>(
  next: NextJob<J>,
  execute: Execute<J>,
  plan: LoadPlan,
  follow?: Follow<J>,
): Promise<LoadStats> {
  const pull = serialize(next);
  const t0 = plan.startMs ?? performance.now();
  const timed = { ...plan, startMs: t0 };
  const deadline = plan.durationMs === undefined
    ? undefined
    : deadlineSignal(t0 + plan.durationMs, plan.signal);
  if (deadline) timed.signal = deadline.signal;
  try {
    if (plan.rate === -1 && !paced(plan)) {
      const deadlineMs = plan.durationMs === undefined ? undefined : t0 + plan.durationMs;
      return await closedLoop(pull, execute, timed, follow, deadlineMs);
    }
    const open = plan.uncapped ? { ...timed, parallel: Infinity, taskCap: undefined } : timed;
    return await openLoop(pull, execute, open, plan.signal);
  } finally {
    deadline?.dispose();
  }
}

/**
 * A signal that aborts at `deadline` (`performance.now()` ms) or with `outer`: the soft stop of
 * `--duration`. The loops stop dispatching on it; what is in flight was sent with the run's own
 * signal, so it finishes.
 */
function deadlineSignal(
  deadline: number,
  outer?: AbortSignal,
): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), Math.max(0, deadline - performance.now()));
  const stop = () => {
    clearTimeout(timer);
    ctl.abort();
  };
  if (outer?.aborted) stop();
  else outer?.addEventListener("abort", stop, { once: true });
  return {
    signal: ctl.signal,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", stop);
    },
  };
}

/**
 * The closed loop: each lane runs one job after another. Lanes are started one per job pulled,
 * up to `parallel`, so their number is what can really be in flight (`--parallel 1e9 -n 5`
 * makes 5 lanes, not a billion). With `follow`, a lane pulls its next job as soon as its request
 * is sent and hands it over to go the moment that request ends.
 */
async function closedLoop<J>(
  next: NextJob<J>,
  execute: Execute<J>,
  plan: LoadPlan,
  follow?: Follow<J>,
  deadlineMs?: number,
): Promise<LoadStats> {
  // A job that cannot be pulled (the dataset failed) stops dispatching; what is in flight still
  // finishes and is recorded before the error is thrown.
  let failure: { error: unknown } | undefined;
  const stopped = () => failure !== undefined || plan.signal?.aborted === true;
  const pull = async (): Promise<J | undefined> => {
    try {
      return await next();
    } catch (error) {
      failure ??= { error };
      return undefined;
    }
  };
  const stop = { signal: plan.signal, deadlineMs };
  let exhausted = false;
  let occupancy = 0; // sum over lanes of busy / life
  let timed = 0;
  // The first wave goes out first: lanes pull the jobs that follow once every lane has started
  // (or their request has ended, if a slow dataset still holds the launch up).
  let launched = () => {};
  const allLaunched = new Promise<void>((resolve) => launched = resolve);
  const lane = async (job: J) => {
    let first: number | undefined;
    let last: number | undefined;
    let busy = 0;
    try {
      let current = execute(job, undefined, undefined);
      if (follow !== undefined) await Promise.race([allLaunched, current]);
      for (;;) {
        let queued: Promise<Span | void> | undefined;
        if (follow !== undefined && !exhausted && !stopped()) {
          const j = await pull();
          if (j === undefined) exhausted = true;
          else if (!stopped()) queued = follow(j, current, stop);
        }
        const span = await current;
        if (span) {
          first ??= span.startEpochMs;
          last = span.endEpochMs;
          busy += span.endEpochMs - span.startEpochMs;
        }
        if (queued !== undefined) {
          current = queued;
          continue;
        }
        if (follow !== undefined || exhausted || stopped()) return;
        const j = await pull();
        if (j === undefined) exhausted = true;
        if (j === undefined || stopped()) return;
        current = execute(j, undefined, last);
      }
    } finally {
      if (first !== undefined && last !== undefined) {
        timed++;
        occupancy += last > first ? Math.min(1, busy / (last - first)) : 1;
      }
    }
  };
  const lanes: Promise<void>[] = [];
  try {
    while (lanes.length < plan.parallel && !exhausted && !stopped()) {
      const job = await pull();
      if (job === undefined) break;
      if (stopped()) break;
      lanes.push(lane(job));
    }
  } finally {
    launched();
  }
  await Promise.all(lanes);
  if (failure !== undefined) throw failure.error;
  return {
    closedLoop: true,
    slots: lanes.length,
    meanInFlight: timed === 0 ? null : occupancy * (lanes.length / timed),
  };
}

/**
 * The paced loop: each job at its due time, then (capped) for a free slot. `plan.signal` stops
 * dispatching (the deadline or the caller); `outer` is the caller's alone (see
 * {@link LoadPlan.taskCap}).
 */
async function openLoop<J>(
  next: NextJob<J>,
  execute: Execute<J>,
  plan: LoadPlan,
  outer: AbortSignal | undefined,
): Promise<LoadStats> {
  const dueAt = dueTimes(plan);
  const slots = new Slots(plan.parallel);
  const tasks = plan.taskCap === undefined ? undefined : new Slots(plan.taskCap);
  const running = new Set<Promise<void>>();
  const t0 = plan.startMs ?? performance.now();
  let busy = 0;
  let from = Infinity;
  let to = -Infinity;
  const timed = (span: Span | void) => {
    if (!span) return;
    busy += span.endEpochMs - span.startEpochMs;
    if (span.startEpochMs < from) from = span.startEpochMs;
    if (span.endEpochMs > to) to = span.endEpochMs;
  };
  while (!plan.signal?.aborted) {
    const job = await next(); // built before it is due, so building never delays a send
    if (job === undefined) break;
    const at = dueAt(job);
    if (at === undefined) break; // --open-loop: the schedule holds --number requests
    const due = t0 + at;
    await sleepUntil(due, plan.signal);
    if (tasks) {
      // Created now, if fewer than the cap are (even when the deadline cut the sleep short);
      // the deadline ends a wait for the cap, so at most cap − parallel are sent after it.
      const created = await tasks.acquire(plan.signal);
      if (created === false || outer?.aborted) {
        tasks.release();
        break;
      }
      const createdAt = readyAt(due, created); // a wait for the cap is the load's queue too
      let ended: number | undefined;
      const p: Promise<void> = slots.acquire(outer)
        .then((freed) =>
          freed === false
            ? undefined
            : execute(job, due, undefined, readyAt(createdAt, freed)).then((span) => {
              timed(span);
              if (span) ended = span.endEpochMs;
            })
        )
        .finally(() => {
          running.delete(p);
          slots.release(ended);
          tasks.release(ended);
        });
      running.add(p);
      continue;
    }
    const freed = await slots.acquire(plan.signal);
    if (freed === false || plan.signal?.aborted) {
      slots.release();
      break;
    }
    let ended: number | undefined;
    const p: Promise<void> = execute(job, due, undefined, readyAt(due, freed)).then((span) => {
      timed(span);
      if (span) ended = span.endEpochMs;
    }).finally(() => {
      running.delete(p);
      slots.release(ended);
    });
    running.add(p);
  }
  await Promise.all(running);
  return {
    closedLoop: false,
    slots: plan.parallel,
    meanInFlight: to > from ? busy / (to - from) : null,
  };
}

/** Whether the plan paces sends by its own times though `rate` is -1 (a ramp-up, a trace). */
function paced(plan: LoadPlan): boolean {
  return plan.shape?.rampUp !== undefined || plan.timedJobs === true;
}

/**
 * Each job's send time, ms from the schedule's time zero: its own (`timedJobs`, trace replay),
 * else the next offset of the shaped `rate` schedule (or of evalscope 2026's rescaled one:
 * `undefined` once its `rescaledCount` requests are due).
 */
function dueTimes<J>(plan: LoadPlan): (job: J) => number | undefined {
  if (plan.timedJobs) return (job) => (job as TimedJob).atMs ?? 0;
  const offsets = plan.rescaledCount === undefined
    ? arrivalOffsets(plan.rate, plan.seed, plan.shard, plan.shape)
    : absoluteOffsets(plan.rate, plan.rescaledCount, plan.seed, plan.shard);
  return () => {
    const at = offsets.next();
    return at.done ? undefined : at.value;
  };
}

/** Wrap an async function so overlapping calls run one after another. */
function serialize<T>(fn: () => Promise<T>): () => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return () => {
    const p = tail.then(fn);
    tail = p.catch(() => {});
    return p;
  };
}

/**
 * When a request due at `due` (`performance.now()`) could first be sent: then, or when the slot
 * it waited for was freed (`freed`, epoch ms), whichever is later.
 */
function readyAt(due: number, freed: number | undefined): number {
  return freed === undefined ? due : Math.max(due, freed - performance.timeOrigin);
}

/** A counting semaphore for in-flight requests (see `acquire`). */
class Slots {
  #free: number;
  #waiters: Array<(freedAt: number) => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  /**
   * Take a slot: once granted, when the slot it got was freed (epoch ms, as `release` said), or
   * `undefined` when one was free at once (aborted or not); `false` when `signal` aborted
   * first. Either way the caller releases it.
   */
  acquire(signal?: AbortSignal): Promise<number | undefined | false> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(undefined);
    }
    if (signal?.aborted) {
      this.#free--; // the caller releases after seeing the abort
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const grant = (freedAt: number) => {
        signal?.removeEventListener("abort", cancel);
        resolve(freedAt);
      };
      const cancel = () => {
        const i = this.#waiters.indexOf(grant);
        if (i !== -1) this.#waiters.splice(i, 1);
        this.#free--; // the caller releases after seeing the abort
        resolve(false);
      };
      this.#waiters.push(grant);
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }
  /** Free a slot; `freedAt`: when the request that held it ended (epoch ms; default now). */
  release(freedAt?: number): void {
    const w = this.#waiters.shift();
    if (w) w(freedAt ?? performance.timeOrigin + performance.now());
    else this.#free++;
  }
}

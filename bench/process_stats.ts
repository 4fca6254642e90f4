/**
 * What the bench's client processes measure about themselves, from `/proc` (Linux): CPU of the
 * whole process and of each thread, resident memory. Its own module, so that the floor
 * (`floor_client.ts`) measures itself without loading llmperf's modules (they cost it ~20 MB of
 * resident memory it would otherwise report as its own).
 *
 * @module
 */
import { procCpuTimes } from "../src/workers/loop_monitor.ts";

/** User and system CPU seconds of every thread of this process, from `/proc/self/task`. */
export function threadTimes(): Array<{ name: string; user: number; sys: number }> {
  const out: Array<{ name: string; user: number; sys: number }> = [];
  for (const e of Deno.readDirSync("/proc/self/task")) {
    const t = procCpuTimes(`/proc/self/task/${e.name}/stat`); // null: the thread ended
    if (t !== null && t.user + t.sys > 0) out.push({ ...t, name: `${t.name} ${e.name}` });
  }
  return out;
}

/** CPU seconds of this process so far (all threads), from `/proc/self/stat`. */
export function processCpuSeconds(): number {
  const t = procCpuTimes("/proc/self/stat");
  return t === null ? NaN : t.user + t.sys;
}

/** A memory field of `/proc/self/status` (`VmRSS`, `VmHWM`), MB. */
export function statusMb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) / 1024 : NaN;
}

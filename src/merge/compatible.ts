/**
 * Whether runs can be merged into one: the shards of one run, nothing else. Their settings must
 * be the same but for the shard, the run's name and its outputs folder; the shards must be one
 * complete set (`0/N` to `N-1/N`, each once); each must have finished. What breaks a rule is a
 * one-line {@link UsageError}, or, with `force`, a warning and the merge goes on. A shard that is
 * missing or has not finished is {@link NotReady} (`--wait` waits for it).
 *
 * @module
 */
import { camelKey, settingFlag } from "../config.ts";
import { type Shard, shardText } from "../config/shard.ts";
import { UsageError } from "../errors.ts";
import { NotReady, type RunInput } from "./inputs.ts";

/** Settings that may differ between the shards of one run (snake_case, as in the args). */
export const PER_SHARD_SETTINGS: ReadonlySet<string> = new Set(["name", "outputs_dir", "shard"]);

/** The flag a snake_case settings key is given with (`--max-tokens`). */
function flagOf(key: string): string {
  return settingFlag(camelKey(key));
}

function shown(v: unknown): string {
  return v === undefined ? "unset" : JSON.stringify(v);
}

/**
 * The first setting in which `b` differs from `a`, as a phrase (`--parallel: 4 in 'b', 8 in
 * 'a'`), or undefined when they agree on everything but {@link PER_SHARD_SETTINGS}.
 */
export function settingsDifference(
  a: { label: string; args: Record<string, unknown> },
  b: { label: string; args: Record<string, unknown> },
): string | undefined {
  const keys = new Set([...Object.keys(a.args), ...Object.keys(b.args)]);
  for (const k of keys) {
    if (PER_SHARD_SETTINGS.has(k)) continue;
    const x = a.args[k];
    const y = b.args[k];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    return `${flagOf(k)} is ${shown(y)} in '${b.label}' and ${shown(x)} in '${a.label}'`;
  }
  return undefined;
}

/** Collects what breaks a rule: thrown at once, or kept as warnings with `force`. */
class Rules {
  readonly warnings: string[] = [];
  constructor(readonly force: boolean) {}
  broken(message: string, notReady = false): void {
    if (this.force) this.warnings.push(message);
    else if (notReady) throw new NotReady(message);
    else throw new UsageError(message);
  }
}

const FORCE = " (--force merges them anyway)";

/**
 * Check that `runs` are the complete, finished shards of one run (see the module doc). Returns
 * the warnings (those `force` let through, and interrupted shards); throws otherwise.
 */
export function checkMergeable(runs: readonly RunInput[], force = false): string[] {
  const rules = new Rules(force);
  if (runs.length === 0) throw new NotReady("nothing to merge");
  const [first] = runs;
  for (const r of runs.slice(1)) {
    const diff = settingsDifference(first, r);
    if (diff) rules.broken(`not the shards of one run: ${diff}${FORCE}`);
  }
  const sharded = runs.filter((r) => r.shard !== undefined);
  if (sharded.length === 0) {
    rules.broken(
      `${runs.length === 1 ? `'${first.label}' is` : "none of these is"} a shard (--shard): ` +
        `merge combines the shards of one run${FORCE}`,
    );
  } else if (sharded.length < runs.length) {
    const whole = runs.find((r) => r.shard === undefined)!;
    rules.broken(`'${whole.label}' is no shard (--shard), '${sharded[0].label}' is${FORCE}`);
  }
  const count = sharded[0]?.shard?.count;
  const byIndex = new Map<number, RunInput>();
  for (const r of sharded) {
    const s = r.shard as Shard;
    if (s.count !== count) {
      rules.broken(
        `'${r.label}' is shard ${shardText(s)} and '${sharded[0].label}' ${
          shardText(sharded[0].shard!)
        }: not one split${FORCE}`,
      );
    }
    const twin = byIndex.get(s.index);
    if (twin) rules.broken(`shard ${shardText(s)} is given twice: '${twin.label}', '${r.label}'`);
    byIndex.set(s.index, r);
  }
  if (count !== undefined) {
    const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
    if (missing.length > 0) {
      rules.broken(
        `shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")} ` +
          `of ${count} ${missing.length > 1 ? "are" : "is"} missing: the union would not be the ` +
          `run${FORCE.replace("them", "what there is")}`,
        true,
      );
    }
  }
  for (const r of runs) {
    const what = r.shard ? `shard ${shardText(r.shard)} ('${r.label}')` : `'${r.label}'`;
    if (r.run !== undefined && r.run.ended_at == null) {
      rules.broken(
        `${what} has not finished: its DB has no end time (still running, or killed)` +
          FORCE.replace("them", "what it recorded"),
        true,
      );
    } else if (r.run?.interrupted === 1 || r.run?.interrupted === 1n) {
      rules.warnings.push(`${what} was interrupted: it stopped before sending all its requests`);
    }
  }
  return rules.warnings;
}

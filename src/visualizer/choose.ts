/**
 * Which tracker a run logs to (`--visualizer`, as evalscope's `utils/log_utils.py` chooses it):
 * the one named, or, unset, the one whose deprecated key flag is given (`--wandb-api-key`,
 * `--swanlab-api-key`). A tracker without credentials is one warning and no logging, never a
 * failed benchmark.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { ClearmlRun, clearmlSettings } from "./clearml.ts";
import { SwanlabRun, swanlabSettings } from "./swanlab.ts";
import type { TrackedRun, TrackedRunInit } from "./tracked_run.ts";

/** The chosen tracker: W&B (its key), or another service and how to open its run. */
export type Visualizer =
  | { service: "wandb"; wandbKey: string }
  | { service: "swanlab" | "clearml"; open: (init: TrackedRunInit) => Promise<TrackedRun> };

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}

const ENV = { get: env };

/** The tracker of a config, or undefined (none chosen, or one without credentials: warned). */
export function visualizerOf(
  cfg: Pick<PerfConfig, "visualizer" | "wandbApiKey" | "swanlabApiKey" | "swanlabHost">,
  log: Logger,
): Visualizer | undefined {
  const chosen = cfg.visualizer ??
    (cfg.wandbApiKey ? "wandb" : cfg.swanlabApiKey ? "swanlab" : undefined);
  const none = (why: string) => {
    log(`warning: ${chosen}: ${why}; not logging to ${chosen}`);
    return undefined;
  };
  switch (chosen) {
    case undefined:
      return undefined;
    case "wandb": {
      const key = cfg.wandbApiKey ?? env("WANDB_API_KEY");
      return key ? { service: "wandb", wandbKey: key } : none(
        "no API key (--wandb-api-key or " +
          "$WANDB_API_KEY)",
      );
    }
    case "swanlab": {
      const key = cfg.swanlabApiKey ?? env("SWANLAB_API_KEY");
      if (!key) return none("no API key (--swanlab-api-key or $SWANLAB_API_KEY)");
      if (key === "local") return none("local mode needs SwanLab's Python package");
      const s = swanlabSettings(key, cfg.swanlabHost, ENV);
      return { service: "swanlab", open: (init) => SwanlabRun.start(s, init) };
    }
    case "clearml": {
      const s = clearmlSettings(ENV);
      if (!s) return none("no credentials ($CLEARML_API_ACCESS_KEY and $CLEARML_API_SECRET_KEY)");
      return { service: "clearml", open: (init) => ClearmlRun.start(s, init) };
    }
  }
}

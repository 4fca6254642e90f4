/**
 * The `--dataset-args` schemas the built-in datasets share, as evalscope 2026 declares them
 * (`plugin/datasets/dataset_args.py`, `multi_turn_args.py`): `TextDatasetArgs` (openqa,
 * longalpaca, share_gpt_zh/en, line_by_line) and `MultiTurnDatasetArgs` (random_multi_turn,
 * share_gpt_*_multi_turn). Their keys are accepted by name and type, but none is implemented
 * here yet (`unsupported`): giving one is an error that says so, not a run that silently differs
 * from evalscope's.
 *
 * @module
 */
import type { DatasetArgsSchema } from "../../plugin.ts";

/**
 * evalscope's `TextDatasetArgs`: `target_input_len` (prompts cut or padded to that many tokens),
 * `input_len_mode` (`cap` or `drop`), `prefix_file`, `prefix_role` (`system` or `user`).
 */
export const TEXT_DATASET_ARGS: DatasetArgsSchema = {
  target_input_len: { type: "positive-int", unsupported: true },
  input_len_mode: { type: ["cap", "drop"], unsupported: true },
  prefix_file: { type: "string", unsupported: true },
  prefix_role: { type: ["system", "user"], unsupported: true },
};

/**
 * evalscope's `MultiTurnDatasetArgs`: `first_turn_length` and `subsequent_turn_length` (tokens,
 * or a `[min, max]` range), `chars_per_token`, `num_workers` (deprecated).
 */
export const MULTI_TURN_DATASET_ARGS: DatasetArgsSchema = {
  first_turn_length: { type: "length", unsupported: true },
  subsequent_turn_length: { type: "length", unsupported: true },
  chars_per_token: { type: "positive", unsupported: true },
  num_workers: { type: "non-negative-int", unsupported: true },
};

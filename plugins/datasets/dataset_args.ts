/**
 * The `--dataset-args` schemas the built-in datasets share, as evalscope 2026 declares them
 * (`plugin/datasets/dataset_args.py`, `multi_turn_args.py`): `TextDatasetArgs` (openqa,
 * longalpaca, share_gpt_zh/en, line_by_line) and `MultiTurnDatasetArgs` (random_multi_turn,
 * share_gpt_*_multi_turn). What the keys do: `text_length.ts` and `multi_turn_args.ts`.
 *
 * @module
 */
import type { DatasetArgsSchema } from "../../plugin.ts";

/**
 * evalscope's `TextDatasetArgs`: `target_input_len` (prompts cut to that many tokens),
 * `input_len_mode` (`cap` keeps shorter prompts, `drop` skips them), `prefix_file` (text tiled to
 * fill shorter prompts up to the target), `prefix_role` (`system` or `user`).
 */
export const TEXT_DATASET_ARGS: DatasetArgsSchema = {
  target_input_len: { type: "positive-int" },
  input_len_mode: { type: ["cap", "drop"] },
  prefix_file: { type: "string" },
  prefix_role: { type: ["system", "user"] },
};

/**
 * evalscope's `MultiTurnDatasetArgs`: `first_turn_length` and `subsequent_turn_length` (tokens,
 * or a `[min, max]` range), `chars_per_token` (lengths without a tokenizer), `num_workers`
 * (deprecated, ignored).
 */
export const MULTI_TURN_DATASET_ARGS: DatasetArgsSchema = {
  first_turn_length: { type: "length" },
  subsequent_turn_length: { type: "length" },
  chars_per_token: { type: "positive" },
  num_workers: { type: "non-negative-int" },
};

/**
 * evalscope's `MultiTurnDatasetArgs` (`--dataset-args` of `random_multi_turn` and
 * `share_gpt_*_multi_turn`, `multi_turn_args.py`) read for a run: `first_turn_length` and
 * `subsequent_turn_length` (tokens: a whole number, or `[min, max]` drawn uniformly, both
 * included, once per conversation as evalscope's `sample_params` draws them), `chars_per_token`
 * (3.0: the characters a token stands for when there is no `--tokenizer-path`), and `num_workers`
 * (deprecated in evalscope for `--num-workers`: accepted and ignored, said in one log line).
 *
 * @module
 */
import type { PluginParams } from "../../plugin.ts";

/** A turn length: tokens, or an inclusive `[min, max]` range of them. */
export type TurnLength = number | readonly [number, number];

/** The keys given, resolved. */
export interface MultiTurnArgs {
  /** The first turn's length, when given. */
  readonly firstTurnLength?: TurnLength;
  /** Each later turn's length (the tokens it adds), when given. */
  readonly subsequentTurnLength?: TurnLength;
  /** Characters per token without a tokenizer (evalscope's default 3.0). */
  readonly charsPerToken: number;
}

/** evalscope's `chars_per_token` default. */
export const DEFAULT_CHARS_PER_TOKEN = 3;

/**
 * The run's `MultiTurnDatasetArgs` (checked already against `MULTI_TURN_DATASET_ARGS`). Logs one
 * line for `num_workers` (ignored), one for keys of `--multi-turn-args` (deprecated), and, where
 * `used` is false (a dataset whose turns are real text), one saying the length keys do nothing
 * there, as in evalscope.
 */
export function multiTurnArgs(
  params: PluginParams,
  dataset: string,
  used: boolean,
): MultiTurnArgs {
  const args = (params.datasetArgs ?? {}) as Record<string, unknown>;
  const log = params.log ?? (() => {});
  if (params.multiTurnArgs !== undefined) {
    log(
      "--multi-turn-args is deprecated (as in evalscope): its keys are read as --dataset-args " +
        "ones, and --dataset-args wins where both give a key",
    );
  }
  if (args.num_workers !== undefined) {
    log(
      `${dataset}: --dataset-args 'num_workers' is deprecated and ignored (evalscope's ` +
        "replacement is --num-workers)",
    );
  }
  const lengths = ["first_turn_length", "subsequent_turn_length"].filter((k) =>
    args[k] !== undefined
  );
  if (!used && lengths.length > 0) {
    log(
      `${dataset}: --dataset-args ${lengths.join(", ")} change nothing here (its turns are ` +
        "the dataset's own text; evalscope accepts and ignores them too)",
    );
  }
  return {
    firstTurnLength: args.first_turn_length as TurnLength | undefined,
    subsequentTurnLength: args.subsequent_turn_length as TurnLength | undefined,
    charsPerToken: (args.chars_per_token as number | undefined) ?? DEFAULT_CHARS_PER_TOKEN,
  };
}

/**
 * A length drawn from `len` with `rnd` (uniform on [0, 1)): the number itself, or an integer of
 * `[min, max]`, both included.
 *
 * @example
 * ```ts
 * drawLength([10, 20], Math.random); // 10 … 20
 * drawLength(7, Math.random); // 7
 * ```
 */
export function drawLength(len: TurnLength, rnd: () => number): number {
  if (typeof len === "number") return len;
  return len[0] + Math.floor(rnd() * (len[1] - len[0] + 1));
}

/**
 * The end-of-run warning about token counts that are estimates: the responses carried no
 * `usage` and no tokenizer counted them, so output tokens were counted one per token-carrying
 * chunk (streamed) or from the text length (whole replies), and input tokens are 0.
 *
 * @module
 */

/**
 * The warning for a run in which `estimated` of `succeeded` successful requests had estimated
 * token counts, or `undefined` when none had. `tokenizer`: whether `--tokenizer-path` was given
 * (then the API plugin could not give the tokenizer the generated text).
 *
 * @example
 * ```ts
 * countWarning(10, 10, false);
 * // "10 of 10 successful requests had no usage in the response: ... give --tokenizer-path ..."
 * ```
 */
export function countWarning(
  estimated: number,
  succeeded: number,
  tokenizer: boolean,
): string | undefined {
  if (estimated === 0) return undefined;
  const what = `${estimated} of ${succeeded} successful requests had no usage in the response, ` +
    "so their output tokens are estimates (one per token-carrying chunk when streamed, from " +
    "the text length otherwise) and their input tokens are 0";
  return tokenizer
    ? `${what}: the API plugin gives no generated text (generatedTexts) for --tokenizer-path ` +
      "to count"
    : `${what}; give --tokenizer-path (the model's tokenizer folder) to count them exactly`;
}

/**
 * Built-in dataset `speed_benchmark`: evalscope's fixed-length speed test. It sends prompts of
 * 1, 6144, 14336 and 30720 tokens, twice each, in that order; a prompt of length `n` is the
 * character "熵" repeated `n` times (one token each in Qwen's tokenizers). After the run llmperf
 * prints evalscope's "Speed Benchmark Results" table (prompt tokens, mean output tokens per
 * second) and writes `speed_benchmark.json`. Run it against a plain completions URL
 * (`.../v1/completions`), so that no chat template adds tokens, one request at a time, with a
 * fixed output length, as evalscope's documentation does:
 * `--url http://host:8000/v1/completions --dataset speed_benchmark --parallel 1
 * --min-tokens 2048 --max-tokens 2048`.
 *
 * `speed_benchmark_long` does the same with 63488 and 129024 tokens.
 *
 * @module
 */
import { DatasetPlugin, type Message } from "../../plugin.ts";

/** The character a prompt is made of. */
export const SPEED_TOKEN = "熵";

/** Fixed-length prompts, each length sent `repeat` times. */
export default class SpeedBenchmarkDataset extends DatasetPlugin {
  /** Prompt lengths, in tokens, in the order they are sent. */
  readonly lengths: readonly number[] = [1, 6144, 14336, 30720];
  /** How many times each length is sent. */
  readonly repeat: number = 2;
  /** The lengths are fixed: `--min/--max-prompt-length` do not filter them. */
  readonly lengthFiltered = true;

  /** Yield each length's prompt `repeat` times. */
  *buildMessages(): Generator<Message[]> {
    for (const n of this.lengths) {
      for (let i = 0; i < this.repeat; i++) {
        yield [{ role: "user", content: SPEED_TOKEN.repeat(n) }];
      }
    }
  }
}

/** `speed_benchmark_long`: the long prompts (63488 and 129024 tokens). */
export class SpeedBenchmarkLongDataset extends SpeedBenchmarkDataset {
  /** Long prompt lengths. */
  override readonly lengths: readonly number[] = [63488, 129024];
}

/**
 * "Did you mean ...?": the known names closest to a mistyped one, by edit distance (optimal
 * string alignment: insertions, deletions, substitutions and swaps of two neighbours each cost
 * one). Hand-written because it is twenty lines and runs only on an error path; commander has
 * one too, but it sees only the shown long flags, not aliases, config keys or commands.
 *
 * @module
 */

/** The edit distance between `a` and `b` (a swap of two neighbouring characters costs one). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

/** How names are compared: case, `_` and `-` do not matter (`--Max_Tokens` is `--max-tokens`). */
function normal(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/**
 * The candidates closest to `word` (all those at the smallest distance, in their order), or none
 * when even the closest is too far to be a typo: more than a third of the word's length (at
 * least 1, at most 3 edits; none for words under three letters, `-x`, apart from leading dashes). A candidate equal to `word` but for case, `_` and `-` is distance 0.
 *
 * @example
 * ```ts
 * closest("--max-token", ["--max-tokens", "--min-tokens", "--model"]); // ["--max-tokens"]
 * closest("--frobnicate", ["--max-tokens"]); // []
 * ```
 */
export function closest(word: string, candidates: Iterable<string>): string[] {
  const w = normal(word);
  const length = w.replace(/^-+/, "").length;
  const limit = length < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(length / 3)));
  let best = Infinity;
  let out: string[] = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(w, normal(c));
    if (d > limit || d > best) continue;
    if (d < best) {
      best = d;
      out = [];
    }
    out.push(c);
  }
  if (out.length > 0 || length < 3) return out;
  // A word cut short (`--itl` for `--itl-ms`): the names it begins.
  return [...new Set(candidates)].filter((c) => normal(c).startsWith(w));
}

/**
 * ` (did you mean X?)`, ` (did you mean X or Y?)`, or "" when no candidate is close: the tail of
 * an "unknown ..." message.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const near = closest(word, candidates).slice(0, 3);
  return near.length === 0 ? "" : ` (did you mean ${near.join(" or ")}?)`;
}

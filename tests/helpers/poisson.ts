/**
 * The `--rate R --seed S` arrival schedule recomputed from its definition, written here apart
 * from `src/` so that a test compares the run with the definition and not with the code that
 * made the run: uniforms from sfc32 (Chris Doty-Humphrey's small fast counter generator), its
 * four words seeded by four outputs of splitmix32 from `S`; gaps by inverting the exponential
 * distribution's CDF, `-ln(1 - u) / R` seconds; the first request at offset 0 (at once, as in
 * evalscope and vLLM's benchmark), the next ones at the running sums of the gaps.
 *
 * @module
 */

/** Four 32-bit words from splitmix32 (Steele, Lea and Flood's SplitMix, its 32-bit form). */
function splitmix32Words(seed: number): [number, number, number, number] {
  let state = seed | 0;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return z ^ (z >>> 16);
  };
  return [next(), next(), next(), next()];
}

/** Uniform numbers in [0, 1) from sfc32 with splitmix32 seeding. */
function sfc32Uniforms(seed: number): () => number {
  let [a, b, c, d] = splitmix32Words(seed);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 2 ** 32;
  };
}

/** The first `n` send offsets (ms from the run's start) of `--rate rate --seed seed`. */
export function poissonOffsetsMs(rate: number, seed: number, n: number): number[] {
  const uniform = sfc32Uniforms(seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += (-Math.log(1 - uniform()) / rate) * 1000;
  }
  return out;
}

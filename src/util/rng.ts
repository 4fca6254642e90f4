/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32) so that a run with
 * the same `--seed` makes the same arrival schedule and the mock server the same replies.
 *
 * @module
 */

/** A function returning uniform numbers in [0, 1). */
export type Random = () => number;

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded uniform generator on [0, 1). Equal seeds give equal sequences. */
export function seededRandom(seed: number): Random {
  const s = splitmix32(seed);
  let a = s(), b = s(), c = s(), d = s();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** An exponentially distributed sample with the given rate (mean 1/rate). */
export function exponential(random: Random, rate: number): number {
  return -Math.log(1 - random()) / rate;
}

/** A 32-bit hash of a string (FNV-1a), for deriving per-item seeds. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A standard normal sample (Box–Muller, one of the pair: stateless, so the stream stays simple). */
export function normal(random: Random): number {
  const u = 1 - random(); // (0, 1]: the logarithm stays finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A gamma-distributed sample of `shape` and scale 1 (mean `shape`, variance `shape`), by
 * Marsaglia and Tsang's method ("A simple method for generating gamma variables", ACM TOMS 2000):
 * a cubed, shifted normal accepted by a squeeze and a log test; for `shape < 1` a sample of
 * `shape + 1` times `U^(1/shape)`. Hand-written (a dozen lines) so that it draws from the run's
 * seeded generator: npm's gamma samplers come with their own generators or large dependency trees.
 */
export function gamma(random: Random, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

// A small seeded pseudo-random generator for the scenario's `seed`: deterministic for a seed, the
// same sequence in TypeScript and in src/oracle/runner.c (which never needs it: encode.ts expands
// random orders into page lists). No Math.random anywhere in the model.

/** fmix32 of MurmurHash3: a 32-bit avalanche mix (also the data-pattern generator's hash). */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: 32 bits of state, period 2^32; `next()` gives a uniform float in [0, 1). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`Prng: seed ${seed} is not a whole number`);
    this.state = mix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32)) || 0x6d2b79f5;
  }

  /** Next 32-bit unsigned value. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** Uniform whole number in [0, n). */
  below(n: number): number {
    if (!(n > 0)) throw new Error(`Prng.below: n must be positive, got ${n}`);
    return Math.floor(this.next() * n);
  }
}

/**
 * mulberry32 seeded with the raw 32 bits of `seed` (no mixing, unlike Prng): a function giving
 * uniform floats in [0, 1). The crash explorer's sampling and the quiz use it, so a seed keeps
 * choosing the states and questions it always chose.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf-distributed ranks in [0, n): rank r is drawn with probability proportional to
 * 1 / (r + 1)^exponent (the cumulative table is built once; each draw is a binary search).
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly rng: Prng;

  constructor(n: number, exponent: number, rng: Prng) {
    if (!(n > 0) || !Number.isSafeInteger(n)) throw new Error(`ZipfSampler: n must be a positive integer, got ${n}`);
    if (!(exponent >= 0) || !Number.isFinite(exponent)) throw new Error(`ZipfSampler: bad exponent ${exponent}`);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) { sum += 1 / (r + 1) ** exponent; this.cdf[r] = sum; }
    for (let r = 0; r < n; r++) this.cdf[r] = this.cdf[r]! / sum;
    this.rng = rng;
  }

  draw(): number {
    const u = this.rng.next();
    let lo = 0, hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! > u) hi = mid; else lo = mid + 1;
    }
    return lo;
  }
}

// The order of an access step's touches: ascending, descending, or seeded random orders (a random
// permutation, or Zipf-distributed draws), as fio's random and zipf modes give a program's
// access pattern. Used by the step handler (steps/access.ts) and by the real-kernel encoder
// (src/oracle/encode.ts expands random orders into the same page list), so both run one order.

import { mix32, Prng, ZipfSampler } from '../lib/prng.ts';
import type { AccessArgs } from './types.ts';

/** The seed of an access step's order: the scenario's seed mixed with the step's index. */
export function stepSeed(scenarioSeed: number, stepIndex: number): number {
  return (mix32(scenarioSeed >>> 0) ^ mix32((stepIndex + 1) ^ Math.floor(scenarioSeed / 2 ** 32))) >>> 0;
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
function permutation(n: number, rng: Prng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i]!; p[i] = p[j]!; p[j] = t;
  }
  return p;
}

/**
 * Which of the step's n touch positions (0..n-1 in ascending address order) the j-th access
 * takes: null for ascending and descending (computed on the fly), else the whole sequence.
 * 'random' visits each position once; 'zipf' makes n draws, rank r with weight 1/(r+1)^exponent,
 * ranks spread over the positions by a second seeded permutation (hot pages are not all first).
 */
export function accessSequence(a: Pick<AccessArgs, 'order' | 'exponent'>, n: number, seed: number): Int32Array | null {
  if (a.order === 'ascending' || a.order === 'descending') return null;
  const rng = new Prng(seed);
  const perm = permutation(n, rng);
  if (a.order === 'random') return perm;
  const out = new Int32Array(n);
  if (n === 0) return out;
  const z = new ZipfSampler(n, a.exponent ?? 1, rng);
  for (let j = 0; j < n; j++) out[j] = perm[z.draw()]!;
  return out;
}

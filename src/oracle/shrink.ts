// Shrinks a random program whose real-kernel run differs from the model to a small reproducer:
// deletes steps, then shrinks sizes, keeping each change while the same figure (the same step op
// and field kind) still differs. Candidates of one round are judged together, so a guest kernel
// needs one boot per round, not one per candidate.

import type { Difference } from './compare.ts';
import type { FuzzStep, Program } from './fuzz.ts';

/** What a difference is about, without the step number and names: `access maps.*.mc`, `ftruncate files.*.blocks`. */
export function signature(d: Difference): string {
  const field = d.field.replace(/^maps\.[^.]+\./, 'maps.*.').replace(/^files\..*\.(size|blocks)$/, 'files.*.$1');
  return `${d.op} ${field}`;
}

/**
 * Runs a batch of candidate programs on the kernel and in the model: per candidate its
 * differences, or null when it could not run (an invalid program after a deletion).
 */
export type Judge = (cands: Program[]) => Array<Difference[] | null>;

const PAGE = 4096;
const SIZE_KEYS = ['sizeBytes', 'lengthBytes', 'offsetBytes', 'writeChunkBytes', 'strideBytes'];

function without(p: Program, i: number): Program {
  return { ...p, steps: p.steps.filter((_s, j) => j !== i) };
}

function withArg(p: Program, i: number, key: string, v: unknown): Program {
  const steps = p.steps.map((s, j): FuzzStep => (j === i ? { op: s.op, args: { ...s.args, [key]: v } } : s));
  return { ...p, steps };
}

/** Smaller values to try for a size: half (page-rounded), a page less, the page-rounded value, 0. */
function smaller(v: number, key: string): number[] {
  const out = [Math.floor(v / 2 / PAGE) * PAGE, v - PAGE, Math.floor(v / PAGE) * PAGE];
  if (key === 'offsetBytes') out.push(0);
  return [...new Set(out)].filter((x) => x >= (key === 'offsetBytes' ? 0 : 1) && x < v);
}

function sizeCandidates(p: Program): Program[] {
  const out: Program[] = [];
  p.steps.forEach((s, i) => {
    for (const k of SIZE_KEYS) {
      const v = s.args[k];
      if (typeof v === 'number') for (const x of smaller(v, k)) out.push(withArg(p, i, k, x));
    }
    const pages = s.args['pages'];
    if (Array.isArray(pages) && pages.length > 1) {
      pages.forEach((_x, j) => out.push(withArg(p, i, 'pages', pages.filter((_y, q) => q !== j))));
    }
  });
  return out;
}

/** Shrinks `p` while a difference with signature `sig` remains; at most `rounds` judge calls. */
export function shrink(p: Program, sig: string, judge: Judge, rounds: number, chunk: number): Program {
  let cur = p;
  let phase: 'steps' | 'sizes' = 'steps';
  for (let round = 0; round < rounds;) {
    const cands = phase === 'steps' ? cur.steps.map((_s, i) => without(cur, cur.steps.length - 1 - i))
      : sizeCandidates(cur);
    let next: Program | undefined;
    for (let at = 0; at < cands.length && next === undefined && round < rounds; at += chunk, round++) {
      const part = cands.slice(at, at + chunk);
      const res = judge(part);
      const hit = res.findIndex((d) => d !== null && d.some((x) => signature(x) === sig));
      if (hit >= 0) next = part[hit];
    }
    if (next !== undefined) { cur = next; continue; }
    if (phase === 'sizes') break;
    phase = 'sizes';
  }
  return cur;
}

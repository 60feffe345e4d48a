// Seeded random call sequences for the API fuzzer (issue 17, `npm run fuzz`): a program is a
// machine set-up (profile, filesystem) and a list of calls, each an op name and plain numeric
// arguments, so that the shrinker can delete calls and simplify arguments and every reproducer
// prints as TypeScript calls on Machine/Process. Arguments are drawn from ordinary values and
// from odd ones a hostile caller passes: negative, fractional, NaN, infinite, huge, near ext4's
// s_maxbytes and EXT_MAX_BLOCKS, unaligned, zero strides, unknown flag bits.

import { Rng } from '../oracle/fuzz.ts';
import { profiles } from '../kernel/profiles.ts';

export type FuzzFs = 'tmpfs' | 'ext4' | 'ext4-dax';
export const FUZZ_FS: readonly FuzzFs[] = ['tmpfs', 'ext4', 'ext4-dax'];

/** One call: `op` and its arguments (fd and mapping arguments are slot numbers, resolved at run time). */
export interface Call { op: string; a: number[] }
export interface FuzzProgram { seed: number; profile: string; fs: FuzzFs; calls: Call[] }

/** The file names programs use, with spellings the VFS resolves to the same file. */
export const PATHS: readonly string[] = ['/t/a', '/t/b', '/t//a', '/t/./b', '/t/sub/../a', '/t/a/', '/t/sub/c',
  '/t', '/t/'];

const KiB = 1024, MiB = 1024 * KiB;
/** ext4 with 4 KiB blocks: s_maxbytes (ext4_max_size, extent files) = EXT_MAX_BLOCKS blocks. */
const EXT4_MAX = 0xffffffff * 4096;
const ODD: readonly number[] = [-1, -4096, -4097, 0.5, 4096.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32,
  2 ** 44, 2 ** 53, 2 ** 63, EXT4_MAX, EXT4_MAX - 4096, EXT4_MAX + 4096, EXT4_MAX - 1, -(2 ** 53)];

/** A length or offset: mostly page-scale, sometimes unaligned, sometimes odd. */
function size(r: Rng, odd: number): number {
  if (r.chance(odd)) return r.pick(ODD);
  switch (r.int(6)) {
    case 0: return r.int(3) * 4096;
    case 1: return (1 + r.int(16)) * 4096;
    case 2: return r.int(20000);
    case 3: return r.pick([16 * KiB, 64 * KiB, 2 * MiB, 2 * MiB + 4096, 4 * MiB]);
    case 4: return 1 + r.int(4096);
    default: return r.int(64) * 4096 + r.pick([0, 0, 1, 4095]);
  }
}

function flagsOf(r: Rng, bits: readonly number[], odd: number): number {
  if (r.chance(odd)) return r.pick([-1, 0x7fffffff, 0.5, NaN, 1 << 30]);
  let f = 0;
  for (const b of bits) if (r.chance(0.3)) f |= b;
  return f;
}

type Gen = (r: Rng, odd: number) => number[];
const O_BITS = [0x40, 0x80, 0x200, 0x400];
/** Generators per op; the first argument of fd ops and mapping ops is a slot number. */
const GENS: Record<string, Gen> = {
  open: (r, o) => [r.int(PATHS.length), r.pick([0, 1, 2, 2, 2]) | flagsOf(r, O_BITS, 0 * o)],
  close: (r) => [r.int(4)],
  pwrite: (r, o) => [r.int(4), size(r, o), size(r, o), r.int(256), r.int(4)],
  write: (r, o) => [r.int(4), size(r, o), r.int(256)],
  pread: (r, o) => [r.int(4), size(r, o), size(r, o)],
  ftruncate: (r, o) => [r.int(4), size(r, o)],
  fallocate: (r, o) => [r.int(4), r.pick([0, 1, 3, 0x10, 0x11, 2, 0x12, 0x40]), size(r, o), size(r, o)],
  fsync: (r) => [r.int(4)],
  unlink: (r) => [r.int(PATHS.length)],
  mmap: (r, o) => [r.chance(0.1) ? r.pick([4096, 0x8000, 0x7f0000000000, 0.5]) : 0, size(r, o),
    r.pick([0, 1, 3, 3, 3, 5, 8]), r.pick([1, 2, 1, 2, 0x21, 0x22, 0x8001, 0x2001, 0x8002, 0x80003, 0, 0x12]),
    r.int(4), r.chance(0.8) ? r.int(4) * 4096 : size(r, o)],
  munmap: (r, o) => [r.int(4), r.chance(0.7) ? r.int(8) * 4096 : size(r, o), size(r, o)],
  mprotect: (r, o) => [r.int(4), r.int(8) * 4096, size(r, o), r.pick([0, 1, 3, 5, 8])],
  madvise: (r, o) => [r.int(4), r.int(8) * 4096, size(r, o), r.pick([0, 1, 2, 3, 4, 8, 9, 14, 20, 21, 22, 23, 99])],
  msync: (r, o) => [r.int(4), r.int(8) * 4096, size(r, o), r.pick([1, 4, 2, 6, 5, 8])],
  load: (r, o) => [r.int(4), r.chance(o) ? r.pick(ODD) : r.int(40000)],
  store: (r, o) => [r.int(4), r.chance(o) ? r.pick(ODD) : r.int(40000), r.int(256)],
  access: (r, o) => [r.int(4), r.int(8) * 4096, r.chance(o) ? r.pick([2 ** 40, 64 * MiB]) : size(r, 0),
    r.chance(o) ? r.pick([0, 0.5, -4096, NaN]) : r.pick([1, 64, 4096, 8192]), r.int(2)],
  fsyncAll: () => [],
  dropCaches: () => [],
};
const WEIGHTS: Array<[string, number]> = [['open', 6], ['close', 2], ['pwrite', 8], ['write', 2], ['pread', 6],
  ['ftruncate', 4], ['fallocate', 4], ['fsync', 2], ['unlink', 1], ['mmap', 8], ['munmap', 3], ['mprotect', 3],
  ['madvise', 3], ['msync', 2], ['load', 8], ['store', 8], ['access', 3], ['dropCaches', 1]];
const TOTAL = WEIGHTS.reduce((n, [, w]) => n + w, 0);

function pickOp(r: Rng): string {
  let x = r.int(TOTAL);
  for (const [op, w] of WEIGHTS) { if (x < w) return op; x -= w; }
  return 'load';
}

/** The program for `seed`: its profile, filesystem and `n` calls (odd arguments with probability `odd`). */
export function generate(seed: number, n = 40, odd = 0.15): FuzzProgram {
  const r = new Rng(seed);
  const names = Object.keys(profiles);
  const profile = names[r.int(names.length)]!;
  const fs = FUZZ_FS[r.int(FUZZ_FS.length)]!;
  const calls: Call[] = [{ op: 'open', a: [0, 0x42] }];
  for (let i = 0; i < n; i++) {
    const op = pickOp(r);
    calls.push({ op, a: GENS[op]!(r, odd) });
  }
  return { seed, profile, fs, calls };
}

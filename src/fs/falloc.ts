/**
 * vfs_fallocate's checks (fs/open.c, 5.10, 6.1, 6.18), in the kernel's order, before the
 * filesystem's ->fallocate sees the call. The order of the checks is the same in every version
 * read; how the mode bits are validated is not, so that part is data, one table per value of the
 * profile knob `fallocateModeCheck`. An input that fails two checks gets the errno of the first
 * one in this order (measured: test/oracle-runs/fallocate-order.*).
 */
import { EBADF, EFBIG, EINVAL, EISDIR, EOPNOTSUPP } from '../lib/errno.ts';
import type { FallocateModeCheck } from '../kernel/knobs.ts';
import type { File } from './fs.ts';
import { sMaxbytes } from './limits.ts';
import {
  FALLOC_FL_KEEP_SIZE as KEEP, FALLOC_FL_PUNCH_HOLE as PUNCH, FALLOC_FL_ZERO_RANGE as ZERO,
  FALLOC_FL_COLLAPSE_RANGE as COLLAPSE, FALLOC_FL_INSERT_RANGE as INSERT, FALLOC_FL_UNSHARE_RANGE as UNSHARE,
  FALLOC_FL_WRITE_ZEROES as WRITE_ZEROES,
} from '../mm/constants.ts';

/** One mode rule of 5.10/6.1: a mode for which `bad` holds fails with `errno`. */
interface FlagRule { readonly what: string; readonly bad: (mode: number) => boolean; readonly errno: number }

/**
 * 5.10 and 6.1 (FALLOC_FL_SUPPORTED_MASK, then one rule per flag pair, in this order). NO_HIDE_STALE
 * (0x04) is not in the supported mask, so it is EOPNOTSUPP like any unknown bit.
 */
const FLAG_RULES: readonly FlagRule[] = [
  { what: 'a bit outside FALLOC_FL_SUPPORTED_MASK', errno: EOPNOTSUPP,
    bad: (m) => (m & ~(KEEP | PUNCH | COLLAPSE | ZERO | INSERT | UNSHARE)) !== 0 },
  { what: 'PUNCH_HOLE with ZERO_RANGE', errno: EOPNOTSUPP, bad: (m) => (m & (PUNCH | ZERO)) === (PUNCH | ZERO) },
  { what: 'PUNCH_HOLE without KEEP_SIZE', errno: EOPNOTSUPP, bad: (m) => (m & PUNCH) !== 0 && (m & KEEP) === 0 },
  { what: 'COLLAPSE_RANGE with another flag', errno: EINVAL, bad: (m) => (m & COLLAPSE) !== 0 && m !== COLLAPSE },
  { what: 'INSERT_RANGE with another flag', errno: EINVAL, bad: (m) => (m & INSERT) !== 0 && m !== INSERT },
  { what: 'UNSHARE_RANGE with a flag but KEEP_SIZE', errno: EINVAL,
    bad: (m) => (m & UNSHARE) !== 0 && (m & ~(UNSHARE | KEEP)) !== 0 },
];

/** What a mode of 6.12+ asks of KEEP_SIZE: nothing, that it is set, or that it is not. */
type KeepRule = 'any' | 'needs-keep' | 'no-keep';

/** 6.12+: the mode (the bits but KEEP_SIZE) must be exactly one of these; anything else is EOPNOTSUPP. */
const EXCLUSIVE_MODES: ReadonlyMap<number, KeepRule> = new Map<number, KeepRule>([
  [0, 'any'], [UNSHARE, 'any'], [ZERO, 'any'], [PUNCH, 'needs-keep'], [COLLAPSE, 'no-keep'], [INSERT, 'no-keep'],
]);

/**
 * The mode part of vfs_fallocate for one knob value: 0 or -errno. 6.12-6.16 know the modes in
 * EXCLUSIVE_MODES (FALLOC_FL_MODE_MASK 0x7a); 6.17 adds WRITE_ZEROES (0x80), which, like collapse,
 * takes no KEEP_SIZE.
 */
export function fallocateModeErrno(rules: FallocateModeCheck, mode: number): number {
  if (rules === 'flag-rules') {
    for (const r of FLAG_RULES) if (r.bad(mode)) return -r.errno;
    return 0;
  }
  const modeBits = mode & ~KEEP;
  const keep = rules === 'exclusive-modes-write-zeroes' && modeBits === WRITE_ZEROES ? 'no-keep'
    : EXCLUSIVE_MODES.get(modeBits);
  if (keep === undefined) return -EOPNOTSUPP;
  if (keep === 'needs-keep' && (mode & KEEP) === 0) return -EOPNOTSUPP;
  if (keep === 'no-keep' && (mode & KEEP) !== 0) return -EOPNOTSUPP;
  return 0;
}

/**
 * vfs_fallocate (fs/open.c, 5.10/6.1/6.18) up to the call of ->fallocate: offset < 0 or len <= 0
 * EINVAL; the mode (per `rules`); no FMODE_WRITE EBADF; a directory EISDIR; offset + len past
 * s_maxbytes (or wrapping) EFBIG. Not modelled, since the model has no such inodes: IS_APPEND and
 * IS_IMMUTABLE (EPERM), active swap files (ETXTBSY), FIFOs (ESPIPE), devices (ENODEV), LSMs.
 * A read-only mount has no check of its own here: no file on it can be open for write.
 * Returns 0 or -errno.
 */
export function vfsFallocateChecks(rules: FallocateModeCheck, file: File, mode: number, offset: number,
  len: number): number {
  if (offset < 0 || len <= 0) return -EINVAL;
  const m = fallocateModeErrno(rules, mode);
  if (m < 0) return m;
  if (!file.writable) return -EBADF;
  if (file.inode.isDir) return -EISDIR;
  if (offset + len > sMaxbytes(file.inode)) return -EFBIG;
  return 0;
}

// Flag names as scenario files write them (types.ts) -> the numbers the API takes
// (src/mm/constants.ts, the values of Linux's uapi headers).

import * as C from '../mm/constants.ts';
import type { FlagSet } from './types.ts';

const FLAG_VALUES: Readonly<Record<string, number>> = {
  O_RDONLY: C.O_RDONLY, O_WRONLY: C.O_WRONLY, O_RDWR: C.O_RDWR, O_CREAT: C.O_CREAT, O_TRUNC: C.O_TRUNC,
  O_APPEND: C.O_APPEND, O_DIRECT: C.O_DIRECT, O_SYNC: C.O_SYNC, O_DSYNC: C.O_DSYNC,
  PROT_NONE: C.PROT_NONE, PROT_READ: C.PROT_READ, PROT_WRITE: C.PROT_WRITE, PROT_EXEC: C.PROT_EXEC,
  MAP_SHARED: C.MAP_SHARED, MAP_PRIVATE: C.MAP_PRIVATE, MAP_SHARED_VALIDATE: C.MAP_SHARED_VALIDATE,
  MAP_FIXED: C.MAP_FIXED, MAP_FIXED_NOREPLACE: C.MAP_FIXED_NOREPLACE, MAP_ANONYMOUS: C.MAP_ANONYMOUS,
  MAP_POPULATE: C.MAP_POPULATE, MAP_SYNC: C.MAP_SYNC, MAP_NORESERVE: C.MAP_NORESERVE, MAP_LOCKED: C.MAP_LOCKED,
  MAP_NONBLOCK: C.MAP_NONBLOCK, MAP_STACK: C.MAP_STACK, MAP_HUGETLB: C.MAP_HUGETLB,
  MAP_GROWSDOWN: C.MAP_GROWSDOWN, MAP_DENYWRITE: C.MAP_DENYWRITE, MAP_EXECUTABLE: C.MAP_EXECUTABLE,
  MAP_32BIT: C.MAP_32BIT, MAP_UNINITIALIZED: C.MAP_UNINITIALIZED,
  MS_SYNC: C.MS_SYNC, MS_ASYNC: C.MS_ASYNC, MS_INVALIDATE: C.MS_INVALIDATE,
  FALLOC_FL_KEEP_SIZE: C.FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE: C.FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE: C.FALLOC_FL_ZERO_RANGE,
  MADV_NORMAL: C.MADV_NORMAL, MADV_RANDOM: C.MADV_RANDOM, MADV_SEQUENTIAL: C.MADV_SEQUENTIAL,
  MADV_WILLNEED: C.MADV_WILLNEED, MADV_DONTNEED: C.MADV_DONTNEED, MADV_HUGEPAGE: C.MADV_HUGEPAGE,
  MADV_NOHUGEPAGE: C.MADV_NOHUGEPAGE, MADV_FREE: C.MADV_FREE, MADV_REMOVE: C.MADV_REMOVE,
  MADV_DONTFORK: C.MADV_DONTFORK, MADV_DOFORK: C.MADV_DOFORK, MADV_COLD: C.MADV_COLD, MADV_PAGEOUT: C.MADV_PAGEOUT,
  MADV_POPULATE_READ: C.MADV_POPULATE_READ, MADV_POPULATE_WRITE: C.MADV_POPULATE_WRITE,
};

/** The number of one flag name; a name the parser accepted but this table lacks is a bug here. */
export function flagValue(name: string): number {
  const v = FLAG_VALUES[name];
  if (v === undefined) throw new Error(`scenario runner: no numeric value for flag ${name}`);
  return v;
}

/** The OR of a flag set's named bits and its extra bits, as an unsigned 32-bit number. */
export function flagsToNumber(set: FlagSet<string>): number {
  let bits = set.extraBits;
  for (const n of set.names) bits |= flagValue(n);
  return bits >>> 0;
}

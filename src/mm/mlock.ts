/**
 * mlock, mlock2, munlock, mlockall and munlockall (mm/mlock.c v6.1; the same rules in 6.18):
 * VM_LOCKED (and VM_LOCKONFAULT) set or cleared VMA by VMA (mlock_fixup, splitting and merging),
 * then the range populated as __mm_populate does it (mm/gup.c populate_vma_page_range: write
 * faults for a private writable mapping, so its file pages are COW-copied now; read faults
 * otherwise; nothing for VM_LOCKONFAULT). mlock_fixup leaves DAX and special VMAs unlocked
 * (vma_is_dax, VM_SPECIAL) but they are still populated. The caller runs as root
 * (CAP_IPC_LOCK): RLIMIT_MEMLOCK is not checked. Locked pages are not kept off the model's LRU
 * (no reclaim runs in the scenarios that lock).
 */
import { EINVAL, ENOMEM, EFAULT, EAGAIN } from '../lib/errno.ts';
import type { Kernel, Task } from '../kernel/kernel.ts';
import type { Mm, Vma } from './mm.ts';
import { PAGE_SIZE, TASK_SIZE, VM_LOCKED, VM_LOCKONFAULT, VM_LOCKED_MASK, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND,
  VM_SHARED, VM_WRITE, MLOCK_ONFAULT, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT } from './constants.ts';
import { vmasIn, mergeVmas } from './mmap.ts';
import { populateRange } from './populate.ts';

/** VM_SPECIAL (include/linux/mm.h): VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP. */
const VM_SPECIAL = VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/**
 * mlock_fixup (mm/mlock.c v6.1) on [start, end) of `v`: give it `newFlags`' lock bits, splitting
 * off the part outside the range and merging back what has become alike. DAX and special VMAs
 * keep their flags ("don't set VM_LOCKED or VM_LOCKONFAULT and don't count").
 */
function mlockFixup(k: Kernel, mm: Mm, v: Vma, start: number, end: number, lockBits: number): void {
  const newFlags = (v.flags & ~VM_LOCKED_MASK) | lockBits;
  if (newFlags === v.flags || (v.flags & VM_SPECIAL) !== 0) return;
  if (v.file !== null && v.file.inode.dax) return; // vma_is_dax
  if ((newFlags & VM_LOCKED) === 0 && (v.flags & VM_LOCKED) !== 0) k.lru.munlocked(); // mlock_vma_pages_range
  for (const w of vmasIn(k, mm, start, end)) w.flags = newFlags;
  mergeVmas(k, mm, start, end);
}

/**
 * apply_vma_lock_flags (mm/mlock.c v6.1): lock bits on every VMA of [start, start + len);
 * -ENOMEM at the first address no VMA maps (the VMAs before it keep their new bits).
 */
function applyVmaLockFlags(k: Kernel, mm: Mm, start: number, len: number, lockBits: number): number {
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  const first = mm.findVma(start);
  if (!first || first.start > start) return -ENOMEM;
  let cur = start;
  while (cur < end) {
    const v = mm.findVma(cur);
    if (!v || v.start > cur) return -ENOMEM;
    const tmp = Math.min(v.end, end);
    mlockFixup(k, mm, v, cur, tmp, lockBits);
    cur = tmp;
  }
  mm.invalidateWalkCache();
  return 0;
}

/**
 * __mm_populate (mm/gup.c v6.1) over [start, end): every VMA it meets (except PFN maps), through
 * populate_vma_page_range. With `ignoreErrors` false the first error stops it and is returned.
 */
export function mmPopulate(k: Kernel, task: Task, mm: Mm, start: number, end: number, ignoreErrors: boolean): number {
  for (const v of [...mm.vmas]) {
    if (v.end <= start || v.start >= end) continue;
    if ((v.flags & VM_PFNMAP) !== 0) continue;
    if ((v.flags & VM_LOCKONFAULT) !== 0) continue; // populate_vma_page_range returns at once
    const write = (v.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    const r = populateRange(k, task, v, Math.max(start, v.start), Math.min(end, v.end), write);
    if (r < 0 && !ignoreErrors) return r;
  }
  return 0;
}

/** __mlock_posix_error_return (mm/mlock.c v6.1): GUP's EFAULT is ENOMEM and its ENOMEM is EAGAIN to mlock's caller. */
function posixError(e: number): number {
  return e === -EFAULT ? -ENOMEM : e === -ENOMEM ? -EAGAIN : e;
}

/** do_mlock (mm/mlock.c v6.1): mlock(2) (flags 0) and mlock2(2) (MLOCK_ONFAULT). */
export function doMlock(k: Kernel, task: Task, mm: Mm, start: number, len: number, flags: number): number {
  if ((flags & ~MLOCK_ONFAULT) !== 0) return -EINVAL;
  len = Math.ceil((len + (start % PAGE_SIZE)) / PAGE_SIZE) * PAGE_SIZE;
  start -= start % PAGE_SIZE;
  const bits = VM_LOCKED | ((flags & MLOCK_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0);
  const err = applyVmaLockFlags(k, mm, start, len, bits);
  if (err < 0) return err;
  const r = mmPopulate(k, task, mm, start, start + len, false);
  return r < 0 ? posixError(r) : 0;
}

/** munlock(2) (mm/mlock.c v6.1): clear the lock bits of the range; ENOMEM for unmapped parts. */
export function doMunlock(k: Kernel, mm: Mm, start: number, len: number): number {
  len = Math.ceil((len + (start % PAGE_SIZE)) / PAGE_SIZE) * PAGE_SIZE;
  start -= start % PAGE_SIZE;
  return applyVmaLockFlags(k, mm, start, len, 0);
}

/**
 * mlockall(2) (mm/mlock.c v6.1 apply_mlockall_flags): MCL_FUTURE sets mm->def_flags (new mappings
 * are locked, on fault with MCL_ONFAULT); MCL_CURRENT locks every VMA and populates them all,
 * ignoring errors. MCL_ONFAULT alone, no flag, or an unknown bit: EINVAL.
 */
export function doMlockall(k: Kernel, task: Task, mm: Mm, flags: number): number {
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) {
    return -EINVAL;
  }
  const onFault = (flags & MCL_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0;
  mm.defFlags &= ~VM_LOCKED_MASK;
  if ((flags & MCL_FUTURE) !== 0) mm.defFlags |= VM_LOCKED | onFault;
  if ((flags & MCL_CURRENT) === 0) return 0;
  for (const v of [...mm.vmas]) mlockFixup(k, mm, v, v.start, v.end, VM_LOCKED | onFault);
  mm.invalidateWalkCache();
  mmPopulate(k, task, mm, 0, TASK_SIZE, true);
  return 0;
}

/** munlockall(2) (mm/mlock.c v6.1 apply_mlockall_flags(0)): def_flags and every VMA lose their lock bits. */
export function doMunlockall(k: Kernel, mm: Mm): number {
  mm.defFlags &= ~VM_LOCKED_MASK;
  for (const v of [...mm.vmas]) mlockFixup(k, mm, v, v.start, v.end, 0);
  mm.invalidateWalkCache();
  return 0;
}

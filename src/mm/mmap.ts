/**
 * Address-space management: mmap (do_mmap + mmap_region + get_unmapped_area), munmap, mprotect
 * and madvise, with Linux's argument checks and errno (mm/mmap.c, mm/mprotect.c, mm/madvise.c,
 * v6.1; flag validation per reference §5.2). Returns -errno on failure.
 */
import { EINVAL, ENOMEM, EBADF, EACCES, EOPNOTSUPP, EEXIST, EOVERFLOW, ENODEV } from '../lib/errno.ts';
import type { Kernel, Process } from '../kernel/kernel.ts';
import { Vma } from './mm.ts';
import type { Mm } from './mm.ts';
import type { File } from '../fs/fs.ts';
import {
  PAGE_SIZE, PMD_SIZE, TASK_SIZE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM, MAP_TYPE, MAP_SHARED, MAP_PRIVATE,
  MAP_SHARED_VALIDATE, MAP_FIXED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_SYNC, MAP_LOCKED, MAP_GROWSDOWN,
  MAP_POPULATE, MAP_NONBLOCK, MAP_NORESERVE, LEGACY_MAP_MASK, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD,
  VM_MAYWRITE,
  VM_MAYEXEC, VM_MAYSHARE, VM_SYNC, VM_LOCKED, VM_GROWSDOWN, VM_NORESERVE, VM_SEQ_READ, VM_RAND_READ,
  VM_HUGEPAGE, VM_NOHUGEPAGE, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
  MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_COLD, MADV_PAGEOUT,
  VM_DONTCOPY, VM_PFNMAP, VM_WIPEONFORK, MADV_WIPEONFORK, MADV_KEEPONFORK,
  MADV_POPULATE_READ, MADV_POPULATE_WRITE,
  FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE, _PAGE_PRESENT, _PAGE_USER, _PAGE_ACCESSED, _PAGE_NX, _PAGE_RW,
  _PAGE_DIRTY, _PAGE_SPECIAL, _PAGE_DEVMAP, _PAGE_SOFT_DIRTY, _PAGE_PSE, _PAGE_PROTNONE,
} from './constants.ts';
import { zapRange } from './rmap.ts';
import { assert } from '../lib/assert.ts';
import { freePgtables } from './pgtable-free.ts';
import { madviseWillneedRange } from './fadvise.ts';
import { pteIndex, pmdTableOf, pmdIndex, clearPmdLeaf } from './pgtable.ts';
import { splitHugePmdAny } from './huge-memory.ts';
import { populateRange, populateVma } from './populate.ts';
import { folioMarkDirty } from './pagemap.ts';

/** vma_wants_writenotify (mm/mmap.c v6.1): shared writable VMAs whose owner tracks writes. */
export function vmaWantsWritenotify(vma: Vma): boolean {
  if ((vma.flags & (VM_WRITE | VM_SHARED)) !== (VM_WRITE | VM_SHARED)) return false;
  const ops = vma.ops;
  if (!ops) return false;
  return !!ops.pageMkwrite || !!ops.pfnMkwrite || ops.canWriteback;
}

/** vm_get_page_prot + write-notify (reference §7): the PTE flag word new PTEs of `vma` get. */
export function vmaPageProt(vma: Vma): number {
  if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return 0; // PROT_NONE: no present PTE
  let p = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if ((vma.flags & VM_EXEC) === 0) p |= _PAGE_NX;
  if ((vma.flags & VM_SHARED) !== 0 && (vma.flags & VM_WRITE) !== 0 && !vmaWantsWritenotify(vma)) p |= _PAGE_RW;
  return p;
}

function protToVmFlags(prot: number): number {
  return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

/** Is [addr, addr+len) free of VMAs? */
export function rangeFree(mm: Mm, addr: number, len: number): boolean {
  const v = mm.findVma(addr);
  return !v || v.start >= addr + len;
}

/**
 * Top-down search for a free range of `len` bytes below `high` (vm_unmapped_area with
 * VM_UNMAPPED_AREA_TOPDOWN): the highest gap that fits. Returns -ENOMEM when none.
 */
function unmappedAreaTopdown(mm: Mm, len: number, high: number): number {
  let top = high;
  for (let i = mm.vmas.length - 1; i >= -1; i--) {
    const v = i >= 0 ? mm.vmas[i]! : null;
    if (v && v.start >= top) continue;
    const gapLow = v ? v.end : PAGE_SIZE * 16;
    if (top - gapLow >= len) return top - len;
    if (v) top = Math.min(top, v.start);
  }
  return -ENOMEM;
}

/**
 * get_unmapped_area (mm/mmap.c v6.1) with the arch top-down allocator and, for files whose
 * filesystem asks for it, thp_get_unmapped_area (mm/huge_memory.c): pad the search by 2 MiB and
 * return an address congruent to the file offset modulo 2 MiB, when the file range holds at
 * least one whole aligned 2 MiB chunk.
 */
export function getUnmappedArea(mm: Mm, addr: number, len: number, offsetBytes: number, flags: number,
  thp: boolean): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (flags & MAP_FIXED) {
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (addr + len > TASK_SIZE) return -ENOMEM;
    return addr;
  }
  if (addr) {
    addr = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
    if (addr + len <= TASK_SIZE && addr >= PAGE_SIZE * 16 && rangeFree(mm, addr, len)) return addr;
  }
  if (thp) {
    const offAlign = Math.ceil(offsetBytes / PMD_SIZE) * PMD_SIZE;
    const offEnd = Math.floor((offsetBytes + len) / PMD_SIZE) * PMD_SIZE;
    if (offEnd > offAlign && offEnd - offAlign >= PMD_SIZE) {
      const r = unmappedAreaTopdown(mm, len + PMD_SIZE, mm.mmapBase);
      if (r >= 0) {
        const delta = (((offsetBytes - r) % PMD_SIZE) + PMD_SIZE) % PMD_SIZE;
        return r + delta;
      }
    }
  }
  return unmappedAreaTopdown(mm, len, mm.mmapBase);
}

/** Insert a VMA keeping the list sorted (no merging with neighbours: each mmap stays its own VMA). */
export function insertVma(mm: Mm, vma: Vma): void {
  let i = 0;
  while (i < mm.vmas.length && mm.vmas[i]!.start < vma.start) i++;
  mm.vmas.splice(i, 0, vma);
  mm.vmaCache = null;
}

/**
 * Split the VMA containing `addr` so that a VMA boundary falls at `addr` (__split_vma, mm/mmap.c
 * v6.1: the new VMA holds its own file reference). A huge PMD across `addr` is split first
 * (vma_adjust_trans_huge): an anonymous THP into PTEs, a page-cache or DAX PMD zapped, so the next
 * access refaults by PTE. Whatever splits the VMA does it: mprotect, mlock, madvise advice that
 * changes vm_flags (MADV_SEQUENTIAL, as fuzz seed 233 on every DAX guest showed), a partial munmap.
 */
function splitAt(k: Kernel, mm: Mm, addr: number): void {
  const v = mm.findVma(addr);
  if (!v || v.start >= addr) return;
  if (addr % PMD_SIZE !== 0) {
    const pmd = pmdTableOf(mm.pgd, addr);
    const pi = pmdIndex(addr);
    if (pmd && pmd.leafFlags[pi] !== 0) {
      splitHugePmdAny(k, v, pmd, pi, addr - (addr % PMD_SIZE), (h) => folioMarkDirty(k, h));
    }
  }
  const tail = new Vma(mm, addr, v.end, v.pgoff + (addr - v.start) / PAGE_SIZE, v.flags, v.file);
  tail.ops = v.ops;
  tail.pageProt = v.pageProt;
  tail.name = v.name;
  tail.anonVma = v.anonVma; // anon_vma_clone
  v.end = addr;
  insertVma(mm, tail);
  if (v.file) {
    v.file.inode.mapping.iMmap.add(tail);
    k.vfs.getMapping(v.file);
  }
}

/** VMAs overlapping [start, end), after splitting at both ends. */
export function vmasIn(k: Kernel, mm: Mm, start: number, end: number): Vma[] {
  splitAt(k, mm, start);
  splitAt(k, mm, end);
  return mm.vmas.filter((v) => v.start < end && v.end > start);
}

/**
 * Can `b`, which starts where `a` ends, be folded into `a`? (is_mergeable_vma and the pgoff rule
 * of can_vma_merge_after, mm/mmap.c v6.1): the same flags, file, operations, name and protection,
 * and file offsets that continue. Anonymous memory of one mapping continues its pgoff as well.
 */
function vmasMergeable(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.flags === b.flags && a.file === b.file && a.ops === b.ops && a.name === b.name &&
    a.pageProt === b.pageProt && a.pgoff + a.pages === b.pgoff;
}

/**
 * vma_merge as mprotect_fixup and madvise_update_vma call it (mm/mmap.c v6.1): after the flags of
 * [start, end) changed, the VMAs meeting at a boundary inside or at the edges of the range merge
 * when they have become alike (6.1 guest: MADV_DONTFORK on one page splits a mapping in three,
 * MADV_DOFORK makes it one again; so does mprotect back to the old protection). Adjacent VMAs of
 * separate mmap calls elsewhere are left as they are (the model does not merge at mmap time).
 */
export function mergeVmas(k: Kernel, mm: Mm, start: number, end: number): void {
  for (let i = 0; i + 1 < mm.vmas.length;) {
    const a = mm.vmas[i]!, b = mm.vmas[i + 1]!;
    if (a.end >= start && a.end <= end && vmasMergeable(a, b)) {
      a.end = b.end;
      a.anonVma ||= b.anonVma;
      mm.vmas.splice(i + 1, 1);
      mm.vmaCache = null;
      if (b.file) {
        b.file.inode.mapping.iMmap.delete(b);
        k.vfs.putMapping(b.file);
      }
      continue;
    }
    i++;
  }
}

/** do_munmap (v6.1): unmap [addr, addr+len); returns 0 or -errno. */
export function doMunmap(k: Kernel, mm: Mm, addr: number, len: number): number {
  if (addr % PAGE_SIZE !== 0 || addr > TASK_SIZE || len > TASK_SIZE - addr) return -EINVAL;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (len === 0) return -EINVAL;
  const end = addr + len;
  for (const v of vmasIn(k, mm, addr, end)) {
    zapRange(k, v, v.start, v.end, true);
    if ((v.flags & VM_LOCKED) !== 0) k.lru.munlocked(); // munlock_vma_folio as the PTEs go
    if (v.file) {
      v.file.inode.mapping.iMmap.delete(v);
      k.vfs.putMapping(v.file);
    }
    mm.vmas.splice(mm.vmas.indexOf(v), 1);
  }
  mm.vmaCache = null;
  freePgtables(k, mm, addr, end);
  mm.invalidateWalkCache();
  return 0;
}

export interface MmapResult { addr: number; vma: Vma | null }

/**
 * do_mmap + mmap_region (mm/mmap.c v6.1): validate, place and create a mapping. Returns the
 * address, or -errno. Flag validation follows reference §5.2 (VM_SYNC computed from the unmasked
 * flags before MAP_SHARED strips unknown bits).
 */
export function doMmap(k: Kernel, proc: Process, addr: number, len: number, prot: number, flags: number, fd: number,
  offsetBytes: number, name = ''): number {
  const mm = proc.mm;
  // The order of the checks (measured on the 6.18 host, an API fuzzer finding): sys_mmap
  // (arch/x86/kernel/sys_x86_64.c) refuses an offset that is not page-aligned; ksys_mmap_pgoff
  // (mm/mmap.c) looks the descriptor up (EBADF) before do_mmap sees the length (0: EINVAL,
  // wrapping when page-aligned: ENOMEM), the address space (ENOMEM), and then, for a file, the
  // offset's range (file_mmap_ok: a negative loff_t is above MAX_LFS_FILESIZE, EOVERFLOW). An
  // anonymous mapping ignores the offset. The API's own limit: file offsets end at 2^53 (EOVERFLOW).
  if (offsetBytes % PAGE_SIZE !== 0) return -EINVAL;
  let file: File | null = null;
  if ((flags & MAP_ANONYMOUS) === 0) {
    file = fd >= 0 ? proc.fds[fd] ?? null : null;
    if (!file) return -EBADF;
  }
  if (len === 0) return -EINVAL;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (len >= 2 ** 64) return -ENOMEM; // PAGE_ALIGN wrapped to 0
  if (len > TASK_SIZE) return -ENOMEM;
  if (file === null) offsetBytes = Math.max(0, offsetBytes);
  // MAP_FIXED_NOREPLACE asks for exactly `addr` (it implies MAP_FIXED, minus the replacing).
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  const thp = file ? file.inode.sb.fs.thpUnmappedArea(file.inode) : false;
  const a = getUnmappedArea(mm, addr, len, Math.max(0, offsetBytes), flags, thp);
  if (a < 0) return a;
  if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !rangeFree(mm, a, len)) return -EEXIST;
  if (file !== null && (offsetBytes < 0 || offsetBytes + len > 2 ** 53)) return -EOVERFLOW;
  let vmFlags = mmapVmFlags(prot, flags) | mm.defFlags; // mm->def_flags: mlockall(MCL_FUTURE)
  if (file) {
    vmFlags = mmapFileVmFlags(file, prot, flags, vmFlags);
    if (vmFlags < 0) return vmFlags;
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vmFlags & VM_GROWSDOWN) return -EINVAL;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        // shmem_zero_setup: a shared anonymous mapping is backed by an unlinked shmem file of its
        // length, mapped from offset 0 (so reads allocate pages and map them writable).
        file = k.vfs.shmemZeroSetup(proc, len);
        offsetBytes = 0;
        break;
      case MAP_PRIVATE:
        break;
      default:
        return -EINVAL;
    }
  }
  const err = mmapRegion(k, proc, a, len, vmFlags, file, offsetBytes, name);
  if (err < 0) return err;
  // do_mmap's populate: MAP_LOCKED (VM_LOCKED) or MAP_POPULATE without MAP_NONBLOCK (mm_populate).
  if ((vmFlags & VM_LOCKED) !== 0 || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE) {
    populateVma(k, proc.tasks[0]!, mm.findVma(a)!);
  }
  return a;
}

/** calc_vm_prot_bits | calc_vm_flag_bits | VM_MAY* (do_mmap, mm/mmap.c v6.1): a new mapping's VMA flags. */
function mmapVmFlags(prot: number, flags: number): number {
  let vmFlags = protToVmFlags(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & MAP_SYNC) vmFlags |= VM_SYNC;
  if (flags & MAP_LOCKED) vmFlags |= VM_LOCKED;
  if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  if (flags & MAP_NORESERVE) vmFlags |= VM_NORESERVE;
  return vmFlags;
}

/**
 * do_mmap's checks for a file mapping (mm/mmap.c v6.1): the mapping type, flags the filesystem
 * does not support under MAP_SHARED_VALIDATE (EOPNOTSUPP), and the file's access mode (EACCES).
 * Returns the VMA flags with the sharing bits, or -errno (VMA flags fit in 31 bits, so a negative
 * result is always an errno).
 */
function mmapFileVmFlags(file: File, prot: number, flags: number, vmFlags: number): number {
  switch (flags & MAP_TYPE) {
    case MAP_SHARED:
    case MAP_SHARED_VALIDATE: {
      const f2 = (flags & MAP_TYPE) === MAP_SHARED ? (flags & LEGACY_MAP_MASK) : flags;
      if ((f2 & ~(LEGACY_MAP_MASK | file.inode.sb.fs.mmapSupportedFlags)) >>> 0 !== 0) return -EOPNOTSUPP;
      if ((prot & PROT_WRITE) !== 0 && !file.writable) return -EACCES;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      if (!file.writable) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
      if (!file.readable) return -EACCES;
      if (file.inode.isDir) return -ENODEV; // no f_op->mmap (a directory)
      if (vmFlags & VM_GROWSDOWN) return -EINVAL;
      return vmFlags;
    }
    case MAP_PRIVATE:
      if (!file.readable) return -EACCES;
      if (file.inode.isDir) return -ENODEV;
      if (vmFlags & VM_GROWSDOWN) return -EINVAL;
      return vmFlags;
    default:
      return -EINVAL;
  }
}

/**
 * mmap_region (mm/mmap.c v6.1): replace whatever was at [a, a+len) (MAP_FIXED), create the VMA
 * and call f_op->mmap. Returns 0 or the -errno of f_op->mmap.
 */
function mmapRegion(k: Kernel, proc: Process, a: number, len: number, vmFlags: number, file: File | null,
  offsetBytes: number, name: string): number {
  const mm = proc.mm;
  if (!rangeFree(mm, a, len)) doMunmap(k, mm, a, len);
  const vma = new Vma(mm, a, a + len, offsetBytes / PAGE_SIZE, vmFlags, file);
  vma.name = name;
  if (file) {
    const fs = file.inode.sb.fs;
    vma.ops = fs.vmOps(file.inode);
    const err = fs.mmap(file, vma);
    if (err < 0) return err;
    k.vfs.getMapping(file);
    file.inode.mapping.iMmap.add(vma);
  }
  vma.pageProt = vmaPageProt(vma);
  insertVma(mm, vma);
  return 0;
}

/** mprotect (mm/mprotect.c v6.1): change protections of [addr, addr+len). */
export function doMprotect(k: Kernel, mm: Mm, addr: number, len: number, prot: number): number {
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  // arch_validate_prot (include/linux/mman.h, the generic one x86 uses, 6.1/6.18): READ, WRITE,
  // EXEC and SEM are valid; SEM sets no VM flag (calc_vm_prot_bits ignores it).
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) return -EINVAL;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const end = addr + len;
  if (end < addr) return -ENOMEM;
  if (len === 0) return 0;
  // The whole range must be mapped (no holes) or ENOMEM.
  let cur = addr;
  for (const v of mm.vmas) {
    if (v.end <= cur) continue;
    if (v.start > cur) break;
    cur = v.end;
    if (cur >= end) break;
  }
  if (cur < end) return -ENOMEM;
  const newVm = protToVmFlags(prot);
  for (const v of mm.vmas) {
    if (v.start < end && v.end > addr && (newVm & VM_WRITE) && !(v.flags & VM_MAYWRITE)) return -EACCES;
  }
  for (const v of vmasIn(k, mm, addr, end)) {
    const oldFlags = v.flags;
    v.flags = (v.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | newVm;
    if (v.flags === oldFlags) continue; // mprotect_fixup: nothing to change
    v.pageProt = vmaPageProt(v);
    if (changeProtection(k, mm, v) > 0) k.vmstat.nr_tlb_local_flush_all++;
  }
  mergeVmas(k, mm, addr, end);
  mm.invalidateWalkCache();
  return 0;
}

/** The PTE bits pte_modify keeps (_PAGE_CHG_MASK: the PFN is kept apart here). */
const PTE_CHG_MASK = _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SPECIAL | _PAGE_DEVMAP | _PAGE_SOFT_DIRTY | _PAGE_PSE;

/**
 * The new value of a present (or PROT_NONE) entry under `vma`'s protection (change_pte_range /
 * change_huge_pmd, mm/mprotect.c v6.18): pte_modify keeps Accessed, Dirty and the software bits and
 * takes the rest from vm_page_prot; PROT_NONE leaves a not-present entry that still maps the page
 * (x86 _PAGE_PROTNONE), so any access faults and is refused by the
 * VMA check. A dirty PTE of a shared writable mapping that wants write-notify becomes writable
 * at once (the fs was notified when it got dirty: the dirty_accountable upgrade, 2.6.x to
 * can_change_pte_writable in 6.x), so writes after mprotect(RO) + mprotect(RW) take no fault.
 * `upgrade` false (a huge PMD on a profile without mprotectPmdWriteUpgrade, 6.1) skips that.
 */
function modifiedEntry(vma: Vma, old: number, newProt: number, upgrade: boolean): number {
  if (newProt === 0) return (old & PTE_CHG_MASK) | _PAGE_PROTNONE;
  let fl = (old & PTE_CHG_MASK) | newProt;
  const sharedWritable = (vma.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
  if (upgrade && (fl & _PAGE_RW) === 0 && sharedWritable && (old & _PAGE_DIRTY) !== 0) fl |= _PAGE_RW;
  return fl;
}

/**
 * change_protection (mm/mprotect.c v6.18; the same rules since 2.6 for these bits) over `vma`:
 * every populated PTE and huge PMD leaf gets the VMA's new protection. A huge PMD that the VMA
 * covers only in part was split when the VMA was (splitAt: vma_adjust_trans_huge). Returns how
 * many entries changed.
 */
function changeProtection(k: Kernel, mm: Mm, vma: Vma): number {
  const newProt = vma.pageProt;
  let changed = 0;
  for (let va = vma.start; va < vma.end;) {
    const blockStart = Math.floor(va / PMD_SIZE) * PMD_SIZE;
    const blockEnd = blockStart + PMD_SIZE;
    const pmd = pmdTableOf(mm.pgd, va);
    if (pmd) {
      const pi = pmdIndex(va);
      // splitAt already split any huge PMD that crossed the VMA's edges (vma_adjust_trans_huge).
      assert(pmd.leafFlags[pi] === 0 || (blockStart >= vma.start && blockEnd <= vma.end),
        'change_protection: a huge PMD crosses the VMA edge');
      const lf = pmd.leafFlags[pi]!;
      if (lf !== 0) {
        const nf = modifiedEntry(vma, lf, newProt === 0 ? 0 : newProt | _PAGE_PSE, k.profile.mprotectPmdWriteUpgrade);
        if (nf !== lf) { pmd.leafFlags[pi] = nf; changed++; }
      } else {
        const t = pmd.tables[pi] ?? null;
        if (t) {
          const last = Math.min(vma.end, blockEnd);
          for (let a = va; a < last; a += PAGE_SIZE) {
            const i = pteIndex(a);
            const old = t.flags[i]!;
            if (old === 0) continue;
            const nf = modifiedEntry(vma, old, newProt, true);
            if (nf !== old) { t.flags[i] = nf; changed++; }
          }
        }
      }
    }
    va = blockEnd;
  }
  return changed;
}

/**
 * madvise_cold_or_pageout_pte_range (mm/madvise.c, 5.4-6.4) on a DAX PMD: the leaf is neither a
 * page table nor pmd_trans_huge, so pmd_trans_unstable finds it pmd_bad and pmd_clear_bad() drops
 * it (no rmap or RSS to undo for devmap); every PMD the range touches, even in part (profile
 * madvColdClearsDevmapPmd).
 */
function clearDevmapPmds(mm: Mm, start: number, end: number): void {
  for (let va = Math.floor(start / PMD_SIZE) * PMD_SIZE; va < end; va += PMD_SIZE) {
    const pmd = pmdTableOf(mm.pgd, va);
    if (pmd && (pmd.leafFlags[pmdIndex(va)]! & _PAGE_DEVMAP) !== 0) clearPmdLeaf(mm, pmd, pmdIndex(va));
  }
}

/**
 * One advice's work on the part [s0, e0) of VMA `v` that the range covers: 0 to go on with the
 * next VMA, or -errno to stop there (madvise_vma_behavior's switch, mm/madvise.c v6.1).
 */
type MadviseHandler = (k: Kernel, mm: Mm, v: Vma, s0: number, e0: number, advice: number) => number;

/**
 * can_madv_lru_vma (mm/madvise.c v6.1, v6.18): DONTNEED, FREE, COLD and PAGEOUT refuse VM_LOCKED
 * (and PFN-map) VMAs with EINVAL.
 */
function canMadvLruVma(v: Vma): boolean {
  return (v.flags & (VM_LOCKED | VM_PFNMAP)) === 0;
}

/** MADV_DONTNEED (madvise_dontneed_free): zap the range; the VMA stays as it is. */
function madviseDontneed(k: Kernel, _mm: Mm, v: Vma, s0: number, e0: number): number {
  if (!canMadvLruVma(v)) return -EINVAL;
  zapRange(k, v, s0, e0, true);
  return 0;
}

/**
 * MADV_POPULATE_READ/WRITE: madvise_populate -> faultin_vma_page_range (mm/madvise.c, mm/gup.c
 * v6.1): GUP faults, counted in the task's min/maj_flt; EINVAL for a mapping the access is not
 * allowed on, EFAULT when a fault ends in SIGBUS (past EOF) or SIGSEGV.
 */
function madvisePopulate(k: Kernel, _mm: Mm, v: Vma, s0: number, e0: number, advice: number): number {
  const write = advice === MADV_POPULATE_WRITE;
  if ((v.flags & (write ? VM_WRITE : VM_READ)) === 0) return -EINVAL;
  const r = populateRange(k, k.current, v, s0, e0, write);
  return r < 0 ? r : 0;
}

/**
 * MADV_FREE (madvise_free_single_vma): private anonymous memory only. The pages become lazily
 * freeable; the model never reclaims anonymous memory, so they keep their contents, as Linux does
 * until memory runs short.
 */
function madviseFree(_k: Kernel, _mm: Mm, v: Vma): number {
  if (!canMadvLruVma(v)) return -EINVAL;
  return v.file !== null || (v.flags & VM_SHARED) !== 0 ? -EINVAL : 0;
}

/**
 * MADV_REMOVE (madvise_remove, mm/madvise.c v6.7; v5.10 with VM_WRITE): refuse a locked VMA, then
 * punch a hole in the file behind a shared mapping that may be written (VM_MAYWRITE), or that is
 * writable now (VM_WRITE)
 * before vma_is_shared_maywrite (knob madvRemoveMayWrite).
 */
function madviseRemove(k: Kernel, _mm: Mm, v: Vma, s0: number, e0: number): number {
  // VM_LOCKED first (EINVAL), even on PROT_NONE: measured on the 6.18 host
  // (test/oracle-runs/madv-remove-partial.linux-6.18.*, an API fuzzer finding).
  if ((v.flags & VM_LOCKED) !== 0) return -EINVAL;
  if (v.file === null) return -EINVAL;
  const w = k.profile.madvRemoveMayWrite ? VM_MAYWRITE : VM_WRITE;
  if ((v.flags & (VM_SHARED | w)) !== (VM_SHARED | w)) return -EACCES;
  const off = (v.pgoff + (s0 - v.start) / PAGE_SIZE) * PAGE_SIZE;
  const r = k.vfs.fallocate(v.file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, e0 - s0);
  return r < 0 ? r : 0;
}

/** MADV_COLD (madvise_cold): a reclaim-order hint; the model's LRU keeps its order. */
function madviseCold(k: Kernel, mm: Mm, v: Vma, s0: number, e0: number): number {
  if (!canMadvLruVma(v)) return -EINVAL;
  if (k.profile.madvColdClearsDevmapPmd) clearDevmapPmds(mm, s0, e0);
  return 0;
}

/**
 * MADV_PAGEOUT (madvise_pageout): reclaim now the page-cache folios this VMA maps that no other
 * process maps. Anonymous pages stay (no swap); DAX has no page-cache folios.
 */
function madvisePageout(k: Kernel, mm: Mm, v: Vma, s0: number, e0: number): number {
  if (!canMadvLruVma(v)) return -EINVAL;
  if (k.profile.madvColdClearsDevmapPmd) clearDevmapPmds(mm, s0, e0);
  if (!v.file || v.file.inode.dax) return 0;
  const f = k.frames;
  const heads = new Set<number>();
  for (let va = s0; va < e0; va += PAGE_SIZE) {
    const pmd = pmdTableOf(mm.pgd, va);
    if (!pmd) continue;
    const pi = pmdIndex(va);
    const leaf = pmd.leafFlags[pi] !== 0;
    const pfn = leaf ? pmd.leafPfn[pi]! : pmd.tables[pi]?.pfn[pteIndex(va)] ?? -1;
    const fl = leaf ? pmd.leafFlags[pi]! : pmd.tables[pi]?.flags[pteIndex(va)] ?? 0;
    if (fl === 0 || (fl & _PAGE_SPECIAL) !== 0 || pfn < 0 || pfn >= k.pmemBase || f.owner[pfn]! <= 0) continue;
    if (f.mapcount[pfn]! > 1) continue; // folio_likely_mapped_shared
    heads.add(f.head[pfn]!);
  }
  for (const h of heads) k.lru.pageoutFolio(h);
  return 0;
}

/** MADV_WILLNEED (madvise_willneed, src/mm/fadvise.ts): capped readahead of the file range. */
function madviseWillneed(k: Kernel, _mm: Mm, v: Vma, s0: number, e0: number): number {
  return madviseWillneedRange(k, v.file, v.pgoff + (s0 - v.start) / PAGE_SIZE, (e0 - s0) / PAGE_SIZE);
}

/** The VMA flags an advice sets and clears (madvise_vma_behavior's new_flags, v6.1). */
const madviseFlagChanges = new Map<number, readonly [set: number, clear: number]>([
  [MADV_NORMAL, [0, VM_SEQ_READ | VM_RAND_READ]],
  [MADV_RANDOM, [VM_RAND_READ, VM_SEQ_READ]],
  [MADV_SEQUENTIAL, [VM_SEQ_READ, VM_RAND_READ]],
  [MADV_HUGEPAGE, [VM_HUGEPAGE, VM_NOHUGEPAGE]],
  [MADV_NOHUGEPAGE, [VM_NOHUGEPAGE, VM_HUGEPAGE]],
  [MADV_DONTFORK, [VM_DONTCOPY, 0]],
  [MADV_DOFORK, [0, VM_DONTCOPY]],
  [MADV_WIPEONFORK, [VM_WIPEONFORK, 0]],
  [MADV_KEEPONFORK, [0, VM_WIPEONFORK]],
]);

/**
 * The flag advices (madvise_update_vma, mm/madvise.c v6.1): split the VMA only where its flags
 * really change, set them, and merge what has become alike again.
 */
function madviseUpdateFlags(k: Kernel, mm: Mm, v: Vma, s0: number, e0: number, advice: number): number {
  const [set, clear] = madviseFlagChanges.get(advice)!;
  // MADV_WIPEONFORK is only for private anonymous memory (a shared anonymous VMA has its shmem file).
  if (advice === MADV_WIPEONFORK && (v.file !== null || (v.flags & VM_SHARED) !== 0)) return -EINVAL;
  const nf = (v.flags & ~clear) | set;
  if (nf === v.flags) return 0;
  for (const w of vmasIn(k, mm, s0, e0)) w.flags = nf;
  mergeVmas(k, mm, s0, e0);
  return 0;
}

/** The advices daxsim models and their handlers; any other advice is EINVAL. */
const madviseHandlers = new Map<number, MadviseHandler>([
  [MADV_DONTNEED, madviseDontneed],
  [MADV_POPULATE_READ, madvisePopulate],
  [MADV_POPULATE_WRITE, madvisePopulate],
  [MADV_FREE, madviseFree],
  [MADV_REMOVE, madviseRemove],
  [MADV_COLD, madviseCold],
  [MADV_PAGEOUT, madvisePageout],
  [MADV_WILLNEED, madviseWillneed],
  ...[...madviseFlagChanges.keys()].map((a): [number, MadviseHandler] => [a, madviseUpdateFlags]),
]);

/** Does [addr, end) contain an address no VMA maps? (madvise's -ENOMEM "unmapped_error"). */
function rangeHasHole(mm: Mm, addr: number, end: number): boolean {
  let cur = addr;
  for (const v of mm.vmas) {
    if (v.end <= cur) continue;
    if (v.start >= end) break;
    if (v.start > cur) return true;
    cur = v.end;
  }
  return cur < end;
}

/**
 * madvise (mm/madvise.c v6.1, do_madvise and madvise_walk_vmas) for the advices daxsim models:
 * check the arguments, run the advice's handler on each VMA the range overlaps (stopping at the
 * first error), and report ENOMEM when part of the range was not mapped.
 */
export function doMadvise(k: Kernel, mm: Mm, addr: number, len: number, advice: number): number {
  const handler = madviseHandlers.get(advice);
  if (!handler) return -EINVAL;
  // madvise_behavior_valid: MADV_POPULATE_READ/WRITE exist from 5.14 (profile knob madvPopulate).
  if (!k.profile.madvPopulate && (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE)) return -EINVAL;
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const end = addr + len;
  if (end < addr) return -EINVAL;
  if (len === 0) return 0;
  const unmapped = rangeHasHole(mm, addr, end);
  // The VMAs as they were before any handler split or merged them.
  const overlapping = mm.vmas.filter((v) => v.start < end && v.end > addr);
  for (const v of overlapping) {
    const r = handler(k, mm, v, Math.max(addr, v.start), Math.min(end, v.end), advice);
    if (r < 0) return r;
  }
  mm.invalidateWalkCache();
  return unmapped ? -ENOMEM : 0;
}

/**
 * The page cache's fault side (mm/filemap.c): the page-cache fault handler filemap_fault,
 * fault-around's filemap_map_pages and page_mkwrite for page-cache files. The cache itself (lookup,
 * insertion, removal, the folio lock protocol) is pagemap.ts.
 *
 * Entries: a folio is stored as a multi-order XArray entry (pfn+1)*2 (even); value entries (odd)
 * are shadows of evicted pages (workingset) or DAX entries.
 */
import { assert } from '../lib/assert.ts';
import { xaIsValue } from '../lib/xarray.ts';
import { PG_locked, PG_uptodate, PG_readahead, PG_workingset, PG_writeback, PG_swapbacked } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Inode } from '../fs/fs.ts';
import type { VmFault } from './mm.ts';
import {
  VM_FAULT_FALLBACK, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, VM_FAULT_LOCKED, VM_FAULT_RETRY, VM_FAULT_OOM, VM_FAULT_NOPAGE,
  FAULT_FLAG_TRIED, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_ALLOW_RETRY,
} from './constants.ts';
import {
  findFolio, maxIndex, addNewFolio, maybeUnlockMmapForIo, waitFolioUnlocked, folioMarkDirty,
} from './pagemap.ts';
import { doSyncMmapReadahead, doAsyncMmapReadahead } from './readahead.ts';
import { setPte } from './pgtable.ts';
import type { PteTable } from './pgtable.ts';
import { mapPagesPte } from './pgalloc.ts';
import { filePmdSuitable, doSetPmd } from './huge-memory.ts';
import { folioWithinISize, wholeFolioFits, I_SIZE_FAULT_AROUND } from './whole-folio.ts';
import { COST } from '../lib/cost-category.ts';

/**
 * Read one folio synchronously (filemap_read_folio): lock is held by the caller; submit the
 * read and sleep until it completes. Returns true when the folio became uptodate.
 */
function readFolioSync(k: Kernel, inode: Inode, head: number): boolean {
  const f = k.frames;
  inode.sb.fs.readFolios(inode, [head]);
  // The fs unlocks the folio on completion; wait for that, then take the lock again.
  waitFolioUnlocked(k, head);
  f.flags[head] = f.flags[head]! | PG_locked;
  return (f.flags[head]! & PG_uptodate) !== 0;
}

/**
 * filemap_fault: the page-cache ->fault. Models mm/filemap.c filemap_fault in two variants chosen
 * by the profile: v6.1 (knob dropMmapLockForIo: every blocking step drops mmap_lock first and the
 * fault returns RETRY, lock_folio_maybe_drop_mmap) and v3.16/v4.15 (I/O submitted under mmap_sem,
 * only waiting for a locked page drops it: lock_page_or_retry).
 * Returns LOCKED (+MAJOR) with vmf.page set, or RETRY/SIGBUS/OOM.
 */
export function filemapFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const file = vma.file!;
  const inode = file.inode;
  const mapping = inode.mapping;
  const f = k.frames;
  const index = vmf.pgoff;
  if (index >= maxIndex(inode)) return VM_FAULT_SIGBUS;
  let ret = 0;
  k.charge(k.costs.pageCacheLookupNs, COST.pageCacheLookup);
  let head = findFolio(mapping, index);
  if (head >= 0) {
    if ((vmf.flags & FAULT_FLAG_TRIED) === 0) doAsyncMmapReadahead(k, vmf, file, head);
  } else {
    k.vmstat.pgmajfault++;
    ret = VM_FAULT_MAJOR;
    doSyncMmapReadahead(k, vmf, file);
  }
  for (let attempts = 0; attempts < 100; attempts++) {
    head = findFolio(mapping, index);
    if (head < 0) {
      const r = filemapCreateFolio(k, vmf, inode, index, ret);
      if (r !== FAULT_AGAIN) return r;
      continue;
    }
    if ((f.flags[head]! & PG_locked) !== 0) {
      const r = filemapWaitLockedFolio(k, vmf, head, ret);
      if (r === FAULT_AGAIN) continue;
      if (r !== 0) return r;
    }
    f.flags[head] = f.flags[head]! | PG_locked;
    if ((f.flags[head]! & PG_uptodate) === 0) {
      // page_not_uptodate: read it again synchronously (an earlier read failed or was never issued).
      maybeUnlockMmapForIo(k, vmf);
      f.flags[head] = f.flags[head]! & ~PG_locked;
      const ok = readFolioSync(k, inode, head);
      f.flags[head] = f.flags[head]! & ~PG_locked;
      if (vmf.mmapLockDropped) return ret | VM_FAULT_RETRY;
      if (!ok) return VM_FAULT_SIGBUS;
      continue;
    }
    if (vmf.mmapLockDropped) {
      f.flags[head] = f.flags[head]! & ~PG_locked;
      return ret | VM_FAULT_RETRY;
    }
    if (index >= maxIndex(inode)) {
      f.flags[head] = f.flags[head]! & ~PG_locked;
      return VM_FAULT_SIGBUS;
    }
    vmf.page = head + (index - f.index[head]!);
    k.lru.markAccessed(head);
    return ret | VM_FAULT_LOCKED;
  }
  throw new Error('filemap_fault: folio kept vanishing (100 attempts)');
}

/** filemap_fault's helpers say "look the folio up again" with this (never a VM_FAULT_* set). */
const FAULT_AGAIN = -1;

/**
 * filemap_fault's miss (v6.1 FGP_CREAT; v4.15 page_cache_read): create the folio at `index` and
 * read it. Returns FAULT_AGAIN to look it up again, or the fault's result (RETRY when the mmap
 * lock was dropped for the I/O, OOM, SIGBUS on a read error); `ret` is the MAJOR bit so far.
 */
function filemapCreateFolio(k: Kernel, vmf: VmFault, inode: Inode, index: number, ret: number): number {
  const f = k.frames;
  const head = addNewFolio(k, inode.mapping, index, 0, false);
  if (head < 0) return vmf.mmapLockDropped ? ret | VM_FAULT_RETRY : VM_FAULT_OOM;
  if (!maybeUnlockMmapForIo(k, vmf) && !k.profile.dropMmapLockForIo) {
    // 4.15 page_cache_read: ->readpage starts async I/O; then retry_find locks it.
    inode.sb.fs.readFolios(inode, [head]);
    return FAULT_AGAIN;
  }
  const ok = readFolioSync(k, inode, head);
  f.flags[head] = f.flags[head]! & ~PG_locked;
  if (!ok) return VM_FAULT_SIGBUS;
  if (vmf.mmapLockDropped) return ret | VM_FAULT_RETRY;
  return FAULT_AGAIN;
}

/**
 * filemap_fault finding folio `head` locked: lock_folio_maybe_drop_mmap (v6.1, profile
 * dropMmapLockForIo: drop mmap_lock and sleep, unless RETRY_NOWAIT) or lock_page_or_retry (v4.15:
 * with ALLOW_RETRY drop mmap_sem, wait and return RETRY; without it, wait holding it). Returns 0
 * when the folio may be taken now, FAULT_AGAIN when it was truncated while we slept, or RETRY.
 */
function filemapWaitLockedFolio(k: Kernel, vmf: VmFault, head: number, ret: number): number {
  if (k.profile.dropMmapLockForIo) {
    if ((vmf.flags & FAULT_FLAG_RETRY_NOWAIT) !== 0) return ret | VM_FAULT_RETRY;
    maybeUnlockMmapForIo(k, vmf);
    waitFolioUnlocked(k, head);
  } else if ((vmf.flags & FAULT_FLAG_ALLOW_RETRY) !== 0) {
    if ((vmf.flags & FAULT_FLAG_RETRY_NOWAIT) === 0) {
      vmf.mmapLockDropped = true;
      k.events.mmapLockDrops++;
      waitFolioUnlocked(k, head);
    }
    return ret | VM_FAULT_RETRY;
  } else {
    waitFolioUnlocked(k, head);
  }
  return findFolio(vmf.vma!.file!.inode.mapping, vmf.pgoff) !== head ? FAULT_AGAIN : 0;
}

/** One page table's worth of page-cache entries, gathered per filemap_map_pages call (no allocation). */
const MAP_BATCH = 512;
const batchIndex = new Float64Array(MAP_BATCH);
const batchEntry = new Float64Array(MAP_BATCH);
const batchOrder = new Uint8Array(MAP_BATCH);

/**
 * next_uptodate_folio (mm/filemap.c v6.18; next_uptodate_page in v5.12-v6.1, the loop body of
 * filemap_map_pages before): the first slot from `j` on of the gathered batch (`n` entries) that
 * holds a folio fault-around may map, or `n` when none is left. Skipped, in every version: value
 * entries (shadows, DAX entries), locked folios (the trylock fails; nothing ever waits), folios not
 * uptodate or marked PG_readahead (the fault must reach ->fault to start the next readahead), and
 * the walk's index at or past EOF (`maxIdx` pages). That index is the folio's first page inside
 * the window; the versions differ in the window's end, not here: with mapPagesEofClamp (6.1.159+,
 * 6.12+) the caller has cut the window at the last page of the file, so no page of a large folio
 * past EOF is mapped; without it (plain 6.1 and older) the pages of a folio that straddles EOF
 * are, up to the window's end.
 */
function nextUptodateFolio(k: Kernel, j: number, n: number, maxIdx: number): number {
  const f = k.frames;
  for (; j < n; j++) {
    const entry = batchEntry[j]!;
    if (xaIsValue(entry) || batchIndex[j]! >= maxIdx) continue;
    const fl = f.flags[entry / 2 - 1]!;
    if ((fl & PG_locked) !== 0 || (fl & PG_uptodate) === 0 || (fl & PG_readahead) !== 0) continue;
    return j;
  }
  return n;
}

/**
 * filemap_map_pages: map every ready page of file pages [start, end] that has an empty PTE.
 * Models mm/filemap.c filemap_map_pages (v3.16 through v6.18) and its skip rules (reference §2.4,
 * nextUptodateFolio): value entries, locked, not uptodate, PG_readahead-marked, at/after EOF, and
 * present PTEs are skipped; nothing ever waits. Returns NOPAGE when the faulting page itself got
 * mapped.
 *
 * With profile.mapWholeFolio (v6.18: 357b92761d94) a large folio is mapped whole where the
 * whole-folio rule allows it (whole-folio.ts), even the pages outside [start, end]. With
 * profile.mapPagesISizeGuard (74207de2ba10: 6.18, and Debian's 6.12.117 by backport) the i_size
 * guard is asked once, of the first ready folio of the window (can_map_large): when the PMD is
 * still empty (vmf.pte null, left so by doFaultAround) and mapping large is not allowed, nothing is
 * mapped and no page table is installed: the fault goes on to ->fault and finish_fault, as
 * pte_offset_map_lock fails on the empty PMD. Otherwise the caller has allocated the PTE table
 * covering the window, or it is installed here (filemapMapPmd).
 */
export function filemapMapPages(k: Kernel, vmf: VmFault, start: number, end: number): number {
  const vma = vmf.vma!;
  const mapping = vma.file!.inode.mapping;
  const f = k.frames;
  const maxIdx = maxIndex(mapping.host);
  if (k.profile.mapPagesEofClamp && end > maxIdx - 1) end = maxIdx - 1;
  if (end < start) return 0;
  // The window lies inside one page table, so one batch holds all its entries.
  assert(end - start < MAP_BATCH, 'filemap_map_pages window larger than a page table');
  const n = mapping.pages.gather(start, end, batchIndex, batchEntry, batchOrder, MAP_BATCH);
  let j = nextUptodateFolio(k, 0, n, maxIdx);
  if (j === n) return 0;
  // can_map_large: the i_size guard (mapPagesISizeGuard), asked of the window's first ready folio.
  let canMapLarge = true;
  if (k.profile.mapPagesISizeGuard) {
    const first = batchEntry[j]! / 2 - 1;
    canMapLarge = folioWithinISize(k, first, maxIdx, I_SIZE_FAULT_AROUND);
    if (!vmf.pte) {
      if (!canMapLarge) return 0;
      const r = filemapMapPmd(k, vmf, first);
      if (r !== 0) return r;
    }
  }
  const t = vmf.pte!;
  const prot = vma.pageProt;
  const missStyle = k.profile.mmapMissStyle;
  const faultSlotWasEmpty = t.flags[vmf.pteIndex] === 0;
  let mapped = 0, missDec = 0, swapBacked = false;
  // File page index mapped by the first slot of this PTE table.
  const tableFirst = vmf.pgoff - vmf.pteIndex;
  for (; j < n; j = nextUptodateFolio(k, j + 1, n, maxIdx)) {
    const head = batchEntry[j]! / 2 - 1;
    const fidx = f.index[head]!, nr = 1 << f.order[head]!;
    // Map the large folio fully where the whole-folio rule allows it; else the window's part of it.
    const whole = k.profile.mapWholeFolio && canMapLarge && wholeFolioFits(vma, fidx, nr, tableFirst, true);
    const from = whole ? fidx : batchIndex[j]!;
    const last = whole ? fidx + nr - 1 : Math.min(end, fidx + nr - 1);
    const got = filemapMapFolioRange(k, t, head, from - tableFirst, from, last, prot);
    const fl = f.flags[head]!;
    // mmap_miss: per page looked at (5.12-6.1), per such page not in the workingset (6.12+), or
    // per page mapped (3.16, 4.15).
    if (missStyle === 'per-candidate-page') missDec += last - from + 1;
    else if (missStyle === 'per-candidate-not-workingset') missDec += (fl & PG_workingset) === 0 ? last - from + 1 : 0;
    else missDec += got;
    if (got > 0) swapBacked = (fl & PG_swapbacked) !== 0;
    mapped += got;
  }
  // Pages of one file share the swap-backed property, so the last folio mapped decides the counter.
  if (mapped > 0) vma.mm.addFileRss(swapBacked, mapped);
  const ra = vma.file!.ra;
  ra.mmapMiss = Math.max(0, ra.mmapMiss - missDec);
  k.events.faultaroundPagesMapped += mapped;
  k.charge(mapped * k.costs.faultAroundPerPageNs, COST.faultAround);
  // The faulting page's slot is filled only with that page, so: did this call map it?
  return faultSlotWasEmpty && t.flags[vmf.pteIndex] !== 0 ? VM_FAULT_NOPAGE : 0;
}

/**
 * filemap_map_pmd (mm/filemap.c v6.18) on an empty PMD: a PMD-sized first folio is mapped with one
 * PMD (do_set_pmd); otherwise the PTE table is installed (mapPagesPte). Returns NOPAGE when the
 * PMD was mapped, OOM or another error from do_set_pmd, else 0 with vmf.pte set.
 */
function filemapMapPmd(k: Kernel, vmf: VmFault, first: number): number {
  const vma = vmf.vma!;
  if (k.frames.order[first] === 9 && filePmdSuitable(k, vma, vmf.address, first)) {
    const r = doSetPmd(k, vmf, first, false);
    if (r === 0) return VM_FAULT_NOPAGE;
    if (r !== VM_FAULT_FALLBACK) return r;
  }
  return mapPagesPte(k, vmf) === null ? VM_FAULT_OOM : 0;
}

/**
 * filemap_map_folio_range (mm/filemap.c v6.1-v6.18): map file pages [from, last] of folio `head`,
 * the first of them at PTE slot `pi`, into the empty slots of `t` with `prot` (vm_page_prot),
 * taking a folio reference per page mapped. Returns how many it mapped.
 */
function filemapMapFolioRange(k: Kernel, t: PteTable, head: number, pi: number, from: number, last: number,
  prot: number): number {
  const f = k.frames;
  const pfn0 = head - f.index[head]!; // pfn of file page i is pfn0 + i
  let mapped = 0;
  for (let i = from; i <= last; i++, pi++) {
    if (t.flags[pi] !== 0) continue;
    const pfn = pfn0 + i;
    setPte(t, pi, pfn, prot);
    f.mapcount[pfn] = f.mapcount[pfn]! + 1;
    mapped++;
  }
  f.refcount[head] = f.refcount[head]! + mapped;
  return mapped;
}

/**
 * filemap_page_mkwrite (v6.1): lock the page, check it still belongs to the file, mark it dirty
 * and return it locked. ext4's ext4_page_mkwrite additionally reserves blocks (fs hook).
 */
export function filemapPageMkwrite(k: Kernel, vmf: VmFault): number {
  const f = k.frames;
  const pfn = vmf.page;
  const head = f.head[pfn]!;
  const inode = vmf.vma!.file!.inode;
  k.events.pageMkwrite++;
  waitFolioUnlocked(k, head);
  if (f.owner[head] !== inode.ino || f.index[pfn]! >= maxIndex(inode)) return VM_FAULT_NOPAGE;
  // ext4_page_mkwrite -> block_page_mkwrite prepares every block of the folio (a large folio
  // is mapped whole by 6.18's finish_fault, so all of it becomes writable).
  const first = f.index[head]!, n = 1 << f.order[head]!;
  for (let i = first; i < first + n; i++) {
    const err = inode.sb.fs.reserveForWrite(inode, i);
    if (err < 0) return VM_FAULT_SIGBUS;
  }
  f.flags[head] = f.flags[head]! | PG_locked;
  folioMarkDirty(k, head);
  // Wait for writeback to finish so the page is stable (folio_wait_stable).
  if ((f.flags[head]! & PG_writeback) !== 0) k.sleepUntil(() => (f.flags[head]! & PG_writeback) === 0, 'writeback');
  return VM_FAULT_LOCKED;
}


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
import { VM_FAULT_FALLBACK, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, VM_FAULT_LOCKED, VM_FAULT_RETRY, VM_FAULT_OOM, VM_FAULT_NOPAGE, FAULT_FLAG_TRIED, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_ALLOW_RETRY, _PAGE_PRESENT } from './constants.ts';
import { findFolio, maxIndex, addNewFolio, maybeUnlockMmapForIo, waitFolioUnlocked, folioMarkDirty } from './pagemap.ts';
import { doSyncMmapReadahead, doAsyncMmapReadahead } from './readahead.ts';
import { pteIndex, setPte } from './pgtable.ts';
import { pteAlloc } from './pgalloc.ts';
import { filePmdSuitable, doSetPmd } from './huge-memory.ts';

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
  k.charge(k.costs.pageCacheLookupNs);
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
      // FGP_CREAT (6.1) / page_cache_read (4.15): create the folio and read it.
      head = addNewFolio(k, mapping, index, 0, false);
      if (head < 0) return vmf.mmapLockDropped ? ret | VM_FAULT_RETRY : VM_FAULT_OOM;
      if (!maybeUnlockMmapForIo(k, vmf) && !k.profile.dropMmapLockForIo) {
        // 4.15 page_cache_read: ->readpage starts async I/O; then retry_find locks it below.
        inode.sb.fs.readFolios(inode, [head]);
        continue;
      }
      const ok = readFolioSync(k, inode, head);
      f.flags[head] = f.flags[head]! & ~PG_locked;
      if (!ok) return VM_FAULT_SIGBUS;
      if (vmf.mmapLockDropped) return ret | VM_FAULT_RETRY;
      continue;
    }
    // Lock the folio (lock_folio_maybe_drop_mmap / lock_page_or_retry).
    if ((f.flags[head]! & PG_locked) !== 0) {
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
      if (findFolio(mapping, index) !== head) continue; // truncated while we slept
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

/** One page table's worth of page-cache entries, gathered per filemap_map_pages call (no allocation). */
const MAP_BATCH = 512;
const batchIndex = new Float64Array(MAP_BATCH), batchEntry = new Float64Array(MAP_BATCH), batchOrder = new Uint8Array(MAP_BATCH);

/**
 * filemap_map_pages: map every ready page of file pages [start, end] that has an empty PTE.
 * Models mm/filemap.c filemap_map_pages (v3.16 through v6.12) and its skip rules (reference §2.4):
 * value entries, locked, not uptodate, PG_readahead-marked, at/after EOF, and present PTEs are
 * skipped; nothing ever waits. Returns NOPAGE when the faulting page itself got mapped.
 *
 * With profile.mapWholeFolio (v6.18: 357b92761d94 plus the i_size guard of 74207de2ba10) a large
 * folio that lies inside the VMA and inside one page table is mapped whole, even the pages
 * outside [start, end]. Whether that is allowed ("can map large") is decided once, from the first
 * ready folio of the window: shmem always, other files only when that folio ends at or before the
 * last page of the file. When the PMD is still empty (vmf.pte null, left so by doFaultAround) and
 * mapping large is not allowed, nothing is mapped and no page table is installed: the fault goes
 * on to ->fault and finish_fault, as pte_offset_map_lock fails on the empty PMD in 6.18.
 * Otherwise the caller has allocated the PTE table covering the window, or it is installed here
 * (pmd_install in filemap_map_pmd).
 */
export function filemapMapPages(k: Kernel, vmf: VmFault, start: number, end: number): number {
  const vma = vmf.vma!;
  const mapping = vma.file!.inode.mapping;
  const f = k.frames;
  const maxIdx = maxIndex(mapping.host);
  if (k.profile.mapPagesEofClamp && end > maxIdx - 1) end = maxIdx - 1;
  if (end < start) return 0;
  const whole = k.profile.mapWholeFolio;
  let canMapLarge = false;
  // The window lies inside one page table, so one batch holds all its entries.
  assert(end - start < MAP_BATCH, 'filemap_map_pages window larger than a page table');
  const nEntries = mapping.pages.gather(start, end, batchIndex, batchEntry, batchOrder, MAP_BATCH);
  if (whole) {
    // next_uptodate_folio for the first folio of the window, then the i_size guard.
    let first = -1;
    for (let j = 0; j < nEntries; j++) {
      const entry = batchEntry[j]!;
      if (xaIsValue(entry) || batchIndex[j]! >= maxIdx) continue;
      const head = entry / 2 - 1;
      const fl = f.flags[head]!;
      if ((fl & PG_locked) !== 0 || (fl & PG_uptodate) === 0 || (fl & PG_readahead) !== 0) continue;
      first = head;
      break;
    }
    if (first < 0) return 0;
    canMapLarge = (f.flags[first]! & PG_swapbacked) !== 0 || maxIdx - 1 >= f.index[first]! + (1 << f.order[first]!);
    if (!vmf.pte) {
      if (!canMapLarge) return 0;
      // filemap_map_pmd: a PMD-sized first folio on an empty PMD is mapped with one PMD.
      if (f.order[first] === 9 && filePmdSuitable(k, vma, vmf.address, first)) {
        const r = doSetPmd(k, vmf, first, false);
        if (r === 0) return VM_FAULT_NOPAGE;
        if (r !== VM_FAULT_FALLBACK) return r;
      }
      const t = pteAlloc(k, vma, vmf.address);
      if (!t) return VM_FAULT_OOM;
      vmf.pte = t;
      vmf.pteIndex = pteIndex(vmf.address);
    }
  }
  const t = vmf.pte!;
  const ra = vma.file!.ra;
  const prot = vma.pageProt;
  const missStyle = k.profile.mmapMissStyle;
  let missDec = 0;
  let ret = 0;
  let mapped = 0;
  let lastSwapBacked = false;
  const base = vmf.pteIndex - (vmf.pgoff - start); // PTE index of file page `start`
  // File page index of the first page of the VMA, and of the first page of this PTE table.
  const vmaFirst = vma.pgoff, vmaLast = vma.pgoff + vma.pages - 1;
  const tableFirst = start - base, tableLast = tableFirst + 511;
  for (let j = 0; j < nEntries; j++) {
    const entry = batchEntry[j]!, idx = batchIndex[j]!;
    if (xaIsValue(entry)) continue;
    const head = entry / 2 - 1;
    const fl = f.flags[head]!;
    if ((fl & PG_locked) !== 0 || (fl & PG_uptodate) === 0 || (fl & PG_readahead) !== 0) continue;
    const fidx = f.index[head]!;
    const n = 1 << f.order[head]!;
    // Without the EOF clamp only the first page considered in each folio is checked (plain 6.1).
    if (idx >= maxIdx) continue;
    let from = idx;
    let last = Math.min(end, fidx + n - 1);
    // Map the large folio fully where it fits in the VMA and in this page table.
    if (whole && canMapLarge && n > 1 && fidx >= vmaFirst && fidx + n - 1 <= vmaLast && fidx >= tableFirst && fidx + n - 1 <= tableLast) {
      from = fidx;
      last = fidx + n - 1;
    }
    for (let i = from; i <= last; i++) {
      if (missStyle === 'per-candidate-page') missDec++;
      else if (missStyle === 'per-candidate-not-workingset' && (fl & PG_workingset) === 0) missDec++;
      const pi = base + (i - start);
      if (t.flags[pi] !== 0) continue;
      const pfn = head + (i - fidx);
      setPte(t, pi, pfn, prot);
      lastSwapBacked = (fl & PG_swapbacked) !== 0;
      f.mapcount[pfn] = f.mapcount[pfn]! + 1;
      f.refcount[head] = f.refcount[head]! + 1;
      mapped++;
      if (missStyle === 'per-mapped-page') missDec++;
      if (i === vmf.pgoff) ret = VM_FAULT_NOPAGE;
    }
  }
  // Pages of one file share the swap-backed property, so the last folio mapped decides the counter.
  if (mapped > 0) vma.mm.addFileRss(lastSwapBacked, mapped);
  ra.mmapMiss = Math.max(0, ra.mmapMiss - missDec);
  k.events.faultaroundPagesMapped += mapped;
  k.charge(mapped * k.costs.faultAroundPerPageNs);
  return ret;
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


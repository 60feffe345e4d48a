/**
 * The page cache (mm/filemap.c): folio lookup and insertion in the inode's XArray, the
 * page-cache fault handler filemap_fault, fault-around's filemap_map_pages, page_mkwrite for
 * page-cache files, and the folio lock/uptodate protocol that I/O completion drives.
 *
 * Entries: a folio is stored as a multi-order XArray entry (pfn+1)*2 (even); value entries (odd)
 * are shadows of evicted pages (workingset) or DAX entries.
 */
import { assert } from '../lib/assert.ts';
import { xaIsValue, xaMkValue, xaToValue } from '../lib/xarray.ts';
import { PG_locked, PG_uptodate, PG_dirty, PG_readahead, PG_workingset, PG_writeback,
  PG_swapbacked, OWNER_NONE } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { AddressSpace, Inode } from './vfs.ts';
import type { VmFault } from '../mm/mm.ts';
import { VM_FAULT_FALLBACK, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, VM_FAULT_LOCKED, VM_FAULT_RETRY, VM_FAULT_OOM, VM_FAULT_NOPAGE,
  FAULT_FLAG_TRIED, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_ALLOW_RETRY, _PAGE_PRESENT } from '../mm/constants.ts';
import { doSyncMmapReadahead, doAsyncMmapReadahead } from './readahead.ts';
import { pteIndex, setPte } from '../mm/pgtable.ts';
import { pteAlloc } from '../mm/fault.ts';
import { filePmdSuitable, doSetPmd } from '../mm/huge-memory.ts';

/** Page-cache entry for a folio whose head frame is `pfn`. */
export function folioEntry(pfn: number): number {
  return (pfn + 1) * 2;
}

/** Head PFN of a folio entry, or -1 for empty and value entries. */
export function entryFolio(e: number): number {
  return e === 0 || xaIsValue(e) ? -1 : e / 2 - 1;
}

/** filemap_get_entry / filemap_get_folio without a reference: head PFN at `index`, or -1. */
export function findFolio(mapping: AddressSpace, index: number): number {
  return entryFolio(mapping.pages.load(index));
}

/** Number of 4 KiB pages that hold bytes of a `sizeBytes` file: ceil(i_size / PAGE_SIZE). */
export function maxIndex(inode: Inode): number {
  return Math.ceil(inode.sizeBytes / 4096);
}

/** First file page index of a folio. */
export function folioIndex(k: Kernel, head: number): number {
  return k.frames.index[head]!;
}

export function folioPages(k: Kernel, head: number): number {
  return 1 << k.frames.order[head]!;
}

/**
 * Allocate a folio of 2^order pages and insert it locked and not uptodate at `index`
 * (filemap_add_folio, v6.1). A shadow entry left by eviction makes this a refault
 * (workingset_refault). Returns the head PFN, or -1 when memory is exhausted.
 */
export function addNewFolio(k: Kernel, mapping: AddressSpace, index: number, order: number, swapBacked: boolean): number {
  const start = index - (index % (1 << order));
  const pfn = k.allocPages(order);
  if (pfn < 0) return -1;
  const f = k.frames;
  const n = 1 << order;
  for (let i = 0; i < n; i++) {
    f.owner[pfn + i] = mapping.host.ino;
    f.index[pfn + i] = start + i;
  }
  f.flags[pfn] = f.flags[pfn]! | PG_locked | (swapBacked ? PG_swapbacked : 0);
  // The page cache holds one reference per page of the folio (folio_ref_add(nr)); the caller's
  // allocation reference is dropped when it is done with the folio: here we keep it as the cache ref.
  f.refcount[pfn] = n;
  const old = mapping.pages.load(start);
  let refault = false;
  if (old !== 0 && xaIsValue(old) && order === 0) refault = k.lru.workingsetRefault(pfn, xaToValue(old));
  mapping.pages.store(start, folioEntry(pfn), order);
  mapping.nrpages += n;
  k.lru.addFolio(pfn, refault);
  return pfn;
}

/**
 * Remove a clean, unmapped folio from the page cache (__filemap_remove_folio), leaving a shadow
 * entry when `shadow` is given (workingset_eviction), and free it once no one else holds it.
 */
export function removeFolio(k: Kernel, mapping: AddressSpace, head: number, shadow: number): void {
  const f = k.frames;
  const idx = f.index[head]!;
  const order = f.order[head]!;
  const n = 1 << order;
  for (let i = 0; i < n; i++) assert(f.mapcount[head + i] === 0, `removing mapped page ${head + i} from the page cache`);
  if (shadow > 0 && order === 0) mapping.pages.store(idx, xaMkValue(shadow), 0);
  else mapping.pages.erase(idx);
  mapping.nrpages -= n;
  k.lru.removeFolio(head);
  for (let i = 0; i < n; i++) f.owner[head + i] = OWNER_NONE;
  f.refcount[head] = f.refcount[head]! - n;
  if (f.refcount[head] === 0) f.free(head, order);
}

/** Complete a read of folio `head` (end_io): mark uptodate, clear the readahead-less lock, wake. */
export function folioReadDone(k: Kernel, head: number, ok: boolean): void {
  const f = k.frames;
  let fl = f.flags[head]!;
  if (ok) fl |= PG_uptodate;
  fl &= ~PG_locked;
  f.flags[head] = fl;
}

/**
 * Sleep until folio `head` is unlocked (folio_wait_locked). Also used for "lock after wait":
 * the caller sets PG_locked itself afterwards.
 */
export function waitFolioUnlocked(k: Kernel, head: number): void {
  const f = k.frames;
  if ((f.flags[head]! & PG_locked) === 0) return;
  k.sleepUntil(() => (f.flags[head]! & PG_locked) === 0, `folio ${head} lock`);
}

/**
 * maybe_unlock_mmap_for_io (mm/internal.h, v5.1+): drop mmap_lock before blocking I/O on the first
 * attempt of a retryable fault. Returns true when the lock is (now) dropped. Profiles without the
 * 5.1 behaviour never drop here.
 */
export function maybeUnlockMmapForIo(k: Kernel, vmf: VmFault): boolean {
  if (vmf.mmapLockDropped) return true;
  if (!k.profile.dropMmapLockForIo) return false;
  const fl = vmf.flags;
  if ((fl & FAULT_FLAG_ALLOW_RETRY) === 0 || (fl & FAULT_FLAG_TRIED) !== 0 || (fl & FAULT_FLAG_RETRY_NOWAIT) !== 0) return false;
  vmf.mmapLockDropped = true;
  k.events.mmapLockDrops++;
  return true;
}

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

/** folio_mark_dirty (filemap_dirty_folio): set PG_dirty and the DIRTY mark in the page cache. */
export function folioMarkDirty(k: Kernel, head: number): void {
  const f = k.frames;
  if ((f.flags[head]! & PG_dirty) !== 0) return;
  f.flags[head] = f.flags[head]! | PG_dirty;
  const ino = f.owner[head]!;
  if (ino > 0) {
    const m = k.mappingOf(ino);
    if (m) m.pages.setMark(f.index[head]!, 0);
  }
}


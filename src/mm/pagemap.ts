/**
 * The page cache's core (include/linux/pagemap.h and the lookup/insert/remove part of
 * mm/filemap.c, folio_mark_dirty of mm/page-writeback.c): folio entries in the inode's XArray,
 * the folio lock/uptodate protocol that I/O completion drives, and the mmap_lock drop before I/O.
 *
 * Entries: a folio is stored as a multi-order XArray entry (pfn+1)*2 (even); value entries (odd)
 * are shadows of evicted pages (workingset) or DAX entries.
 */
import { panic } from '../lib/assert.ts';
import { xaIsValue, xaMkValue, xaToValue } from '../lib/xarray.ts';
import { PG_locked, PG_uptodate, PG_dirty, PG_swapbacked, OWNER_NONE } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { AddressSpace, Inode } from '../fs/fs.ts';
import type { VmFault } from './mm.ts';
import { FAULT_FLAG_TRIED, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_ALLOW_RETRY } from './constants.ts';

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
export function addNewFolio(k: Kernel, mapping: AddressSpace, index: number, order: number,
  swapBacked: boolean): number {
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
  if (mapping.blockLimit !== null) mapping.blockLimit.usedPages += n;
  k.lru.addFolio(pfn, refault);
  if (k.tracer !== null) k.tracer.filemapAdd(mapping, pfn, start, order);
  return pfn;
}

/**
 * Does any folio sit in pages [index, index + n) (shadow entries do not count)? __filemap_add_folio's
 * conflict check (mm/filemap.c v6.1, v6.18): a folio may not be added over one (EEXIST).
 */
export function rangeCached(mapping: AddressSpace, index: number, n: number): boolean {
  for (let i = index; i < index + n; i++) if (findFolio(mapping, i) >= 0) return true;
  return false;
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
  for (let i = 0; i < n; i++) {
    if (f.mapcount[head + i] !== 0) panic(`removing mapped page ${head + i} from the page cache`);
  }
  if (shadow > 0 && order === 0) mapping.pages.store(idx, xaMkValue(shadow), 0);
  else mapping.pages.erase(idx);
  mapping.nrpages -= n;
  if (mapping.blockLimit !== null) mapping.blockLimit.usedPages -= n;
  if (k.tracer !== null) k.tracer.filemapDelete(mapping, head, idx, order);
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
  if ((fl & FAULT_FLAG_ALLOW_RETRY) === 0) return false;
  if ((fl & FAULT_FLAG_TRIED) !== 0 || (fl & FAULT_FLAG_RETRY_NOWAIT) !== 0) return false;
  vmf.mmapLockDropped = true;
  k.events.mmapLockDrops++;
  return true;
}

/** folio_mark_dirty (filemap_dirty_folio): set PG_dirty and the DIRTY mark in the page cache. */
export function folioMarkDirty(k: Kernel, head: number): boolean {
  const f = k.frames;
  if ((f.flags[head]! & PG_dirty) !== 0) return false;
  f.flags[head] = f.flags[head]! | PG_dirty;
  const ino = f.owner[head]!;
  if (ino > 0) {
    const m = k.mappingOf(ino);
    if (m) m.pages.setMark(f.index[head]!, 0);
  }
  return true;
}


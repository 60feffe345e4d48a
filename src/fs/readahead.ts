/**
 * Readahead (mm/readahead.c and the mmap hooks in mm/filemap.c, v6.1; v3.16/v4.15 differ only in
 * not dropping mmap_lock): synchronous read-around on a fault miss, asynchronous readahead when a
 * fault or read hits a PG_readahead-marked page, and the on-demand window arithmetic.
 */
import { PG_readahead, PG_writeback } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { File, AddressSpace, FileRaState } from './vfs.ts';
import type { VmFault } from '../mm/mm.ts';
import { VM_RAND_READ, VM_SEQ_READ } from '../mm/constants.ts';
import { addNewFolio, findFolio, maybeUnlockMmapForIo } from './filemap.ts';

/** MMAP_LOTSAMISS: read-around stops after this many misses not followed by hits. */
export const MMAP_LOTSAMISS = 100;

/**
 * page_cache_ra_unbounded (v6.1): allocate and insert locked, not-uptodate folios for pages
 * [index, index + nrToRead) that are not cached, mark the one `lookahead` pages before the end
 * with PG_readahead, and hand them to the filesystem to read (holes complete at once). Stops at
 * end of file (do_page_cache_ra's clamp) and when memory runs out.
 */
export function pageCacheRa(k: Kernel, mapping: AddressSpace, index: number, nrToRead: number, lookahead: number): number {
  const inode = mapping.host;
  if (inode.sizeBytes === 0) return 0;
  const endIndex = Math.floor((inode.sizeBytes - 1) / 4096);
  if (index > endIndex) return 0;
  if (nrToRead > endIndex - index + 1) nrToRead = endIndex - index + 1;
  const f = k.frames;
  const batch: number[] = [];
  let added = 0;
  for (let i = 0; i < nrToRead; i++) {
    const idx = index + i;
    if (findFolio(mapping, idx) >= 0) {
      // Already cached: submit what we have so far and skip it.
      if (batch.length) { inode.sb.fs.readFolios(inode, batch.splice(0)); }
      continue;
    }
    const pfn = addNewFolio(k, mapping, idx, 0, false);
    if (pfn < 0) break;
    if (i === nrToRead - lookahead) f.flags[pfn] = f.flags[pfn]! | PG_readahead;
    batch.push(pfn);
    added++;
  }
  if (batch.length) inode.sb.fs.readFolios(inode, batch);
  k.events.readaheadPages += added;
  return added;
}

/** get_init_ra_size (v6.1). */
export function initRaSize(size: number, max: number): number {
  let n = 1;
  while (n < size) n *= 2;
  if (n <= max / 32) return n * 4;
  if (n <= max / 4) return n * 2;
  return max;
}

/** get_next_ra_size (v6.1). */
export function nextRaSize(cur: number, max: number): number {
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

/**
 * ondemand_readahead (v6.1): the window logic shared by read(2) and async mmap readahead.
 * `hitMarker` is true when called because a PG_readahead page was hit.
 */
export function ondemandReadahead(k: Kernel, mapping: AddressSpace, ra: FileRaState, index: number, reqSize: number, hitMarker: boolean): void {
  const max = ra.raPages;
  if (max === 0) return;
  let initial = false;
  if (index === 0) initial = true;
  else if (index === ra.start + ra.size - ra.asyncSize || index === ra.start + ra.size) {
    ra.start += ra.size;
    ra.size = nextRaSize(ra.size, max);
    ra.asyncSize = ra.size;
  } else if (hitMarker) {
    // Interleaved/unaligned marker hit: find the next hole after index (page_cache_next_miss).
    let start = index + 1;
    while (start - index <= max && findFolio(mapping, start) >= 0) start++;
    if (start - index > max) return;
    ra.start = start;
    ra.size = start - index + reqSize;
    ra.size = nextRaSize(ra.size, max);
    ra.asyncSize = ra.size;
  } else if (reqSize > max) initial = true;
  else {
    const prevIndex = ra.prevPos < 0 ? -2 : Math.floor(ra.prevPos / 4096);
    if (index - prevIndex <= 1 && index - prevIndex >= 0) initial = true;
    else {
      // Random read: read just what was asked (do_page_cache_ra without lookahead).
      k.events.readaheadSync++;
      pageCacheRa(k, mapping, index, reqSize, 0);
      return;
    }
  }
  if (initial) {
    ra.start = index;
    ra.size = initRaSize(reqSize, max);
    ra.asyncSize = ra.size > reqSize ? ra.size - reqSize : ra.size;
  }
  if (index === ra.start && ra.size === ra.asyncSize) {
    const add = nextRaSize(ra.size, max);
    if (ra.size + add <= max) { ra.asyncSize = add; ra.size += add; } else { ra.size = max; ra.asyncSize = max >> 1; }
  }
  pageCacheRa(k, mapping, ra.start, ra.size, ra.asyncSize);
}

/**
 * do_sync_mmap_readahead (mm/filemap.c, v6.1; v3.16/v4.15 without dropping mmap_lock): on a
 * fault that missed the page cache. VM_RAND_READ: nothing; VM_SEQ_READ: sequential readahead of
 * ra_pages from the fault; otherwise count a miss and, below MMAP_LOTSAMISS, read around the fault
 * (window ra_pages centred on it, PG_readahead a quarter window before its end).
 */
export function doSyncMmapReadahead(k: Kernel, vmf: VmFault, file: File): void {
  const vma = vmf.vma!;
  const ra = file.ra;
  const mapping = file.inode.mapping;
  if ((vma.flags & VM_RAND_READ) !== 0 || ra.raPages === 0) return;
  if ((vma.flags & VM_SEQ_READ) !== 0) {
    maybeUnlockMmapForIo(k, vmf);
    k.events.readaheadSync++;
    ondemandReadahead(k, mapping, ra, vmf.pgoff, ra.raPages, false);
    return;
  }
  if (ra.mmapMiss < MMAP_LOTSAMISS * 10) ra.mmapMiss++;
  if (ra.mmapMiss > MMAP_LOTSAMISS) return;
  maybeUnlockMmapForIo(k, vmf);
  k.events.readaheadSync++;
  ra.start = Math.max(0, vmf.pgoff - Math.floor(ra.raPages / 2));
  ra.size = ra.raPages;
  ra.asyncSize = Math.floor(ra.raPages / 4);
  pageCacheRa(k, mapping, ra.start, ra.size, ra.asyncSize);
}

/**
 * do_async_mmap_readahead (v6.1): on a fault that found the page (not on a retry). Unless
 * VM_RAND_READ, one hit pays back one miss; a PG_readahead page starts the next window, and on
 * 5.1+ profiles that drops mmap_lock, so the fault ends in RETRY (the oracle's 6.1 ext4 sparse
 * write row: one retried, hence major, fault per readahead window).
 */
export function doAsyncMmapReadahead(k: Kernel, vmf: VmFault, file: File, head: number): void {
  const vma = vmf.vma!;
  const ra = file.ra;
  if ((vma.flags & VM_RAND_READ) !== 0 || ra.raPages === 0) return;
  if (ra.mmapMiss > 0) ra.mmapMiss--;
  const f = k.frames;
  if ((f.flags[head]! & PG_readahead) !== 0) {
    maybeUnlockMmapForIo(k, vmf);
    asyncReadahead(k, file.inode.mapping, ra, head, ra.raPages);
  }
}

/** page_cache_async_ra (v6.1): clear the marker and extend the window. */
export function asyncReadahead(k: Kernel, mapping: AddressSpace, ra: FileRaState, head: number, reqSize: number): void {
  const f = k.frames;
  // PG_readahead shares its bit with PG_reclaim: under writeback the bit means "reclaim".
  if ((f.flags[head]! & PG_writeback) !== 0) return;
  f.flags[head] = f.flags[head]! & ~PG_readahead;
  k.events.readaheadAsync++;
  ondemandReadahead(k, mapping, ra, f.index[head]!, reqSize, true);
}

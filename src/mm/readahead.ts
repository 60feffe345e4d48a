/**
 * Readahead (mm/readahead.c and the mmap hooks in mm/filemap.c, v6.1; v3.16/v4.15 differ only in
 * not dropping mmap_lock): synchronous read-around on a fault miss, asynchronous readahead when a
 * fault or read hits a PG_readahead-marked page, and the on-demand window arithmetic.
 */
import { PG_readahead, PG_writeback } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { File, AddressSpace, FileRaState } from '../fs/fs.ts';
import type { VmFault } from './mm.ts';
import { VM_RAND_READ, VM_SEQ_READ, VM_HUGEPAGE } from './constants.ts';
import { addNewFolio, findFolio, maybeUnlockMmapForIo, rangeCached } from './pagemap.ts';

/** MMAP_LOTSAMISS: read-around stops after this many misses not followed by hits. */
export const MMAP_LOTSAMISS = 100;

/** MAX_PAGECACHE_ORDER on x86-64: PMD order. */
const MAX_PAGECACHE_ORDER = 9;

/**
 * mapping_large_folio_support (include/linux/pagemap.h v6.18): does the filesystem give this file
 * large folios (ext4 on 6.x profiles)?
 */
function largeFolioSupport(mapping: AddressSpace): boolean {
  const inode = mapping.host;
  return inode.sb.fs.writeFolioOrder(inode, 0, 2 ** 21) > 0;
}


/**
 * page_cache_ra_order (mm/readahead.c, v6.18, with the folio order kept in ra->order): read the
 * window [ra.start, ra.start + ra.size) in folios of order min(ra.order, log2(ra.size), 9),
 * smaller where the index is not aligned to it or the folio would pass the window's end (or EOF);
 * the folio holding `start + size - async_size` gets PG_readahead, unless the window reaches EOF.
 * A page already cached stops the large-folio pass and the rest is read in order-0 pages
 * (do_page_cache_ra). Files without large folios read order-0 pages as before.
 */
export function pageCacheRaOrder(k: Kernel, mapping: AddressSpace, ra: FileRaState, start = ra.start): void {
  const inode = mapping.host;
  if (inode.sizeBytes === 0 || ra.size <= 0) return;
  if (!largeFolioSupport(mapping)) {
    ra.order = 0;
    pageCacheRa(k, mapping, start, ra.size, ra.asyncSize);
    return;
  }
  const fileLast = Math.floor((inode.sizeBytes - 1) / 4096);
  let limit: number, mark: number;
  if (fileLast > start + ra.size - 1) {
    limit = start + ra.size - 1;
    mark = start + ra.size - ra.asyncSize;
  } else {
    limit = fileLast;
    mark = -1; // the window reaches EOF: no marker
  }
  const newOrder = Math.min(MAX_PAGECACHE_ORDER, ra.order, Math.floor(Math.log2(ra.size)));
  ra.order = newOrder;
  const f = k.frames;
  const batch: number[] = [];
  let index = start, added = 0, failed = false;
  while (index <= limit) {
    let order = newOrder;
    if (index % (1 << order) !== 0) order = index === 0 ? 0 : Math.min(order, 31 - Math.clz32(index & -index));
    while (order > 0 && index + (1 << order) - 1 > limit) order--;
    if (rangeCached(mapping, index, 1 << order)) { failed = true; break; }
    const pfn = addNewFolio(k, mapping, index, order, false);
    if (pfn < 0) { failed = true; break; }
    if (mark >= 0 && index === mark - (mark % (1 << order))) f.flags[pfn] = f.flags[pfn]! | PG_readahead;
    batch.push(pfn);
    added += 1 << order;
    index += 1 << order;
  }
  if (batch.length) inode.sb.fs.readFolios(inode, batch);
  k.events.readaheadPages += added;
  if (failed && ra.size > index - start) pageCacheRa(k, mapping, index, ra.size - (index - start), ra.asyncSize);
}

/**
 * ractl_max_pages (v6.18): the window limit, ra_pages, except that a request larger than it may
 * read up to the device's largest request (bdi->io_pages).
 */
function maxPages(mapping: AddressSpace, ra: FileRaState, reqCount: number): number {
  const io = mapping.host.sb.ioPages;
  return reqCount > ra.raPages && io > ra.raPages ? Math.min(reqCount, io) : ra.raPages;
}

/**
 * page_cache_sync_ra (v6.18) for a sequential miss (read(2), VM_SEQ_READ): a fresh window at
 * `index` from get_init_ra_size, read at order 0 by page_cache_ra_order (later windows grow).
 * Random (non-sequential) misses read just the request, as before.
 */
export function syncRa618(k: Kernel, mapping: AddressSpace, ra: FileRaState, index: number, reqCount: number): void {
  if (ra.raPages === 0) { pageCacheRa(k, mapping, index, 1, 0); return; }
  const max = maxPages(mapping, ra, reqCount);
  const prevIndex = ra.prevPos < 0 ? -2 : Math.floor(ra.prevPos / 4096);
  if (index === 0 || reqCount > max || (index - prevIndex <= 1 && index - prevIndex >= 0)) {
    ra.start = index;
    ra.size = initRaSize(reqCount, max);
    ra.asyncSize = ra.size > reqCount ? ra.size - reqCount : ra.size >> 1;
  } else {
    // Look back for a cached run a sequential stream would leave (page_cache_prev_miss).
    let miss = index - 1;
    while (miss >= 0 && index - 1 - miss < max && findFolio(mapping, miss) >= 0) miss--;
    let contig = index - miss - 1;
    if (contig <= reqCount) { pageCacheRa(k, mapping, index, reqCount, 0); return; }
    if (miss < 0) contig *= 2;
    ra.start = index;
    ra.size = Math.min(contig + reqCount, max);
    ra.asyncSize = 1;
  }
  ra.order = 0;
  pageCacheRaOrder(k, mapping, ra);
}

/**
 * page_cache_async_ra (v6.18) on a PG_readahead folio: if it is where the window expected it,
 * push the window forward and grow it (get_next_ra_size, never shrinking); otherwise rebuild it
 * from the cached run after the folio. Each async window asks for folios 2 orders larger, and
 * its end is trimmed to that alignment; all of it is the next async part.
 */
export function asyncRa618(k: Kernel, mapping: AddressSpace, ra: FileRaState, head: number, reqCount: number): void {
  const f = k.frames;
  if (ra.raPages === 0) return;
  if ((f.flags[head]! & PG_writeback) !== 0) return;
  const max = maxPages(mapping, ra, reqCount);
  f.flags[head] = f.flags[head]! & ~PG_readahead;
  k.events.readaheadAsync++;
  const index = f.index[head]!;
  const n = 1 << f.order[head]!;
  const exp = ra.start + ra.size - ra.asyncSize;
  const expected = exp - (exp % n);
  if (index === expected) {
    ra.start += ra.size;
    ra.size = Math.max(ra.size, nextRaSize(ra.size, max));
  } else {
    let start = index + 1;
    while (start - index <= max && findFolio(mapping, start) >= 0) start++;
    if (start - index > max) return;
    ra.start = start;
    ra.size = nextRaSize(start - index + reqCount, max);
  }
  ra.order += 2;
  // ffs(max) - 1: the lowest set bit of the window limit bounds the alignment.
  const align = 2 ** Math.min(ra.order, 31 - Math.clz32(max & -max));
  const end = ra.start + ra.size;
  const alignedEnd = end - (end % align);
  if (alignedEnd > ra.start) ra.size -= end - alignedEnd;
  ra.asyncSize = ra.size;
  pageCacheRaOrder(k, mapping, ra);
}

/**
 * page_cache_ra_unbounded (v6.1): allocate and insert locked, not-uptodate folios for pages
 * [index, index + nrToRead) that are not cached, mark the one `lookahead` pages before the end
 * with PG_readahead, and hand them to the filesystem to read (holes complete at once). Stops at
 * end of file (do_page_cache_ra's clamp) and when memory runs out.
 */
export function pageCacheRa(k: Kernel, mapping: AddressSpace, index: number, nrToRead: number,
  lookahead: number): number {
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
export function ondemandReadahead(k: Kernel, mapping: AddressSpace, ra: FileRaState, index: number, reqSize: number,
  hitMarker: boolean): void {
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
  if ((vma.flags & VM_HUGEPAGE) !== 0 && k.profile.raFolioOrders) {
    // VM_HUGEPAGE (MADV_HUGEPAGE on the mapping), even with readahead off or VM_RAND_READ: read
    // the 2 MiB-aligned block, two of them unless random, in PMD-order folios; the second is
    // the async part. ra->start is left as it was (the kernel sets only the control's index).
    // Measured on the 6.18 host: a cold 128 MiB ext4 file read with MADV_HUGEPAGE takes
    // 63 + 1 faults, all PMD-mapped; with MADV_RANDOM too, 64 majors.
    maybeUnlockMmapForIo(k, vmf);
    k.events.readaheadSync++;
    ra.size = (vma.flags & VM_RAND_READ) !== 0 ? 512 : 1024;
    ra.asyncSize = 512;
    ra.order = 9;
    pageCacheRaOrder(k, mapping, ra, vmf.pgoff - (vmf.pgoff % 512));
    return;
  }
  if ((vma.flags & VM_RAND_READ) !== 0 || ra.raPages === 0) return;
  if ((vma.flags & VM_SEQ_READ) !== 0) {
    maybeUnlockMmapForIo(k, vmf);
    k.events.readaheadSync++;
    if (k.profile.raFolioOrders) syncRa618(k, mapping, ra, vmf.pgoff, ra.raPages);
    else ondemandReadahead(k, mapping, ra, vmf.pgoff, ra.raPages, false);
    return;
  }
  if (ra.mmapMiss < MMAP_LOTSAMISS * 10) ra.mmapMiss++;
  if (ra.mmapMiss > MMAP_LOTSAMISS) return;
  maybeUnlockMmapForIo(k, vmf);
  k.events.readaheadSync++;
  ra.start = Math.max(0, vmf.pgoff - Math.floor(ra.raPages / 2));
  ra.size = ra.raPages;
  ra.asyncSize = Math.floor(ra.raPages / 4);
  // 6.18: through page_cache_ra_order at order 0 (no marker when the window reaches EOF).
  if (k.profile.raFolioOrders) { ra.order = 0; pageCacheRaOrder(k, mapping, ra); return; }
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
  if (k.profile.raFolioOrders) { asyncRa618(k, mapping, ra, head, reqSize); return; }
  const f = k.frames;
  // PG_readahead shares its bit with PG_reclaim: under writeback the bit means "reclaim".
  if ((f.flags[head]! & PG_writeback) !== 0) return;
  f.flags[head] = f.flags[head]! & ~PG_readahead;
  k.events.readaheadAsync++;
  ondemandReadahead(k, mapping, ra, f.index[head]!, reqSize, true);
}

/**
 * The DAX fault path (fs/dax.c): PTE faults (dax_iomap_pte_fault, v6.1, with the profile's older
 * variants), PMD faults (dax_iomap_pmd_fault) with every fallback condition, hole reads (the
 * shared zero page, the huge zero page, or a zeroed page-cache page before 4.14), COW for private
 * mappings, the MAP_SYNC completion (dax_finish_sync_fault + dax_insert_pfn_mkwrite), the 4.5-4.13
 * dax_pfn_mkwrite, and Kani's dax_map_pages RFC (seed 000). The filesystem supplies the block
 * mapping through DaxFs.iomapBegin (ext4_iomap_begin / the 2014 get_block).
 */
import { assert } from '../lib/assert.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { VmFault } from '../mm/mm.ts';
import type { Inode, File } from '../fs/fs.ts';
import {
  FAULT_FLAG_WRITE, VM_SHARED, VM_SYNC, VM_WRITE, VM_FAULT_SIGBUS, VM_FAULT_NOPAGE, VM_FAULT_MAJOR, VM_FAULT_FALLBACK,
  VM_FAULT_OOM, VM_FAULT_DONE_COW, VM_FAULT_NEEDDSYNC, _PAGE_RW, _PAGE_DIRTY, _PAGE_ACCESSED, _PAGE_SPECIAL,
  _PAGE_DEVMAP, _PAGE_PSE, PMD_SIZE,
} from '../mm/constants.ts';
import { pteAlloc, pmdAlloc, mapPagesPte } from '../mm/pgalloc.ts';
import { finishFault } from '../mm/fault.ts';
import { pmdIndex, pmdTableOf, pteIndex, setPte, setPmdLeaf } from '../mm/pgtable.ts';
import { unmapMappingPages } from '../mm/rmap.ts';
import { addNewFolio, removeFolio } from '../mm/pagemap.ts';
import { PG_uptodate, PG_locked } from '../hw/frames.ts';
import {
  grabMappingEntry, daxUnlockEntry, daxInsertEntry, daxFlags, daxPfn, GRAB_FALLBACK, DAX_ZERO_PAGE, DAX_EMPTY, DAX_PMD,
  PMD_ORDER, PAGECACHE_TAG_DIRTY, isDaxEntry, pfnFits, mkDaxEntry,
} from './entry.ts';
import { COST } from '../lib/cost-category.ts';

/** What iomap_begin (or get_block) says about a file range. */
export interface DaxIomap {
  type: 'hole' | 'mapped' | 'unwritten';
  /** First physical block (mapped/unwritten), -1 for holes. */
  pblk: number;
  /** Blocks from the asked index on that have this type. */
  lenBlocks: number;
  /** IOMAP_F_NEW: allocated (and zeroed) by this call. */
  isNew: boolean;
  /** IOMAP_F_DIRTY: the block-mapping metadata is not yet durable. */
  dirty: boolean;
}

/** What the DAX code needs from the filesystem. */
export interface DaxFs {
  /**
   * ext4_iomap_begin (v6.1) / ext4_get_block (2014): map (and with `write`, allocate) `lenPages`
   * from `index`; -errno on failure.
   */
  iomapBegin(inode: Inode, index: number, lenPages: number, write: boolean, out: DaxIomap): number;
  /** PFN of filesystem block `pblk` (dax_direct_access). */
  blockPfn(pblk: number): number;
  /** vfs_fsync_range(file, ..., datasync=1) for dax_finish_sync_fault; 0 or -errno. */
  fsyncRange(file: File, startIndex: number, endIndex: number): number;
}

const iomap: DaxIomap = { type: 'hole', pblk: -1, lenBlocks: 0, isNew: false, dirty: false };


/**
 * vmf_insert_mixed / vmf_insert_mixed_mkwrite (mm/memory.c v6.1, reference §4.5): install a
 * special+devmap PTE for `pfn`; with mkwrite writable, young and dirty (an existing PTE with the
 * same PFN is upgraded; a different one is left alone).
 */
function insertPfn(k: Kernel, vmf: VmFault, pfn: number, mkwrite: boolean, special: number): number {
  const vma = vmf.vma!;
  const t = vmf.pte ?? pteAlloc(k, vma, vmf.address);
  if (!t) return VM_FAULT_OOM;
  vmf.pte = t;
  const i = pteIndex(vmf.address);
  vmf.pteIndex = i;
  let prot = (vma.pageProt & ~_PAGE_RW) | special;
  if (mkwrite && (vma.flags & VM_WRITE) !== 0) prot |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
  if (t.flags[i] !== 0) {
    if (mkwrite && t.pfn[i] === pfn) t.flags[i] = t.flags[i]! | (prot & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
    return VM_FAULT_NOPAGE;
  }
  setPte(t, i, pfn, prot);
  k.charge(k.costs.pteSetNs, COST.pageTable);
  return VM_FAULT_NOPAGE;
}

/** Install a huge PMD leaf (vmf_insert_pfn_pmd; the huge zero page without devmap). */
function insertPmd(k: Kernel, vmf: VmFault, pfn: number, write: boolean, zero: boolean): number {
  const vma = vmf.vma!;
  const pmd = pmdAlloc(k, vma, vmf.address);
  if (!pmd) return VM_FAULT_OOM;
  const pi = pmdIndex(vmf.address);
  if (pmd.tables[pi] !== null) return VM_FAULT_FALLBACK;
  let prot = (vma.pageProt & ~_PAGE_RW) | _PAGE_PSE | (zero ? 0 : _PAGE_DEVMAP);
  if (write && !zero) prot |= _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
  if (pmd.leafFlags[pi] !== 0) {
    if (write && pmd.leafPfn[pi] === pfn) {
      pmd.leafFlags[pi] = pmd.leafFlags[pi]! | (prot & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
    }
    return VM_FAULT_NOPAGE;
  }
  setPmdLeaf(vma.mm, pmd, pi, pfn, prot);
  k.charge(k.costs.pteSetNs, COST.pageTable);
  return VM_FAULT_NOPAGE;
}

/**
 * dax_load_hole: a read of a hole or unwritten extent. 4.14+ maps the shared zero page read-only
 * and records a ZERO entry; before 4.14 (and the 2014 patchset) a zeroed page-cache page is
 * allocated for the hole and mapped like a file page (memory grows: seed 004). A hole page that
 * is in the cache already (`holePage`, from a fault through another mapping) is mapped as it is:
 * dax_load_hole of 4.13 goes straight to finish_fault with it, the 2014 patchset's returns it
 * locked for __do_fault to map (issue 17: it used to return NOPAGE unmapped, and loads retried
 * forever).
 */
function daxLoadHole(k: Kernel, vmf: VmFault, entry: number, holePage: number): number {
  const vma = vmf.vma!;
  const mapping = vma.file!.inode.mapping;
  k.events.daxHoleLoads++;
  if (k.profile.daxHoleReads === 'zero-page') {
    if (k.profile.daxEntries === 'entries') {
      daxInsertEntry(k, mapping, vmf.pgoff, entry, k.frames.zeroPfn, DAX_ZERO_PAGE, k.profile.daxDirtyOnRead);
    }
    return insertPfn(k, vmf, k.frames.zeroPfn, false, _PAGE_SPECIAL);
  }
  // Pre-4.14: find_or_create_page(__GFP_ZERO) and map it via finish_fault.
  let pfn = holePage;
  if (pfn < 0) {
    if (entry > 0 && isDaxEntry(entry)) mapping.pages.erase(vmf.pgoff); // the EMPTY placeholder makes way
    pfn = addNewFolio(k, mapping, vmf.pgoff, 0, false);
    if (pfn < 0) return VM_FAULT_OOM;
    k.frames.fillFrame(pfn, 0);
    k.charge(k.costs.pageAllocNs + k.costs.pageZeroNs, COST.zeroing);
    k.frames.flags[pfn] = (k.frames.flags[pfn]! | PG_uptodate) & ~PG_locked;
  }
  vmf.page = pfn;
  const r = finishFault(k, vmf);
  vmf.page = -1;
  return r === 0 ? VM_FAULT_NOPAGE : r;
}

/** Copy a file page (pmem block or zeros) into the COW page and map it (dax_fault_cow_page). */
function daxCow(k: Kernel, vmf: VmFault, m: DaxIomap, fs: DaxFs): number {
  if (m.type === 'mapped') k.copyPhysToFrame(vmf.cowPage, fs.blockPfn(m.pblk));
  else k.frames.fillFrame(vmf.cowPage, 0);
  k.charge(k.costs.pageZeroNs, COST.zeroing);
  const r = finishFault(k, vmf);
  return r === 0 ? VM_FAULT_DONE_COW : r;
}

/**
 * The block behind a DAX PTE fault (dax_iomap_pte_fault's iomap_iter -> ->iomap_begin, fs/dax.c
 * v6.1), into `iomap`: Wilcox's proposal (seed 002, profile daxEntryCachesPfn) answers from a
 * normal entry whose cached PFN fits, without get_block. Returns 0, or OOM/SIGBUS when
 * iomap_begin failed.
 */
function daxPteIomap(k: Kernel, fs: DaxFs, inode: Inode, index: number, entry: number, write: boolean): number {
  const p = k.profile;
  const m = iomap;
  if (p.daxEntryCachesPfn && p.daxEntries === 'entries' && isDaxEntry(entry) &&
    (daxFlags(entry) & (DAX_ZERO_PAGE | DAX_EMPTY)) === 0 && pfnFits(daxPfn(entry), p.daxEntryPfnBits)) {
    k.events.daxPfnCacheHits++;
    m.type = 'mapped'; m.pblk = daxPfn(entry) - fs.blockPfn(0); m.lenBlocks = 1; m.isNew = false; m.dirty = false;
    return 0;
  }
  k.events.iomapBegin++;
  k.charge(k.costs.iomapBeginNs, COST.iomapBegin);
  const err = fs.iomapBegin(inode, index, 1, write, m);
  if (err < 0) return err === -12 ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  return 0;
}

/**
 * dax_iomap_pte_fault (fs/dax.c v6.1; older variants by profile). Returns NOPAGE (+MAJOR when the
 * block was allocated by this fault), DONE_COW, NEEDDSYNC with vmf.syncPfn set, or an error.
 */
export function daxIomapPteFault(k: Kernel, vmf: VmFault, fs: DaxFs): number {
  const tp = k.tracer;
  if (tp === null) return daxPteFault(k, vmf, fs);
  tp.daxPteFault(vmf, false, 0);
  const r = daxPteFault(k, vmf, fs);
  tp.daxPteFault(vmf, true, r);
  return r;
}

/** The body of dax_iomap_pte_fault, between its dax_pte_fault and dax_pte_fault_done tracepoints. */
function daxPteFault(k: Kernel, vmf: VmFault, fs: DaxFs): number {
  const vma = vmf.vma!;
  const inode = vma.file!.inode;
  const mapping = inode.mapping;
  const p = k.profile;
  const index = vmf.pgoff;
  const cow = vmf.cowPage >= 0;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && !cow && (vma.flags & VM_SHARED) !== 0;
  if (index * 4096 >= inode.sizeBytes) return VM_FAULT_SIGBUS;
  k.events.daxPteFaults++;
  const entries = p.daxEntries === 'entries';
  let entry = 0;
  if (entries) {
    entry = grabMappingEntry(k, mapping, index, 0);
    assert(entry !== GRAB_FALLBACK, 'PTE-size grab cannot fall back');
  } else {
    entry = mapping.pages.load(index);
  }
  const holePage = entry > 0 && !isDaxEntry(entry) ? entry / 2 - 1 : -1;
  let ret = 0;
  try {
    // Raced with a PMD fault: nothing to do.
    const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
    if (pmd && pmd.leafFlags[pmdIndex(vmf.address)] !== 0) return VM_FAULT_NOPAGE;
    const m = iomap;
    const err = daxPteIomap(k, fs, inode, index, entry, write);
    if (err !== 0) return err;
    if (cow) return (ret = daxCow(k, vmf, m, fs));
    if (!write && m.type !== 'mapped') {
      ret = daxLoadHole(k, vmf, entry, holePage);
      if (k.tracer !== null) k.tracer.daxLoadHole(vmf, ret);
      return ret;
    }
    if (m.type !== 'mapped') return (ret = VM_FAULT_SIGBUS);
    const pfn = fs.blockPfn(m.pblk);
    if (holePage >= 0) {
      // Pre-4.14: the write replaces the hole page: unmap it everywhere and drop it from the cache.
      unmapMappingPages(k, mapping, index, 1, false);
      removeFolio(k, mapping, holePage, 0);
      entry = 0;
    }
    const sync = write && p.mapSync && (vma.flags & VM_SYNC) !== 0 && m.dirty;
    const dirty = !sync && (write || p.daxDirtyOnRead);
    if (entries) {
      entry = daxInsertEntry(k, mapping, index, entry === 0 ? mkDaxEntry(0, DAX_EMPTY) : entry, pfn, 0, dirty);
    }
    if (sync) {
      vmf.syncPfn = pfn;
      ret = VM_FAULT_NEEDDSYNC;
    } else {
      // 2014 DAX PTEs were special only; devmap arrived with the entry-based code (4.5).
      const mkwrite = write && p.daxWriteInsert === 'mkwrite';
      if (k.tracer !== null) k.tracer.daxInsertMapping(vmf, false, pfn, entry);
      ret = insertPfn(k, vmf, pfn, mkwrite, _PAGE_SPECIAL | (entries ? _PAGE_DEVMAP : 0));
    }
    if (m.isNew) {
      k.vmstat.pgmajfault++;
      ret |= VM_FAULT_MAJOR;
    }
    return ret;
  } finally {
    if (entries) daxUnlockEntry(k, mapping, index);
  }
}


/**
 * dax_iomap_pmd_fault (fs/dax.c v6.1, reference §4.8): map 2 MiB with one PMD, or FALLBACK
 * (thp_fault_fallback +1) when the address and offset are not congruent, the fault is a private
 * write, the 2 MiB is not inside the VMA or the file, a 4 KiB entry exists in the range, the
 * extent is shorter than 2 MiB or not 2 MiB-aligned. Holes read the huge zero page. Never major.
 */
export function daxIomapPmdFault(k: Kernel, vmf: VmFault, fs: DaxFs): number {
  const tp = k.tracer;
  if (tp === null) return daxPmdFault(k, vmf, fs);
  const maxPgoff = Math.ceil(vmf.vma!.file!.inode.sizeBytes / 4096);
  tp.daxPmdFault(vmf, maxPgoff, false, 0);
  const r = daxPmdFault(k, vmf, fs);
  tp.daxPmdFault(vmf, maxPgoff, true, r);
  return r;
}

/** The body of dax_iomap_pmd_fault, between its dax_pmd_fault and dax_pmd_fault_done tracepoints. */
function daxPmdFault(k: Kernel, vmf: VmFault, fs: DaxFs): number {
  const p = k.profile;
  if (!p.daxPmd || p.daxEntries !== 'entries') return VM_FAULT_FALLBACK; // CONFIG_FS_DAX_PMD off: not even attempted
  const vma = vmf.vma!;
  const inode = vma.file!.inode;
  const mapping = inode.mapping;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const pmdAddr = vmf.address - (vmf.address % PMD_SIZE);
  const index = vmf.pgoff - (vmf.pgoff % 512);
  const maxIdx = Math.ceil(inode.sizeBytes / 4096);
  k.events.daxPmdFaults++;
  if (index >= maxIdx) return VM_FAULT_SIGBUS;
  const fallback = () => {
    k.vmstat.thp_fault_fallback++;
    k.events.daxPmdFallbacks++;
    return VM_FAULT_FALLBACK;
  };
  if (vmf.pgoff % 512 !== (vmf.address / 4096) % 512) return fallback();
  if (write && (vma.flags & VM_SHARED) === 0) return fallback();
  if (pmdAddr < vma.start || pmdAddr + PMD_SIZE > vma.end) return fallback();
  if (index + 511 >= maxIdx) return fallback();
  const entry = grabMappingEntry(k, mapping, index, PMD_ORDER);
  if (entry === GRAB_FALLBACK) return fallback();
  let ret = VM_FAULT_FALLBACK;
  try {
    const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
    if (pmd && pmd.tables[pmdIndex(vmf.address)] !== null) return (ret = 0);
    k.events.iomapBegin++;
    k.charge(k.costs.iomapBeginNs, COST.iomapBegin);
    const m = iomap;
    const err = fs.iomapBegin(inode, index, 512, write, m);
    if (err < 0) return (ret = err === -12 ? VM_FAULT_OOM : VM_FAULT_FALLBACK);
    if (m.lenBlocks < 512) return (ret = VM_FAULT_FALLBACK);
    if (!write && m.type !== 'mapped') {
      const hz = k.hugeZeroPage();
      if (hz < 0) return (ret = VM_FAULT_FALLBACK);
      k.events.daxPmdHoleLoads++;
      const e = daxInsertEntry(k, mapping, index, entry, hz, DAX_PMD | DAX_ZERO_PAGE, p.daxDirtyOnRead);
      ret = insertPmd(k, vmf, hz, false, true);
      if (k.tracer !== null) k.tracer.daxPmdLoadHole(vmf, hz, e, ret === VM_FAULT_FALLBACK);
      return ret;
    }
    if (m.type !== 'mapped') return (ret = VM_FAULT_FALLBACK);
    const pfn = fs.blockPfn(m.pblk);
    if (pfn % 512 !== 0) return (ret = VM_FAULT_FALLBACK);
    const sync = write && p.mapSync && (vma.flags & VM_SYNC) !== 0 && m.dirty;
    const dirty = !sync && (write || p.daxDirtyOnRead);
    const e = daxInsertEntry(k, mapping, index, entry, pfn, DAX_PMD, dirty);
    if (sync) {
      vmf.syncPfn = pfn;
      return (ret = VM_FAULT_NEEDDSYNC);
    }
    if (k.tracer !== null) k.tracer.daxInsertMapping(vmf, true, pfn, e);
    return (ret = insertPmd(k, vmf, pfn, write, false));
  } finally {
    daxUnlockEntry(k, mapping, index);
    if (ret === VM_FAULT_FALLBACK) {
      k.vmstat.thp_fault_fallback++;
      k.events.daxPmdFallbacks++;
    }
  }
}

/**
 * dax_finish_sync_fault + dax_insert_pfn_mkwrite (fs/dax.c v6.1, reference §4.6): fdatasync the
 * faulting range (commits the block allocation), then mark the entry DIRTY and install the
 * writable PTE or PMD. SIGBUS when the fsync fails.
 */
export function daxFinishSyncFault(k: Kernel, vmf: VmFault, fs: DaxFs, order: number): number {
  const vma = vmf.vma!;
  const mapping = vma.file!.inode.mapping;
  const index = order === PMD_ORDER ? vmf.pgoff - (vmf.pgoff % 512) : vmf.pgoff;
  const err = fs.fsyncRange(vma.file!, index, index + (1 << order) - 1);
  if (err < 0) return VM_FAULT_SIGBUS;
  k.events.daxInsertPfnMkwrite++;
  const e = mapping.pages.load(index);
  const tp = k.tracer;
  if (!isDaxEntry(e) || daxPfn(e) !== vmf.syncPfn) {
    if (tp !== null) tp.daxInsertPfnMkwrite(vmf, true, VM_FAULT_NOPAGE);
    return VM_FAULT_NOPAGE;
  }
  mapping.pages.setMark(index, PAGECACHE_TAG_DIRTY);
  const r = order === PMD_ORDER ? insertPmd(k, vmf, vmf.syncPfn, true, false)
    : insertPfn(k, vmf, vmf.syncPfn, true, _PAGE_SPECIAL | _PAGE_DEVMAP);
  if (tp !== null) tp.daxInsertPfnMkwrite(vmf, false, r);
  return r;
}

/** dax_pfn_mkwrite (fs/dax.c 4.5-4.13): mark the entry dirty; the core then makes the PTE writable. */
export function daxPfnMkwrite(k: Kernel, vmf: VmFault): number {
  const mapping = vmf.vma!.file!.inode.mapping;
  const inode = mapping.host;
  if (vmf.pgoff * 4096 >= inode.sizeBytes) return VM_FAULT_SIGBUS;
  const e = mapping.pages.load(vmf.pgoff);
  if (isDaxEntry(e)) mapping.pages.setMark(vmf.pgoff, PAGECACHE_TAG_DIRTY);
  return 0;
}

/**
 * Kani's dax_map_pages (seed 000, as posted): walk file pages from the window start while
 * pgoff < max_pgoff (exclusive, so the window's last page is never mapped), stop at EOF, ask
 * get_block for each page (no allocation), skip errors, holes, unwritten and new blocks, take
 * i_mmap_mutex (a sleeping lock, under the PTE spinlock: reported as lockdep would), recheck EOF,
 * and install a special read-only PTE where the PTE is empty. The post was written for 3.14,
 * whose do_fault_around installed the PTE table first; on a 6.18 base the PMD may still be empty,
 * and the table comes from mapPagesPte as every ->map_pages' does (filemap_map_pmd's pte_alloc).
 */
export function kaniDaxMapPages(k: Kernel, vmf: VmFault, fs: DaxFs, start: number, end: number): number {
  const vma = vmf.vma!;
  const inode = vma.file!.inode;
  const t = mapPagesPte(k, vmf);
  if (!t) return VM_FAULT_OOM;
  let mapped = 0;
  for (let pgoff = start; pgoff < end; pgoff++) {
    if (pgoff * 4096 >= inode.sizeBytes) break;
    k.events.iomapBegin++;
    k.charge(k.costs.iomapBeginNs, COST.iomapBegin);
    const err = fs.iomapBegin(inode, pgoff, 1, false, iomap);
    if (err < 0 || iomap.type !== 'mapped' || iomap.isNew) continue;
    if (k.spinDepth > 0) {
      k.lockdepWarn('dax_map_pages: sleeping lock i_mmap_mutex taken under the page-table spinlock (seed 000, ' +
        'NAKed for this)');
    }
    if (pgoff * 4096 >= inode.sizeBytes) break;
    const va = vma.start + (pgoff - vma.pgoff) * 4096;
    if (va < vma.start || va >= vma.end) continue;
    const i = vmf.pteIndex + (pgoff - vmf.pgoff);
    if (t.flags[i] !== 0) continue;
    setPte(t, i, fs.blockPfn(iomap.pblk), (vma.pageProt & ~_PAGE_RW) | _PAGE_SPECIAL);
    k.charge(k.costs.pteSetNs, COST.pageTable);
    mapped++;
  }
  k.events.faultaroundPagesMapped += mapped;
  return 0;
}


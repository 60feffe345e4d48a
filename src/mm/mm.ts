/**
 * The address-space objects of mm/: mm_struct (Mm), vm_area_struct (Vma), the vm_operations seam
 * (VmOperations) and the fault descriptor (VmFault). mm/ never knows which filesystem it faults on:
 * a VMA carries its VmOperations exactly as Linux's vm_operations_struct (include/linux/mm.h).
 */
import { SimRwsem } from '../lib/rwsem.ts';
import type { Pgd, PteTable, PmdTable } from './pgtable.ts';
import type { File } from '../fs/fs.ts';

/**
 * Models struct vm_operations_struct (include/linux/mm.h, v4.15-v6.1): the callbacks a mapping's
 * owner provides. Results are VM_FAULT_* bit sets.
 */
export interface VmOperations {
  readonly name: string;
  /** ->fault: resolve the page at vmf.pgoff (set vmf.page, return LOCKED), or install the PTE itself (NOPAGE). */
  fault(vmf: VmFault): number;
  /**
   * ->map_pages: map whatever of file pages [startPgoff, endPgoff] is ready (fault-around), under
   * the PTE lock, never sleeping. vmf.pte may be null (6.18: the PMD is still empty): take the
   * table from mapPagesPte (pgalloc.ts). do_fault_around checks what it installed (fault-around.ts
   * checkMapPages): PTEs of this table inside the window, or whole folios where 6.18's whole-folio
   * rule allows, writable only where vm_page_prot is.
   */
  mapPages?(vmf: VmFault, startPgoff: number, endPgoff: number): number;
  /** ->page_mkwrite: a page is about to become writable (write-notify). */
  pageMkwrite?(vmf: VmFault): number;
  /** ->pfn_mkwrite: a PFN mapping without struct page is about to become writable. */
  pfnMkwrite?(vmf: VmFault): number;
  /** ->huge_fault: try to map a PMD (order 9); FALLBACK when not possible. */
  hugeFault?(vmf: VmFault, order: number): number;
  /** ->fault understands Shutemov's RFC FAULT_FLAG_AROUND page array (seed 001: only filemap_fault). */
  readonly rfcFaultAround?: boolean;
  /** The page-cache mapping needs dirty accounting (mapping_can_writeback): makes shared writable VMAs write-notify. */
  readonly canWriteback: boolean;
}

export class Vma {
  start: number;
  end: number;
  /** File page index mapped at `start`. */
  pgoff: number;
  flags: number;
  /** vm_page_prot as a PTE flag word (reference §7). */
  pageProt: number;
  file: File | null;
  ops: VmOperations | null;
  readonly mm: Mm;
  /** Name given by the scenario (for smaps), or ''. */
  name = '';
  /**
   * vma->anon_vma is set: the VMA has had an anonymous page (anon_vma_prepare in do_anonymous_page's
   * write path, do_cow_fault, wp_page_copy, the THP fault; v6.1-6.18). It stays once set, and it is
   * what makes fork copy the VMA's page tables (vma_needs_copy, mm/memory.c).
   */
  anonVma = false;
  constructor(mm: Mm, start: number, end: number, pgoff: number, flags: number, file: File | null) {
    this.mm = mm;
    this.start = start;
    this.end = end;
    this.pgoff = pgoff;
    this.flags = flags;
    this.pageProt = 0;
    this.file = file;
    this.ops = null;
  }
  get pages(): number { return (this.end - this.start) / 4096; }
}

export class Mm {
  readonly pgd: Pgd;
  /** mmap_lock (mm_struct): held over simulated time in concurrent runs only (lib/rwsem.ts). */
  readonly mmapLock = new SimRwsem();
  /** VMAs sorted by start, non-overlapping. */
  vmas: Vma[] = [];
  /** Top-down allocation base (mmap_base). */
  mmapBase: number;
  /** RSS counters (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES). */
  rssFile = 0;
  rssAnon = 0;
  rssShmem = 0;
  /** mm->def_flags: VM_LOCKED (| VM_LOCKONFAULT) after mlockall(MCL_FUTURE) (mm/mlock.c apply_mlockall_flags). */
  defFlags = 0;
  /** Page-table pages (PTE level and above) allocated for this mm. */
  pgtablePages = 0;
  /** One-entry walk cache: the 2 MiB block number whose PTE table is `walkPte` (software TLB for the hot path). */
  walkBlk = -1;
  walkPte: PteTable | null = null;
  /** The same for a 2 MiB block mapped by a huge PMD leaf: its PMD table (flags read live). */
  walkLeafBlk = -1;
  walkLeafPmd: PmdTable | null = null;
  /** Last VMA found (vmacache). */
  vmaCache: Vma | null = null;
  constructor(pgd: Pgd, mmapBase: number) {
    this.pgd = pgd;
    this.mmapBase = mmapBase;
  }

  /** find_vma: the first VMA with end > addr, or null (mm/mmap.c). */
  findVma(addr: number): Vma | null {
    const c = this.vmaCache;
    if (c && c.start <= addr && addr < c.end) return c;
    const v = this.vmas;
    let lo = 0, hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v[mid]!.end <= addr) lo = mid + 1; else hi = mid;
    }
    const r = v[lo] ?? null;
    if (r && r.start <= addr) this.vmaCache = r;
    return r;
  }

  /**
   * Add `n` to the file RSS counter of a page-cache page: MM_SHMEMPAGES when the page is
   * swap-backed (shmem/tmpfs), MM_FILEPAGES otherwise (mm_counter_file, include/linux/mm.h v6.1).
   */
  addFileRss(swapBacked: boolean, n: number): void {
    if (swapBacked) this.rssShmem += n; else this.rssFile += n;
  }

  invalidateWalkCache(): void {
    this.walkBlk = -1;
    this.walkPte = null;
    this.walkLeafBlk = -1;
    this.walkLeafPmd = null;
  }
}

/**
 * Models struct vm_fault (include/linux/mm.h, v6.1). One object per task is reused for every
 * fault, so a fault allocates no descriptor.
 */
export class VmFault {
  vma: Vma | null = null;
  /** Faulting address rounded down to a page. */
  address = 0;
  realAddress = 0;
  pgoff = 0;
  flags = 0;
  /** Page returned by ->fault (PFN), or -1. */
  page = -1;
  /** Anonymous page allocated for a COW fault, or -1. */
  cowPage = -1;
  /** PTE table of `address` once known. */
  pte: PteTable | null = null;
  pteIndex = 0;
  /** PFN handed back with VM_FAULT_NEEDDSYNC (MAP_SYNC), for dax_finish_sync_fault. */
  syncPfn = -1;
  /** Set by ->fault implementations that had to drop the mmap lock (fpin in filemap_fault). */
  mmapLockDropped = false;
  /**
   * The PTE table was allocated by __do_fault for this fault (vmf->prealloc_pte): in Linux it is
   * not installed before finish_fault, which may map a PMD-sized folio with do_set_pmd instead.
   */
  preallocPte = false;
  /**
   * A frame taken for the PTE table before ->map_pages gathers its folios (do_fault_around's
   * pte_alloc_one into vmf->prealloc_pte, v5.12-v6.18), or -1; pteAlloc(.., vmf) consumes it.
   */
  preallocFrame = -1;
  reset(vma: Vma, address: number, flags: number): void {
    this.vma = vma;
    this.realAddress = address;
    this.address = address - (address % 4096);
    this.pgoff = vma.pgoff + (this.address - vma.start) / 4096;
    this.flags = flags;
    this.page = -1;
    this.cowPage = -1;
    this.pte = null;
    this.pteIndex = 0;
    this.mmapLockDropped = false;
    this.preallocPte = false;
    this.preallocFrame = -1;
    this.syncPfn = -1;
  }
}

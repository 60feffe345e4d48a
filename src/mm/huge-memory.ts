/**
 * Huge PMD mappings of DRAM pages (mm/huge_memory.c, mm/memory.c): transparent huge pages for
 * private anonymous memory (the PMD-level fault of an anonymous VMA, its write-protect fault,
 * splitting a huge PMD back into PTEs), and PMD-sized page-cache folios mapped with one PMD
 * (do_set_pmd, zap). DAX PMDs live in src/dax/fault.ts.
 * - Eligibility (thp_vma_allowable_order for faults): THP mode `always`, or `madvise` with
 *   MADV_HUGEPAGE on the VMA, never with MADV_NOHUGEPAGE, and the 2 MiB-aligned range around the
 *   fault inside the VMA (transhuge_vma_suitable). The profile's `thpAnon` is the sysfs
 *   `transparent_hugepage/enabled` setting (the 6.18 host: madvise).
 * - do_huge_pmd_anonymous_page (v6.1, v6.18): a read maps the huge zero page read-only (use_zero_page
 *   on); a write allocates a zeroed 2 MiB folio and maps it writable and dirty (thp_fault_alloc);
 *   no 2 MiB block free: fallback to PTEs (thp_fault_fallback).
 * - do_huge_pmd_wp_page: a write to the huge zero PMD allocates a THP in its place on 6.13+
 *   (do_huge_zero_wp_pmd, profile `thpZeroWpAlloc`); before, the PMD is split into 512 PTEs of
 *   the 4 KiB zero page and the write is handled at PTE level (so 511 more write faults follow).
 *   A read-only PMD of an exclusive THP is made writable again (reuse).
 * Measured on the 6.18 host (128 MiB, MADV_HUGEPAGE): 64 faults to read, 64 to write, 64 to write
 * after reading (against 32768 without MADV_HUGEPAGE).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { Vma, VmFault } from './mm.ts';
import type { PmdTable } from './pgtable.ts';
import { pmdIndex, setPte, setPmdLeaf, clearPmdLeaf } from './pgtable.ts';
import { pmdAlloc, pteAlloc } from './pgalloc.ts';
import { OWNER_ANON, PG_swapbacked } from '../hw/frames.ts';
import {
  PMD_SIZE, VM_SHARED, VM_HUGEPAGE, VM_NOHUGEPAGE, FAULT_FLAG_WRITE, VM_FAULT_FALLBACK, VM_FAULT_OOM,
  _PAGE_PRESENT, _PAGE_USER, _PAGE_ACCESSED, _PAGE_SPECIAL, _PAGE_NX, _PAGE_RW, _PAGE_DIRTY, _PAGE_PSE,
} from './constants.ts';
import { COST } from '../lib/cost-category.ts';

/** thp_vma_allowable_order for a fault (mm/huge_memory.c v6.18): can `addr` of `vma` take an anonymous huge PMD? */
export function thpAnonEligible(k: Kernel, vma: Vma, addr: number): boolean {
  if (vma.file !== null || (vma.flags & VM_SHARED) !== 0) return false;
  const mode = k.profile.thpAnon;
  if (mode === 'never' || (vma.flags & VM_NOHUGEPAGE) !== 0) return false;
  if (mode === 'madvise' && (vma.flags & VM_HUGEPAGE) === 0) return false;
  const haddr = addr - (addr % PMD_SIZE);
  return haddr >= vma.start && haddr + PMD_SIZE <= vma.end;
}

/**
 * vma_alloc_anon_folio_pmd + folio_zero_user (mm/huge_memory.c v6.18): a zeroed anonymous 2 MiB
 * folio; -1 when none.
 */
function allocThp(k: Kernel): number {
  const head = k.allocPages(9);
  if (head < 0) return -1;
  const f = k.frames;
  for (let i = 0; i < 512; i++) f.owner[head + i] = OWNER_ANON;
  f.flags[head] = f.flags[head]! | PG_swapbacked;
  k.charge(k.costs.pageAllocNs + 512 * k.costs.pageZeroNs, COST.zeroing);
  return head;
}

/**
 * map_anon_folio_pmd (mm/huge_memory.c v6.18): map anonymous folio `head` with the PMD leaf `pi`,
 * writable and dirty.
 */
function mapThp(k: Kernel, vma: Vma, pmd: PmdTable, pi: number, head: number, replacing: boolean): void {
  const f = k.frames;
  for (let i = 0; i < 512; i++) f.mapcount[head + i] = 1;
  const prot = vma.pageProt | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_PSE;
  if (replacing) {
    // The huge zero PMD is replaced in place: a reader of the old entry takes no fault either.
    pmd.leafFlags[pi] = prot;
    pmd.leafPfn[pi] = head;
    vma.mm.invalidateWalkCache();
  } else setPmdLeaf(vma.mm, pmd, pi, head, prot);
  vma.mm.rssAnon += 512;
  k.anonThpPmdMapped++;
  k.lru.addFolio(head, false);
  k.vmstat.thp_fault_alloc++;
  k.charge(k.costs.pteSetNs, COST.pageTable);
}

/**
 * do_huge_pmd_anonymous_page (mm/huge_memory.c v6.1, v6.18): the fault of an empty PMD in an
 * eligible anonymous VMA. Returns 0 (mapped), VM_FAULT_OOM, or VM_FAULT_FALLBACK (handle it with
 * PTEs).
 */
export function doHugePmdAnonymousPage(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  vma.anonVma = true; // anon_vma_prepare comes before the huge zero page branch (6.1-6.18)
  const pmd = pmdAlloc(k, vma, vmf.address);
  if (!pmd) return VM_FAULT_OOM;
  const pi = pmdIndex(vmf.address);
  if (pmd.tables[pi] !== null || pmd.leafFlags[pi] !== 0) return VM_FAULT_FALLBACK;
  if ((vmf.flags & FAULT_FLAG_WRITE) === 0) {
    const hz = k.hugeZeroPage();
    if (hz < 0) { k.vmstat.thp_fault_fallback++; return VM_FAULT_FALLBACK; }
    const zeroProt = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_SPECIAL | _PAGE_PSE |
      (vma.pageProt & _PAGE_NX);
    setPmdLeaf(vma.mm, pmd, pi, hz, zeroProt);
    k.charge(k.costs.pteSetNs, COST.pageTable);
    return 0;
  }
  const head = allocThp(k);
  if (head < 0) { k.vmstat.thp_fault_fallback++; return VM_FAULT_FALLBACK; }
  mapThp(k, vma, pmd, pi, head, false);
  return 0;
}

/**
 * do_huge_pmd_wp_page (mm/huge_memory.c v6.18; before 6.13 the huge zero PMD is always split) for
 * an anonymous VMA: a write to the read-only PMD leaf `pi`. Returns 0 when handled at PMD level,
 * else splits the PMD and returns VM_FAULT_FALLBACK (the PTE path goes on).
 */
export function doHugePmdWpAnon(k: Kernel, vmf: VmFault, pmd: PmdTable, pi: number): number {
  const vma = vmf.vma!;
  const f = k.frames;
  const pfn = pmd.leafPfn[pi]!;
  if (pfn === k.hugeZeroPfn) {
    if (k.profile.thpZeroWpAlloc) {
      const head = allocThp(k);
      if (head >= 0) { mapThp(k, vma, pmd, pi, head, true); return 0; }
      k.vmstat.thp_fault_fallback++;
    }
  } else if (f.refcount[pfn] === 1) {
    // An exclusive THP mapped read-only (mprotect): reuse it.
    pmd.leafFlags[pi] = pmd.leafFlags[pi]! | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
    vma.mm.invalidateWalkCache();
    return 0;
  }
  splitHugePmd(k, vma, pmd, pi, vmf.address - (vmf.address % PMD_SIZE));
  return VM_FAULT_FALLBACK;
}

/**
 * __split_huge_pmd_locked (mm/huge_memory.c v6.18) for an anonymous VMA: replace the PMD leaf by a
 * page table of 512 PTEs with the same protection, mapping the 4 KiB zero page (a huge zero PMD)
 * or each subpage of the THP (one reference per PTE; the folio is freed when the last one goes).
 */
export function splitHugePmd(k: Kernel, vma: Vma, pmd: PmdTable, pi: number, blockStart: number): void {
  const f = k.frames;
  const pfn = pmd.leafPfn[pi]!;
  const lf = clearPmdLeaf(vma.mm, pmd, pi);
  const t = pteAlloc(k, vma, blockStart);
  if (!t) throw new Error('split_huge_pmd: no memory for a page table');
  const zero = pfn === k.hugeZeroPfn;
  const prot = lf & ~_PAGE_PSE;
  const pteProt = zero ? prot & ~(_PAGE_RW | _PAGE_DIRTY) : prot;
  for (let j = 0; j < 512; j++) setPte(t, j, zero ? f.zeroPfn : pfn + j, pteProt);
  if (!zero) {
    f.refcount[pfn] = f.refcount[pfn]! + 511;
    k.anonThpPmdMapped--;
  }
  k.vmstat.thp_split_pmd++;
  k.vmstat.nr_tlb_local_flush_all++;
}

/**
 * zap_huge_pmd (mm/huge_memory.c v6.18) for an anonymous VMA, the whole 2 MiB unmapped: drop the PMD's reference on the
 * THP (freeing it when it was the last) or just clear the huge zero PMD.
 */
export function zapHugePmdAnon(k: Kernel, vma: Vma, pmd: PmdTable, pi: number): void {
  const f = k.frames;
  const pfn = pmd.leafPfn[pi]!;
  clearPmdLeaf(vma.mm, pmd, pi);
  if (pfn === k.hugeZeroPfn) return;
  for (let i = 0; i < 512; i++) f.mapcount[pfn + i] = 0;
  vma.mm.rssAnon -= 512;
  k.anonThpPmdMapped--;
  f.refcount[pfn] = f.refcount[pfn]! - 1;
  if (f.refcount[pfn] === 0) { k.lru.removeFolio(pfn); f.free(pfn, 9); }
}

/**
 * Is the PMD leaf at `pfn` a page-cache folio (not DAX pmem, not a zero page, not anonymous)?
 * (vm_normal_folio_pmd's question, v6.18)
 */
export function isPageCachePmd(k: Kernel, pfn: number): boolean {
  return pfn < k.pmemBase && k.frames.owner[pfn]! > 0;
}

/**
 * do_set_pmd's checks (mm/memory.c v6.18, thp_vma_suitable_order): page-cache folio `head` is
 * PMD-sized, the 2 MiB around `addr` lies inside the VMA, the file offset is congruent with the
 * address modulo 2 MiB, and the folio is the one that range maps.
 */
export function filePmdSuitable(k: Kernel, vma: Vma, addr: number, head: number): boolean {
  const f = k.frames;
  if (f.order[head] !== 9) return false;
  const haddr = addr - (addr % PMD_SIZE);
  if (haddr < vma.start || haddr + PMD_SIZE > vma.end) return false;
  if ((vma.start / 4096 - vma.pgoff) % 512 !== 0) return false;
  return f.index[head] === vma.pgoff + (haddr - vma.start) / 4096;
}

/**
 * do_set_pmd (mm/memory.c v6.18): map page-cache folio `head` with one PMD (writable and dirty for
 * a write fault), rmap and RSS for all 512 pages, thp_file_mapped. Returns 0, VM_FAULT_OOM, or
 * VM_FAULT_FALLBACK when the PMD is not empty.
 */
export function doSetPmd(k: Kernel, vmf: VmFault, head: number, write: boolean): number {
  const vma = vmf.vma!;
  const f = k.frames;
  const pmd = pmdAlloc(k, vma, vmf.address);
  if (!pmd) return VM_FAULT_OOM;
  const pi = pmdIndex(vmf.address);
  if (pmd.tables[pi] !== null || pmd.leafFlags[pi] !== 0) return VM_FAULT_FALLBACK;
  setPmdLeaf(vma.mm, pmd, pi, head, vma.pageProt | _PAGE_PSE | (write ? _PAGE_RW | _PAGE_DIRTY : 0));
  for (let i = 0; i < 512; i++) f.mapcount[head + i] = f.mapcount[head + i]! + 1;
  f.refcount[head] = f.refcount[head]! + 1;
  vma.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, 512);
  k.vmstat.thp_file_mapped++;
  k.filePmdMapped++;
  k.charge(k.costs.pteSetNs, COST.pageTable);
  return 0;
}

/**
 * Remove a page-cache PMD mapping (zap_huge_pmd, v6.18; __split_huge_pmd of a file PMD just zaps it, the
 * next fault maps it again): drop rmap, references and RSS; a dirty PMD dirties the folio.
 */
export function zapFilePmd(k: Kernel, vma: Vma, pmd: PmdTable, pi: number, markDirty: (head: number) => void): void {
  const f = k.frames;
  const head = pmd.leafPfn[pi]!;
  const lf = clearPmdLeaf(vma.mm, pmd, pi);
  if ((lf & _PAGE_DIRTY) !== 0) markDirty(head);
  for (let i = 0; i < 512; i++) f.mapcount[head + i] = f.mapcount[head + i]! - 1;
  f.refcount[head] = f.refcount[head]! - 1;
  vma.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, -512);
  k.filePmdMapped--;
}

/**
 * zap_huge_pmd (mm/huge_memory.c v6.18): remove the whole PMD leaf `pi` of `vma` with what it maps:
 * an anonymous THP or the huge zero page, a page-cache folio (dirty PMD -> dirty folio), or DAX
 * pmem (no struct page: just the entry).
 */
export function zapHugePmd(k: Kernel, vma: Vma, pmd: PmdTable, pi: number, markDirty: (head: number) => void): void {
  if (!vma.file) zapHugePmdAnon(k, vma, pmd, pi);
  else if (isPageCachePmd(k, pmd.leafPfn[pi]!)) zapFilePmd(k, vma, pmd, pi, markDirty);
  else clearPmdLeaf(vma.mm, pmd, pi);
}

/**
 * __split_huge_pmd (mm/huge_memory.c v6.18): an anonymous PMD becomes 512 PTEs; a file or DAX PMD
 * is just zapped, and the next access refaults.
 */
export function splitHugePmdAny(k: Kernel, vma: Vma, pmd: PmdTable, pi: number, blockStart: number,
  markDirty: (head: number) => void): void {
  if (!vma.file) { splitHugePmd(k, vma, pmd, pi, blockStart); return; }
  zapHugePmd(k, vma, pmd, pi, markDirty);
  k.vmstat.thp_split_pmd++;
  k.vmstat.nr_tlb_local_flush_all++;
}

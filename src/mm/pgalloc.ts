/**
 * Page-table allocation on the fault path (__pte_alloc, __pmd_alloc, __pud_alloc of mm/memory.c,
 * v6.1 and v6.18): find the table covering an address, allocating each missing level from a
 * kernel page. Every mechanism that installs entries (faults, fault-around, ->map_pages, DAX,
 * huge PMDs) gets its table here.
 */
import { assert } from '../lib/assert.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Vma } from './mm.ts';
import { PteTable, PmdTable, PudTable, PMD_BYTES, pmdIndex, pgdIndex, pudIndex } from './pgtable.ts';

/**
 * Find or allocate the PTE table covering `addr` (__pte_alloc and the levels above). Returns null
 * when no frame is left for a page-table page. Page-table pages are accounted in mm.pgtablePages.
 */
export function pteAlloc(k: Kernel, vma: Vma, addr: number): PteTable | null {
  const mm = vma.mm;
  const blk = Math.floor(addr / PMD_BYTES);
  if (mm.walkBlk === blk && mm.walkPte) return mm.walkPte;
  const pmd = pmdAlloc(k, vma, addr);
  if (!pmd) return null;
  const mi = pmdIndex(addr);
  let t = pmd.tables[mi];
  if (!t) {
    assert(pmd.leafFlags[mi] === 0, 'pte_alloc under a huge PMD');
    const pfn = k.allocKernelPage();
    if (pfn < 0) return null;
    t = new PteTable(pfn);
    pmd.tables[mi] = t;
    pmd.used++;
    mm.pgtablePages++;
  }
  mm.walkBlk = blk;
  mm.walkPte = t;
  return t;
}

/** Find or allocate the PMD table covering `addr` (for huge PMD leaves); null on OOM. */
export function pmdAlloc(k: Kernel, vma: Vma, addr: number): PmdTable | null {
  const mm = vma.mm;
  const pgd = mm.pgd;
  const gi = pgdIndex(addr);
  let pud = pgd.puds[gi];
  if (!pud) {
    const pfn = k.allocKernelPage();
    if (pfn < 0) return null;
    pud = new PudTable(pfn);
    pgd.puds[gi] = pud;
    pgd.used++;
    mm.pgtablePages++;
  }
  const ui = pudIndex(addr);
  let pmd = pud.pmds[ui];
  if (!pmd) {
    const pfn = k.allocKernelPage();
    if (pfn < 0) return null;
    pmd = new PmdTable(pfn);
    pud.pmds[ui] = pmd;
    pud.used++;
    mm.pgtablePages++;
  }
  return pmd;
}

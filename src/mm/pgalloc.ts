/**
 * Page-table allocation on the fault path (__pte_alloc, __pmd_alloc, __pud_alloc of mm/memory.c,
 * v6.1 and v6.18): find the table covering an address, allocating each missing level from a
 * kernel page. Every mechanism that installs entries (faults, fault-around, ->map_pages, DAX,
 * huge PMDs) gets its table here.
 */
import { assert } from '../lib/assert.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Vma, VmFault } from './mm.ts';
import { PteTable, PmdTable, PudTable, PMD_BYTES, pmdIndex, pgdIndex, pudIndex, pteIndex } from './pgtable.ts';

/**
 * Find or allocate the PTE table covering `addr` (__pte_alloc and the levels above). Returns null
 * when no frame is left for a page-table page. Page-table pages are accounted in mm.pgtablePages.
 */
export function pteAlloc(k: Kernel, vma: Vma, addr: number, vmf: VmFault | null = null): PteTable | null {
  const mm = vma.mm;
  const blk = Math.floor(addr / PMD_BYTES);
  if (mm.walkBlk === blk && mm.walkPte) return mm.walkPte;
  const pmd = pmdAlloc(k, vma, addr);
  if (!pmd) return null;
  const mi = pmdIndex(addr);
  let t = pmd.tables[mi];
  if (!t) {
    assert(pmd.leafFlags[mi] === 0, 'pte_alloc under a huge PMD');
    let pfn = vmf !== null ? vmf.preallocFrame : -1;
    if (pfn >= 0) vmf!.preallocFrame = -1;
    else pfn = k.allocKernelPage();
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

/**
 * The PTE table a ->map_pages installs into (the contract of do_fault_around, mm/memory.c). In
 * v3.15-v5.11 do_fault_around installed the table before calling ->map_pages; from v5.12 it only
 * preallocates one (vmf->prealloc_pte) and the callee installs it: filemap_map_pages ->
 * filemap_map_pmd -> pmd_install (v5.12-v6.18), after deciding whether to map a PMD instead. The
 * model installs it early on profiles without mapWholeFolio and leaves an empty PMD empty on 6.18,
 * so a ->map_pages must not assume vmf.pte: it gets its table here, vmf.pte or the table covering
 * vmf.address allocated now (vmf.pte and vmf.pteIndex set). Null when no page is left for it (the
 * callee returns VM_FAULT_OOM).
 */
export function mapPagesPte(k: Kernel, vmf: VmFault): PteTable | null {
  if (vmf.pte) return vmf.pte;
  const t = pteAlloc(k, vmf.vma!, vmf.address, vmf);
  if (!t) return null;
  vmf.pte = t;
  vmf.pteIndex = pteIndex(vmf.address);
  return t;
}

/**
 * DAX ->map_pages variants other than Kani's posted one (that one lives beside the DAX fault
 * handler in fault.ts, as the RFC put it in fs/dax.c).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { VmFault } from '../mm/mm.ts';
import { VM_FAULT_OOM, _PAGE_RW, _PAGE_SPECIAL, _PAGE_DEVMAP } from '../mm/constants.ts';
import { mapPagesPte } from '../mm/pgalloc.ts';
import { setPte } from '../mm/pgtable.ts';
import { COST } from '../lib/cost-category.ts';
import { daxFlags, daxPfn, isDaxEntry, DAX_LOCKED, DAX_ZERO_PAGE, DAX_EMPTY, DAX_PMD } from './entry.ts';

/**
 * A DAX fault-around that maps only what the mapping's XArray already knows: for each file page
 * of the window with an unlocked DAX value entry that holds a media PFN (not the zero page, not an
 * EMPTY placeholder) and lies inside i_size, install a read-only special/devmap PTE for that PFN
 * (the subpage of a PMD entry's 2 MiB extent). It never calls iomap_begin and never takes a
 * sleeping lock, so it answers Kani's objections (seed 000) with Wilcox's entries (seed 002):
 * a page the filesystem has not yet mapped through a fault is left to the fault. Written for the
 * v6.18 base (filemap_map_pages' contract there: the PTE table comes from mapPagesPte, entries
 * are made present read-only, a write finds them through ->pfn_mkwrite). An RFC of this project,
 * not a posted patch: it is the example of a profile that swaps one vm_ops callback.
 */
export function daxEntryPfnMapPages(k: Kernel, vmf: VmFault, start: number, end: number): number {
  const vma = vmf.vma!;
  const inode = vma.file!.inode;
  const pages = inode.mapping.pages;
  const t = mapPagesPte(k, vmf);
  if (!t) return VM_FAULT_OOM;
  const eofPage = Math.ceil(inode.sizeBytes / 4096);
  const last = Math.min(end, eofPage - 1);
  const prot = (vma.pageProt & ~_PAGE_RW) | _PAGE_SPECIAL | _PAGE_DEVMAP;
  let mapped = 0;
  for (let pgoff = start; pgoff <= last; pgoff++) {
    const i = vmf.pteIndex + (pgoff - vmf.pgoff);
    if (t.flags[i] !== 0) continue;
    k.charge(k.costs.pageCacheLookupNs, COST.pageCacheLookup);
    const e = pages.load(pgoff);
    if (!isDaxEntry(e) || (daxFlags(e) & (DAX_LOCKED | DAX_ZERO_PAGE | DAX_EMPTY)) !== 0) continue;
    const pfn = daxPfn(e) + ((daxFlags(e) & DAX_PMD) !== 0 ? pgoff % 512 : 0);
    setPte(t, i, pfn, prot);
    k.charge(k.costs.pteSetNs, COST.pageTable);
    mapped++;
  }
  k.events.faultaroundPagesMapped += mapped;
  return 0;
}

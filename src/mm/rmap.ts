/**
 * Reverse mapping and unmapping: zap_pte_range (tear down PTEs, dropping references and RSS),
 * unmap_mapping_range over a file's i_mmap (truncate, hole punch, zero-page replacement),
 * page_mkclean (write-protect a page's PTEs in shared mappings before writeback) and
 * folio_referenced (test-and-clear accessed bits for reclaim). mm/memory.c and mm/rmap.c, v6.1.
 */
import { OWNER_ANON, PG_swapbacked } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Vma } from './mm.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_RW, _PAGE_SPECIAL, VM_SHARED } from './constants.ts';
import { clearPte, pmdIndex, pmdTableOf, pteIndex, pteTableOf, PMD_BYTES } from './pgtable.ts';
import { folioMarkDirty } from './pagemap.ts';
import { splitHugePmd, splitHugePmdAny, zapHugePmd } from './huge-memory.ts';

/**
 * Zap the PTEs of [startVa, endVa) in `vma` (zap_pte_range, v6.1). `evenCows` false keeps
 * anonymous COW pages of private mappings (hole punch); true removes them too (truncate, munmap).
 * Returns the number of PTEs cleared. A dirty PTE of a file page dirties the page, as the kernel's
 * zap does, so data written through a mapping is not lost when the mapping goes.
 */
export function zapRange(k: Kernel, vma: Vma, startVa: number, endVa: number, evenCows: boolean): number {
  const mm = vma.mm;
  const f = k.frames;
  let cleared = 0;
  for (let va = startVa; va < endVa;) {
    const blockEnd = Math.min(endVa, (Math.floor(va / PMD_BYTES) + 1) * PMD_BYTES);
    const pmd = pmdTableOf(mm.pgd, va);
    if (pmd) {
      const pi = pmdIndex(va);
      if (pmd.leafFlags[pi] !== 0) {
        // zap_pmd_range: a huge PMD the range covers whole is zapped (zap_huge_pmd); one it covers
        // in part is split, which turns an anonymous one into PTEs zapped below and zaps a file
        // or DAX one whole (the rest refaults).
        // A partial zap counts as a split (thp_split_pmd) whatever the PMD maps (6.1 guest: MADV_DONTNEED
        // of one page of a DAX PMD).
        const blockStart = Math.floor(va / PMD_BYTES) * PMD_BYTES;
        if (va === blockStart && blockEnd === blockStart + PMD_BYTES) {
          zapHugePmd(k, vma, pmd, pi, (h) => folioMarkDirty(k, h));
          cleared++;
        } else if (vma.file) {
          splitHugePmdAny(k, vma, pmd, pi, blockStart, (h) => folioMarkDirty(k, h));
          cleared++;
        } else splitHugePmd(k, vma, pmd, pi, blockStart);
      }
      const t = pmd.tables[pi];
      if (t && t.used > 0) {
        const last = pteIndex(blockEnd - 1);
        for (let i = pteIndex(va); i <= last; i++) {
          const fl = t.flags[i]!;
          if (fl === 0) continue;
          const pfn: number = t.pfn[i]!;
          if ((fl & _PAGE_SPECIAL) === 0) {
            const anon = f.owner[pfn] === OWNER_ANON;
            if (anon && !evenCows) continue;
            const head = f.head[pfn]!;
            if (!anon && (fl & _PAGE_DIRTY) !== 0) folioMarkDirty(k, head);
            f.mapcount[pfn] = f.mapcount[pfn]! - 1;
            f.refcount[head] = f.refcount[head]! - 1;
            if (anon) {
              mm.rssAnon--;
              if (f.refcount[head] === 0) { k.lru.removeFolio(head); f.free(head, f.order[head]!); }
            } else mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, -1);
          }
          clearPte(t, i);
          cleared++;
        }
      }
    }
    va = blockEnd;
  }
  if (cleared > 0) k.vmstat.nr_tlb_local_flush_all++;
  return cleared;
}

/**
 * unmap_mapping_range / unmap_mapping_pages (mm/memory.c v6.1): zap file pages
 * [startIndex, startIndex + nrPages) in every VMA of the file.
 */
export function unmapMappingPages(k: Kernel, mapping: AddressSpace, startIndex: number, nrPages: number,
  evenCows: boolean): number {
  let n = 0;
  const endIndex = startIndex + nrPages; // exclusive
  for (const vma of mapping.iMmap) {
    const vStart = vma.pgoff, vEnd = vma.pgoff + vma.pages;
    const s = Math.max(vStart, startIndex), e = Math.min(vEnd, endIndex);
    if (s >= e) continue;
    n += zapRange(k, vma, vma.start + (s - vStart) * 4096, vma.start + (e - vStart) * 4096, evenCows);
  }
  return n;
}

/**
 * pfn_mkclean_range / dax_entry_mkclean (v6.1): write-protect and clean the PTEs and huge PMDs that
 * map file pages [start, start+n) in every shared VMA. Returns how many entries changed.
 */
export function wrprotectFilePages(k: Kernel, mapping: AddressSpace, start: number, n: number): number {
  let changed = 0;
  for (const vma of mapping.iMmap) {
    if ((vma.flags & VM_SHARED) === 0) continue;
    const s = Math.max(start, vma.pgoff), e = Math.min(start + n, vma.pgoff + vma.pages);
    for (let idx = s; idx < e; idx++) {
      const va = vma.start + (idx - vma.pgoff) * 4096;
      const pmd = pmdTableOf(vma.mm.pgd, va);
      if (!pmd) { idx += 511 - (idx - vma.pgoff) % 512; continue; }
      const pi = pmdIndex(va);
      const lf = pmd.leafFlags[pi]!;
      if (lf !== 0) {
        if (lf & (_PAGE_RW | _PAGE_DIRTY)) { pmd.leafFlags[pi] = lf & ~(_PAGE_RW | _PAGE_DIRTY); changed++; }
        continue;
      }
      const t = pmd.tables[pi];
      if (!t) continue;
      const i = pteIndex(va);
      const fl = t.flags[i]!;
      if (fl & (_PAGE_RW | _PAGE_DIRTY)) { t.flags[i] = fl & ~(_PAGE_RW | _PAGE_DIRTY); changed++; }
    }
  }
  if (changed > 0) k.vmstat.nr_tlb_local_flush_all++;
  return changed;
}

/**
 * The rmap walk over a file (rmap_walk_file, mm/rmap.c v6.1): for each VMA in `mapping`'s i_mmap
 * (shared ones only if `sharedOnly`) that maps file page `index`, the VMA and the address.
 */
function forEachVmaOfIndex(mapping: AddressSpace, index: number, sharedOnly: boolean,
  fn: (vma: Vma, va: number) => void): void {
  for (const vma of mapping.iMmap) {
    if (sharedOnly && (vma.flags & VM_SHARED) === 0) continue;
    if (index < vma.pgoff || index >= vma.pgoff + vma.pages) continue;
    fn(vma, vma.start + (index - vma.pgoff) * 4096);
  }
}

/** Visit every huge PMD leaf that maps page-cache folio `head` (PMD-sized) in shared or all VMAs. */
function forEachPmdOfFolio(k: Kernel, mapping: AddressSpace, head: number, sharedOnly: boolean,
  fn: (pmd: import('./pgtable.ts').PmdTable, pi: number) => void): void {
  forEachVmaOfIndex(mapping, k.frames.index[head]!, sharedOnly, (vma, va) => {
    const pmd = pmdTableOf(vma.mm.pgd, va);
    const pi = pmdIndex(va);
    if (pmd && pmd.leafFlags[pi] !== 0 && pmd.leafPfn[pi] === head) fn(pmd, pi);
  });
}

/** Visit every PTE mapping file page `index` of `mapping` in shared or all VMAs. */
function forEachPteOfIndex(mapping: AddressSpace, index: number, sharedOnly: boolean,
  fn: (t: import('./pgtable.ts').PteTable, i: number, vma: Vma) => void): void {
  forEachVmaOfIndex(mapping, index, sharedOnly, (vma, va) => {
    const t = pteTableOf(vma.mm.pgd, va);
    const i = pteIndex(va);
    if (t && t.flags[i] !== 0) fn(t, i, vma);
  });
}

/**
 * folio_mkclean (mm/rmap.c v6.1): write-protect and clean every PTE that maps the pages of the
 * folio in shared VMAs, so the next store takes a write-protect fault (page_mkwrite). Returns the
 * number of PTEs that were dirty or writable; a dirty PTE keeps the folio dirty.
 */
export function folioMkclean(k: Kernel, head: number): number {
  const f = k.frames;
  const mapping = k.mappingOf(f.owner[head]!);
  if (!mapping) return 0;
  let n = 0;
  if (f.order[head] === 9) {
    forEachPmdOfFolio(k, mapping, head, true, (pmd, pi) => {
      const lf = pmd.leafFlags[pi]!;
      if ((lf & (_PAGE_RW | _PAGE_DIRTY)) !== 0) { pmd.leafFlags[pi] = lf & ~(_PAGE_RW | _PAGE_DIRTY); n++; }
    });
  }
  const first = f.index[head]!;
  const nr = 1 << f.order[head]!;
  for (let j = 0; j < nr; j++) {
    if (f.mapcount[head + j] === 0) continue;
    forEachPteOfIndex(mapping, first + j, true, (t, i) => {
      const fl = t.flags[i]!;
      if (t.pfn[i] !== head + j) return;
      if ((fl & (_PAGE_RW | _PAGE_DIRTY)) !== 0) {
        t.flags[i] = fl & ~(_PAGE_RW | _PAGE_DIRTY);
        n++;
      }
    });
  }
  if (n > 0) k.vmstat.nr_tlb_local_flush_all++;
  return n;
}

/**
 * folio_referenced (mm/rmap.c v6.1): count PTEs mapping the folio with the accessed bit set,
 * clearing the bits (ptep_clear_flush_young). Also folds in a dirty PTE (the page stays dirty).
 */
export function folioReferenced(k: Kernel, head: number): number {
  const f = k.frames;
  const mapping = k.mappingOf(f.owner[head]!);
  if (!mapping) return 0;
  let n = 0;
  if (f.order[head] === 9) {
    forEachPmdOfFolio(k, mapping, head, false, (pmd, pi) => {
      const lf = pmd.leafFlags[pi]!;
      if ((lf & _PAGE_ACCESSED) !== 0) { pmd.leafFlags[pi] = lf & ~_PAGE_ACCESSED; n++; }
      if ((lf & _PAGE_DIRTY) !== 0) folioMarkDirty(k, head);
    });
  }
  const first = f.index[head]!;
  const nr = 1 << f.order[head]!;
  for (let j = 0; j < nr; j++) {
    if (f.mapcount[head + j] === 0) continue;
    forEachPteOfIndex(mapping, first + j, false, (t, i) => {
      if (t.pfn[i] !== head + j) return;
      const fl = t.flags[i]!;
      if ((fl & _PAGE_ACCESSED) !== 0) {
        t.flags[i] = fl & ~_PAGE_ACCESSED;
        n++;
      }
      if ((fl & _PAGE_DIRTY) !== 0) folioMarkDirty(k, head);
    });
  }
  return n;
}

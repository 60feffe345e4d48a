/**
 * free_pgtables (mm/mmap.c v6.1): after unmapping, free page-table pages that no longer map
 * anything in the range, returning their frames and shrinking mm.pgtablePages.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { Mm } from './mm.ts';
import { pgdIndex, pudIndex, pmdIndex, PMD_BYTES, PUD_BYTES } from './pgtable.ts';

export function freePgtables(k: Kernel, mm: Mm, start: number, end: number): void {
  const f = k.frames;
  for (let va = Math.floor(start / PMD_BYTES) * PMD_BYTES; va < end; va += PMD_BYTES) {
    // A table shared with a neighbouring VMA that still has mappings stays (used > 0).
    const pud = mm.pgd.puds[pgdIndex(va)];
    if (!pud) { va = Math.floor(va / PUD_BYTES) * PUD_BYTES + PUD_BYTES - PMD_BYTES; continue; }
    const pmd = pud.pmds[pudIndex(va)];
    if (!pmd) continue;
    const mi = pmdIndex(va);
    const t = pmd.tables[mi];
    if (t && t.used === 0 && !vmaCovers(mm, va)) {
      pmd.tables[mi] = null;
      pmd.used--;
      f.free(t.framePfn, 0);
      mm.pgtablePages--;
    }
    if (pmd.used === 0 && !anyVmaIn(mm, Math.floor(va / PUD_BYTES) * PUD_BYTES, PUD_BYTES)) {
      pud.pmds[pudIndex(va)] = null;
      pud.used--;
      f.free(pmd.framePfn, 0);
      mm.pgtablePages--;
      if (pud.used === 0) {
        mm.pgd.puds[pgdIndex(va)] = null;
        mm.pgd.used--;
        f.free(pud.framePfn, 0);
        mm.pgtablePages--;
      }
    }
  }
  mm.invalidateWalkCache();
}

/** Does any VMA still cover part of the 2 MiB block at `blk`? */
function vmaCovers(mm: Mm, blk: number): boolean {
  return anyVmaIn(mm, blk, PMD_BYTES);
}

function anyVmaIn(mm: Mm, s: number, len: number): boolean {
  for (const v of mm.vmas) if (v.start < s + len && v.end > s) return true;
  return false;
}

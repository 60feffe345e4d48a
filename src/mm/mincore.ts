// mincore(2) (mm/mincore.c): which pages of a range are resident. Shared by the scenario step
// and by the real-kernel comparison (src/oracle/model-side.ts reads every mapping through it).
// Reads the page tables and the page cache only.

import type { Kernel } from '../kernel/kernel.ts';
import type { Mm, Vma } from './mm.ts';
import { pteTableOf, pmdTableOf, pteIndex, pmdIndex } from './pgtable.ts';
import { _PAGE_PRESENT, _PAGE_PROTNONE, PAGE_SIZE } from './constants.ts';
import { PG_uptodate } from '../hw/frames.ts';
import { findFolio } from './pagemap.ts';
import { EINVAL, ENOMEM } from '../lib/errno.ts';

/** User address space end of x86-64 with 4-level tables (TASK_SIZE_MAX). */
const TASK_SIZE = 2 ** 47 - PAGE_SIZE;

/**
 * mincore of one page of `vma` (mm/mincore.c v6.1 mincore_pte_range / mincore_unmapped_range /
 * mincore_page; the same in 5.10-6.18): 1 under a huge PMD or a present PTE (PROT_NONE entries
 * included), else whether the file's page cache holds an uptodate folio there
 * (filemap_get_incore_folio: DAX and shadow value entries count as absent), and 0 for anonymous
 * memory without a PTE.
 */
export function mincorePage(k: Kernel, vma: Vma, va: number): 0 | 1 {
  const mm = vma.mm;
  const pmd = pmdTableOf(mm.pgd, va);
  if (pmd && pmd.leafFlags[pmdIndex(va)] !== 0) return 1;
  const t = pteTableOf(mm.pgd, va);
  if (t && (t.flags[pteIndex(va)]! & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0) return 1;
  if (vma.file === null) return 0;
  const head = findFolio(vma.file.inode.mapping, vma.pgoff + (va - vma.start) / PAGE_SIZE);
  return head >= 0 && (k.frames.flags[head]! & PG_uptodate) !== 0 ? 1 : 0;
}

/**
 * sys_mincore + do_mincore (mm/mincore.c v6.1, unchanged to 6.18): EINVAL for an unaligned start,
 * ENOMEM past TASK_SIZE or where a page of the range has no VMA (the vector is filled up to
 * there, as the kernel copies it chunk by chunk); else one byte per page (bit 0: resident).
 */
export function doMincore(k: Kernel, mm: Mm, addr: number, len: number, vec: Uint8Array): number {
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  if (len < 0 || addr + len > TASK_SIZE) return -ENOMEM;
  const pages = Math.ceil(len / PAGE_SIZE);
  if (vec.length < pages) throw new Error(`mincore: vector of ${vec.length} bytes for ${pages} pages`);
  for (let i = 0; i < pages; i++) {
    const va = addr + i * PAGE_SIZE;
    const vma = mm.findVma(va);
    if (vma === null || vma.start > va) return -ENOMEM;
    vec[i] = mincorePage(k, vma, va);
  }
  return 0;
}

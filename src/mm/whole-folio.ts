/**
 * The whole-folio rule of Linux 6.18: when a fault may map every page of a large page-cache folio
 * at once. finish_fault (mm/memory.c, 19773df031bc) and fault-around's filemap_map_pages /
 * filemap_map_folio_range (mm/filemap.c, 357b92761d94) ask the same two questions, answered here
 * once for both (profile knob mapWholeFolio):
 * - geometry: the folio lies inside the VMA and inside one page table (folio_within_vma and the
 *   PMD_MASK test of filemap_map_folio_range; the vma_off/pte_off tests of finish_fault);
 * - the i_size guard (74207de2ba10, "do not populate page table entries beyond i_size"): a
 *   non-shmem folio must not reach past the end of the file. The two callers draw that line one
 *   page apart, as 6.18 does: finish_fault compares with DIV_ROUND_UP(i_size, PAGE_SIZE), so the
 *   folio may end with the file's last page; filemap_map_pages with DIV_ROUND_UP(i_size, PAGE_SIZE)
 *   - 1, so the folio holding the last page is not mapped whole by a read fault-around (the 6.18
 *   host: 1 MiB folios take 128 write faults but 127 + 16 read faults for 128 MiB, lfprobe.c).
 *   filemap_map_pages applies the guard to the first folio of the window only (can_map_large) and
 *   uses that answer for every folio of the window, as 6.18 does.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { Vma } from './mm.ts';
import { PG_swapbacked } from '../hw/frames.ts';

/** finish_fault's i_size guard: the folio may end with the last page of the file. */
export const I_SIZE_FINISH_FAULT = 0;
/** filemap_map_pages' i_size guard (can_map_large): the folio must end before the file's last page. */
export const I_SIZE_FAULT_AROUND = 1;

/**
 * The i_size guard of Linux 6.18 (74207de2ba10, in finish_fault and filemap_map_pages): may folio
 * `head` be mapped whole, given the file's size in pages `filePages` (DIV_ROUND_UP(i_size,
 * PAGE_SIZE))? Shmem (swap-backed) folios always may; others must end at or before `filePages`
 * minus the caller's margin (I_SIZE_FINISH_FAULT or I_SIZE_FAULT_AROUND).
 */
export function folioWithinISize(k: Kernel, head: number, filePages: number, rule: number): boolean {
  const f = k.frames;
  if ((f.flags[head]! & PG_swapbacked) !== 0) return true;
  return filePages - rule >= f.index[head]! + (1 << f.order[head]!);
}

/**
 * The whole-folio rule of Linux 6.18 (finish_fault 19773df031bc; filemap_map_folio_range
 * 357b92761d94): a large folio whose first page is file page `fidx` and which has `n` pages is
 * mapped whole when the i_size guard allowed it (`withinISize`, see folioWithinISize), and it lies
 * inside `vma` and inside the page table whose first slot maps file page `tableFirst`.
 * finish_fault also needs every PTE of the folio empty (pte_range_none); fault-around skips the
 * present ones instead.
 */
export function wholeFolioFits(vma: Vma, fidx: number, n: number, tableFirst: number, withinISize: boolean): boolean {
  return withinISize && n > 1 && fidx >= vma.pgoff && fidx + n <= vma.pgoff + vma.pages &&
    fidx >= tableFirst && fidx + n <= tableFirst + 512;
}

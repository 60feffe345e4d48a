/**
 * populate_vma_page_range (mm/gup.c v6.1): MAP_POPULATE faults every page of the VMA in through
 * get_user_pages: a write fault for private writable mappings (FOLL_WRITE), read faults
 * otherwise. GUP faults are counted in pgfault and, from 5.9, in the task's min/maj_flt; pages
 * already mapped (by fault-around, say) take no fault. MADV_POPULATE_READ/WRITE (5.14+) use the
 * same loop over a range (populateRange).
 */
import type { Kernel, Task } from '../kernel/kernel.ts';
import type { Vma } from './mm.ts';
import {
  VM_READ, VM_EXEC, VM_SHARED, VM_WRITE, VM_LOCKONFAULT, FAULT_FLAG_WRITE, FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_KILLABLE, FAULT_FLAG_TRIED, VM_FAULT_RETRY, VM_FAULT_ERROR, VM_FAULT_OOM, _PAGE_RW,
  _PAGE_PRESENT, PMD_SIZE,
} from './constants.ts';
import { EFAULT, ENOMEM } from '../lib/errno.ts';
import { handleMmFault } from './fault.ts';
import { pteIndex, pteTableOf, pmdTableOf, pmdIndex } from './pgtable.ts';

/**
 * __mm_populate -> populate_vma_page_range (mm/gup.c, 6.1 and 6.18): a VMA without read, write or
 * exec (PROT_NONE, !vma_is_accessible) gets no FOLL_FORCE, so check_vma_flags refuses it with
 * -EFAULT before any fault, and __mm_populate ignores the error: mmap succeeds, nothing is mapped.
 * A fault that dropped mmap_lock (VM_FAULT_RETRY) is redone by __mm_populate's own loop, which
 * calls populate_vma_page_range -> __get_user_pages again without FOLL_TRIED: the redone fault is
 * not FAULT_FLAG_TRIED, so it counts as minor (mm_account_fault) unless it did I/O itself. The
 * 6.1 guest and 6.18 host: a dirty ext4 file after drop_caches (every folio PG_reclaim, read as
 * PG_readahead by do_async_mmap_readahead, which drops the lock) populates with 512 minor faults.
 */
export function populateVma(k: Kernel, task: Task, vma: Vma): void {
  if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return;
  if ((vma.flags & VM_LOCKONFAULT) !== 0) return; // populate_vma_page_range: locked on fault, not now
  populateRange(k, task, vma, vma.start, vma.end, (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE, false);
}

/**
 * __get_user_pages (mm/gup.c v6.1) over [start, end) of `vma` with FOLL_WRITE when `write`: each
 * page that follow_page_mask cannot take as it is (not mapped, or not writable for a write; a
 * huge PMD serves its whole 2 MiB) is faulted in by handle_mm_fault, retried while it asks.
 * Returns 0, -EFAULT when a fault ends in SIGBUS or SIGSEGV (the caller reports it), -ENOMEM on OOM.
 * `tried`: a retried fault carries FAULT_FLAG_TRIED (__get_user_pages_locked's FOLL_TRIED retry);
 * false for __mm_populate, which redoes it as a first attempt.
 */
export function populateRange(k: Kernel, task: Task, vma: Vma, start: number, end: number, write: boolean,
  tried = true): number {
  const prev = k.current;
  k.current = task;
  let err = 0;
  let faulted = -1; // the page just faulted in: looked at once more, then passed
  for (let va = start; va < end; va += 4096) {
    const pmd = pmdTableOf(vma.mm.pgd, va);
    const lf = pmd ? pmd.leafFlags[pmdIndex(va)]! : 0;
    if (lf !== 0 && (!write || (lf & _PAGE_RW) !== 0)) { va = va - (va % PMD_SIZE) + PMD_SIZE - 4096; continue; }
    const t = pteTableOf(vma.mm.pgd, va);
    const fl = t ? t.flags[pteIndex(va)]! : 0;
    if (lf === 0 && (fl & _PAGE_PRESENT) !== 0 && (!write || (fl & _PAGE_RW) !== 0)) continue;
    if (faulted === va) continue;
    let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (write ? FAULT_FLAG_WRITE : 0);
    let r = 0;
    for (let i = 0; i < 10; i++) {
      r = handleMmFault(k, task, vma, va, flags);
      if ((r & VM_FAULT_RETRY) === 0) break;
      if (tried) flags |= FAULT_FLAG_TRIED;
    }
    if (r & VM_FAULT_ERROR) { err = (r & VM_FAULT_OOM) !== 0 ? -ENOMEM : -EFAULT; break; }
    faulted = va;
    va -= 4096; // follow_page again: the page (or its PMD) is there now
  }
  k.current = prev;
  return err;
}

/**
 * populate_vma_page_range (mm/gup.c v6.1): MAP_POPULATE faults every page of the VMA in through
 * get_user_pages: a write fault for private writable mappings (FOLL_WRITE), read faults
 * otherwise. GUP faults are counted in pgfault and, from 5.9, in the task's min/maj_flt; pages
 * already mapped (by fault-around, say) take no fault.
 */
import type { Kernel, Task } from '../kernel/kernel.ts';
import type { Vma } from './mm.ts';
import { VM_SHARED, VM_WRITE, FAULT_FLAG_WRITE, FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_TRIED,
  VM_FAULT_RETRY, VM_FAULT_ERROR, _PAGE_RW } from './constants.ts';
import { handleMmFault } from './fault.ts';
import { pteIndex, pteTableOf, pmdTableOf, pmdIndex } from './pgtable.ts';

export function populateVma(k: Kernel, task: Task, vma: Vma): void {
  const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  const prev = k.current;
  k.current = task;
  for (let va = vma.start; va < vma.end; va += 4096) {
    const pmd = pmdTableOf(vma.mm.pgd, va);
    if (pmd && pmd.leafFlags[pmdIndex(va)] !== 0) continue;
    const t = pteTableOf(vma.mm.pgd, va);
    const fl = t ? t.flags[pteIndex(va)]! : 0;
    if (fl !== 0 && (!write || (fl & _PAGE_RW) !== 0)) continue;
    let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (write ? FAULT_FLAG_WRITE : 0);
    for (let i = 0; i < 10; i++) {
      const r = handleMmFault(k, task, vma, va, flags);
      if ((r & VM_FAULT_RETRY) === 0) { if (r & VM_FAULT_ERROR) va = vma.end; break; }
      flags |= FAULT_FLAG_TRIED;
    }
  }
  k.current = prev;
}

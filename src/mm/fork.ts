/**
 * fork's copy of an address space and exit's teardown of one: dup_mmap (kernel/fork.c, v6.1;
 * mm/mmap.c in 6.18), copy_page_range with vma_needs_copy, copy_present_pte and copy_huge_pmd
 * (mm/memory.c, mm/huge_memory.c, v6.1 and v6.18: the same rules), and exit_mmap (mm/mmap.c).
 *
 * The rules, as both versions have them:
 * - A VMA with VM_DONTCOPY (MADV_DONTFORK) is not in the child at all.
 * - The child's VMAs lose VM_LOCKED and VM_LOCKONFAULT (memory locks are not inherited).
 * - VM_WIPEONFORK (MADV_WIPEONFORK): the child's VMA gets no anon_vma and no page tables, so it
 *   reads zeroes.
 * - vma_needs_copy: page tables are copied only for VMAs with an anon_vma (or PFN/mixed maps);
 *   a shared file mapping or a private one that never had an anonymous page is left for the child
 *   to refault (the page cache still has the pages, so those are minor faults).
 * - copy_present_pte: normal pages get a reference and a mapcount (rmap dup) and count in the
 *   child's RSS; special entries (zero page) and DAX (devmap) PTEs are copied without a page. In a
 *   COW mapping (private, may write) a writable PTE is write-protected in parent and child, so
 *   the first write of either takes a write-protect fault; the child's copy is old, and clean in
 *   shared mappings.
 * - copy_huge_pmd: PMDs of file and DAX VMAs are skipped ("re-filled on fault"); anonymous
 *   huge zero PMDs are copied.
 */
import { assert } from '../lib/assert.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { Vma, type Mm } from './mm.ts';
import { OWNER_ANON, PG_swapbacked } from '../hw/frames.ts';
import { VM_DONTCOPY, VM_LOCKED, VM_LOCKED_MASK, VM_WIPEONFORK, VM_PFNMAP, VM_MIXEDMAP, VM_SHARED, VM_MAYWRITE,
  _PAGE_RW, _PAGE_DIRTY, _PAGE_ACCESSED, _PAGE_SPECIAL, PMD_SIZE } from './constants.ts';
import { pmdTableOf, pmdIndex, pteIndex, setPte, setPmdLeaf, type PteTable } from './pgtable.ts';
import { pteAlloc, pmdAlloc } from './pgalloc.ts';
import { zapRange } from './rmap.ts';
import { freePgtables } from './pgtable-free.ts';

/** is_cow_mapping (include/linux/mm.h): private and may be written. */
export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** vma_needs_copy (mm/memory.c v6.1, v6.18): must fork copy this VMA's page tables? */
export function vmaNeedsCopy(src: Vma): boolean {
  return (src.flags & (VM_PFNMAP | VM_MIXEDMAP)) !== 0 || src.anonVma;
}

/** What one fork copied, for traces and tests. */
export interface ForkStats { vmas: number; ptes: number; wrprotected: number; pmds: number }

/**
 * dup_mmap (kernel/fork.c v6.1; mm/mmap.c v6.18): give `child` (a fresh, empty mm) a copy of every
 * VMA of `parent` that fork copies, sharing files (get_file, i_mmap), and copy the page tables
 * where copy_page_range would. Ends with flush_tlb_mm of the parent.
 */
export function dupMmap(k: Kernel, parent: Mm, child: Mm): ForkStats {
  assert(child.vmas.length === 0, 'dup_mmap into a populated mm');
  const st: ForkStats = { vmas: 0, ptes: 0, wrprotected: 0, pmds: 0 };
  child.mmapBase = parent.mmapBase;
  for (const v of parent.vmas) {
    if ((v.flags & VM_DONTCOPY) !== 0) continue;
    const n = new Vma(child, v.start, v.end, v.pgoff, v.flags & ~VM_LOCKED_MASK, v.file);
    n.ops = v.ops;
    n.pageProt = v.pageProt;
    n.name = v.name;
    const wipe = (v.flags & VM_WIPEONFORK) !== 0;
    n.anonVma = wipe ? false : v.anonVma;
    if (v.file) {
      k.vfs.getMapping(v.file);
      v.file.inode.mapping.iMmap.add(n);
    }
    child.vmas.push(n);
    st.vmas++;
    if (!wipe) copyPageRange(k, n, v, st);
  }
  parent.invalidateWalkCache();
  k.vmstat.nr_tlb_local_flush_all++;
  return st;
}

/**
 * copy_page_range (mm/memory.c v6.1, v6.18): when vma_needs_copy, walk `src`'s page tables block
 * by block: huge PMD leaves through copy_huge_pmd, PTE tables entry by entry (copy_present_pte).
 */
export function copyPageRange(k: Kernel, dst: Vma, src: Vma, st: ForkStats): void {
  if (!vmaNeedsCopy(src)) return;
  for (let va = src.start; va < src.end;) {
    const blockEnd = Math.min(src.end, (Math.floor(va / PMD_SIZE) + 1) * PMD_SIZE);
    const pmd = pmdTableOf(src.mm.pgd, va);
    if (pmd) {
      const pi = pmdIndex(va);
      if (pmd.leafFlags[pi] !== 0) copyHugePmd(k, dst, src, pmd.leafFlags[pi]!, pmd.leafPfn[pi]!, va, st);
      const t = pmd.tables[pi];
      if (t && t.used > 0) copyPteRange(k, dst, src, t, va, blockEnd, st);
    }
    va = blockEnd;
  }
}

/** copy_pte_range over [va, end) of one PTE table `t` of `src` (one 2 MiB block). */
function copyPteRange(k: Kernel, dst: Vma, src: Vma, t: PteTable, va: number, end: number, st: ForkStats): void {
  let dt: PteTable | null = null;
  const last = pteIndex(end - 1);
  for (let i = pteIndex(va); i <= last; i++) {
    if (t.flags[i] === 0) continue;
    if (dt === null) {
      dt = pteAlloc(k, dst, va);
      if (dt === null) throw new Error('fork: out of memory for a page table (the model has no ENOMEM path here)');
    }
    st.wrprotected += copyPresentPte(k, dst, src, t, i, dt);
    st.ptes++;
  }
  if (dt !== null) dst.mm.invalidateWalkCache();
}

/**
 * copy_present_pte (mm/memory.c v6.1; copy_present_ptes v6.18): the child's entry for `t[i]` of
 * `src`. vm_normal_page is NULL for special (zero page) and devmap (DAX) entries: no reference.
 * Returns 1 when the parent's entry was write-protected, else 0.
 */
function copyPresentPte(k: Kernel, dst: Vma, src: Vma, t: PteTable, i: number, dt: PteTable): number {
  const f = k.frames;
  let fl = t.flags[i]!;
  const pfn = t.pfn[i]!;
  if ((fl & _PAGE_SPECIAL) === 0 && pfn < k.pmemBase) {
    const head = f.head[pfn]!;
    f.refcount[head] = f.refcount[head]! + 1;
    f.mapcount[pfn] = f.mapcount[pfn]! + 1;
    if (f.owner[pfn] === OWNER_ANON) dst.mm.rssAnon++; // page_try_dup_anon_rmap
    else dst.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, 1); // page_dup_file_rmap
  }
  let wp = 0;
  if (isCowMapping(src.flags) && (fl & _PAGE_RW) !== 0) {
    t.flags[i] = fl & ~_PAGE_RW; // ptep_set_wrprotect in the parent
    fl &= ~_PAGE_RW;
    wp = 1;
  }
  if ((src.flags & VM_SHARED) !== 0) fl &= ~_PAGE_DIRTY; // pte_mkclean
  setPte(dt, i, pfn, fl & ~_PAGE_ACCESSED); // pte_mkold
  return wp;
}

/**
 * copy_huge_pmd (mm/huge_memory.c v6.1, v6.18): a file or DAX PMD is not copied (the child
 * refaults it); an anonymous huge zero PMD is. Sharing an anonymous THP (a PMD-mapped folio
 * with mapcounts for two mms) is not modelled: fork refuses it by name.
 */
function copyHugePmd(k: Kernel, dst: Vma, src: Vma, lf: number, pfn: number, va: number, st: ForkStats): void {
  if (dst.ops !== null || src.file !== null) return; // !vma_is_anonymous(dst_vma): re-filled on fault
  if (pfn !== k.hugeZeroPfn) {
    throw new Error('fork: an anonymous THP mapped by a PMD cannot be shared with a child yet (copy_huge_pmd ' +
      'is modelled for the huge zero page only)');
  }
  const dp = pmdAlloc(k, dst, va);
  if (dp === null) throw new Error('fork: out of memory for a page table');
  setPmdLeaf(dst.mm, dp, pmdIndex(va), pfn, lf & ~_PAGE_ACCESSED);
  st.pmds++;
}

/**
 * exit_mmap (mm/mmap.c v6.1, v6.18): unmap every VMA (unmap_vmas: zap_pte_range and zap_huge_pmd
 * drop references and RSS; dirty file PTEs dirty their pages), free the page tables, drop the
 * VMAs' file references, and free the PGD.
 */
export function exitMmap(k: Kernel, mm: Mm): void {
  const vmas = mm.vmas;
  for (const v of vmas) {
    zapRange(k, v, v.start, v.end, true);
    if ((v.flags & VM_LOCKED) !== 0) k.lru.munlocked(); // munlock_vma_folio as the PTEs go
  }
  mm.vmas = [];
  mm.vmaCache = null;
  for (const v of vmas) {
    freePgtables(k, mm, v.start, v.end);
    if (v.file) {
      v.file.inode.mapping.iMmap.delete(v);
      k.vfs.putMapping(v.file);
    }
  }
  // mmdrop -> pgd_free: the last page-table page.
  assert(mm.pgd.used === 0 && mm.pgtablePages === 1, `exit_mmap left ${mm.pgtablePages} page-table pages`);
  k.frames.free(mm.pgd.framePfn, 0);
  mm.pgtablePages = 0;
  mm.defFlags = 0;
  mm.invalidateWalkCache();
  assert(mm.rssAnon === 0 && mm.rssFile === 0 && mm.rssShmem === 0,
    `exit_mmap left RSS anon ${mm.rssAnon} file ${mm.rssFile} shmem ${mm.rssShmem}`);
}

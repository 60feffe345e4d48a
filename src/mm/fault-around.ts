/**
 * Fault-around: on a read fault, also map neighbouring pages that are already in the page cache.
 * Two implementations, chosen by profile.faultAroundStyle:
 * - 'map_pages': do_fault_around (mm/memory.c, v3.15-v6.12) computing the window of reference
 *   §2.3 and calling ->map_pages;
 * - 'rfc-page-array': Shutemov's first RFC (seed 001, Feb 2014): filemap_fault fills a naturally
 *   aligned 32-entry page array and __do_fault maps the secondary pages under the PTE lock.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { VmFault } from './mm.ts';
import { assertions, panic } from '../lib/assert.ts';
import { VM_FAULT_NOPAGE, VM_FAULT_OOM, FAULT_FLAG_WRITE, _PAGE_RW, _PAGE_SPECIAL } from './constants.ts';
import { pteAlloc, pmdAlloc } from './pgalloc.ts';
import { pmdIndex, pmdTableOf, pteIndex, pteTableOf, setPte, installStats, installWatch } from './pgtable.ts';
import type { PteTable } from './pgtable.ts';
import { isPageCachePmd } from './huge-memory.ts';
import { wholeFolioFits } from './whole-folio.ts';
import { findFolio, maxIndex } from './pagemap.ts';
import { PG_locked, PG_uptodate, PG_swapbacked } from '../hw/frames.ts';
import { COST } from '../lib/cost-category.ts';

/**
 * The fault-around window for a fault, as file page indexes [start, end] (inclusive).
 * Models do_fault_around's arithmetic, identical in v3.15-v6.3 and in the v6.4 refactor
 * (reference §2.3): start at the N-page-aligned block of virtual addresses containing the fault
 * (or at vm_start), at most N pages, cut at the end of the page table and at the end of the VMA.
 */
export function faultAroundWindow(vmStart: number, vmPgoff: number, vmPages: number, address: number, pgoff: number,
  nrPages: number): [number, number] {
  computeWindow(vmStart, vmPgoff, vmPages, address, pgoff, nrPages);
  return [win.start, win.end];
}

/** The window faultAroundWindow describes, computed into `win` (the fault path allocates no tuple). */
const win = { start: 0, end: 0 };
function computeWindow(vmStart: number, vmPgoff: number, vmPages: number, address: number, pgoff: number,
  nrPages: number): void {
  const windowBytes = nrPages * 4096;
  const aligned = address - (address % windowBytes);
  const s = Math.max(aligned, vmStart);
  const start = pgoff - (address - s) / 4096;
  const tableEnd = start - pteIndex(s) + 511;
  const vmaEnd = vmPgoff + vmPages - 1;
  win.start = start;
  win.end = Math.min(tableEnd, vmaEnd, start + nrPages - 1);
}

/**
 * With the PMD left empty for ->map_pages (mapPagesISizeGuard), take what its table will need
 * before it gathers folios, as __handle_mm_fault (pud_alloc, pmd_alloc) and do_fault_around
 * (pte_alloc_one into vmf->prealloc_pte) do in v6.18: an allocation inside ->map_pages could
 * reclaim a folio already gathered but not yet mapped (the model takes no folio references
 * there). False when memory is exhausted (VM_FAULT_OOM).
 */
function preallocForMapPages(k: Kernel, vmf: VmFault): boolean {
  if (!pmdAlloc(k, vmf.vma!, vmf.address)) return false;
  vmf.preallocFrame = k.allocKernelPage();
  return vmf.preallocFrame >= 0;
}

/**
 * do_fault_around (mm/memory.c): compute the window, allocate the PTE table, and call
 * ->map_pages under the PTE lock. Returns NOPAGE when the faulting page got mapped (then ->fault
 * is not called), OOM when no page table could be allocated, else 0.
 */
export function doFaultAround(k: Kernel, vmf: VmFault): number {
  const nr = Math.floor(k.faultAroundBytes / 4096);
  // should_fault_around: the window must exceed faultAroundMinPages - 1 pages (3.16+: more than 1).
  if (nr < k.profile.faultAroundMinPages) return 0;
  const vma = vmf.vma!;
  computeWindow(vma.start, vma.pgoff, vma.pages, vmf.address, vmf.pgoff, nr);
  let start = win.start;
  const end = win.end;
  // With the i_size guard (6.18, 6.12.117): an empty PMD stays empty until ->map_pages decides
  // how to map (filemap_map_pmd installs the table, or nothing does); before, the model allocates
  // it here (the same PTEs: filemap_map_pmd always installed the preallocated table).
  const defer = k.profile.mapPagesISizeGuard;
  const t = vmf.pte ?? (defer ? pteTableOf(vma.mm.pgd, vmf.address) : pteAlloc(k, vma, vmf.address));
  if (!t && !defer) return VM_FAULT_OOM;
  if (!t && !preallocForMapPages(k, vmf)) return VM_FAULT_OOM;
  vmf.pte = t;
  vmf.pteIndex = pteIndex(vmf.address);
  if (t && k.profile.faultAroundSkipPopulatedStart) {
    // 3.15/3.16: skip PTEs already populated at the start of the window; all populated: no call.
    const base = vmf.pteIndex - (vmf.pgoff - start); // PTE index of the window's first page
    const first = start;
    while (start <= end && t.flags[base + (start - first)] !== 0) start++;
    if (start > end) return 0;
  }
  k.events.faultaroundCalls++;
  k.spinDepth++;
  // What the call installs: counted by installStats and the table's used count, placed by
  // installWatch; checked by checkMapPages (an assertion: off when the benchmark turns them off).
  const check = assertions.enabled;
  const entries0 = installStats.entries, pmds0 = installStats.pmdLeaves, used0 = t ? t.used : 0;
  if (check) {
    const first = vmf.pteIndex - (vmf.pgoff - start); // PTE slot of file page `start`
    installWatch.begin(first, first + (end - start));
  }
  const r = vma.ops!.mapPages!(vmf, start, end);
  if (check) {
    installWatch.active = false;
    const ptes = installStats.entries - entries0 - (installStats.pmdLeaves - pmds0);
    if (ptes !== 0 || installStats.pmdLeaves !== pmds0) checkMapPages(k, vmf, start, end, ptes, used0);
  }
  k.spinDepth--;
  if (vmf.preallocFrame >= 0) { // do_fault's pte_free of an unused prealloc_pte
    k.frames.free(vmf.preallocFrame, 0);
    vmf.preallocFrame = -1;
  }
  if (r === VM_FAULT_OOM) return r;
  // A PMD mapping (filemap_map_pmd -> do_set_pmd) leaves no PTE to look at: trust NOPAGE.
  if (!vmf.pte) return (r & VM_FAULT_NOPAGE) !== 0 ? VM_FAULT_NOPAGE : 0;
  return vmf.pte.flags[vmf.pteIndex] !== 0 ? VM_FAULT_NOPAGE : 0;
}

/**
 * The contract of ->map_pages, checked after every call (do_fault_around, mm/memory.c v3.15-v6.18;
 * Documentation/filesystems/locking.rst: ->map_pages maps pages "associated with offsets from
 * start_pgoff till end_pgoff"), from what installWatch saw: every PTE the call made present is in
 * vmf.pte, the table covering the fault, at a slot inside the window [start, end], or, on profiles
 * with mapWholeFolio (6.18 filemap_map_folio_range), inside the slots of a page-cache folio that
 * overlaps the window and fits the whole-folio rule (whole-folio.ts; the i_size guard, which 6.18
 * asks of the window's first folio only, is not asked again): the new PTE at the lowest (highest)
 * slot is a page of such a folio, at its own slot, and that folio reaches the window. A PMD leaf
 * is allowed only at the fault's PMD with a page-cache folio (filemap_map_pmd), on profiles that
 * leave the PMD empty for ->map_pages (mapPagesISizeGuard). And no new
 * entry is writable unless the fault is a write or vm_page_prot itself grants write (a shared
 * mapping without write-notify, as shmem's): fault-around runs on read faults, whose PTEs come
 * from vm_page_prot.
 */
function checkMapPages(k: Kernel, vmf: VmFault, start: number, end: number, ptes: number, used0: number): void {
  const w = installWatch;
  const vma = vmf.vma!;
  const mayWrite = (vmf.flags & FAULT_FLAG_WRITE) !== 0 || (vma.pageProt & _PAGE_RW) !== 0;
  if (w.pmds > 0) {
    const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
    const pi = pmdIndex(vmf.address);
    const pmdOk = k.profile.mapPagesISizeGuard && w.pmds === 1 && w.pmdIndex === pi && pmd !== null &&
      isPageCachePmd(k, pmd.leafPfn[pi]!);
    if (!pmdOk) {
      mapPagesBroke(vmf, `mapped ${w.pmds} PMD(s), the last at ${w.pmdIndex}, for a fault in PMD ${pi}`);
    }
    if (!mayWrite && (w.pmdFlagsOr & _PAGE_RW) !== 0) mapPagesBroke(vmf, 'mapped a writable PMD on a read fault');
  }
  if (ptes === 0) return;
  // A table allocated by the call (vmf.pte null before) was empty: used0 is 0 then.
  if (!vmf.pte || vmf.pte.used - used0 !== ptes) {
    mapPagesBroke(vmf, `installed ${ptes - (vmf.pte ? vmf.pte.used - used0 : 0)} PTE(s) outside the page table of ` +
      'the fault');
  }
  if (w.outside > 0 && ((w.lo < w.first && !wholeFolioReaches(k, vmf, vmf.pte, w.lo, w.first, w.last)) ||
    (w.hi > w.last && !wholeFolioReaches(k, vmf, vmf.pte, w.hi, w.first, w.last)))) {
    mapPagesBroke(vmf, `installed ${w.outside} PTE(s) at slots ${w.lo}-${w.hi}, outside its window (slots ` +
      `${w.first}-${w.last}, file pages ${start}-${end}) and not as part of a whole folio`);
  }
  if (!mayWrite && (w.flagsOr & _PAGE_RW) !== 0) mapPagesBroke(vmf, 'installed a writable PTE on a read fault');
}

/** Stop the simulation: a ->map_pages broke its contract (the message is built only here). */
function mapPagesBroke(vmf: VmFault, what: string): never {
  panic(`${vmf.vma!.ops!.name} ->map_pages ${what}`);
}

/**
 * Is PTE slot `i` of `t` a page-cache page at its own slot, of a folio that reaches the window's
 * slots [first, last] and that the whole-folio rule lets fault-around map whole?
 */
function wholeFolioReaches(k: Kernel, vmf: VmFault, t: PteTable, i: number, first: number, last: number): boolean {
  if (!k.profile.mapWholeFolio || (t.flags[i]! & _PAGE_SPECIAL) !== 0) return false;
  const f = k.frames;
  const pfn = t.pfn[i]!;
  if (pfn >= k.pmemBase || f.owner[pfn]! <= 0) return false;
  const head = f.head[pfn]!;
  const fidx = f.index[head]!, n = 1 << f.order[head]!;
  const tableFirst = vmf.pgoff - pteIndex(vmf.address);
  const folioFirst = fidx - tableFirst; // the folio's slots: [folioFirst, folioFirst + n - 1]
  return f.index[pfn] === tableFirst + i && folioFirst <= last && folioFirst + n - 1 >= first &&
    wholeFolioFits(vmf.vma!, fidx, n, tableFirst, true);
}

/** The RFC's fixed array size (FAULT_AROUND_PAGES in seed 001). */
export const RFC_FAULT_AROUND_PAGES = 32;
const rfcPages = new Int32Array(RFC_FAULT_AROUND_PAGES);

/**
 * Seed 001 find_get_pages_or_null + lock_secondary_pages: look up the naturally aligned 32-page
 * window around the fault (primary_idx = (address >> 12) & 31) before ->fault runs, keeping the
 * secondary pages that lie inside the VMA, can be locked, are uptodate and are before EOF.
 */
export function rfcCollectWindow(k: Kernel, vmf: VmFault): void {
  const vma = vmf.vma!;
  const mapping = vma.file!.inode.mapping;
  const f = k.frames;
  const n = RFC_FAULT_AROUND_PAGES;
  const primary = Math.floor(vmf.address / 4096) % n;
  const first = vmf.pgoff - primary;
  const maxIdx = maxIndex(mapping.host);
  for (let i = 0; i < n; i++) {
    rfcPages[i] = -1;
    if (i === primary) continue;
    const addr = vmf.address + 4096 * (i - primary);
    if (addr < vma.start || addr >= vma.end) continue;
    const idx = first + i;
    if (idx < 0) continue;
    const head = findFolio(mapping, idx);
    if (head < 0) continue;
    const fl = f.flags[head]!;
    if ((fl & PG_locked) !== 0 || (fl & PG_uptodate) === 0 || idx >= maxIdx) continue;
    rfcPages[i] = head + (idx - f.index[head]!);
  }
}

/** Seed 001 __do_fault: map each collected secondary page whose PTE is still empty. */
export function rfcMapWindow(k: Kernel, vmf: VmFault): void {
  const vma = vmf.vma!;
  const f = k.frames;
  const t = vmf.pte!;
  const n = RFC_FAULT_AROUND_PAGES;
  const primary = Math.floor(vmf.address / 4096) % n;
  let mapped = 0;
  for (let i = 0; i < n; i++) {
    const pfn = rfcPages[i]!;
    if (pfn < 0) continue;
    const pi = vmf.pteIndex + (i - primary);
    if (t.flags[pi] !== 0) continue;
    setPte(t, pi, pfn, vma.pageProt);
    f.mapcount[pfn] = f.mapcount[pfn]! + 1;
    const head = f.head[pfn]!;
    f.refcount[head] = f.refcount[head]! + 1;
    mapped++;
  }
  if (mapped > 0) vma.mm.addFileRss((f.flags[f.head[vmf.page]!]! & PG_swapbacked) !== 0, mapped);
  k.events.faultaroundCalls++;
  k.events.faultaroundPagesMapped += mapped;
  k.charge(mapped * k.costs.faultAroundPerPageNs, COST.faultAround);
}

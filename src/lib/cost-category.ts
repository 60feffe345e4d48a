// Cost categories of the simulated clock (re-exported by kernel/costs.ts).
/**
 * Cost categories: where simulated time goes. Every `Kernel.charge(ns, category)` names one, and
 * each task keeps a Float64Array indexed by them (`Task.costNs`), so charging allocates nothing.
 * Clock jumps that are waits (I/O completion, a lock or entry another task holds, the journal
 * commit in flight, a busy CPU) are charged to their wait category by `Kernel.waitUntil`.
 */
export const COST = {
  /** Exception entry, handle_mm_fault dispatch and return. */
  faultEntry: 0,
  /** Page-table walks and PTE/PMD updates. */
  pageTable: 1,
  /** Page-cache XArray lookups. */
  pageCacheLookup: 2,
  /** Pages mapped by fault-around (filemap_map_pages). */
  faultAround: 3,
  /** Page-frame allocation. */
  pageAlloc: 4,
  /** Zeroing pages or blocks (clear_page, DRAM copies of whole pages). */
  zeroing: 5,
  /** memcpy of data through a mapping or by read(2)/write(2). */
  memcpy: 6,
  /** Syscall entry and exit. */
  syscall: 7,
  /** DAX entry grab/update/unlock under xa_lock. */
  daxEntry: 8,
  /** ->iomap_begin / get_block lookups. */
  iomapBegin: 9,
  /** Filesystem block allocation with its metadata updates. */
  blockAlloc: 10,
  /** sb_start_pagefault, file_update_time and the journal handle of a write fault. */
  writeFaultFs: 11,
  /** jbd2 commits the task runs or waits for. */
  journalCommit: 12,
  /** CLWB/CLFLUSHOPT of pmem cache lines. */
  cacheFlush: 13,
  /** Sleeping until I/O completes (a locked folio, a block request). */
  ioWait: 14,
  /** Sleeping on a lock, DAX entry or page-table entry another task holds. */
  lockWait: 15,
  /** Accesses that hit a present PTE. */
  accessHit: 16,
  /** Waiting for a CPU (the scheduler) or a scenario `sleep`. */
  idle: 17,
} as const;

export type CostCategory = (typeof COST)[keyof typeof COST];

/** Category names in index order (report and JSON keys, with units in the consumer: ns). */
export const COST_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, i] of Object.entries(COST)) names[i] = name;
  return names;
})();

export const N_COST = COST_NAMES.length;

/** What a category's label reads as in `--breakdown` (perf report style). */
export const COST_LABELS: Readonly<Record<string, string>> = {
  faultEntry: 'fault entry/exit', pageTable: 'page table', pageCacheLookup: 'page cache lookup',
  faultAround: 'fault-around map', pageAlloc: 'page alloc', zeroing: 'zeroing', memcpy: 'memcpy',
  syscall: 'syscall entry/exit', daxEntry: 'dax entry (xa_lock)', iomapBegin: 'iomap_begin',
  blockAlloc: 'block allocation', writeFaultFs: 'write fault fs (handle)', journalCommit: 'journal commit',
  cacheFlush: 'cache-line flush', ioWait: 'I/O wait', lockWait: 'lock wait', accessHit: 'access hit',
  idle: 'idle / cpu wait',
};

/** A task's cost figures: per-category ns, plus hits on present entries counted apart (Task). */
export interface TaskCosts { readonly costNs: Float64Array; readonly accessHits: number }

/** `t.costNs` with its access hits charged to COST.accessHit, into `out` (allocates nothing). */
export function costNsOf(t: TaskCosts, accessHitNs: number, out: Float64Array): Float64Array {
  out.set(t.costNs);
  out[COST.accessHit]! += t.accessHits * accessHitNs;
  return out;
}

/**
 * The cost table: simulated nanoseconds charged per kernel operation, one table for every run
 * (override per run with MachineConfig.costs / scenario `costs:`). Units are in the names.
 *
 * Calibration (done once, by hand, written down here; docs/calibration.md has the arithmetic):
 * - FIT to Kani's 128 MB iozone mmap read (seed 000): base DAX (derived from x1.7) and DAX with
 *   map_pages give two equations; with a get_block of iomapBeginNs they fix faultEntryNs (the
 *   per-fault cost that fault-around saves) and pmemReadNsPerByte (the memcpy of the data).
 * - FIT to Kara's three rows without background load (seed 003): preallocated no MAP_SYNC 6 us ->
 *   daxWriteFaultOverheadNs; empty no MAP_SYNC 23 us -> blockAllocNs; empty MAP_SYNC 108 us ->
 *   journalCommitBaseNs.
 * - HELD OUT (checked by `daxsim reproduce`, never used to fit): Kani's 64 KB figures and every
 *   re-read figure, Kani's fault counts, Kara's preallocated MAP_SYNC row and both background-load
 *   rows, Zwisler's memory figures, the oracle's fault counts.
 * The page-cache entries (faultAroundPerPageNs, pageAllocNs, ...) are sized from the host oracle's
 * mmapread.c timings (../shared/oracle/README.md): about 6.7 us per 16-page fault-around read
 * fault and 1.05 us per write fault on tmpfs; they are not fitted to the seeds.
 */
export interface CostTable {
  /** Exception entry, handle_mm_fault dispatch and return (FIT: Kani 128 MB base vs map_pages). */
  faultEntryNs: number;
  /** Walking the page table and setting one PTE or PMD. */
  pteSetNs: number;
  /** One page-cache XArray lookup. */
  pageCacheLookupNs: number;
  /** Per page mapped by filemap_map_pages (oracle: (6.7 us - 1.05 us) / 16). */
  faultAroundPerPageNs: number;
  /** Allocating a page frame. */
  pageAllocNs: number;
  /** Zeroing or copying 4 KiB of DRAM. */
  pageZeroNs: number;
  /** An access that hits a present PTE. */
  accessHitNs: number;
  /** A syscall's entry and exit. */
  syscallNs: number;
  /** Grabbing, updating and unlocking a DAX entry under xa_lock. */
  daxEntryNs: number;
  /** One ext4_iomap_begin / get_block lookup (extent-status cache hit). */
  iomapBeginNs: number;
  /**
   * sb_start_pagefault + file_update_time + journal handle start/stop of a DAX write fault
   * (FIT: Kara preallocated, 6 us).
   */
  daxWriteFaultOverheadNs: number;
  /**
   * ext4 block allocation with its metadata updates (FIT: Kara empty minus preallocated, 23 - 6 us,
   * less the zeroing).
   */
  blockAllocNs: number;
  /** Writing to persistent memory through the driver (zeroing new blocks, write(2)): 4 GB/s. */
  pmemWriteNsPerByte: number;
  /** memcpy from persistent memory through a mapping (FIT: Kani 128 MB reads). */
  pmemReadNsPerByte: number;
  /** memcpy from DRAM (page-cache pages). */
  dramReadNsPerByte: number;
  /**
   * One jbd2 commit, fixed part: commit block, cache flush, kjournald wake-up
   * (FIT: Kara MAP_SYNC empty, 108 - 23 us).
   */
  journalCommitBaseNs: number;
  /** Per metadata block written by a commit. */
  journalCommitPerBlockNs: number;
  /** One CLWB/CLFLUSHOPT of a 64-byte line (Intel optimisation manual order of magnitude). */
  cacheLineFlushNs: number;
  /** Default block-device request latency (virtio SSD class). */
  blockRequestNs: number;
  /** Default block-device transfer cost per byte (2 GB/s). */
  blockNsPerByte: number;
}

export const defaultCosts: CostTable = {
  faultEntryNs: 730,
  pteSetNs: 50,
  pageCacheLookupNs: 40,
  faultAroundPerPageNs: 350,
  pageAllocNs: 150,
  pageZeroNs: 250,
  accessHitNs: 1,
  syscallNs: 100,
  daxEntryNs: 200,
  iomapBeginNs: 300,
  daxWriteFaultOverheadNs: 4720,
  blockAllocNs: 15976,
  pmemWriteNsPerByte: 0.25,
  pmemReadNsPerByte: 0.1155,
  dramReadNsPerByte: 0.05,
  journalCommitBaseNs: 83000,
  journalCommitPerBlockNs: 1000,
  cacheLineFlushNs: 20,
  blockRequestNs: 100_000,
  blockNsPerByte: 0.5,
};

/** Validate an override: known keys, finite non-negative numbers. Throws naming the bad key. */
export function mergeCosts(over: Readonly<Record<string, unknown>>): CostTable {
  const out: Record<string, number> = { ...defaultCosts };
  for (const [k, v] of Object.entries(over)) {
    // Own keys only: `constructor` or `toString` is no cost.
    if (!Object.hasOwn(defaultCosts, k)) {
      throw new Error(`costs.${k}: not a cost (known: ${Object.keys(defaultCosts).join(', ')})`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`costs.${k}: expected a non-negative number of ns, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out as unknown as CostTable;
}


// The categories live in lib/ so that mm/ (which imports nothing from kernel/ at run time) can name them.
export { COST, COST_NAMES, COST_LABELS, N_COST, type CostCategory } from '../lib/cost-category.ts';

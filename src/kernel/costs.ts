/**
 * The cost table: simulated nanoseconds charged per kernel operation. One table, data only, units
 * in the names. These are placeholders sized from the oracle's own timings (../shared/oracle
 * README: a 16-page fault-around read fault on tmpfs about 6.7 us, a write fault about 1.05 us, on
 * the host measured there); the calibrated table is the cost-model issue's work.
 */
export interface CostTable {
  /** Exception entry, handle_mm_fault dispatch and return to user (placeholder: oracle write fault 1.05 us minus the PTE work). */
  faultEntryNs: number;
  /** Page-table walk and setting one PTE. */
  pteSetNs: number;
  /** One page-cache (XArray) lookup. */
  pageCacheLookupNs: number;
  /** Per page mapped by fault-around (oracle: (6.7 us - fault entry) / 16 pages). */
  faultAroundPerPageNs: number;
  /** Allocating a page frame. */
  pageAllocNs: number;
  /** Zeroing or copying 4 KiB. */
  pageZeroNs: number;
  /** An access that hits a present PTE. */
  accessHitNs: number;
  /** A syscall's entry and exit. */
  syscallNs: number;
}

export const defaultCosts: CostTable = {
  faultEntryNs: 600,
  pteSetNs: 50,
  pageCacheLookupNs: 40,
  faultAroundPerPageNs: 350,
  pageAllocNs: 150,
  pageZeroNs: 250,
  accessHitNs: 1,
  syscallNs: 100,
};

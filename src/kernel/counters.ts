/**
 * Counters with the kernel's names: /proc/vmstat events (class fields, so the hot path increments
 * a property of a stable-shaped object) and model/tracepoint-style event counts.
 */
export class Vmstat {
  pgfault = 0;
  pgmajfault = 0;
  pgactivate = 0;
  pgdeactivate = 0;
  pgrefill = 0;
  pgscan_kswapd = 0;
  pgsteal_kswapd = 0;
  pgpgin = 0; // KiB read from block devices
  pgpgout = 0;
  workingset_refault_file = 0;
  workingset_activate_file = 0;
  thp_fault_alloc = 0;
  thp_fault_fallback = 0;
  thp_split_pmd = 0;
  thp_file_mapped = 0;
  thp_zero_page_alloc = 0;
  oom_kill = 0;
  vma_lock_success = 0;
  vma_lock_retry = 0;
  nr_tlb_local_flush_all = 0;

  snapshot(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}

/** Model counters (not in /proc/vmstat): named like tracepoints, e.g. `faultaround.pages_mapped`. */
export class Events {
  faultaroundCalls = 0;
  faultaroundPagesMapped = 0;
  readaheadSync = 0;
  readaheadAsync = 0;
  readaheadPages = 0;
  faultRetries = 0;
  mmapLockDrops = 0;
  pageMkwrite = 0;
  wpFaults = 0;
  cowFaults = 0;
  writebackPages = 0;
  lockdepWarnings = 0;
  reclaimEvicted = 0;
  /** DAX, tracepoint-style (fs_dax:* and model counters). */
  daxPteFaults = 0;
  daxPmdFaults = 0;
  daxPmdFallbacks = 0;
  daxHoleLoads = 0;
  daxPmdHoleLoads = 0;
  /** Times the filesystem was asked for a block mapping (iomap_begin, or get_block in 2014). */
  iomapBegin = 0;
  daxPfnCacheHits = 0;
  daxInsertPfnMkwrite = 0;
  daxWritebackRange = 0;
  daxWritebackEntries = 0;
  journalCommits = 0;
  /**
   * Concurrent runs only (Kernel.concurrent): faults taken because a present PTE or huge PMD was
   * installed by another task's fault that, in simulated time, had not finished yet, and the
   * simulated time those faults spent waiting for it (see mm/fault.ts waitForInstall).
   */
  faultInstallWaits = 0;
  faultInstallWaitNs = 0;
  /** Concurrent runs only: DAX entry locks found held by another task's fault, and the time waited (dax/entry.ts). */
  daxEntryWaits = 0;
  daxEntryWaitNs = 0;

  snapshot(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}

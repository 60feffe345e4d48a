/**
 * The kernel releases the model knows, as named bases a new profile can spread
 * (`{ ...base618, name: 'rfc-...', oneKnob: 'value' }`): each is a frozen, complete KernelProfile
 * (knobs.ts says what each knob means). `pre5` is not a profile but the delta kernels before 5.x
 * share against the 6.1 base. The RFC profiles built on these are in profiles-rfc.ts; the
 * registry a scenario names them through is profiles.ts, which validates every one at load time.
 */
import { defineProfile, type KernelProfile } from './knobs.ts';

/** Linux 6.1, the DAX oracle guest: the base the other releases are written against. */
export const base61: KernelProfile = defineProfile({
  name: 'linux-6.1',
  description: 'Linux 6.1 (the DAX oracle guest): fault-around 64 KiB, mmap_lock dropped for I/O with RETRY, ' +
    'pgfault counted per attempt',
  faultAroundStyle: 'map_pages',
  faultAroundBytes: 65536,
  faultAroundMinPages: 2,
  faultAroundSkipPopulatedStart: false,
  faultAroundKnob: 'bytes',
  mapPagesEofClamp: true,
  mapPagesISizeGuard: false,
  mmapMissStyle: 'per-candidate-page',
  faultRetry: 'unlimited',
  dropMmapLockForIo: true,
  dirtyBalanceRetry: false,
  perVmaLock: false,
  pgfaultAccounting: 'every-attempt',
  rusageAccounting: 'mm-account-fault',
  readaheadPages: 32,
  readPageAfterEof: false,
  ext4LargeFolios: false,
  mapWholeFolio: false,
  fdatawriteSkipsClean: true,
  raFolioOrders: false,
  thpAnon: 'madvise',
  writeSourceFaultIn: 'before-write-begin',
  shmemODirect: false,
  thpZeroWpAlloc: false,
  folioSplitNonUniform: false,
  ext4PunchWriteback: true,
  thpAlignPageCacheFiles: true,
  lruBatchPages: 15,
  mprotectPmdWriteUpgrade: false,
  smapsVmNormalPagePmd: false,
  madvColdClearsDevmapPmd: true,
  mremapVmaFirst: true,
  daxEntries: 'entries',
  daxHoleReads: 'zero-page',
  daxWriteInsert: 'mkwrite',
  daxPfnMkwrite: 'full-fault',
  daxPmd: true,
  daxDirtyOnRead: true,
  daxWritebackFlush: true,
  mapSync: true,
  thpAlignDax: true,
  daxMapPages: 'none',
  daxEntryCachesPfn: false,
  daxEntryPfnBits: 60,
  tracepoints: 'v6.1',
  madvPopulate: true,
  madvRemoveMayWrite: true,
  pagemapPmdFile: true,
  daxFolios: false,
  fallocateModeCheck: 'flag-rules',
  ext4FallocBreakLayoutsFirst: false,
});

/**
 * What kernels before 5.x share against the 6.1 base: no EOF clamp in map_pages, mmap_miss per
 * mapped page, one retry, no mmap_lock drop for I/O, no THP placement of page-cache files,
 * ->writepages even when nothing is tagged dirty (before 5.4), and MADV_REMOVE asking for VM_WRITE
 * (before 6.7).
 */
export const pre5 = Object.freeze({
  fdatawriteSkipsClean: false,
  mremapVmaFirst: false,
  madvColdClearsDevmapPmd: false,
  mapPagesEofClamp: false,
  mmapMissStyle: 'per-mapped-page',
  faultRetry: 'once',
  dropMmapLockForIo: false,
  thpAlignPageCacheFiles: false,
  madvRemoveMayWrite: false,
} as const) satisfies Partial<KernelProfile>;

/** Linux 3.15 (and 3.14, the RFCs' base): first ->map_pages fault-around, rusage at the first attempt, no DAX. */
export const base315: KernelProfile = defineProfile({
  ...base61,
  ...pre5,
  name: 'linux-3.15',
  description: 'Linux 3.15: first kernel with ->map_pages fault-around (fault_around_order debugfs knob), ' +
    'retry at most once',
  faultAroundMinPages: 1,
  faultAroundSkipPopulatedStart: true,
  faultAroundKnob: 'order',
  rusageAccounting: 'first-attempt',
  lruBatchPages: 14,
  daxEntries: 'none',
  daxHoleReads: 'page-cache-page',
  daxWriteInsert: 'read-only',
  daxPfnMkwrite: 'none',
  daxPmd: false,
  daxDirtyOnRead: false,
  daxWritebackFlush: false,
  mapSync: false,
  thpAlignDax: false,
  tracepoints: 'v3.15',
});

/** The 2014 DAX patchset (Wilcox v6, Feb 2014) on a 3.15 fault-around base: get_block, no entries, no PMD. */
export const dax2014: KernelProfile = defineProfile({
  ...base315,
  name: 'dax-2014',
  description: 'The 2014 DAX patchset the seed RFCs applied to: get_block faults, zeroed page-cache pages for ' +
    'holes, no entries, no PMD, no MAP_SYNC',
});

/** Linux 4.10-4.13 DAX: radix-tree entries, DAX PMD faults, page-cache pages for 4 KiB holes, dax_pfn_mkwrite. */
export const base413: KernelProfile = defineProfile({
  ...base61,
  ...pre5,
  name: 'linux-4.13',
  description: 'Linux 4.10-4.13 DAX: radix-tree entries, PMD faults with the huge zero page, zeroed page-cache ' +
    'pages for 4 KiB holes, dax_pfn_mkwrite',
  rusageAccounting: 'completed-or-major',
  daxHoleReads: 'page-cache-page',
  daxWriteInsert: 'read-only',
  daxPfnMkwrite: 'dax_pfn_mkwrite',
  daxDirtyOnRead: false,
  mapSync: false,
  tracepoints: 'v4.15',
});

/** Linux 4.15: MAP_SYNC, the shared zero page for holes, retry once, rusage once per completed fault. */
export const base415: KernelProfile = defineProfile({
  ...base61,
  ...pre5,
  name: 'linux-4.15',
  description: 'Linux 4.15: map_pages fault-around, MAP_SYNC, retry once, rusage once per completed fault',
  rusageAccounting: 'completed-or-major',
  daxDirtyOnRead: false,
  tracepoints: 'v4.15',
});

/** Linux 6.18, the host oracle: per-VMA locks, pgfault per completed fault, ext4 large folios mapped whole. */
export const base618: KernelProfile = defineProfile({
  ...base61,
  name: 'linux-6.18',
  description: 'Linux 6.18 (the host oracle): per-VMA locks, pgfault once per completed fault, ext4 large folios',
  perVmaLock: true,
  pgfaultAccounting: 'completed',
  mmapMissStyle: 'per-candidate-not-workingset',
  ext4LargeFolios: true,
  mapWholeFolio: true,
  mapPagesISizeGuard: true,
  tracepoints: 'v6.18',
  raFolioOrders: true,
  thpZeroWpAlloc: true,
  writeSourceFaultIn: 'after-short-copy',
  shmemODirect: true,
  folioSplitNonUniform: true,
  ext4PunchWriteback: false,
  lruBatchPages: 31,
  mprotectPmdWriteUpgrade: true,
  smapsVmNormalPagePmd: true,
  madvColdClearsDevmapPmd: false,
  daxDirtyOnRead: false,
  daxFolios: true,
  fallocateModeCheck: 'exclusive-modes-write-zeroes',
  ext4FallocBreakLayoutsFirst: true,
});

/**
 * Linux 5.10 (Debian bullseye, the 5.10 guest) against the 6.1 base: shared write faults retried
 * after balance_dirty_pages (VM_FAULT_COMPLETED is 5.19), no MADV_POPULATE (5.14),
 * no PM_FILE for huge PMDs in pagemap (5.13), no THP placement of page-cache files (5.18),
 * PAGEVEC_SIZE 15. As 6.1: unlimited retries (5.7), mm_account_fault (5.9), pgfault per attempt,
 * mmap_miss per candidate page (filemap_map_pages decrements it before alloc_set_pte), COLD/PAGEOUT
 * dropping DAX PMDs (5.4-6.4), DAX entries dirtied only by write faults (dax_iomap_pte_fault).
 */
export const base510: KernelProfile = defineProfile({
  ...base61,
  name: 'linux-5.10',
  description: 'Linux 5.10 (Debian bullseye guest): no MADV_POPULATE, no PM_FILE for huge PMDs, ' +
    'no THP placement of page-cache files',
  thpAlignPageCacheFiles: false,
  dirtyBalanceRetry: true,
  daxDirtyOnRead: false,
  madvPopulate: false,
  madvRemoveMayWrite: false,
  readPageAfterEof: true,
  pagemapPmdFile: false,
  tracepoints: 'v5.10',
});

/**
 * Linux 6.12 (Debian trixie, the 6.12 guest) against the 6.18 base: per-VMA locks, pgfault per
 * completed fault, fault_around_pages, mmap_miss per non-workingset candidate, folio batches of 31
 * and mprotect's PMD write upgrade as 6.18; but ext4 has no large folios (6.16), finish_fault maps a
 * whole folio only for anonymous shmem (so never here), a write to the huge zero PMD splits it
 * (6.13 allocates), truncate splits to order 0 (folio_split 6.15), DAX pages are not folios (6.15).
 * The i_size guard of filemap_map_pages (74207de2ba10) is in, backported to 6.12.y: the 6.12 guest's
 * fuzz batch (test/oracle-runs/fuzz/fuzz-ext4-s1-n100.linux-6.12.jsonl, seeds 36 57 85).
 */
export const base612: KernelProfile = defineProfile({
  ...base618,
  name: 'linux-6.12',
  description: 'Linux 6.12 (Debian trixie guest): per-VMA locks, no ext4 large folios, DAX pages not folios',
  ext4LargeFolios: false,
  mapWholeFolio: false,
  raFolioOrders: false,
  thpZeroWpAlloc: false,
  folioSplitNonUniform: false,
  ext4PunchWriteback: true,
  daxFolios: false,
  fallocateModeCheck: 'exclusive-modes',
  ext4FallocBreakLayoutsFirst: false,
});

/** Linux 7.2 (Debian forky, the 7.2 guest): the 6.18 rules, DAX pages as refcounted folios. */
export const base72: KernelProfile = defineProfile({
  ...base618,
  name: 'linux-7.2',
  description: 'Linux 7.2 (Debian forky guest): the 6.18 rules; DAX pages are refcounted folios',
});

/**
 * Kernel profiles: every policy knob the model reads, as data. Code asks knobs, never version
 * numbers (DESIGN.md "Profiles"). Each knob's doc says which kernel behaviour it selects and
 * where the reference (../shared/reference/linux-fault-path.md) documents it.
 */

export type FaultAroundStyle =
  /** No fault-around at all (3.14 and earlier). */
  | 'none'
  /** `->map_pages` + `do_fault_around()` with `fault_around_bytes` (3.15+, reference §2). */
  | 'map_pages'
  /** Shutemov's first RFC (seed 001): `->fault` fills a naturally aligned page array. */
  | 'rfc-page-array';

export type PgfaultAccounting =
  /** `pgfault` +1 at entry of every handle_mm_fault call, retries and failures included (3.15-6.3). */
  | 'every-attempt'
  /** `pgfault` +1 once per completed fault in mm_account_fault, failures included, retries not (6.4+). */
  | 'completed';

export type RusageAccounting =
  /** min/maj_flt counted by arch code on the first attempt only, not on error (3.x, reference §1.7). */
  | 'first-attempt'
  /** once per completed fault, MAJOR OR-ed over the attempts, not on error (4.x). */
  | 'completed-or-major'
  /** mm_account_fault (5.9+): skipped on ERROR or RETRY; major = MAJOR or FAULT_FLAG_TRIED. */
  | 'mm-account-fault';

export type MmapMissStyle =
  /** map_pages decrements mmap_miss once per page it maps (3.16, 4.15). */
  | 'per-mapped-page'
  /** once per page that passed the checks, even if its PTE was already present (5.12-6.1). */
  | 'per-candidate-page'
  /** count of candidate pages not marked workingset, subtracted at the end (6.12+). */
  | 'per-candidate-not-workingset';

export interface KernelProfile {
  readonly name: string;
  readonly description: string;
  /** Which fault-around implementation runs on a read fault (reference §2, seed 001). */
  readonly faultAroundStyle: FaultAroundStyle;
  /** `fault_around_bytes` default (debugfs knob; 65536 = 16 pages since 3.16; RFC: fixed 32 pages). */
  readonly faultAroundBytes: number;
  /** Fault-around runs only when the window exceeds this many pages (3.15: 1 page is enough; 3.16+: >1). */
  readonly faultAroundMinPages: number;
  /** 3.15/3.16 do_fault_around skips populated PTEs at the window start and skips map_pages if all are populated. */
  readonly faultAroundSkipPopulatedStart: boolean;
  /** `fault_around_bytes` debugfs interface: 'order' (3.15 fault_around_order) or 'bytes' (3.16+). */
  readonly faultAroundKnob: 'order' | 'bytes';
  /** How map_pages treats a large folio straddling EOF: 'clamp' never maps subpages at/after EOF (6.12, 6.1.159+). */
  readonly mapPagesEofClamp: boolean;
  /** mmap_miss bookkeeping in map_pages (reference §2.4). */
  readonly mmapMissStyle: MmapMissStyle;
  /** Fault retries: 'once' clears ALLOW_RETRY before retrying (3.x, 4.x); 'unlimited' (5.7+). */
  readonly faultRetry: 'once' | 'unlimited';
  /** 5.1+: every blocking step of filemap_fault (readahead I/O, lock wait, re-read) drops mmap_lock and returns RETRY. */
  readonly dropMmapLockForIo: boolean;
  /** 6.4+: user faults first try under the per-VMA lock (reference §1.1 step 5). */
  readonly perVmaLock: boolean;
  readonly pgfaultAccounting: PgfaultAccounting;
  readonly rusageAccounting: RusageAccounting;
  /** Default readahead window in pages (VM_READAHEAD_PAGES / VM_MAX_READAHEAD = 128 KiB). */
  readonly readaheadPages: number;
  /** ext4 page cache uses large folios sized by write length (6.x, reference §2.6, oracle 6.18 ext4 truncate row). */
  readonly ext4LargeFolios: boolean;
  /**
   * 6.18: a fault maps a whole large folio at once: finish_fault sets a PTE for every page of the
   * folio (19773df031bc) and filemap_map_pages widens fault-around to whole folios (357b92761d94),
   * both only when the folio lies inside the VMA and one page table and, for non-shmem files,
   * ends at or before EOF (74207de2ba10, the i_size guard). Measured on a 6.18 host: a 128 MiB
   * ext4 file written in 1 MiB pwrites takes 143 read faults and 128 write faults (test/oracle).
   */
  readonly mapWholeFolio: boolean;
  /**
   * 5.4+: __filemap_fdatawrite_range (later filemap_fdatawrite_wbc) starts no ->writepages when
   * the mapping has no DIRTY-tagged entry ("mm/filemap.c: don't initiate writeback if mapping has
   * no dirty pages"); before, a DAX fsync always reached dax_writeback_mapping_range. Seen on the
   * 6.1 guest: 511 dax_writeback_range events for 512 MAP_SYNC faults (the first finds nothing dirty).
   */
  readonly fdatawriteSkipsClean: boolean;
  /**
   * 6.18 readahead (mm/readahead.c with ra->order): read-around and fresh windows read order-0
   * folios, each async window asks for folios 2 orders larger (up to the window size and PMD
   * order) and trims its end to that alignment, for files with large folios (ext4 on 6.18).
   * Measured on a 6.18 host, 128 MiB cold ext4 file: 1028 + 1 faults at read_ahead_kb 128.
   */
  readonly raFolioOrders: boolean;
  /** /sys/kernel/mm/transparent_hugepage/enabled for anonymous memory (mm/huge_memory.c); the 6.18 host: madvise. */
  readonly thpAnon: 'always' | 'madvise' | 'never';
  /** 6.13+: a write to the huge zero PMD allocates a THP (do_huge_zero_wp_pmd); before, the PMD is split into 4 KiB zero-page PTEs. */
  readonly thpZeroWpAlloc: boolean;
  /**
   * 6.15+: truncate and punch hole split a large folio that straddles the range with folio_split
   * (a buddy split at the boundary, keeping large pieces) instead of split_folio to order 0.
   * Measured on the 6.18 host: punching 512 KiB into a mapped 2 MiB folio costs 14 refaults.
   */
  readonly folioSplitNonUniform: boolean;
  /** thp_get_unmapped_area for ext4 page-cache (non-DAX) files: 2 MiB-congruent placement of large mappings (5.18+). */
  readonly thpAlignPageCacheFiles: boolean;
  /** LRU add batch size (PAGEVEC_SIZE 15 up to 6.1; folio_batch 31 in 6.4+). */
  readonly lruBatchPages: number;
  /**
   * mprotect turning a shared writable mapping writable again also makes its dirty huge PMDs
   * writable (change_huge_pmd with MM_CP_TRY_CHANGE_WRITABLE and can_change_pmd_writable, 6.2+),
   * as it does dirty PTEs. On 6.1 only PTEs are upgraded: a PMD-mapped DAX file written, then
   * mprotect(PROT_READ) and mprotect(PROT_READ|PROT_WRITE), takes one write fault per PMD (6.1 guest).
   */
  readonly mprotectPmdWriteUpgrade: boolean;
  /**
   * smaps counts a huge PMD that mprotect(PROT_NONE) made not-present in Rss (6.18:
   * vm_normal_page_pmd). 6.1's smaps_pmd_entry asks follow_trans_huge_pmd(FOLL_DUMP), which refuses
   * a PROT_NONE PMD, so it adds nothing (6.1 guest: a PMD-mapped DAX file's Rss drops to 0).
   */
  readonly smapsCountsProtnonePmd: boolean;
  /**
   * 5.4-6.4: MADV_COLD and MADV_PAGEOUT clear a DAX (devmap) PMD they walk over: the walker's
   * pmd_trans_unstable sees a leaf that is neither a page table nor a transparent huge page and
   * pmd_clear_bad() drops it ("bad pmd" in the kernel log); the next access refaults it. Seen on
   * the 6.1 guest (Rss 0 after MADV_COLD, 4 faults to re-read 8 MiB). Fixed by the 6.5 rework of the
   * page-table walkers (pte_offset_map_lock).
   */
  readonly madvColdClearsDevmapPmd: boolean;

  // ---- DAX (reference §4, seeds 000, 002, 003, 004) ----
  /**
   * How DAX remembers faulted pages in the mapping's tree: 'none' (the 2014 get_block DAX
   * patchset: no entries, no locking, no dirty tracking), 'entries' (exceptional/value entries
   * with LOCK/PMD/ZERO/EMPTY bits and DIRTY/TOWRITE marks, 4.5+).
   */
  readonly daxEntries: 'none' | 'entries';
  /** Read of a hole: a zeroed page-cache page per hole (before 4.14) or the shared zero page (4.14+, seed 004). */
  readonly daxHoleReads: 'page-cache-page' | 'zero-page';
  /** Write faults insert the PTE writable+dirty in one step ('mkwrite', 4.14+) or read-only, made writable by a second, write-protect fault. */
  readonly daxWriteInsert: 'mkwrite' | 'read-only';
  /** ->pfn_mkwrite for DAX: 'full-fault' (4.14+: the fs DAX fault handler), 'dax_pfn_mkwrite' (4.5-4.13: mark dirty, reuse), 'none' (2014: do_wp_page reuses). */
  readonly daxPfnMkwrite: 'full-fault' | 'dax_pfn_mkwrite' | 'none';
  /** DAX PMD (2 MiB) faults (CONFIG_FS_DAX_PMD, re-enabled in 4.10). */
  readonly daxPmd: boolean;
  /** 6.1-rc read-dirtying: dax_insert_entry marks entries DIRTY for every non-synchronous fault, reads included (reference §4.4). */
  readonly daxDirtyOnRead: boolean;
  /** Writeback of dirty DAX entries on fsync/msync (dax_writeback_mapping_range, 4.5+); 2014 DAX flushed nothing. */
  readonly daxWritebackFlush: boolean;
  /** MAP_SYNC / VM_SYNC and VM_FAULT_NEEDDSYNC (4.15+). */
  readonly mapSync: boolean;
  /** thp_get_unmapped_area for DAX files (4.x+): mappings that cover a whole 2 MiB are placed 2 MiB-congruent. */
  readonly thpAlignDax: boolean;
  /** Kani's RFC (seed 000): ext4 DAX vm_ops gain ->map_pages = dax_map_pages, as posted. */
  readonly daxMapPages: 'none' | 'kani-2014';
  /** Wilcox's proposal (seed 002): a repeat fault uses the PFN cached in the entry instead of asking get_block. */
  readonly daxEntryCachesPfn: boolean;
  /** Bits available for the PFN in an entry (60 on 64-bit; 28 on 32-bit, where most PFNs do not fit: "unknown"). */
  readonly daxEntryPfnBits: number;
}

const base61: KernelProfile = {
  name: 'linux-6.1',
  description: 'Linux 6.1 (the DAX oracle guest): fault-around 64 KiB, mmap_lock dropped for I/O with RETRY, pgfault counted per attempt',
  faultAroundStyle: 'map_pages',
  faultAroundBytes: 65536,
  faultAroundMinPages: 2,
  faultAroundSkipPopulatedStart: false,
  faultAroundKnob: 'bytes',
  mapPagesEofClamp: true,
  mmapMissStyle: 'per-candidate-page',
  faultRetry: 'unlimited',
  dropMmapLockForIo: true,
  perVmaLock: false,
  pgfaultAccounting: 'every-attempt',
  rusageAccounting: 'mm-account-fault',
  readaheadPages: 32,
  ext4LargeFolios: false,
  mapWholeFolio: false,
  fdatawriteSkipsClean: true,
  raFolioOrders: false,
  thpAnon: 'madvise',
  thpZeroWpAlloc: false,
  folioSplitNonUniform: false,
  thpAlignPageCacheFiles: true,
  lruBatchPages: 15,
  mprotectPmdWriteUpgrade: false,
  smapsCountsProtnonePmd: false,
  madvColdClearsDevmapPmd: true,
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
};

/**
 * What kernels before 5.x share against the 6.1 base: no EOF clamp in map_pages, mmap_miss per
 * mapped page, one retry, no mmap_lock drop for I/O, no THP placement of page-cache files, and
 * ->writepages even when nothing is tagged dirty (before 5.4).
 */
const pre5 = {
  fdatawriteSkipsClean: false,
  madvColdClearsDevmapPmd: false,
  mapPagesEofClamp: false,
  mmapMissStyle: 'per-mapped-page',
  faultRetry: 'once',
  dropMmapLockForIo: false,
  thpAlignPageCacheFiles: false,
} as const;

/** Linux 3.15 (and 3.14, the RFCs' base): first ->map_pages fault-around, rusage at the first attempt, no DAX. */
const base315: KernelProfile = {
  ...base61,
  ...pre5,
  name: 'linux-3.15',
  description: 'Linux 3.15: first kernel with ->map_pages fault-around (fault_around_order debugfs knob), retry at most once',
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
};

/** The 2014 DAX patchset (Wilcox v6, Feb 2014) on a 3.15 fault-around base: get_block, no entries, no PMD. */
const dax2014: KernelProfile = {
  ...base315,
  name: 'dax-2014',
  description: 'The 2014 DAX patchset the seed RFCs applied to: get_block faults, zeroed page-cache pages for holes, no entries, no PMD, no MAP_SYNC',
};

export const profiles: Readonly<Record<string, KernelProfile>> = {
  'linux-3.15': base315,
  'rfc-shutemov-2014': {
    ...base315,
    name: 'rfc-shutemov-2014',
    description: 'Seed 001: Shutemov Feb 2014 RFC on 3.14, ->fault fills a naturally aligned 32-page array',
    faultAroundStyle: 'rfc-page-array',
    faultAroundBytes: 32 * 4096,
    faultAroundSkipPopulatedStart: false,
  },
  'dax-2014': dax2014,
  'rfc-kani-2014': {
    ...dax2014,
    name: 'rfc-kani-2014',
    description: 'Seed 000: Kani Mar 2014, dax_map_pages as posted (exclusive window end, get_block per page, i_mmap_mutex under the PTE lock)',
    daxMapPages: 'kani-2014',
  },
  'rfc-wilcox-2014': {
    ...dax2014,
    name: 'rfc-wilcox-2014',
    description: 'Seed 002: Wilcox Mar 2014, one tree entry per DAX page caching the PFN with Dirty and Lock bits; msync flushes dirty entries only',
    daxEntries: 'entries',
    daxEntryCachesPfn: true,
    daxWritebackFlush: true,
    // The Dirty bit must be set again when a cleaned page is written; the post does not say how,
    // so the profile uses the mechanism merged for exactly that (dax_pfn_mkwrite, 4.5).
    daxPfnMkwrite: 'dax_pfn_mkwrite',
  },
  'linux-4.13': {
    ...base61,
    ...pre5,
    name: 'linux-4.13',
    description: 'Linux 4.10-4.13 DAX: radix-tree entries, PMD faults with the huge zero page, zeroed page-cache pages for 4 KiB holes, dax_pfn_mkwrite',
    rusageAccounting: 'completed-or-major',
    daxHoleReads: 'page-cache-page',
    daxWriteInsert: 'read-only',
    daxPfnMkwrite: 'dax_pfn_mkwrite',
    daxDirtyOnRead: false,
    mapSync: false,
  },
  'linux-4.15': {
    ...base61,
    ...pre5,
    name: 'linux-4.15',
    description: 'Linux 4.15: map_pages fault-around, MAP_SYNC, retry once, rusage once per completed fault',
    rusageAccounting: 'completed-or-major',
    daxDirtyOnRead: false,
  },
  'linux-6.1': base61,
  'linux-6.18': {
    ...base61,
    name: 'linux-6.18',
    description: 'Linux 6.18 (the host oracle): per-VMA locks, pgfault once per completed fault, ext4 large folios',
    perVmaLock: true,
    pgfaultAccounting: 'completed',
    mmapMissStyle: 'per-candidate-not-workingset',
    ext4LargeFolios: true,
    mapWholeFolio: true,
    raFolioOrders: true,
    thpZeroWpAlloc: true,
    folioSplitNonUniform: true,
    lruBatchPages: 31,
    mprotectPmdWriteUpgrade: true,
    smapsCountsProtnonePmd: true,
    madvColdClearsDevmapPmd: false,
    daxDirtyOnRead: false,
  },
};

/** The knobs a scenario may override (`kernel: { profile, <knob>: value }`). */
export function resolveProfile(name: string, overrides: Readonly<Record<string, unknown>> = {}): KernelProfile {
  const p = profiles[name];
  if (!p) throw new Error(`unknown kernel profile "${name}" (known: ${Object.keys(profiles).join(', ')})`);
  const out: Record<string, unknown> = { ...p };
  for (const [k, v] of Object.entries(overrides)) {
    if (k === 'profile') continue;
    if (!(k in p)) throw new Error(`kernel.${k}: not a knob of profile ${name} (knobs: ${Object.keys(p).filter((x) => x !== 'name' && x !== 'description').join(', ')})`);
    const cur = (p as unknown as Record<string, unknown>)[k];
    if (typeof cur !== typeof v) throw new Error(`kernel.${k}: expected a ${typeof cur}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  if (overrides['faultAroundBytes'] !== undefined) {
    out['faultAroundBytes'] = faultAroundBytesSet(Number(overrides['faultAroundBytes']));
  }
  return out as unknown as KernelProfile;
}

/**
 * The value the kernel keeps when `v` is written to debugfs `fault_around_bytes`.
 * Models fault_around_bytes_set(), mm/memory.c, v3.16-v6.12: more than 512 pages is EINVAL;
 * otherwise the largest power of two not above max(v, 4096). Throws on EINVAL.
 */
export function faultAroundBytesSet(v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new Error(`faultAroundBytes: expected a non-negative integer, got ${v}`);
  if (Math.floor(v / 4096) > 512) throw new Error(`faultAroundBytes: ${v} is EINVAL (more than 512 pages)`);
  let p = 4096;
  while (p * 2 <= v) p *= 2;
  return p;
}

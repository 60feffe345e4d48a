/**
 * The knobs of a kernel profile: every policy the model reads, its type, its allowed values and
 * the reference for it (../shared/reference/linux-fault-path.md, "§n" below, and the oracles).
 * Code asks knobs, never version numbers (DESIGN.md "Profiles").
 *
 * Two shapes, one per use, on purpose:
 * - At run time a profile is a FLAT object (`KernelProfile`): hot paths read `k.profile.x`, one
 *   property load, no subsystem level in between. Nothing here changes how code reads a knob.
 * - For validation and display the knobs are a SCHEMA TABLE (`KNOBS`), one row per knob: its
 *   subsystem (the group it is shown in), its type (string with its allowed values, integer with
 *   the range the kernel enforces, boolean), a one-line meaning and a reference. The table's type
 *   is derived from `KernelProfile`, so a knob without a row, a row without a knob, or a string
 *   knob whose allowed values differ from its type does not type-check.
 * The long evidence for a knob (commits, measured figures) stays on its field in `KernelProfile`;
 * the row carries the line shown by `formatProfile`.
 *
 * `validateKnob` checks one value against its row (profiles.ts runs it on every profile at load
 * time and on every scenario override) and throws `ProfileError`, whose message names the knob,
 * the allowed values and the nearest one ("did you mean").
 */
import { didYouMean, nearest } from '../lib/suggest.ts';

// ---- Allowed values of the string knobs, each with its one-line meaning ----

export const FAULT_AROUND_STYLES = {
  none: 'no fault-around at all (3.14 and earlier)',
  map_pages: '->map_pages + do_fault_around() with fault_around_bytes (3.15+, reference §2)',
  'rfc-page-array': "Shutemov's first RFC (seed 001): ->fault fills a naturally aligned page array",
} as const;
export type FaultAroundStyle = keyof typeof FAULT_AROUND_STYLES;

export const WRITE_SOURCE_FAULT_INS = {
  'before-write-begin': 'generic_perform_write faults the user source in before ->write_begin (up to 6.14)',
  'after-short-copy':
    'the atomic copy runs first; fault_in_readable only after a short copy, so the folio is already created',
} as const;
export type WriteSourceFaultIn = keyof typeof WRITE_SOURCE_FAULT_INS;
export const TRACEPOINT_SETS = {
  'v3.15': 'no fs_dax events (before 4.11; the 2014 DAX patchset had none)',
  'v4.15': '14 fs_dax events, dax_insert_mapping and dax_pmd_insert_mapping fire; FAULT_FLAG names up to INSTRUCTION',
  'v5.10': 'as v4.15 (insert_mapping events fire, page=%p pfn=%lu filemap layout) plus INTERRUPTIBLE (5.10 guest)',
  'v6.1': '14 fs_dax events defined, the two insert_mapping ones no longer fire (iomap iterator); INTERRUPTIBLE',
  'v6.18': '12 fs_dax events (insert_mapping ones removed), dax_pmd_load_hole prints zero_folio; VMA_LOCK',
} as const;
export type TracepointSet = keyof typeof TRACEPOINT_SETS;

export const PGFAULT_ACCOUNTINGS = {
  'every-attempt': 'pgfault +1 at entry of every handle_mm_fault call, retries and failures included (3.15-6.3)',
  completed: 'pgfault +1 once per completed fault in mm_account_fault, failures included, retries not (6.4+)',
} as const;
export type PgfaultAccounting = keyof typeof PGFAULT_ACCOUNTINGS;

export const RUSAGE_ACCOUNTINGS = {
  'first-attempt': 'min/maj_flt counted by arch code on the first attempt only, not on error (3.x, reference §1.7)',
  'completed-or-major': 'once per completed fault, MAJOR OR-ed over the attempts, not on error (4.x)',
  'mm-account-fault': 'mm_account_fault (5.9+): skipped on ERROR or RETRY; major = MAJOR or FAULT_FLAG_TRIED',
} as const;
export type RusageAccounting = keyof typeof RUSAGE_ACCOUNTINGS;

export const MMAP_MISS_STYLES = {
  'per-mapped-page': 'map_pages decrements mmap_miss once per page it maps (3.16, 4.15)',
  'per-candidate-page': 'once per page that passed the checks, even if its PTE was already present (5.12-6.1)',
  'per-candidate-not-workingset': 'count of candidate pages not marked workingset, subtracted at the end (6.12+)',
} as const;
export type MmapMissStyle = keyof typeof MMAP_MISS_STYLES;

export const FALLOCATE_MODE_CHECKS = {
  'flag-rules': 'one rule per flag (3.15-6.11): collapse/insert with any other flag EINVAL, before FMODE_WRITE',
  'exclusive-modes': 'one mode plus KEEP_SIZE (6.12-6.16): collapse/insert with KEEP_SIZE or two modes EOPNOTSUPP',
  'exclusive-modes-write-zeroes': 'as exclusive-modes, and FALLOC_FL_WRITE_ZEROES is a mode the VFS passes on (6.17+)',
} as const;
export type FallocateModeCheck = keyof typeof FALLOCATE_MODE_CHECKS;

const FAULT_AROUND_KNOBS = {
  order: 'debugfs fault_around_order (3.15)',
  bytes: 'debugfs fault_around_bytes (3.16+)',
} as const;

const FAULT_RETRIES = {
  once: 'the retry clears FAULT_FLAG_ALLOW_RETRY: at most one retry (3.x, 4.x)',
  unlimited: 'FAULT_FLAG_TRIED, retries until done (5.7+)',
} as const;

const THP_MODES = {
  always: 'every large enough anonymous VMA',
  madvise: 'only VMAs with MADV_HUGEPAGE',
  never: 'no anonymous THP',
} as const;

const DAX_ENTRIES = {
  none: 'the 2014 get_block DAX patchset: no entries, no locking, no dirty tracking',
  entries: 'value entries with LOCK/PMD/ZERO/EMPTY bits and DIRTY/TOWRITE marks (4.5+)',
} as const;

const DAX_HOLE_READS = {
  'page-cache-page': 'a zeroed page-cache page per hole (before 4.14)',
  'zero-page': 'the shared zero page (4.14+, seed 004)',
} as const;

const DAX_WRITE_INSERTS = {
  mkwrite: 'a write fault inserts the PTE writable and dirty in one step (4.14+)',
  'read-only': 'read-only first, made writable by a second, write-protect fault',
} as const;

const DAX_PFN_MKWRITES = {
  'full-fault': 'the fs DAX fault handler (4.14+)',
  dax_pfn_mkwrite: 'dax_pfn_mkwrite: mark the entry dirty, reuse the PFN (4.5-4.13)',
  none: 'no ->pfn_mkwrite: do_wp_page reuses the PFN (2014)',
} as const;

const DAX_MAP_PAGES = {
  none: 'no ->map_pages in ext4_dax_vm_ops: no DAX fault-around',
  'kani-2014': "Kani's RFC (seed 000): dax_map_pages as posted",
  'entry-pfn': 'map only pages whose XArray entry already holds a media PFN (no iomap_begin, no sleeping lock)',
} as const;

// ---- The runtime shape ----

export interface KernelProfile {
  readonly name: string;
  readonly description: string;
  /** Which fault-around implementation runs on a read fault (reference §2, seed 001). */
  readonly faultAroundStyle: FaultAroundStyle;
  /** `fault_around_bytes` default (debugfs knob; 65536 = 16 pages since 3.16; RFC: fixed 32 pages). */
  readonly faultAroundBytes: number;
  /** Fault-around runs only when the window exceeds this many pages (3.15: 1 page is enough; 3.16+: >1). */
  readonly faultAroundMinPages: number;
  /** 3.15/3.16 do_fault_around skips populated PTEs at the window start, and map_pages if all are populated. */
  readonly faultAroundSkipPopulatedStart: boolean;
  /** `fault_around_bytes` debugfs interface: 'order' (3.15 fault_around_order) or 'bytes' (3.16+). */
  readonly faultAroundKnob: keyof typeof FAULT_AROUND_KNOBS;
  /** How map_pages treats a large folio straddling EOF: true never maps subpages at/after EOF (6.12, 6.1.159+). */
  readonly mapPagesEofClamp: boolean;
  /**
   * The i_size guard of filemap_map_pages (74207de2ba10, "do not populate page table entries beyond
   * i_size", 6.18, in Debian's 6.12.117 as a stable backport, not in its 6.1.176): can_map_large is
   * false when the window's first ready folio of a non-shmem file reaches the file's last page, and
   * then filemap_map_pmd is skipped, so an empty PMD gets no PTE table and nothing is mapped
   * (pte_offset_map_lock fails); the fault goes on to ->fault. Measured: a load past EOF of a
   * one-page ext4 file in a fresh PMD leaves page 0 unmapped on the 6.12 and 6.18 kernels, mapped
   * by fault-around on 6.1 and on tmpfs (test/oracle-runs/repro-eof-fault-around-ext4.*.jsonl).
   */
  readonly mapPagesISizeGuard: boolean;
  /** mmap_miss bookkeeping in map_pages (reference §2.4). */
  readonly mmapMissStyle: MmapMissStyle;
  /** Fault retries: 'once' clears ALLOW_RETRY before retrying (3.x, 4.x); 'unlimited' (5.7+). */
  readonly faultRetry: keyof typeof FAULT_RETRIES;
  /** 5.1+: every blocking step of filemap_fault (readahead I/O, lock wait, re-read) drops mmap_lock, RETRY. */
  readonly dropMmapLockForIo: boolean;
  /**
   * 5.1-5.18: fault_dirty_shared_page drops mmap_lock for balance_dirty_pages and returns
   * VM_FAULT_RETRY, so every shared write fault on a VMA with ->page_mkwrite is retried and counted
   * major (FAULT_FLAG_TRIED); 5.19+ return VM_FAULT_COMPLETED (5.10 guest vs 6.1 guest).
   */
  readonly dirtyBalanceRetry: boolean;
  /** 6.4+: user faults first try under the per-VMA lock (reference §1.1 step 5). */
  readonly perVmaLock: boolean;
  readonly pgfaultAccounting: PgfaultAccounting;
  readonly rusageAccounting: RusageAccounting;
  /** Default readahead window in pages (VM_READAHEAD_PAGES / VM_MAX_READAHEAD = 128 KiB). */
  readonly readaheadPages: number;
  /**
   * generic_file_buffered_read (mm/filemap.c, 5.10): the page loop looks up, and on a miss adds
   * and reads, the page at the next index before it checks i_size, so a read(2) that goes on
   * past a page-aligned EOF (or starts past the last page) leaves one zeroed page beyond EOF in
   * the page cache. Measured on the 5.10 guest (ext4: a 3-page file read with a 2 MiB read(2)
   * shows 4 pages in mincore, fuzz seed 8; examples/repro/ext4-read-past-eof.yaml); 6.1's
   * filemap_read stops at i_size (6.1 guest: 3 pages).
   */
  readonly readPageAfterEof: boolean;
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
  readonly thpAnon: keyof typeof THP_MODES;
  /**
   * When write(2) faults in a user buffer that lies in a mapping (mm/filemap.c generic_perform_write):
   * 6.1 calls fault_in_iov_iter_readable first; 6.18 copies with page faults disabled and faults
   * in only after a short copy (2025, "filemap: move prefaulting out of hot write path"), so a
   * write from a PROT_NONE buffer leaves the folio ->write_begin made (6.18 host, tmpfs:
   * st_blocks 8 after EFAULT; examples/read-into-mapping.yaml).
   */
  readonly writeSourceFaultIn: WriteSourceFaultIn;
  /**
   * 6.6+ ("shmem: add support for O_DIRECT"): shmem_file_open sets FMODE_CAN_ODIRECT, so tmpfs
   * files open with O_DIRECT and their reads and writes stay buffered; before, do_dentry_open
   * refuses the open with EINVAL (after O_CREAT made the file).
   */
  readonly shmemODirect: boolean;
  /**
   * 6.13+: a write to the huge zero PMD allocates a THP (do_huge_zero_wp_pmd); before, the PMD is
   * split into 4 KiB zero-page PTEs.
   */
  readonly thpZeroWpAlloc: boolean;
  /**
   * 6.15+: truncate and punch hole split a large folio that straddles the range with folio_split
   * (a buddy split at the boundary, keeping large pieces) instead of split_folio to order 0.
   * Measured on the 6.18 host: punching 512 KiB into a mapped 2 MiB folio costs 14 refaults.
   */
  readonly folioSplitNonUniform: boolean;
  readonly ext4PunchWriteback: boolean;
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
   * smaps_pmd_entry finds a huge PMD's page with vm_normal_page_pmd (Hildenbrand, "smaps: use
   * vm_normal_page_pmd() instead of follow_trans_huge_pmd()", 6.6): a PMD that mprotect(PROT_NONE)
   * made not-present counts in Rss, and a devmap (DAX) PMD has no normal page, so it adds nothing
   * (6.12 guest: dax-populate Rss 0). 6.1 asks follow_trans_huge_pmd(FOLL_DUMP), which refuses a
   * PROT_NONE PMD (6.1 guest: a PMD-mapped DAX file's Rss drops to 0) and gives one page for a
   * devmap PMD (6.1 guest: 4 kB per DAX PMD). 6.15+ DAX folios: see daxFolios.
   */
  readonly smapsVmNormalPagePmd: boolean;
  /**
   * 5.4-6.4: MADV_COLD and MADV_PAGEOUT clear a DAX (devmap) PMD they walk over: the walker's
   * pmd_trans_unstable sees a leaf that is neither a page table nor a transparent huge page and
   * pmd_clear_bad() drops it ("bad pmd" in the kernel log); the next access refaults it. Seen on
   * the 6.1 guest (Rss 0 after MADV_COLD, 4 faults to re-read 8 MiB). Fixed by the 6.5 rework of the
   * page-table walkers (pte_offset_map_lock).
   */
  readonly madvColdClearsDevmapPmd: boolean;
  /**
   * mremap looks up the VMA at the old address before anything else (SYSCALL_DEFINE5(mremap) since
   * 5.16's hugetlb support, do_mremap after the 6.17 rework): a shrink or same-length call on an
   * unmapped address is EFAULT (measured on the 6.1 guest and the 6.18 host). Before, the shrink
   * path came first and just unmapped the tail, so it succeeded (4.x sources; not measured).
   */
  readonly mremapVmaFirst: boolean;
  /**
   * madvise accepts MADV_POPULATE_READ and MADV_POPULATE_WRITE (5.14+, madvise_behavior_valid);
   * 5.10 refuses them with EINVAL (5.10 guest: dax-populate.linux-5.10.ext4-dax).
   */
  readonly madvPopulate: boolean;
  /**
   * MADV_REMOVE's permission check (madvise_remove, mm/madvise.c): true asks for a shared mapping
   * that may be written (vma_is_shared_maywrite, 6.7 "drop the assumption that VM_SHARED always
   * implies writable", in Debian's 6.1.176 by backport), so a PROT_READ mapping of a file opened
   * O_RDWR may punch; false asks for VM_SHARED|VM_WRITE, and that mapping gets EACCES (the 5.10
   * guest, 5.10.0-32: fuzz seed 69 of fuzz-ext4-dax-s1-n100.linux-5.10; examples/repro/madv-remove-readonly.yaml).
   */
  readonly madvRemoveMayWrite: boolean;
  /**
   * /proc/PID/pagemap sets PM_FILE for a present huge PMD that is not anonymous (pagemap_pmd_range,
   * 5.13+: the huge zero page, a DAX PMD, a page-cache PMD); 5.10's pagemap_pmd_range sets
   * PM_PRESENT and PM_MMAP_EXCLUSIVE only (5.10 guest: dax-map-sync-pmd.linux-5.10.ext4-dax).
   */
  readonly pagemapPmdFile: boolean;

  // ---- DAX (reference §4, seeds 000, 002, 003, 004) ----
  /**
   * How DAX remembers faulted pages in the mapping's tree: 'none' (the 2014 get_block DAX
   * patchset: no entries, no locking, no dirty tracking), 'entries' (exceptional/value entries
   * with LOCK/PMD/ZERO/EMPTY bits and DIRTY/TOWRITE marks, 4.5+).
   */
  readonly daxEntries: keyof typeof DAX_ENTRIES;
  /** Read of a hole: a zeroed page-cache page per hole (before 4.14) or the shared zero page (4.14+, seed 004). */
  readonly daxHoleReads: keyof typeof DAX_HOLE_READS;
  /**
   * Write faults insert the PTE writable+dirty in one step ('mkwrite', 4.14+) or read-only, made
   * writable by a second, write-protect fault.
   */
  readonly daxWriteInsert: keyof typeof DAX_WRITE_INSERTS;
  /**
   * ->pfn_mkwrite for DAX: 'full-fault' (4.14+: the fs DAX fault handler), 'dax_pfn_mkwrite'
   * (4.5-4.13: mark dirty, reuse), 'none' (2014: do_wp_page reuses).
   */
  readonly daxPfnMkwrite: keyof typeof DAX_PFN_MKWRITES;
  /** DAX PMD (2 MiB) faults (CONFIG_FS_DAX_PMD, re-enabled in 4.10). */
  readonly daxPmd: boolean;
  /**
   * 6.1-rc read-dirtying: dax_insert_entry marks entries DIRTY for every non-synchronous fault,
   * reads included (reference §4.4).
   */
  readonly daxDirtyOnRead: boolean;
  /** Writeback of dirty DAX entries on fsync/msync (dax_writeback_mapping_range, 4.5+); 2014 DAX flushed nothing. */
  readonly daxWritebackFlush: boolean;
  /** MAP_SYNC / VM_SYNC and VM_FAULT_NEEDDSYNC (4.15+). */
  readonly mapSync: boolean;
  /** thp_get_unmapped_area for DAX files (4.x+): mappings that cover a whole 2 MiB are placed 2 MiB-congruent. */
  readonly thpAlignDax: boolean;
  /** Kani's RFC (seed 000): ext4 DAX vm_ops gain ->map_pages = dax_map_pages, as posted (ext4.ts DAX_MAP_PAGES_OPS). */
  readonly daxMapPages: keyof typeof DAX_MAP_PAGES;
  /** Wilcox's proposal (seed 002): a repeat fault uses the PFN cached in the entry instead of asking get_block. */
  readonly daxEntryCachesPfn: boolean;
  /** Bits available for the PFN in an entry (60 on 64-bit; 28 on 32-bit, where most PFNs do not fit: "unknown"). */
  readonly daxEntryPfnBits: number;
  /** Which tracepoints exist and fire, with their TP_printk layouts (daxsim run --trace ftrace). */
  readonly tracepoints: TracepointSet;
  /**
   * 6.15+: fs-DAX pages are refcounted folios (Popple, "fs/dax: properly refcount fs dax pages"):
   * dax_insert_pfn and vmf_insert_folio_pmd map them as normal pages with an rmap, so smaps Rss
   * counts every PTE- and PMD-mapped DAX page and pagemap reports them PM_FILE and, mapped once,
   * PM_MMAP_EXCLUSIVE. Before, DAX PTEs were devmap/special (vm_normal_page NULL: no Rss, no
   * PM_FILE) and a devmap PMD added one page to Rss (7.2 guest: dax-populate.linux-7.2.ext4-dax).
   */
  readonly daxFolios: boolean;
  /**
   * How vfs_fallocate (fs/open.c) validates the mode before FMODE_WRITE and the other checks:
   * 5.10 and 6.1 test flag pairs one after another (COLLAPSE_RANGE or INSERT_RANGE with any other
   * flag is EINVAL); "fs: sort out the fallocate mode vs flag mess" (6.12) makes the modes
   * exclusive with a switch (COLLAPSE_RANGE | KEEP_SIZE is EOPNOTSUPP); 6.17 adds WRITE_ZEROES.
   */
  readonly fallocateModeCheck: FallocateModeCheck;
  /**
   * ext4_fallocate does the work every non-allocating mode shares (inode_dio_wait, file_modified,
   * filemap_invalidate_lock, ext4_break_layouts) before it dispatches to punch / collapse / insert /
   * zero, so a collapse or insert refused for alignment or i_size still unmaps a DAX file whole
   * (the ext4 fallocate refactor after 6.12). Before, ext4_collapse_range and ext4_insert_range
   * check their arguments first and break layouts only once they go ahead (5.10, 6.1, 6.12).
   */
  readonly ext4FallocBreakLayoutsFirst: boolean;
}

// ---- The schema table ----

/** The groups knobs are shown in, in display order. */
export const SUBSYSTEMS = [
  'fault', 'fault-around', 'accounting', 'readahead', 'page cache', 'THP', 'mprotect/madvise', 'DAX', 'tracing',
  'vfs/fs',
] as const;
export type Subsystem = typeof SUBSYSTEMS[number];

/** A knob's name: every field of a profile but its name and description. */
export type KnobName = Exclude<keyof KernelProfile, 'name' | 'description'>;

interface RowBase {
  readonly subsystem: Subsystem;
  /** One line: what the knob selects. */
  readonly meaning: string;
  /** Where it is documented or measured: reference section, kernel function and version, oracle. */
  readonly ref: string;
}
/** A string knob: its allowed values, each with its meaning. */
export interface StringRow<V extends string> extends RowBase {
  readonly type: 'string';
  readonly values: { readonly [K in V]: string };
}
/** An integer knob, within the range the kernel enforces (or the model needs). */
export interface IntegerRow extends RowBase {
  readonly type: 'integer';
  readonly min: number;
  readonly max: number;
  /** Why the range is what it is (printed with a value outside it). */
  readonly rangeWhy: string;
  /**
   * What the kernel keeps when the value is written (a debugfs store handler): applied to scenario
   * overrides; a profile's own value must already be one the kernel keeps.
   */
  readonly store?: (v: number) => number;
}
export interface BooleanRow extends RowBase {
  readonly type: 'boolean';
}
/** The row a knob of value type V takes (brackets: no distribution over the union's members). */
export type RowFor<V> = [V] extends [boolean] ? BooleanRow : [V] extends [number] ? IntegerRow
  : [V] extends [string] ? StringRow<V> : never;
export type KnobRow = BooleanRow | IntegerRow | StringRow<string>;

const BOOL = 'boolean' as const;
const INT = 'integer' as const;
const STR = 'string' as const;
const PTRS_PER_PTE = 512;
const PAGE_SIZE = 4096;

/**
 * The value the kernel keeps when `v` is written to debugfs `fault_around_bytes`.
 * Models fault_around_bytes_set(), mm/memory.c, v3.16-v6.12: more than 512 pages is EINVAL;
 * otherwise the largest power of two not above max(v, 4096). Throws on EINVAL.
 */
export function faultAroundBytesSet(v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new Error(`faultAroundBytes: expected a non-negative integer, got ${v}`);
  if (Math.floor(v / PAGE_SIZE) > PTRS_PER_PTE) {
    throw new Error(`faultAroundBytes: ${v} is EINVAL (more than 512 pages)`);
  }
  let p = PAGE_SIZE;
  while (p * 2 <= v) p *= 2;
  return p;
}

/** One row per knob, grouped by subsystem in the order `formatProfile` shows them. */
export const KNOBS: { readonly [K in KnobName]: RowFor<KernelProfile[K]> } = {
  // fault
  faultRetry: {
    subsystem: 'fault', type: STR, values: FAULT_RETRIES,
    meaning: 'how often a fault that returned VM_FAULT_RETRY is retried',
    ref: 'reference §1.1; arch/x86/mm/fault.c do_user_addr_fault (FAULT_FLAG_TRIED, 5.7)',
  },
  dropMmapLockForIo: {
    subsystem: 'fault', type: BOOL,
    meaning: 'filemap_fault drops mmap_lock around every blocking step and returns RETRY',
    ref: 'reference §1.2; mm/filemap.c maybe_unlock_mmap_for_io (5.1+)',
  },
  dirtyBalanceRetry: {
    subsystem: 'fault', type: BOOL,
    meaning: 'a shared write fault returns RETRY after balance_dirty_pages (counted major)',
    ref: 'mm/memory.c fault_dirty_shared_page (5.1-5.18; 5.19+ VM_FAULT_COMPLETED); 5.10 guest',
  },
  perVmaLock: {
    subsystem: 'fault', type: BOOL,
    meaning: 'user faults first try under the per-VMA lock',
    ref: 'reference §1.1 step 5; lock_vma_under_rcu (6.4+)',
  },
  mapWholeFolio: {
    subsystem: 'fault', type: BOOL,
    meaning: 'finish_fault and filemap_map_pages map a whole large folio at once',
    ref: '19773df031bc, 357b92761d94, 74207de2ba10 (6.18); oracle-linux-6.18',
  },
  // fault-around
  faultAroundStyle: {
    subsystem: 'fault-around', type: STR, values: FAULT_AROUND_STYLES,
    meaning: 'which fault-around implementation runs on a read fault',
    ref: 'reference §2; mm/memory.c do_fault_around (3.15+); seed 001',
  },
  faultAroundBytes: {
    subsystem: 'fault-around', type: INT, min: 0, max: (PTRS_PER_PTE + 1) * PAGE_SIZE - 1, store: faultAroundBytesSet,
    rangeWhy: 'fault_around_bytes_set refuses more than 512 pages with EINVAL',
    meaning: 'fault_around_bytes: the fault-around window, a power of two of at least one page',
    ref: 'mm/memory.c fault_around_bytes_set (3.16-6.12)',
  },
  faultAroundMinPages: {
    subsystem: 'fault-around', type: INT, min: 1, max: PTRS_PER_PTE,
    rangeWhy: 'the window is at least one page and at most one page table (512 PTEs)',
    meaning: 'fault-around runs only when the window holds at least this many pages',
    ref: 'mm/memory.c do_read_fault / should_fault_around (3.15: 1, 3.16+: 2)',
  },
  faultAroundSkipPopulatedStart: {
    subsystem: 'fault-around', type: BOOL,
    meaning: 'do_fault_around skips populated PTEs at the window start, map_pages if all are',
    ref: 'mm/memory.c do_fault_around (3.15, 3.16)',
  },
  faultAroundKnob: {
    subsystem: 'fault-around', type: STR, values: FAULT_AROUND_KNOBS,
    meaning: 'the debugfs interface of the fault-around window',
    ref: 'mm/memory.c fault_around_order (3.15), fault_around_bytes (3.16+)',
  },
  mapPagesEofClamp: {
    subsystem: 'fault-around', type: BOOL,
    meaning: 'map_pages never maps subpages of a large folio at or after EOF',
    ref: 'mm/filemap.c filemap_map_pages (6.12, 6.1.159+)',
  },
  mapPagesISizeGuard: {
    subsystem: 'fault-around', type: BOOL,
    meaning: 'map_pages installs no PTE table in an empty PMD when the first folio reaches EOF (not shmem)',
    ref: 'mm/filemap.c filemap_map_pages can_map_large, 74207de2ba10 (6.18; Debian 6.12.117 backport)',
  },
  mmapMissStyle: {
    subsystem: 'fault-around', type: STR, values: MMAP_MISS_STYLES,
    meaning: 'how map_pages decrements the mmap_miss readahead heuristic',
    ref: 'reference §2.4; mm/filemap.c filemap_map_pages',
  },
  // accounting
  pgfaultAccounting: {
    subsystem: 'accounting', type: STR, values: PGFAULT_ACCOUNTINGS,
    meaning: 'when /proc/vmstat pgfault counts a fault',
    ref: 'reference §1.7; mm/memory.c handle_mm_fault, mm_account_fault (6.4)',
  },
  rusageAccounting: {
    subsystem: 'accounting', type: STR, values: RUSAGE_ACCOUNTINGS,
    meaning: 'when getrusage min_flt/maj_flt count a fault',
    ref: 'reference §1.7; mm/memory.c mm_account_fault (5.9+)',
  },
  // readahead
  readaheadPages: {
    subsystem: 'readahead', type: INT, min: 0, max: Number.MAX_SAFE_INTEGER,
    rangeWhy: 'read_ahead_kb is a whole number of pages, 0 turns readahead off',
    meaning: 'default readahead window in pages (read_ahead_kb / 4)',
    ref: 'include/linux/mm.h VM_READAHEAD_PAGES; block/blk-sysfs.c read_ahead_kb',
  },
  readPageAfterEof: {
    subsystem: 'readahead', type: BOOL,
    meaning: 'read(2) past a page-aligned EOF leaves the page after EOF in the page cache',
    ref: 'mm/filemap.c generic_file_buffered_read (5.10 guest); filemap_read stops at i_size (6.1 guest)',
  },
  raFolioOrders: {
    subsystem: 'readahead', type: BOOL,
    meaning: 'async readahead windows ask for folios 2 orders larger, trimmed to that alignment',
    ref: 'mm/readahead.c page_cache_async_ra with ra->order (6.18); oracle-readahead',
  },
  // page cache
  ext4LargeFolios: {
    subsystem: 'page cache', type: BOOL,
    meaning: 'ext4 page cache uses large folios sized by write length',
    ref: 'reference §2.6; oracle 6.18 ext4 truncate row',
  },
  fdatawriteSkipsClean: {
    subsystem: 'page cache', type: BOOL,
    meaning: 'fsync starts no ->writepages when no entry is tagged DIRTY',
    ref: 'mm/filemap.c __filemap_fdatawrite_range (5.4+); 6.1 guest dax_writeback_range events',
  },
  ext4PunchWriteback: {
    subsystem: 'page cache', type: BOOL,
    meaning: 'ext4_punch_hole and ext4_zero_range write the range back before truncating the page cache',
    ref: 'fs/ext4/inode.c ext4_punch_hole, extents.c ext4_zero_range (to 6.12; gone by 6.18 for ordered '
      + 'data); 6.18 host punch-large-folio',
  },
  folioSplitNonUniform: {
    subsystem: 'page cache', type: BOOL,
    meaning: 'truncate and punch hole split a straddling large folio with folio_split',
    ref: 'mm/truncate.c truncate_inode_partial_folio (6.15+); oracle-punch',
  },
  lruBatchPages: {
    subsystem: 'page cache', type: INT, min: 1, max: 255,
    rangeWhy: 'the batch count (pagevec / folio_batch nr) is an unsigned char',
    meaning: 'pages the per-CPU LRU add batch holds before it is drained',
    ref: 'include/linux/pagevec.h PAGEVEC_SIZE 14/15, folio_batch 31 (6.4+)',
  },
  // THP
  writeSourceFaultIn: {
    subsystem: 'page cache', type: STR, values: WRITE_SOURCE_FAULT_INS,
    meaning: 'when write(2) faults in a user source buffer: before write_begin, or after a short copy',
    ref: 'mm/filemap.c generic_perform_write (6.1 prefault; 6.18 after the copy); oracle read-into-mapping',
  },
  shmemODirect: {
    subsystem: 'page cache', type: BOOL,
    meaning: 'tmpfs files open with O_DIRECT (FMODE_CAN_ODIRECT; I/O stays buffered); false: open is EINVAL',
    ref: 'mm/shmem.c shmem_file_open (6.6+), fs/open.c do_dentry_open; oracle odirect-open',
  },
  thpAnon: {
    subsystem: 'THP', type: STR, values: THP_MODES,
    meaning: '/sys/kernel/mm/transparent_hugepage/enabled for anonymous memory',
    ref: 'mm/huge_memory.c; the 6.18 host: madvise',
  },
  thpZeroWpAlloc: {
    subsystem: 'THP', type: BOOL,
    meaning: 'a write to the huge zero PMD allocates a THP instead of splitting to zero-page PTEs',
    ref: 'mm/huge_memory.c do_huge_zero_wp_pmd (6.13+)',
  },
  thpAlignPageCacheFiles: {
    subsystem: 'THP', type: BOOL,
    meaning: 'large page-cache file mappings are placed 2 MiB-congruent',
    ref: 'mm/huge_memory.c thp_get_unmapped_area (5.18+)',
  },
  // mprotect/madvise
  mprotectPmdWriteUpgrade: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'mprotect making a shared mapping writable again also upgrades its dirty huge PMDs',
    ref: 'mm/huge_memory.c change_huge_pmd, can_change_pmd_writable (6.2+); 6.1 guest',
  },
  smapsVmNormalPagePmd: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'smaps finds a PMD page by vm_normal_page_pmd: PROT_NONE PMDs count, devmap ones not',
    ref: 'fs/proc/task_mmu.c smaps_pmd_entry (6.6+: vm_normal_page_pmd); 6.1 and 6.12 guests',
  },
  madvColdClearsDevmapPmd: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'MADV_COLD/MADV_PAGEOUT clear a DAX PMD as "bad pmd"',
    ref: 'mm/madvise.c madvise_cold_or_pageout_pte_range, pmd_trans_unstable (5.4-6.4); 6.1 guest',
  },
  mremapVmaFirst: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'mremap finds the old VMA first: a shrink of an unmapped range is EFAULT',
    ref: 'mm/mremap.c vma_lookup before the shrink path (5.16+); 6.1 guest and 6.18 host (mremap-move)',
  },
  madvPopulate: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'madvise accepts MADV_POPULATE_READ/WRITE (else EINVAL)',
    ref: 'mm/madvise.c madvise_behavior_valid (5.14+); 5.10 guest',
  },
  madvRemoveMayWrite: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'MADV_REMOVE needs VM_SHARED|VM_MAYWRITE (else VM_SHARED|VM_WRITE): EACCES on a PROT_READ mapping',
    ref: 'mm/madvise.c madvise_remove, vma_is_shared_maywrite (6.7; 6.1.176 backport); 5.10 guest: VM_WRITE',
  },
  pagemapPmdFile: {
    subsystem: 'mprotect/madvise', type: BOOL,
    meaning: 'pagemap sets PM_FILE for a present non-anonymous huge PMD',
    ref: 'fs/proc/task_mmu.c pagemap_pmd_range (5.13+); 5.10 guest',
  },
  // DAX
  daxEntries: {
    subsystem: 'DAX', type: STR, values: DAX_ENTRIES,
    meaning: 'how DAX remembers faulted pages in the mapping tree',
    ref: 'reference §4; fs/dax.c (4.5+ entries); seeds 000, 002',
  },
  daxHoleReads: {
    subsystem: 'DAX', type: STR, values: DAX_HOLE_READS,
    meaning: 'what a read fault on a hole maps',
    ref: 'fs/dax.c dax_load_hole (4.14+: zero page); seed 004',
  },
  daxWriteInsert: {
    subsystem: 'DAX', type: STR, values: DAX_WRITE_INSERTS,
    meaning: 'whether a write fault inserts the PTE writable at once',
    ref: 'fs/dax.c dax_iomap_pte_fault, vmf_insert_mixed_mkwrite (4.14+)',
  },
  daxPfnMkwrite: {
    subsystem: 'DAX', type: STR, values: DAX_PFN_MKWRITES,
    meaning: 'the ->pfn_mkwrite of ext4_dax_vm_ops (ext4.ts DAX_PFN_MKWRITE_OPS)',
    ref: 'fs/ext4/file.c ext4_dax_vm_ops; fs/dax.c dax_pfn_mkwrite (4.5-4.13)',
  },
  daxPmd: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'DAX PMD (2 MiB) faults: ->huge_fault in ext4_dax_vm_ops (ext4.ts DAX_HUGE_FAULT_OPS)',
    ref: 'CONFIG_FS_DAX_PMD, fs/dax.c dax_iomap_pmd_fault (re-enabled 4.10)',
  },
  daxDirtyOnRead: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'dax_insert_entry marks entries DIRTY on read faults too',
    ref: 'reference §4.4 (6.1-rc read-dirtying)',
  },
  daxWritebackFlush: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'fsync/msync flush dirty DAX entries',
    ref: 'fs/dax.c dax_writeback_mapping_range (4.5+)',
  },
  mapSync: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'MAP_SYNC / VM_SYNC and VM_FAULT_NEEDDSYNC',
    ref: 'mm/mmap.c, fs/dax.c dax_finish_sync_fault (4.15+)',
  },
  thpAlignDax: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'DAX mappings covering a whole 2 MiB are placed 2 MiB-congruent',
    ref: 'fs/ext4/file.c get_unmapped_area = thp_get_unmapped_area (4.x+)',
  },
  daxMapPages: {
    subsystem: 'DAX', type: STR, values: DAX_MAP_PAGES,
    meaning: 'the ->map_pages of ext4_dax_vm_ops (ext4.ts DAX_MAP_PAGES_OPS)',
    ref: 'seed 000: Kani, "dax: add dax_map_pages", Mar 2014',
  },
  daxEntryCachesPfn: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'a repeat fault uses the PFN cached in the entry instead of asking get_block',
    ref: 'seed 002: Wilcox, Mar 2014',
  },
  daxEntryPfnBits: {
    subsystem: 'DAX', type: INT, min: 1, max: 60,
    rangeWhy: 'an entry is one unsigned long whose low 4 bits are flags',
    meaning: 'bits of an entry available for the PFN (60 on 64-bit, 28 on 32-bit)',
    ref: 'seed 002: Wilcox, rte_to_pfn',
  },
  tracepoints: {
    subsystem: 'tracing', type: STR, values: TRACEPOINT_SETS,
    meaning: 'the fs_dax, exceptions, filemap and jbd2 tracepoints of the version and their print formats',
    ref: 'include/trace/events/fs_dax.h; 6.18 host format files (test/trace-formats/linux-6.18)',
  },
  daxFolios: {
    subsystem: 'DAX', type: BOOL,
    meaning: 'DAX pages are refcounted folios: counted in smaps Rss, PM_FILE/exclusive in pagemap',
    ref: 'fs/dax.c dax_insert_pfn, mm/huge_memory.c vmf_insert_folio_pmd (6.15+); 7.2 guest',
  },
  // vfs/fs
  fallocateModeCheck: {
    subsystem: 'vfs/fs', type: STR, values: FALLOCATE_MODE_CHECKS,
    meaning: 'how vfs_fallocate validates the mode bits, and so which errno wins over EBADF',
    ref: 'fs/open.c vfs_fallocate (5.10, 6.1 rules; 6.12+ switch); oracle fallocate-order runs',
  },
  ext4FallocBreakLayoutsFirst: {
    subsystem: 'vfs/fs', type: BOOL,
    meaning: 'ext4_fallocate breaks DAX layouts before collapse/insert check their arguments',
    ref: 'fs/ext4/extents.c ext4_fallocate, ext4_collapse_range, ext4_insert_range (6.1 vs 6.18)',
  },
};

/** Knob names in table order (the order profiles are shown in). */
export const KNOB_NAMES: readonly KnobName[] = Object.keys(KNOBS) as KnobName[];

/** The row of `name`, or undefined: own rows only, so `constructor` or `__proto__` is no knob. */
export function knobRow(name: string): KnobRow | undefined {
  return Object.hasOwn(KNOBS, name) ? (KNOBS as Readonly<Record<string, KnobRow>>)[name] : undefined;
}

// ---- Validation ----

/**
 * A profile or knob a scenario (or a profile definition) got wrong. `knob` is the knob's name
 * ('profile' for the profile's name), `allowed` the values it may take (or the range), `suggestion`
 * the nearest of them; the message says all of it.
 */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly knob: string;
  readonly value: unknown;
  readonly allowed: readonly string[];
  readonly suggestion: readonly string[];
  constructor(
    message: string, knob: string, value: unknown, allowed: readonly string[], suggestion: readonly string[],
  ) {
    super(message);
    this.knob = knob;
    this.value = value;
    this.allowed = allowed;
    this.suggestion = suggestion;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** The error for a name that is not a knob, with the nearest knob names. */
export function unknownKnob(name: string): ProfileError {
  const near = nearest(name, KNOB_NAMES);
  return new ProfileError(
    `kernel.${name}: not a knob${didYouMean(name, KNOB_NAMES)}; knobs: ${KNOB_NAMES.join(', ')}`,
    name, undefined, KNOB_NAMES, near);
}

/**
 * Checks `value` for knob `name` against its row and returns the value the kernel keeps:
 * for an override (`override` true) the row's store handler applies (fault_around_bytes rounds down
 * to a power of two); a profile's own value must be kept as is. Throws ProfileError.
 */
export function validateKnob(name: string, value: unknown, override: boolean): string | number | boolean {
  const row = knobRow(name);
  if (row === undefined) throw unknownKnob(name);
  const at = `kernel.${name}`;
  if (row.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    throw new ProfileError(`${at}: expected true or false, got ${show(value)}`, name, value, ['true', 'false'], []);
  }
  if (row.type === 'string') {
    const allowed = Object.keys(row.values);
    if (typeof value === 'string' && Object.hasOwn(row.values, value)) return value;
    const near = typeof value === 'string' ? nearest(value, allowed) : [];
    const hint = typeof value === 'string' ? didYouMean(value, allowed) : '';
    const message = `${at}: expected one of ${allowed.join(', ')}, got ${show(value)}${hint}`;
    throw new ProfileError(message, name, value, allowed, near);
  }
  const range = `${row.min}..${row.max === Number.MAX_SAFE_INTEGER ? '' : row.max}`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < row.min || value > row.max) {
    const bounds = row.max === Number.MAX_SAFE_INTEGER ? `of at least ${row.min}` : `from ${row.min} to ${row.max}`;
    const message = `${at}: expected an integer ${bounds}, got ${show(value)} (${row.rangeWhy})`;
    throw new ProfileError(message, name, value, [range], []);
  }
  if (row.store === undefined) return value;
  const kept = row.store(value);
  if (!override && kept !== value) {
    const message = `${at}: ${value} is not a value the kernel keeps (it would store ${kept})`;
    throw new ProfileError(message, name, value, [range], []);
  }
  return kept;
}

/** A profile shown by subsystem: one line per knob with its value and meaning (daxsim profiles). */
export function formatProfile(p: KernelProfile): string {
  const width = Math.max(...KNOB_NAMES.map((n) => n.length));
  const lines = [`${p.name}: ${p.description}`];
  for (const subsystem of SUBSYSTEMS) {
    lines.push(`  ${subsystem}`);
    for (const name of KNOB_NAMES) {
      const row: KnobRow = KNOBS[name];
      if (row.subsystem !== subsystem) continue;
      const value = String(p[name]);
      lines.push(`    ${name.padEnd(width)}  ${value.padEnd(28)}  ${row.meaning}`);
    }
  }
  return lines.join('\n');
}

/** A profile definition, frozen (the literal is type-checked as a KernelProfile: no unknown knob). */
export function defineProfile(p: KernelProfile): KernelProfile {
  return Object.freeze(p);
}

/**
 * Read-only views of each file's page cache (the inode's i_pages XArray) for the browser view and
 * tests: folios with their order and page flags, DAX value entries decoded (PFN and the LOCKED,
 * PMD, ZERO_PAGE, EMPTY bits of fs/dax.c v6.1), workingset shadow entries, and the DIRTY,
 * WRITEBACK and TOWRITE marks. Consecutive entries that look alike are merged into one run so a
 * 128 MiB file stays a short list. Walks on demand (xa_for_each, include/linux/xarray.h v6.1);
 * nothing here is on the model's hot path.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { Inode } from '../fs/fs.ts';
import { xaIsValue, xaToValue, XA_MARK_0, XA_MARK_1, XA_MARK_2 } from '../lib/xarray.ts';
import { PG_locked, PG_uptodate, PG_dirty, PG_writeback, PG_readahead, PG_active, PG_referenced,
  PG_workingset } from '../hw/frames.ts';
import { entryFolio } from '../mm/pagemap.ts';
import { daxFlags, daxPfn, DAX_LOCKED, DAX_PMD, DAX_ZERO_PAGE, DAX_EMPTY } from '../dax/entry.ts';

/** A run of alike XArray entries covering file pages [firstIndex, lastIndex]. */
export interface CacheRun {
  kind: 'folio' | 'dax' | 'shadow';
  firstIndex: number;
  lastIndex: number;
  /** Entries merged into this run. */
  entries: number;
  /** Order of each entry (pages = 2^order). */
  order: number;
  /** First entry's PFN (folio head or DAX PFN); -1 for shadows. */
  pfn: number;
  /** Folio flags (uptodate, dirty, readahead, locked, writeback, ...) or DAX bits (LOCKED, PMD, ZERO, EMPTY). */
  flags: string[];
  /** XArray marks: DIRTY, WRITEBACK, TOWRITE. */
  marks: string[];
}

export interface FileCacheView {
  path: string;
  ino: number;
  dax: boolean;
  sizeBytes: number;
  /** nrpages: pages of folios in the cache (DAX entries are not pages). */
  nrpages: number;
  runs: CacheRun[];
}

const FOLIO_FLAGS: ReadonlyArray<[number, string]> = [[PG_uptodate, 'uptodate'], [PG_dirty, 'dirty'],
  [PG_readahead, 'readahead'], [PG_locked, 'locked'], [PG_writeback, 'writeback'], [PG_active, 'active'],
  [PG_referenced, 'referenced'], [PG_workingset, 'workingset']];
const DAX_BITS: ReadonlyArray<[number, string]> = [[DAX_LOCKED, 'LOCKED'], [DAX_PMD, 'PMD'],
  [DAX_ZERO_PAGE, 'ZERO'], [DAX_EMPTY, 'EMPTY']];

function names(word: number, table: ReadonlyArray<[number, string]>): string[] {
  return table.filter(([b]) => (word & b) !== 0).map(([, n]) => n);
}

/** One entry decoded as a run of length one (xa_is_value / dax_to_pfn, fs/dax.c v6.1). */
function decode(k: Kernel, inode: Inode, index: number, entry: number, order: number): CacheRun {
  const xa = inode.mapping.pages;
  const marks: string[] = [];
  if (xa.getMark(index, XA_MARK_0)) marks.push('DIRTY');
  if (xa.getMark(index, XA_MARK_1)) marks.push('WRITEBACK');
  if (xa.getMark(index, XA_MARK_2)) marks.push('TOWRITE');
  const run: CacheRun = { kind: 'shadow', firstIndex: index, lastIndex: index + 2 ** order - 1, entries: 1, order,
    pfn: -1, flags: [], marks };
  if (!xaIsValue(entry)) {
    const head = entryFolio(entry);
    run.kind = 'folio';
    run.pfn = head;
    run.order = k.frames.order[head]!;
    run.flags = names(k.frames.flags[head]!, FOLIO_FLAGS);
  } else if (inode.dax) {
    run.kind = 'dax';
    run.pfn = daxPfn(entry);
    run.flags = names(daxFlags(entry), DAX_BITS);
  } else {
    run.flags = [`shadow ${xaToValue(entry)}`];
  }
  return run;
}

function alike(a: CacheRun, b: CacheRun): boolean {
  return a.kind === b.kind && a.order === b.order && a.lastIndex + 1 === b.firstIndex &&
    a.flags.join() === b.flags.join() && a.marks.join() === b.marks.join() &&
    (a.kind !== 'shadow');
}

/** The page cache of one inode as runs of alike entries (xa_for_each over i_pages, v6.1). */
export function fileCache(k: Kernel, inode: Inode, path: string): FileCacheView {
  const runs: CacheRun[] = [];
  inode.mapping.pages.forEach(0, Infinity, (index, entry, order) => {
    const r = decode(k, inode, index, entry, order);
    const last = runs[runs.length - 1];
    if (last && alike(last, r)) { last.lastIndex = r.lastIndex; last.entries++; } else runs.push(r);
  });
  return { path, ino: inode.ino, dax: inode.dax, sizeBytes: inode.sizeBytes, nrpages: inode.mapping.nrpages, runs };
}

/** Every file of every mounted filesystem, by path, with its page cache (the internal shm mount left out). */
export function pageCaches(k: Kernel): FileCacheView[] {
  const out: FileCacheView[] = [];
  for (const sb of k.superblocks()) {
    const mp = sb.mountPoint.endsWith('/') ? sb.mountPoint : sb.mountPoint + '/';
    for (const [name, inode] of sb.inodes) out.push(fileCache(k, inode, mp + name));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

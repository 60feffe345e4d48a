/**
 * dax_writeback_mapping_range (fs/dax.c v6.1, reference §4.10): on fsync/msync(MS_SYNC), copy
 * the DIRTY mark to TOWRITE over the range, then for each tagged entry write-protect its PTEs/PMDs
 * in every shared VMA (so the next store takes a write-protect fault and re-dirties it), write the
 * CPU cache back for the whole entry (64 CLWBs per 4 KiB, 32768 per 2 MiB) and clear the marks.
 * Background writeback never flushes DAX. Profiles without DAX writeback (2014) flush nothing.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { xaIsValue } from '../lib/xarray.ts';
import { daxPfn, PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE, PMD_ORDER } from './entry.ts';
import { wrprotectFilePages } from '../mm/rmap.ts';

/** Returns the number of entries written back. */
export function daxWritebackMappingRange(k: Kernel, mapping: AddressSpace, start: number, end: number): number {
  if (!k.profile.daxWritebackFlush) return 0;
  const xa = mapping.pages;
  if (xa.count === 0) return 0;
  // The caller's check (__filemap_fdatawrite_range, 5.4+): nothing tagged dirty, no ->writepages.
  if (k.profile.fdatawriteSkipsClean && !xa.marked(PAGECACHE_TAG_DIRTY)) return 0;
  k.events.daxWritebackRange++;
  const tp = k.tracer;
  if (tp !== null) tp.daxWritebackRange(mapping.host, start, end, false);
  xa.setMarkRange(start, end, PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE);
  const todo: Array<[number, number, number]> = [];
  xa.forEach(start, end, (i, e, order) => { if (xaIsValue(e)) todo.push([i, e, order]); }, PAGECACHE_TAG_TOWRITE);
  for (const [i, e, order] of todo) {
    const base = order === PMD_ORDER ? i - (i % 512) : i;
    const n = 1 << order;
    xa.clearMark(base, PAGECACHE_TAG_TOWRITE);
    wrprotectFilePages(k, mapping, base, n);
    const pfn = daxPfn(e);
    if (pfn >= k.pmemBase) k.pmemFlush(pfn, n);
    xa.clearMark(base, PAGECACHE_TAG_DIRTY);
    k.events.daxWritebackEntries++;
    if (tp !== null) tp.daxWritebackOne(mapping.host, base, n);
  }
  if (tp !== null) tp.daxWritebackRange(mapping.host, start, end, true);
  return todo.length;
}

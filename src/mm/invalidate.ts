/**
 * invalidate_inode_pages2_range (mm/truncate.c, 6.1 and 6.18), the page-cache side of a direct
 * write: every folio that overlaps file pages [start, end] leaves the page cache, and every
 * mapping of it is zapped first, so the next access faults again (and, the folio gone, reads it
 * back: a major fault). Private COW copies stay (even_cows 0). A folio still dirty, or one the
 * filesystem cannot release, stays and makes the call fail with -EBUSY; the direct-I/O caller then
 * falls back (iomap: -ENOTBLK before the write) or warns of a stale cache (after it).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { EBUSY } from '../lib/errno.ts';
import { PG_dirty, PG_locked, PG_writeback } from '../hw/frames.ts';
import { xaIsValue } from '../lib/xarray.ts';
import { removeFolio, waitFolioUnlocked } from './pagemap.ts';
import { unmapMappingPages } from './rmap.ts';

/** Whether any page of folio `head` is mapped (folio_mapped, include/linux/mm.h v6.1). */
function folioMapped(k: Kernel, head: number): boolean {
  const f = k.frames;
  for (let j = 0; j < 1 << f.order[head]!; j++) if (f.mapcount[head + j]! > 0) return true;
  return false;
}

/**
 * invalidate_inode_pages2_range (mm/truncate.c v6.1, v6.18): the first mapped folio found makes one
 * unmap_mapping_pages over the rest of the range; each folio is then waited on (lock, writeback),
 * unmapped whole if still mapped (unmap_mapping_folio: a large folio's pages outside the range
 * too), and removed unless dirty or unreleasable (invalidate_complete_folio2, no shadow entry).
 * Shadow entries in the range are dropped. Returns 0 or -EBUSY.
 */
export function invalidateInodePages2Range(k: Kernel, mapping: AddressSpace, start: number, end: number): number {
  const f = k.frames;
  const heads: number[] = [];
  const values: number[] = [];
  mapping.pages.forEach(start, end, (i, e) => { if (xaIsValue(e)) values.push(i); else heads.push(e / 2 - 1); });
  for (const i of values) mapping.pages.erase(i);
  let ret = 0;
  let didRangeUnmap = false;
  for (const h of heads) {
    const first = f.index[h]!;
    if (!didRangeUnmap && folioMapped(k, h)) {
      unmapMappingPages(k, mapping, first, end + 1 - first, false);
      didRangeUnmap = true;
    }
    waitFolioUnlocked(k, h);
    if ((f.flags[h]! & PG_writeback) !== 0) k.sleepUntil(() => (f.flags[h]! & PG_writeback) === 0, 'writeback');
    if (folioMapped(k, h)) unmapMappingPages(k, mapping, first, 1 << f.order[h]!, false);
    const release = mapping.host.sb.fs.releaseFolio?.(mapping.host, h) ?? true;
    if ((f.flags[h]! & PG_dirty) !== 0 || !release) { ret = -EBUSY; continue; }
    removeFolio(k, mapping, h, 0);
  }
  return ret;
}

/**
 * invalidate_mapping_pages (mm/truncate.c, mapping_try_invalidate, v6.1 and v6.18) over file pages
 * [start, end]: folios that are clean, unlocked, not under writeback and not mapped leave the page
 * cache; the others stay. Returns pages removed.
 */
export function invalidateMappingPages(k: Kernel, mapping: AddressSpace, start: number, end: number): number {
  const f = k.frames;
  const heads: number[] = [];
  mapping.pages.forEach(start, end, (_i, e) => { if (!xaIsValue(e)) heads.push(e / 2 - 1); });
  let n = 0;
  for (const h of heads) {
    if ((f.flags[h]! & (PG_locked | PG_dirty | PG_writeback)) !== 0 || folioMapped(k, h)) continue;
    if (!(mapping.host.sb.fs.releaseFolio?.(mapping.host, h) ?? true)) continue;
    n += 1 << f.order[h]!;
    removeFolio(k, mapping, h, 0);
  }
  return n;
}

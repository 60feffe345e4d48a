/**
 * DAX entries in the mapping's tree (fs/dax.c, v6.1 layout; reference §4.3): a value entry whose
 * payload carries LOCKED, PMD, ZERO_PAGE and EMPTY bits and, above them, the PFN. 4.5-4.16
 * stored the sector instead of the PFN; the model stores the PFN in every era (the sector is the
 * PFN's offset in the device, so nothing observable changes). Dirtiness is the tree's DIRTY mark,
 * TOWRITE the fsync tag, as in Linux.
 */
import { assert } from '../lib/assert.ts';
import { xaIsValue, xaMkValue, xaToValue, XA_MARK_0 } from '../lib/xarray.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { unmapMappingPages } from '../mm/rmap.ts';
import { COST } from '../lib/cost-category.ts';

export const DAX_LOCKED = 1, DAX_PMD = 2, DAX_ZERO_PAGE = 4, DAX_EMPTY = 8;
/** Payload bits below the PFN (DAX_SHIFT in fs/dax.c v6.1). */
const DAX_SHIFT = 4;
const PFN_MUL = 2 ** DAX_SHIFT;
export const PAGECACHE_TAG_DIRTY = XA_MARK_0;
export const PAGECACHE_TAG_TOWRITE = 2;
export const PMD_ORDER = 9;

export function mkDaxEntry(pfn: number, flags: number): number {
  return xaMkValue(pfn * PFN_MUL + flags);
}
export function daxFlags(e: number): number {
  return xaToValue(e) % PFN_MUL;
}
export function daxPfn(e: number): number {
  return Math.floor(xaToValue(e) / PFN_MUL);
}
export function isDaxEntry(e: number): boolean {
  return e !== 0 && xaIsValue(e);
}

/** Result of grabMappingEntry: the locked entry, or a page-cache hole page, or a failure. */
export const GRAB_FALLBACK = -1;

/**
 * When each DAX entry lock of one mapping was held, in simulated time: the interval
 * [lockedAtNs, releasedAtNs) of its last holder, merged with the holds before it that touch it (a
 * waiter woken by the unlock takes the lock at that instant, so the lock stays busy throughout and
 * a later task whose clock falls anywhere in it queues behind all of them). Kept only while
 * several tasks run at once (Kernel.concurrent), created on the first lock then. Keys: 2*index
 * for a 4 KiB entry, 2*base+1 for a PMD entry covering indexes base..base+511.
 */
export class DaxLockHolds {
  readonly holds = new Map<number, DaxHold>();
}

class DaxHold {
  /** The recorded interval; empty (Infinity, -Infinity) until a first hold ends. */
  lockedAtNs = Infinity;
  releasedAtNs = -Infinity;
  /** When the current holder took the lock; NaN while it is free. */
  heldSinceNs = NaN;
}

function holdKey(index: number, pmd: boolean): number {
  return pmd ? (index - (index % 512)) * 2 + 1 : index * 2;
}

/**
 * get_unlocked_entry / wait_entry_unlocked (fs/dax.c v6.1, the hashed entry wait queues since
 * 4.14; 4.15 has the same wait in its get_unlocked_mapping_entry): a fault that finds the entry it
 * wants locked sleeps until the holder unlocks it. The model runs each fault to completion in one
 * step, so the holder has always unlocked by the time another task gets here; what remains is
 * its hold interval. A task whose clock falls inside [lockedAtNs, releasedAtNs) of the entry at
 * `index` (a 4 KiB request also meets a PMD entry covering it) sleeps until releasedAtNs. A task
 * whose clock is before lockedAtNs does not wait: in Linux it would have reached the lock first
 * and won it, but the model's granularity is one step, and the other task's step has already run
 * (its fault went first; this one sees the result). A PMD request meeting 4 KiB entries in its
 * range does not wait in Linux (the conflict makes it fall back), so it only checks the PMD key.
 */
function waitEntryUnlocked(k: Kernel, holds: DaxLockHolds, index: number, order: number): void {
  const task = k.current;
  const keys = order === PMD_ORDER ? 1 : 2;
  for (let waited = true; waited;) {
    waited = false;
    for (let j = 0; j < keys; j++) {
      const h = holds.holds.get(holdKey(index, order === PMD_ORDER || j === 1));
      if (h === undefined || !(h.lockedAtNs <= task.clockNs && task.clockNs < h.releasedAtNs)) continue;
      assert(Number.isNaN(h.heldSinceNs), `DAX entry at ${index} still locked when another task wants it`);
      k.mightSleep('DAX entry lock');
      k.events.daxEntryWaits++;
      k.events.daxEntryWaitNs += h.releasedAtNs - task.clockNs;
      k.waitUntil(task, h.releasedAtNs, COST.lockWait);
      k.runDue();
      waited = true;
    }
  }
}

/** Record that the current task took the entry lock at `index` now (concurrent runs only). */
function noteEntryLocked(k: Kernel, mapping: AddressSpace, index: number): void {
  const holds = mapping.daxLockHolds ?? (mapping.daxLockHolds = new DaxLockHolds());
  const key = holdKey(index, mapping.pages.entryOrder(index) === PMD_ORDER);
  let h = holds.holds.get(key);
  if (h === undefined) holds.holds.set(key, (h = new DaxHold()));
  h.heldSinceNs = k.now();
}

/** Record that the lock at `index` was released now and fold the hold into the interval (concurrent runs only). */
function noteEntryUnlocked(k: Kernel, mapping: AddressSpace, index: number, order: number): void {
  const holds = mapping.daxLockHolds;
  if (holds === null) return;
  let h = holds.holds.get(holdKey(index, order === PMD_ORDER));
  if (h === undefined || Number.isNaN(h.heldSinceNs)) h = holds.holds.get(holdKey(index, order !== PMD_ORDER));
  if (h === undefined || Number.isNaN(h.heldSinceNs)) return;
  const from = h.heldSinceNs, to = k.now();
  h.heldSinceNs = NaN;
  if (from > h.releasedAtNs || to < h.lockedAtNs) {
    // Does not touch the recorded interval: a later hold replaces it; an earlier one (a task whose
    // clock was behind the last holder's) is dropped, the recorded one being the last in time.
    if (from > h.releasedAtNs) { h.lockedAtNs = from; h.releasedAtNs = to; }
    return;
  }
  h.lockedAtNs = Math.min(h.lockedAtNs, from);
  h.releasedAtNs = Math.max(h.releasedAtNs, to);
}

/**
 * grab_mapping_entry (fs/dax.c v6.1): return a locked entry covering `index` of the requested
 * order, creating a locked EMPTY one if there is none. A PMD request that finds any 4 KiB entry in
 * its 2 MiB range gives GRAB_FALLBACK (4 KiB entries win). A 4 KiB request inside a PMD-size ZERO
 * or EMPTY entry downgrades it (the huge zero page is unmapped everywhere first). A PMD-size
 * normal entry is kept for a 4 KiB request. A page-cache page (pre-4.14 hole page) is returned as
 * is (its even tree entry), locked by the caller's rules. While tasks run concurrently, first
 * waits for a lock another task's fault held at this task's time (`waitEntryUnlocked`).
 */
export function grabMappingEntry(k: Kernel, mapping: AddressSpace, index: number, order: number): number {
  const xa = mapping.pages;
  k.charge(k.costs.daxEntryNs, COST.daxEntry);
  const concurrent = k.concurrent;
  if (concurrent && mapping.daxLockHolds !== null) waitEntryUnlocked(k, mapping.daxLockHolds, index, order);
  let e = xa.load(index);
  if (e !== 0 && xaIsValue(e)) {
    assert((daxFlags(e) & DAX_LOCKED) === 0, `DAX entry at ${index} found locked with no other task running`);
  }
  if (order === PMD_ORDER) {
    const base = index - (index % 512);
    let small = false;
    xa.forEach(base, base + 511, (_i, _ent, o) => { if (o < PMD_ORDER) { small = true; return false; } return true; });
    if (small) return GRAB_FALLBACK;
  } else if (e !== 0 && xa.entryOrder(index) === PMD_ORDER && xaIsValue(e) &&
    (daxFlags(e) & (DAX_ZERO_PAGE | DAX_EMPTY)) !== 0) {
    const base = index - (index % 512);
    if (daxFlags(e) & DAX_ZERO_PAGE) unmapMappingPages(k, mapping, base, 512, false);
    xa.erase(base);
    e = 0;
  }
  if (e !== 0 && !xaIsValue(e)) return e; // a hole page in the page cache (pre-4.14)
  if (e === 0) {
    const ne = mkDaxEntry(0, DAX_EMPTY | DAX_LOCKED | (order === PMD_ORDER ? DAX_PMD : 0));
    xa.store(index, ne, order);
    if (concurrent) noteEntryLocked(k, mapping, index);
    return ne;
  }
  const locked = xaMkValue(xaToValue(e) | DAX_LOCKED);
  xa.store(index, locked, xa.entryOrder(index));
  if (concurrent) noteEntryLocked(k, mapping, index);
  return locked;
}

/** dax_unlock_entry: store the entry back without LOCKED (waking one waiter in Linux). */
export function daxUnlockEntry(k: Kernel, mapping: AddressSpace, index: number): void {
  const xa = mapping.pages;
  const e = xa.load(index);
  if (e === 0 || !xaIsValue(e)) return;
  if ((daxFlags(e) & DAX_LOCKED) === 0) return;
  const order = xa.entryOrder(index);
  xa.store(index, xaMkValue(xaToValue(e) & ~DAX_LOCKED), order);
  if (k.concurrent) noteEntryUnlocked(k, mapping, index, order);
}

/**
 * dax_insert_entry (fs/dax.c v6.1): record that `index` now maps `pfn`. An old ZERO entry is
 * first unmapped from every mapping of the file (the whole 2 MiB for a PMD-size one); ZERO and
 * EMPTY entries are replaced (still locked), a normal entry is kept (a PMD entry covering this
 * page included). `dirty` sets the DIRTY mark. Returns the entry now in the tree.
 */
export function daxInsertEntry(k: Kernel, mapping: AddressSpace, index: number, old: number, pfn: number, flags: number,
  dirty: boolean): number {
  const xa = mapping.pages;
  const oldFlags = daxFlags(old);
  const oldOrder = xa.entryOrder(index);
  let e = old;
  if ((oldFlags & DAX_ZERO_PAGE) !== 0 && (flags & DAX_ZERO_PAGE) === 0) {
    if (oldOrder === PMD_ORDER) unmapMappingPages(k, mapping, index - (index % 512), 512, false);
    else unmapMappingPages(k, mapping, index, 1, false);
  }
  if ((oldFlags & (DAX_ZERO_PAGE | DAX_EMPTY)) !== 0) {
    const order = (flags & DAX_PMD) ? PMD_ORDER : 0;
    e = mkDaxEntry(pfn, flags | DAX_LOCKED);
    if (order !== oldOrder) xa.erase(index);
    xa.store(index, e, order);
  }
  if (dirty) xa.setMark(index, PAGECACHE_TAG_DIRTY);
  return e;
}

/** Does the entry's PFN fit the profile's PFN bits (Wilcox's rte_to_pfn "unknown" otherwise)? */
export function pfnFits(pfn: number, bits: number): boolean {
  return pfn < 2 ** bits;
}

/**
 * invalidate_inode_pages2_range on a DAX mapping (mm/truncate.c v6.1), as dax_iomap_iter runs it
 * after write(2) allocated blocks (IOMAP_F_NEW) for pages [first, last]: entries there that are
 * neither DIRTY nor TOWRITE are dropped (dax_invalidate_mapping_entry_sync), then the pages are
 * unmapped from every mapping (a huge zero page or DAX PMD over them goes whole), so a hole a
 * mapping read as the zero page shows the written data at its next fault.
 */
export function daxInvalidateRange(k: Kernel, mapping: AddressSpace, first: number, last: number): void {
  const xa = mapping.pages;
  const drop: number[] = [];
  xa.forEach(first, last, (i, e) => {
    if (xaIsValue(e) && !xa.getMark(i, PAGECACHE_TAG_DIRTY) && !xa.getMark(i, PAGECACHE_TAG_TOWRITE)) drop.push(i);
  });
  for (const i of drop) xa.erase(i);
  unmapMappingPages(k, mapping, first, last - first + 1, false);
}

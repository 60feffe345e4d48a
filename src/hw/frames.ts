/**
 * DRAM page frames and their page descriptors (struct page), in struct-of-arrays form indexed by
 * PFN. Arrays grow with the highest PFN handed out, not with the configured memory size, so a
 * 64 GiB machine that touches 100 pages costs 100 pages of descriptors.
 *
 * Page contents are real bytes but sparse (src/hw/content-store.ts): a frame holds a fill byte
 * meaning "every byte is this value" (0 for a zeroed page) plus the 64-byte lines that differ from
 * it. A `pwrite` of a patterned page and a zero page cost no line; a store keeps one line.
 */
import { assert } from '../lib/assert.ts';
import { PAGE_SIZE } from '../mm/constants.ts';
import { ContentStore } from './content-store.ts';

/** Page flags: Linux's bit numbers (include/linux/page-flags.h, v6.1 enum pageflags). */
export const PG_locked = 1 << 0;
export const PG_referenced = 1 << 1;
export const PG_uptodate = 1 << 2;
export const PG_dirty = 1 << 3;
export const PG_lru = 1 << 4;
export const PG_active = 1 << 5;
export const PG_workingset = 1 << 6;
export const PG_waiters = 1 << 7;
export const PG_error = 1 << 8;
export const PG_reserved = 1 << 12;
export const PG_private = 1 << 13;
export const PG_writeback = 1 << 15;
export const PG_head = 1 << 16;
export const PG_mappedtodisk = 1 << 17;
export const PG_reclaim = 1 << 18;
/** PG_readahead is the same bit as PG_reclaim (page-flags.h PF_ANY alias). */
export const PG_readahead = PG_reclaim;
export const PG_swapbacked = 1 << 19;
export const PG_unevictable = 1 << 20;
export const PG_mlocked = 1 << 21;

export const PAGE_FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [PG_locked, 'locked'], [PG_referenced, 'referenced'], [PG_uptodate, 'uptodate'], [PG_dirty, 'dirty'],
  [PG_lru, 'lru'], [PG_active, 'active'], [PG_workingset, 'workingset'], [PG_waiters, 'waiters'],
  [PG_error, 'error'], [PG_reserved, 'reserved'], [PG_private, 'private'], [PG_writeback, 'writeback'],
  [PG_head, 'head'], [PG_mappedtodisk, 'mappedtodisk'], [PG_reclaim, 'reclaim/readahead'],
  [PG_swapbacked, 'swapbacked'], [PG_unevictable, 'unevictable'], [PG_mlocked, 'mlocked'],
];

/** What owns a frame (the `mapping` pointer of struct page, as a small code). */
export const OWNER_NONE = 0;
export const OWNER_ANON = -1;
export const OWNER_PAGETABLE = -2;
export const OWNER_KERNEL = -3; // zero pages, huge zero page
/** Positive owner = inode number of the page-cache mapping. */

export class Frames {
  /** Total DRAM frames the machine has (memoryBytes / 4096). */
  readonly totalPages: number;
  /** PFN of the shared 4 KiB zero page (ZERO_PAGE(0)); never freed, never written. */
  readonly zeroPfn: number;
  freePages: number;

  flags: Int32Array;
  refcount: Int32Array;
  mapcount: Int32Array;
  owner: Int32Array;
  index: Float64Array; // file page index (page->index)
  order: Int8Array; // folio order, valid on the head page
  head: Int32Array; // head PFN of the folio this frame belongs to
  lruPrev: Int32Array;
  lruNext: Int32Array;
  lruList: Int8Array; // which LRU list (-1 none)
  /** Frame contents by PFN. */
  readonly contents = new ContentStore();

  private capacity = 0;
  private highWater = 0; // next never-used PFN
  private freeLists: number[][] = []; // per order: PFNs of free blocks

  constructor(memoryBytes: number) {
    assert(Number.isInteger(memoryBytes) && memoryBytes >= 16 * PAGE_SIZE,
      `machine.memoryBytes: need at least 64 KiB, got ${memoryBytes}`);
    this.totalPages = Math.floor(memoryBytes / PAGE_SIZE);
    this.freePages = this.totalPages;
    this.flags = new Int32Array(0);
    this.refcount = new Int32Array(0);
    this.mapcount = new Int32Array(0);
    this.owner = new Int32Array(0);
    this.index = new Float64Array(0);
    this.order = new Int8Array(0);
    this.head = new Int32Array(0);
    this.lruPrev = new Int32Array(0);
    this.lruNext = new Int32Array(0);
    this.lruList = new Int8Array(0);
    for (let o = 0; o <= 10; o++) this.freeLists.push([]);
    this.grow(1024);
    const z = this.alloc(0);
    assert(z >= 0, 'no frame for the zero page');
    this.zeroPfn = z;
    this.owner[z] = OWNER_KERNEL;
    this.flags[z] = PG_reserved | PG_uptodate;
  }

  /** Frames in use by anyone (total minus free). */
  get usedPages(): number {
    return this.totalPages - this.freePages;
  }

  private grow(minCapacity: number): void {
    let cap = Math.max(this.capacity * 2, 1024);
    while (cap < minCapacity) cap *= 2;
    const g32 = (a: Int32Array, v = 0) => {
      const n = new Int32Array(cap);
      n.set(a);
      if (v) n.fill(v, a.length);
      return n;
    };
    this.flags = g32(this.flags);
    this.refcount = g32(this.refcount);
    this.mapcount = g32(this.mapcount);
    this.owner = g32(this.owner);
    this.head = g32(this.head);
    this.lruPrev = g32(this.lruPrev, -1);
    this.lruNext = g32(this.lruNext, -1);
    const idx = new Float64Array(cap); idx.set(this.index); this.index = idx;
    const ord = new Int8Array(cap); ord.set(this.order); this.order = ord;
    const ll = new Int8Array(cap); ll.set(this.lruList); ll.fill(-1, this.lruList.length); this.lruList = ll;
    this.capacity = cap;
  }

  /**
   * Allocate a naturally aligned block of 2^order frames (models the buddy allocator's result,
   * not its algorithm: free blocks are reused per order, then split from larger ones, then taken
   * fresh). Returns the first PFN, or -1 when fewer than 2^order frames are free.
   * The block comes back with refcount 1 on the head, zero-filled content, no flags.
   */
  alloc(order: number): number {
    const n = 1 << order;
    if (this.freePages < n) return -1;
    let pfn = -1;
    const list = this.freeLists[order];
    if (list && list.length > 0) pfn = list.pop()!;
    else {
      for (let o = order + 1; o < this.freeLists.length && pfn < 0; o++) {
        const l = this.freeLists[o]!;
        if (l.length > 0) {
          const big = l.pop()!;
          // Split: keep the first 2^order, return the rest as smaller free blocks.
          for (let s = o - 1; s >= order; s--) this.freeLists[s]!.push(big + (1 << s));
          pfn = big;
        }
      }
      if (pfn < 0) {
        const aligned = Math.ceil(this.highWater / n) * n;
        // No fresh aligned space left; gathering scattered frames would need compaction (not modelled).
        if (aligned + n > this.totalPages) return -1;
        // Frames skipped for alignment become free order-0 blocks.
        for (let p = this.highWater; p < aligned; p++) this.freeLists[0]!.push(p);
        pfn = aligned;
        this.highWater = aligned + n;
        if (this.highWater > this.capacity) this.grow(this.highWater);
      }
    }
    this.freePages -= n;
    for (let i = 0; i < n; i++) {
      const p = pfn + i;
      this.flags[p] = 0;
      this.refcount[p] = 0;
      this.mapcount[p] = 0;
      this.owner[p] = OWNER_NONE;
      this.index[p] = 0;
      this.order[p] = 0;
      this.head[p] = pfn;
      this.contents.fillPage(p, 0);
      this.lruList[p] = -1;
    }
    this.refcount[pfn] = 1;
    this.order[pfn] = order;
    if (order > 0) this.flags[pfn] = PG_head;
    return pfn;
  }

  /** Return a block to the free lists. Asserts the frames are unused (no refs, no maps, off LRU). */
  free(pfn: number, order: number): void {
    const n = 1 << order;
    for (let i = 0; i < n; i++) {
      const p = pfn + i;
      assert(this.mapcount[p] === 0, `free of PFN ${p} that is still mapped ${this.mapcount[p]} times`);
      assert(this.lruList[p] === -1, `free of PFN ${p} still on an LRU list`);
      assert(p !== this.zeroPfn, 'free of the zero page');
      this.flags[p] = 0;
      this.refcount[p] = 0;
      this.owner[p] = OWNER_NONE;
      this.contents.fillPage(p, 0);
    }
    this.freeLists[order]!.push(pfn);
    this.freePages += n;
  }

  /**
   * Split a folio of 2^order frames into order-0 pages (models split_folio's effect on the
   * descriptors): each subpage becomes its own head with one reference per mapping of it.
   */
  splitFolio(headPfn: number): void {
    const order = this.order[headPfn]!;
    for (let i = 0; i < (1 << order); i++) {
      const p = headPfn + i;
      this.head[p] = p;
      this.order[p] = 0;
      if (i > 0) {
        this.flags[p] = this.flags[headPfn]! & ~(PG_head | PG_lru | PG_active | PG_locked);
        this.owner[p] = this.owner[headPfn]!;
        this.index[p] = this.index[headPfn]! + i;
        this.refcount[p] = 1 + this.mapcount[p]!;
      }
    }
    // The head keeps the cache's reference and its own mappings, like every other subpage.
    this.refcount[headPfn] = 1 + this.mapcount[headPfn]!;
    this.flags[headPfn] = this.flags[headPfn]! & ~PG_head;
  }

  /**
   * Split a page-cache folio into the given pieces, each [offset in pages, order], covering it in
   * order (models __split_unmapped_folio's effect on the descriptors): each piece becomes a folio
   * with one cache reference per page plus one per mapping of its pages.
   */
  splitFolioInto(headPfn: number, pieces: ReadonlyArray<readonly [number, number]>): void {
    const flags = this.flags[headPfn]!, owner = this.owner[headPfn]!, index = this.index[headPfn]!;
    for (const [off, order] of pieces) {
      const h = headPfn + off;
      const n = 1 << order;
      let maps = 0;
      for (let i = 0; i < n; i++) { this.head[h + i] = h; this.order[h + i] = 0; maps += this.mapcount[h + i]!; }
      this.order[h] = order;
      this.flags[h] = (off === 0 ? flags : flags & ~(PG_lru | PG_active | PG_locked)) & ~PG_head
        | (order > 0 ? PG_head : 0);
      this.owner[h] = owner;
      this.index[h] = index + off;
      this.refcount[h] = n + maps;
    }
  }

  /** Read byte `off` (0..4095) of frame `pfn`. */
  readByte(pfn: number, off: number): number {
    return this.contents.readByte(pfn, off);
  }

  /** Write byte `off` of frame `pfn`; a 64-byte line is kept only when the byte differs from the fill. */
  writeByte(pfn: number, off: number, value: number): void {
    this.contents.writeByte(pfn, off, value);
  }

  /** Set the whole frame to one byte value (zeroing is fill 0). */
  fillFrame(pfn: number, value: number): void {
    this.contents.fillPage(pfn, value);
  }

  /** Copy the contents of frame `src` into frame `dst` (copy_user_highpage). */
  copyFrame(dst: number, src: number): void {
    this.contents.copyPage(dst, this.contents, src);
  }

  /** Contents of a frame as a snapshot value: a fresh buffer or a fill byte (for storage layers). */
  snapshot(pfn: number): Uint8Array | number {
    return this.contents.snapshot(pfn);
  }

  /** Load a snapshot value into a frame. */
  restore(pfn: number, v: Uint8Array | number): void {
    this.contents.restore(pfn, v);
  }

  /** Host bytes used by page descriptors (for the benchmark's memory accounting). */
  descriptorBytes(): number {
    return this.capacity * (4 * 7 + 8 + 2);
  }

  /** Host bytes used by page contents (fill bytes, stored lines and their index). */
  contentBytes(): number {
    return this.contents.bytesHeld();
  }
}

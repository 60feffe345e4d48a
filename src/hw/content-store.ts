/**
 * Byte contents of 4 KiB pages (DRAM frames, pmem media blocks, a CPU cache's dirty lines), kept at
 * cache-line granularity. A page is a fill byte ("every byte is this value": 0 for a zeroed page,
 * the pattern byte of a page written with one value) plus the 64-byte lines that differ from it.
 * Storing one byte keeps one 64-byte line, not a 4 KiB block, so host memory grows with the lines a
 * program writes, not with the pages it touches. This is storage, not kernel behaviour: what a load
 * sees is exactly what a 4 KiB buffer would hold.
 *
 * Layout (no per-page or per-line objects; hot paths allocate nothing):
 * - per page, in chunks of 4096 pages created on first use: the fill byte and a 64-bit map of
 *   which lines are stored (9 bytes per page; the count is the map's popcount), so a load of a line
 *   that holds the fill byte never reaches the hash table;
 * - the lines' bytes in 1 MiB slabs of 16384 lines, slots recycled through a free stack;
 * - an open-addressing hash table (linear probing, backward-shift deletion) from (page, line) to
 *   the line's slot: 9 bytes per entry, at most half full, with a one-entry cache of the last line
 *   found (byte-by-byte loops over one line probe once).
 */
import { assert } from '../lib/assert.ts';

export const LINE_BYTES = 64;
export const PAGE_BYTES = 4096;
export const LINES_PER_PAGE = PAGE_BYTES / LINE_BYTES;
const CHUNK_SHIFT = 12;
const CHUNK_PAGES = 1 << CHUNK_SHIFT;
const SLAB_SHIFT = 14;
const SLAB_LINES = 1 << SLAB_SHIFT;
const EMPTY = -1;

interface PageChunk {
  readonly fill: Uint8Array;
  /** Two 32-bit words per page: bit l of word (2i + (l >>> 5)) is set when line l is stored. */
  readonly bits: Int32Array;
}

/** Set bits of a 32-bit word. */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Lines stored for chunk page `i` (popcount of its line map). */
function lineCountOf(c: PageChunk, i: number): number {
  return popcount32(c.bits[i << 1]!) + popcount32(c.bits[(i << 1) | 1]!);
}

/** Whether chunk page `i` has any line stored. */
function anyLine(c: PageChunk, i: number): boolean {
  return (c.bits[i << 1]! | c.bits[(i << 1) | 1]!) !== 0;
}

/** Whether line `line` of chunk page `i` is stored. */
function hasLine(c: PageChunk, i: number, line: number): boolean {
  return (c.bits[(i << 1) | (line >>> 5)]! & (1 << (line & 31))) !== 0;
}

export class ContentStore {
  private chunks: Array<PageChunk | undefined> = [];
  private readonly slabs: Uint8Array[] = [];
  // Allocated at the first line, so a store that holds only fill bytes costs its chunks alone.
  private freeSlots = new Int32Array(0);
  private freeTop = 0;
  private slotsMade = 0;
  private keyPage = new Int32Array(0);
  private keyLine = new Uint8Array(0);
  private slotOf = new Int32Array(0);
  private mask = 0;
  // The last (page, line) find() resolved, and its slot; cleared when that line is dropped.
  private lastPage = EMPTY;
  private lastLine = 0;
  private lastSlot = EMPTY;
  /** Lines stored (entries in the hash table). */
  lineCount = 0;

  /** Fill byte of `page` (0 for a page never written). */
  fillOf(page: number): number {
    const c = this.chunks[page >>> CHUNK_SHIFT];
    return c === undefined ? 0 : c.fill[page & (CHUNK_PAGES - 1)]!;
  }

  /** Lines of `page` stored beside its fill byte (0..64). */
  linesOf(page: number): number {
    const c = this.chunks[page >>> CHUNK_SHIFT];
    return c === undefined ? 0 : lineCountOf(c, page & (CHUNK_PAGES - 1));
  }

  readByte(page: number, off: number): number {
    const c = this.chunks[page >>> CHUNK_SHIFT];
    if (c === undefined) return 0;
    const i = page & (CHUNK_PAGES - 1);
    const line = off >>> 6;
    if (!hasLine(c, i, line)) return c.fill[i]!;
    const slot = this.find(page, line);
    return this.slabs[slot >>> SLAB_SHIFT]![((slot & (SLAB_LINES - 1)) << 6) | (off & 63)]!;
  }

  /** Store one byte; a line is kept only once a byte differs from the page's fill. */
  writeByte(page: number, off: number, value: number): void {
    const c = this.chunk(page);
    const i = page & (CHUNK_PAGES - 1);
    let slot = hasLine(c, i, off >>> 6) ? this.find(page, off >>> 6) : EMPTY;
    if (slot === EMPTY) {
      if (c.fill[i] === value) return;
      slot = this.addLine(c, i, page, off >>> 6);
    }
    this.slabs[slot >>> SLAB_SHIFT]![((slot & (SLAB_LINES - 1)) << 6) | (off & 63)] = value;
  }

  /** The whole page becomes `value` (zeroing is 0); its lines are dropped. */
  fillPage(page: number, value: number): void {
    const ci = page >>> CHUNK_SHIFT;
    let c = this.chunks[ci];
    if (c === undefined) {
      if (value === 0) return;
      c = this.chunk(page);
    }
    const i = page & (CHUNK_PAGES - 1);
    for (let l = 0; l < LINES_PER_PAGE && anyLine(c, i); l++) if (hasLine(c, i, l)) this.dropLine(page, l);
    c.fill[i] = value;
  }

  /** Copy page `src` of `from` into page `dst` of this store (copy_user_highpage's effect). */
  copyPage(dst: number, from: ContentStore, src: number): void {
    if (from === this && dst === src) return;
    this.fillPage(dst, from.fillOf(src));
    if (from.linesOf(src) === 0) return;
    for (let l = 0; l < LINES_PER_PAGE; l++) this.copyLine(dst, l, from, src);
  }

  /**
   * Line `line` of page `dst` takes the content of the same line of page `src` in `from`, as a
   * write-back of one cache line does; a line equal to this page's fill is not kept.
   */
  copyLine(dst: number, line: number, from: ContentStore, src: number): void {
    const s = from.hasLineAt(src, line) ? from.find(src, line) : EMPTY;
    const sFill = from.fillOf(src);
    const c = this.chunk(dst);
    const i = dst & (CHUNK_PAGES - 1);
    let d = hasLine(c, i, line) ? this.find(dst, line) : EMPTY;
    const dFill = c.fill[i]!;
    if (s === EMPTY && sFill === dFill) {
      if (d !== EMPTY) this.dropLine(dst, line);
      return;
    }
    if (d === EMPTY) d = this.addLine(c, i, dst, line);
    const dBuf = this.slabs[d >>> SLAB_SHIFT]!, dOff = (d & (SLAB_LINES - 1)) << 6;
    if (s === EMPTY) dBuf.fill(sFill, dOff, dOff + LINE_BYTES);
    else {
      const sOff = (s & (SLAB_LINES - 1)) << 6;
      const sBuf = from.slabs[s >>> SLAB_SHIFT]!;
      // A byte loop, not set(subarray(...)): a subarray is an allocation per line written back.
      for (let k = 0; k < LINE_BYTES; k++) dBuf[dOff + k] = sBuf[sOff + k]!;
    }
  }

  /** Every page of [first, first + count) becomes `value`; chunks never written are skipped for 0. */
  fillRange(first: number, count: number, value: number): void {
    let p = first;
    const end = first + count;
    while (p < end) {
      const chunkEnd = Math.min(end, ((p >>> CHUNK_SHIFT) + 1) * CHUNK_PAGES);
      if (value === 0 && this.chunks[p >>> CHUNK_SHIFT] === undefined) { p = chunkEnd; continue; }
      for (; p < chunkEnd; p++) this.fillPage(p, value);
    }
  }

  /** Forget line `line` of `page` (it reads as the fill byte again). */
  dropLine(page: number, line: number): void {
    if (!this.hasLineAt(page, line)) return;
    if (page === this.lastPage && line === this.lastLine) this.lastPage = EMPTY;
    let h = this.hash(page, line);
    for (;;) {
      const p = this.keyPage[h]!;
      if (p === EMPTY) return;
      if (p === page && this.keyLine[h] === line) break;
      h = (h + 1) & this.mask;
    }
    this.freeSlot(this.slotOf[h]!);
    const c = this.chunks[page >>> CHUNK_SHIFT]!;
    const i = page & (CHUNK_PAGES - 1);
    c.bits[(i << 1) | (line >>> 5)]! &= ~(1 << (line & 31));
    this.lineCount--;
    this.removeAt(h);
  }

  /** The page as a fill byte, or a fresh 4 KiB buffer when it has lines of its own. */
  snapshot(page: number): Uint8Array | number {
    const fill = this.fillOf(page);
    if (this.linesOf(page) === 0) return fill;
    const out = new Uint8Array(PAGE_BYTES);
    this.readInto(page, out);
    return out;
  }

  /** Copy the page's bytes into `out` (4096 bytes). */
  readInto(page: number, out: Uint8Array): void {
    out.fill(this.fillOf(page));
    if (this.linesOf(page) === 0) return;
    const c = this.chunks[page >>> CHUNK_SHIFT]!, i = page & (CHUNK_PAGES - 1);
    for (let l = 0; l < LINES_PER_PAGE; l++) {
      if (!hasLine(c, i, l)) continue;
      const s = this.find(page, l);
      const o = (s & (SLAB_LINES - 1)) << 6;
      out.set(this.slabs[s >>> SLAB_SHIFT]!.subarray(o, o + LINE_BYTES), l * LINE_BYTES);
    }
  }

  /** Load a snapshot value: a fill byte, or a buffer kept as its first byte plus the lines that differ. */
  restore(page: number, v: Uint8Array | number): void {
    if (typeof v === 'number') { this.fillPage(page, v); return; }
    assert(v.length === PAGE_BYTES, `content restore of ${v.length} bytes, expected ${PAGE_BYTES}`);
    const fill = v[0]!;
    this.fillPage(page, fill);
    const c = this.chunk(page);
    const i = page & (CHUNK_PAGES - 1);
    for (let l = 0; l < LINES_PER_PAGE; l++) {
      const lo = l * LINE_BYTES;
      let same = true;
      for (let b = lo; b < lo + LINE_BYTES; b++) if (v[b] !== fill) { same = false; break; }
      if (same) continue;
      const s = this.addLine(c, i, page, l);
      this.slabs[s >>> SLAB_SHIFT]!.set(v.subarray(lo, lo + LINE_BYTES), (s & (SLAB_LINES - 1)) << 6);
    }
  }

  /** Host bytes held: per-page chunks, line slabs, the hash table and the free stack. */
  bytesHeld(): number {
    let n = 0;
    for (const c of this.chunks) if (c !== undefined) n += 9 * CHUNK_PAGES;
    n += this.slabs.length * SLAB_LINES * LINE_BYTES;
    n += this.keyPage.length * 9 + this.freeSlots.length * 4;
    return n;
  }

  // ---------------------------------------------------------------- helpers

  private chunk(page: number): PageChunk {
    const ci = page >>> CHUNK_SHIFT;
    let c = this.chunks[ci];
    if (c === undefined) {
      assert(page >= 0 && page < 2 ** 31, `content store: page ${page} out of range`);
      c = { fill: new Uint8Array(CHUNK_PAGES), bits: new Int32Array(CHUNK_PAGES * 2) };
      while (this.chunks.length < ci) this.chunks.push(undefined);
      this.chunks[ci] = c;
    }
    return c;
  }

  private hash(page: number, line: number): number {
    return (Math.imul(page, 0x9e3779b1) ^ Math.imul(line + 1, 0x85ebca77)) >>> 0 & this.mask;
  }

  /** Whether line `line` of `page` is stored (the line map; no hash probe). */
  hasLineAt(page: number, line: number): boolean {
    const c = this.chunks[page >>> CHUNK_SHIFT];
    return c !== undefined && hasLine(c, page & (CHUNK_PAGES - 1), line);
  }

  /** Slot of a stored line (the caller checked the line map). */
  private find(page: number, line: number): number {
    if (page === this.lastPage && line === this.lastLine) return this.lastSlot;
    let h = this.hash(page, line);
    for (;;) {
      const p = this.keyPage[h]!;
      assert(p !== EMPTY, 'content store: a line in the line map is missing from the hash table');
      if (p === page && this.keyLine[h] === line) break;
      h = (h + 1) & this.mask;
    }
    this.lastPage = page; this.lastLine = line; this.lastSlot = this.slotOf[h]!;
    return this.lastSlot;
  }

  /** A new line for (page, line) filled with the page's fill byte; returns its slot. */
  private addLine(c: PageChunk, i: number, page: number, line: number): number {
    if ((this.lineCount + 1) * 2 > this.keyPage.length) this.rehash(Math.max(1024, this.keyPage.length * 2));
    const slot = this.takeSlot();
    this.slabs[slot >>> SLAB_SHIFT]!.fill(c.fill[i]!, (slot & (SLAB_LINES - 1)) << 6,
      ((slot & (SLAB_LINES - 1)) << 6) + LINE_BYTES);
    this.insertKey(page, line, slot);
    c.bits[(i << 1) | (line >>> 5)]! |= 1 << (line & 31);
    this.lastPage = page; this.lastLine = line; this.lastSlot = slot;
    this.lineCount++;
    return slot;
  }

  private insertKey(page: number, line: number, slot: number): void {
    let h = this.hash(page, line);
    while (this.keyPage[h] !== EMPTY) h = (h + 1) & this.mask;
    this.keyPage[h] = page;
    this.keyLine[h] = line;
    this.slotOf[h] = slot;
  }

  /** Backward-shift deletion: later entries of the probe run move up so no tombstone is needed. */
  private removeAt(h0: number): void {
    let hole = h0;
    let h = (h0 + 1) & this.mask;
    for (;;) {
      const p = this.keyPage[h]!;
      if (p === EMPTY) break;
      const home = this.hash(p, this.keyLine[h]!);
      // Move the entry into the hole when its home is not within (hole, h] cyclically.
      if (((h - home) & this.mask) >= ((h - hole) & this.mask)) {
        this.keyPage[hole] = p;
        this.keyLine[hole] = this.keyLine[h]!;
        this.slotOf[hole] = this.slotOf[h]!;
        hole = h;
      }
      h = (h + 1) & this.mask;
    }
    this.keyPage[hole] = EMPTY;
  }

  private rehash(size: number): void {
    const op = this.keyPage, ol = this.keyLine, os = this.slotOf;
    this.keyPage = new Int32Array(size).fill(EMPTY);
    this.keyLine = new Uint8Array(size);
    this.slotOf = new Int32Array(size);
    this.mask = size - 1;
    for (let h = 0; h < op.length; h++) if (op[h] !== EMPTY) this.insertKey(op[h]!, ol[h]!, os[h]!);
  }

  private takeSlot(): number {
    if (this.freeTop > 0) return this.freeSlots[--this.freeTop]!;
    if (this.slotsMade === this.slabs.length * SLAB_LINES) this.slabs.push(new Uint8Array(SLAB_LINES * LINE_BYTES));
    return this.slotsMade++;
  }

  private freeSlot(slot: number): void {
    if (this.freeTop === this.freeSlots.length) {
      const n = new Int32Array(Math.max(1024, this.freeSlots.length * 2));
      n.set(this.freeSlots);
      this.freeSlots = n;
    }
    this.freeSlots[this.freeTop++] = slot;
  }
}

/**
 * A persistent-memory device (/dev/pmem0, an NVDIMM namespace in fsdax mode) seen through the
 * CPU cache. Models the persistence rules that x86 gives software, as used by Linux's pmem
 * driver and fs/dax.c (v6.1):
 *
 * - A CPU store lands in the cache: its 64-byte line is dirty and NOT durable.
 * - CLWB / CLFLUSHOPT start a write-back of the line (it becomes "flush pending"); only a later
 *   SFENCE guarantees it reached the persistence domain. CLFLUSH is ordered by itself, so in
 *   this model it is durable at once.
 * - arch_wb_cache_pmem (arch/x86/lib/usercopy_64.c, v6.1) = CLWB on every line, then SFENCE;
 *   dax_writeback_mapping_range/dax_flush (fs/dax.c, drivers/dax/super.c, v6.1) call it per
 *   DAX entry and skip it when the device's write cache is off (reference §4.10).
 * - Data the kernel writes through the pmem driver (memcpy_flushcache in pmem_do_write, and the
 *   filesystem's zeroing of newly allocated blocks) bypasses the cache: durable at once.
 * - A power failure keeps only durable data.
 *
 * - A non-temporal store (MOVNTI/MOVNTDQ, Intel SDM vol. 1 §10.4.6.2 and vol. 3A §11.3.1) goes to a
 *   write-combining buffer, not the cache: it is durable after the next SFENCE/MFENCE (SDM vol. 3A
 *   §8.2.2: fences order WC stores), and before that it may or may not have reached the media. If
 *   the line was cached it is written back first, so the line's earlier stores land with it or
 *   before. Modelled as the store plus the line becoming flush-pending (`nonTemporal` mode).
 * - Failure atomicity: an aligned store of up to 8 bytes reaches the media whole or not at all
 *   (SDM vol. 3A §8.1.1 guarantees such accesses are atomic; PMDK's pmem_memcpy and the PMDK
 *   transaction code rely on 8-byte failure atomicity). The crash explorer records each such store
 *   as one unit (`beginAtomic`/`endAtomic` around its bytes); wider or unaligned stores are split
 *   by the caller at 8-byte boundaries, each piece a unit.
 *
 * Simplification: a line that is stored to again after its CLWB/CLFLUSHOPT but before the SFENCE
 * stays flush-pending, and the SFENCE makes its CURRENT content durable (real hardware only
 * guarantees the content as of the CLWB; the newer bytes may or may not persist).
 *
 * With `writeCache: false` (eADR-like platforms whose persistence domain includes the CPU
 * caches, where dax_write_cache_enabled() is false) every store is durable at once and the flush
 * instructions do nothing; they are then NOT counted in `linesFlushed`, matching the kernel,
 * which skips dax_flush entirely in that case.
 *
 * Storage is sparse and grows with the 64-byte lines written, never with the device size
 * (src/hw/content-store.ts): the media (what survives) is one content store, the CPU cache's
 * dirty lines another holding only lines not yet durable; a load sees the cached line when it is
 * dirty, else the media. Line states exist only for blocks with a dirty line. Buffers returned
 * by readBlock are fresh copies.
 */
import { assert, panic } from '../lib/assert.ts';
import { PAGE_SIZE } from '../mm/constants.ts';
import { ContentStore } from './content-store.ts';

export const CACHE_LINE_BYTES = 64;
/** Cache lines per 4 KiB block. */
export const LINES_PER_BLOCK = PAGE_SIZE / CACHE_LINE_BYTES;
/** Largest device accepted (64 TiB): keeps every physical byte address an exact integer. */
export const PMEM_SIZE_BYTES_MAX = 2 ** 46;

/** Clean line-state objects kept for reuse (bounded: about 1 MiB of host memory). */
const STATE_POOL_MAX = 4096;

/** Line states (kept as two 64-bit masks per block, see BlockState): durable, nothing cached. */
const LINE_CLEAN = 0;
/** Written by a store, not durable, no write-back issued. */
const LINE_DIRTY = 1;
/** Dirty, CLWB/CLFLUSHOPT issued, durable at the next SFENCE. */
const LINE_PENDING = 2;

/**
 * A line not yet durable, for the crash explorer: its stores (packed offset * 256 + value, with
 * STORE_CONT on the bytes that continue a failure-atomic unit) and how many units they form.
 */
export interface PendingLine { block: number; line: number; stores: readonly number[]; units: number }

export interface PmemConfig {
  name: string;
  sizeBytes: number;
  /** First PFN of the device; the device spans [pfnBase, pfnBase + sizeBytes/4096). */
  pfnBase: number;
  /** Default true; false = eADR-like: stores durable at once, flushes are no-ops. */
  writeCache?: boolean;
  /** Driver transfer cost per byte; default 0.1 ns/B (about 10 GB/s). */
  nsPerByte?: number;
  /** Fixed cost of one driver request; default 1000 ns. */
  requestLatencyNs?: number;
}

/** Per-block line states; present only while the block has a dirty or flush-pending line. */
interface BlockState {
  /** Block number on the device. */
  block: number;
  /**
   * Line states as bit masks, lines 0-31 in the ...0 word and 32-63 in the ...1 word: `nc` has a
   * bit per line not clean (DIRTY or PENDING), `pd` per PENDING line (a subset of `nc`). Four
   * numbers instead of a 64-byte array keep a dirty block's state small.
   */
  nc0: number;
  nc1: number;
  pd0: number;
  pd1: number;
  /** Lines in state DIRTY or PENDING. */
  dirtyLines: number;
  /** True while this state sits in the device's pending list (awaiting an SFENCE). */
  inPendingList: boolean;
  /** Index in the block table's list (BlockTable). */
  pos: number;
  /** The crash explorer's record of each non-durable line (recordLineStores), made on first use. */
  recs: Array<LineRecord | undefined> | null;
}

/** LINE_* state of line `l` (0-63) of `s`. */
function lineState(s: BlockState, l: number): number {
  const bit = 1 << (l & 31);
  if (((l < 32 ? s.nc0 : s.nc1) & bit) === 0) return LINE_CLEAN;
  return ((l < 32 ? s.pd0 : s.pd1) & bit) === 0 ? LINE_DIRTY : LINE_PENDING;
}

/** Set line `l` of `s` to LINE_* state `v`. */
function setLineState(s: BlockState, l: number, v: number): void {
  const bit = 1 << (l & 31);
  if (l < 32) {
    s.nc0 = v === LINE_CLEAN ? s.nc0 & ~bit : s.nc0 | bit;
    s.pd0 = v === LINE_PENDING ? s.pd0 | bit : s.pd0 & ~bit;
  } else {
    s.nc1 = v === LINE_CLEAN ? s.nc1 & ~bit : s.nc1 | bit;
    s.pd1 = v === LINE_PENDING ? s.pd1 | bit : s.pd1 & ~bit;
  }
}

/**
 * The stores a not-yet-durable line received since it last was durable (crash explorer). Each
 * entry packs offset * 256 + value; STORE_CONT marks a byte that belongs to the same failure-atomic
 * unit as the entry before it. `units` counts the units; a crash keeps a prefix of units.
 */
interface LineRecord {
  block: number; line: number; stores: number[]; units: number; group: number;
  /** Index in the device's list of live records. */
  pos: number;
}
/** Flag on a packed store: same failure-atomic unit as the previous entry of the line. */
export const STORE_CONT = 1 << 20;

/** Index within its block of the cache line holding physical byte `physAddr`. */
function lineOfAddr(physAddr: number): number {
  return (physAddr % PAGE_SIZE) >>> 6;
}

/** Blocks per lookup chunk of BlockTable (2 MiB of 4 KiB blocks). */
const CHUNK_SHIFT = 9;
const CHUNK_BLOCKS = 1 << CHUNK_SHIFT;

/**
 * The device's per-block states: a dense list (a removal moves the last state into the hole, so
 * states coming and going allocate nothing, where a Map reallocates its table as entries come and
 * go; walks over the blocks see a deterministic order, which nothing depends on: each block's
 * state is independent) with a chunked index beside it for lookups. Loads and stores that move
 * through a mapping stay inside one 2 MiB chunk for 512 pages, so a lookup is usually one
 * comparison and one array read instead of a hash probe in a map of every written block.
 * Memory: one 512-slot array per 2 MiB chunk that holds data, beside the states themselves.
 */
interface BlockChunk { readonly slots: Array<BlockState | undefined>; used: number }

class BlockTable {
  private readonly list: BlockState[] = [];
  private readonly chunks = new Map<number, BlockChunk>();
  private lastChunk = -1;
  private lastSlots: Array<BlockState | undefined> | null = null;
  /** One emptied chunk kept for the next (writes that move on chunk by chunk allocate none). */
  private spare: BlockChunk | null = null;

  get size(): number { return this.list.length; }
  /** Host bytes of the chunk index (8 per slot). */
  get indexBytes(): number { return this.chunks.size * CHUNK_BLOCKS * 8; }

  get(block: number): BlockState | undefined {
    const c = Math.floor(block / CHUNK_BLOCKS);
    if (c !== this.lastChunk) {
      const chunk = this.chunks.get(c);
      if (chunk === undefined) return undefined;
      this.lastChunk = c;
      this.lastSlots = chunk.slots;
    }
    return this.lastSlots![block - c * CHUNK_BLOCKS];
  }

  /** File `s` as the state of `block` (`s.block`), replacing any it had. */
  set(block: number, s: BlockState): void {
    assert(s.block === block, `pmem block table: state of block ${s.block} filed under ${block}`);
    const c = Math.floor(block / CHUNK_BLOCKS);
    let chunk = this.chunks.get(c);
    if (chunk === undefined) {
      chunk = this.spare ?? { slots: new Array<BlockState | undefined>(CHUNK_BLOCKS).fill(undefined), used: 0 };
      this.spare = null;
      this.chunks.set(c, chunk);
    }
    const i = block - c * CHUNK_BLOCKS;
    const old = chunk.slots[i];
    if (old === undefined) { chunk.used++; s.pos = this.list.length; this.list.push(s); }
    else { s.pos = old.pos; this.list[old.pos] = s; }
    chunk.slots[i] = s;
  }

  delete(block: number): void {
    const s = this.get(block);
    if (s === undefined) return;
    const last = this.list.pop()!;
    if (last !== s) { this.list[s.pos] = last; last.pos = s.pos; }
    const c = Math.floor(block / CHUNK_BLOCKS);
    const chunk = this.chunks.get(c)!;
    chunk.slots[block - c * CHUNK_BLOCKS] = undefined;
    // A chunk goes with its last state, so memory follows the blocks that hold data.
    if (--chunk.used === 0) {
      this.chunks.delete(c);
      this.spare = chunk; // every slot is undefined again
      if (this.lastChunk === c) { this.lastChunk = -1; this.lastSlots = null; }
    }
  }

  /** The blocks with a state, as a new array (callers may change the table while they walk it). */
  keys(): number[] { return this.list.map((s) => s.block); }
  values(): BlockState[] { return this.list.slice(); }
  [Symbol.iterator](): IterableIterator<[number, BlockState]> {
    return this.list.map((s): [number, BlockState] => [s.block, s])[Symbol.iterator]();
  }
}

export class PmemDevice {
  readonly name: string;
  readonly sizeBytes: number;
  readonly totalBlocks: number;
  readonly pfnBase: number;
  readonly pfnEnd: number;
  readonly writeCache: boolean;
  readonly nsPerByte: number;
  readonly requestLatencyNs: number;
  readRequests = 0;
  writeRequests = 0;
  bytesRead = 0;
  bytesWritten = 0;
  private linesFlushedCount = 0;
  private dirtyLinesTotal = 0;
  private readonly blocks = new BlockTable();
  /** Blocks with at least one flush-pending line (may hold states already cleaned or dropped). */
  private readonly pendingList: BlockState[] = [];
  /**
   * Entries of pendingList in use: a count, as setting an array's length to 0 drops its storage
   * and the next push allocates it again (once per SFENCE).
   */
  private pendingCount = 0;
  /** What a power failure keeps, per block. */
  private readonly media = new ContentStore();
  /** Contents of the lines dirty in the CPU cache (only those lines are meaningful). */
  private readonly cache = new ContentStore();
  /** Clean line states out of the table and the pending list, kept for reuse (no allocation per store). */
  private readonly statePool: BlockState[] = [];
  /**
   * The crash explorer's view of the cache: for every line that is not durable, the stores made to
   * it since it last was, in program order (each packed as offset * 256 + value). Kept only while
   * `recordLineStores` is on. A power failure leaves each such line holding a prefix of its stores
   * on the media (any prefix: the CPU may evict the line at any moment).
   */
  recordLineStores = false;
  /**
   * While true, CPU stores are non-temporal (MOVNT*): each store's line becomes flush-pending at
   * once, so the next SFENCE makes it durable (see the module comment).
   */
  nonTemporal = false;
  /**
   * The live records (one per non-durable line with stores recorded), each also found from its
   * block's state (BlockState.recs); removal swaps the last one in, so keeping the set costs no
   * allocation (a Map allocates as entries come and go) and the order is deterministic.
   */
  private readonly lineStores: LineRecord[] = [];
  /** Records of lines that became durable, kept for reuse (no allocation per line stored). */
  private readonly recordPool: LineRecord[] = [];
  /** The open failure-atomic unit (0: none, every byte store is its own unit). */
  private atomicGroup = 0;
  private atomicSeq = 0;
  /** Physical byte address of the last CPU store (while recordLineStores is on), or -1. */
  lastStorePhys = -1;
  /** Per block, how many times its CPU view was changed (while recordLineStores is on). */
  private readonly versions = new Map<number, number>();
  /**
   * While non-null, every block whose durable view changes is appended (duplicates allowed): the
   * crash explorer re-checks only expectations on those blocks (issue 15). Drained by its owner.
   */
  durableLog: number[] | null = null;
  /** Entries of durableLog in use (the reader resets it to 0: no array is shrunk or grown per crash point). */
  durableLogCount = 0;

  constructor(cfg: PmemConfig) {
    const size = cfg.sizeBytes;
    if (!(Number.isInteger(size) && size > 0 && size % PAGE_SIZE === 0 && size <= PMEM_SIZE_BYTES_MAX)) {
      panic(`pmem ${cfg.name}: sizeBytes ${size} must be a positive multiple of 4096 and at most ` +
        `${PMEM_SIZE_BYTES_MAX}`);
    }
    if (!(Number.isInteger(cfg.pfnBase) && cfg.pfnBase >= 0
      && (cfg.pfnBase + size / PAGE_SIZE) * PAGE_SIZE <= Number.MAX_SAFE_INTEGER)) {
      panic(`pmem ${cfg.name}: pfnBase ${cfg.pfnBase} must be a non-negative integer with the device's byte ` +
        `addresses below 2^53`);
    }
    const nsPerByte = cfg.nsPerByte ?? 0.1;
    const requestLatencyNs = cfg.requestLatencyNs ?? 1000;
    if (!(nsPerByte >= 0 && requestLatencyNs >= 0)) panic(`pmem ${cfg.name}: latencies must be non-negative`);
    this.name = cfg.name;
    this.sizeBytes = size;
    this.totalBlocks = size / PAGE_SIZE;
    this.pfnBase = cfg.pfnBase;
    this.pfnEnd = cfg.pfnBase + this.totalBlocks;
    this.writeCache = cfg.writeCache ?? true;
    this.nsPerByte = nsPerByte;
    this.requestLatencyNs = requestLatencyNs;
  }

  /** CLWB + CLFLUSHOPT + CLFLUSH instructions issued while the write cache is on. */
  get linesFlushed(): number {
    return this.linesFlushedCount;
  }

  // ---------------------------------------------------------------- CPU loads and stores

  /** A CPU load of one byte: sees the CPU view (cached stores included). */
  readByte(pfn: number, off: number): number {
    this.checkPfnOff(pfn, off);
    const block = pfn - this.pfnBase;
    const s = this.blocks.get(block);
    return s !== undefined && lineState(s, off >>> 6) !== LINE_CLEAN
      ? this.cache.readByte(block, off) : this.media.readByte(block, off);
  }

  /**
   * A CPU store of one byte. With the write cache on, its line becomes dirty (a pending line
   * stays pending, see the module comment); otherwise the byte is durable at once.
   */
  writeByte(pfn: number, off: number, value: number): void {
    this.checkPfnOff(pfn, off);
    if ((value & 0xff) !== value) panic(`${this.name}: store of ${value} at pfn ${pfn} offset ${off} is not a byte`);
    const block = pfn - this.pfnBase;
    // Durable zero over an all-zero block: nothing changes (not even its version).
    if (!this.writeCache && value === 0 && this.media.linesOf(block) === 0 && this.media.fillOf(block) === 0) return;
    if (this.recordLineStores) this.versions.set(block, (this.versions.get(block) ?? 0) + 1);
    if (!this.writeCache) {
      if (this.durableLog !== null) this.durableLog[this.durableLogCount++] = block;
      this.media.writeByte(block, off, value);
      return;
    }
    let s = this.blocks.get(block);
    if (s === undefined) {
      s = this.statePool.pop() ?? { block, nc0: 0, nc1: 0, pd0: 0, pd1: 0, dirtyLines: 0,
        inPendingList: false, pos: 0, recs: null };
      s.block = block;
      this.blocks.set(block, s);
    }
    const line = off >>> 6;
    if (lineState(s, line) === LINE_CLEAN) {
      this.cache.copyLine(block, line, this.media, block);
      setLineState(s, line, LINE_DIRTY);
      s.dirtyLines++;
      this.dirtyLinesTotal++;
    }
    if (this.recordLineStores) this.recordStore(s, off, value);
    this.cache.writeByte(block, off, value);
    if (this.nonTemporal) this.markPending(s, line);
  }
  /** Record one byte store of a non-durable line (crash explorer), grouping an open atomic unit. */
  private recordStore(s: BlockState, off: number, value: number): void {
    const block = s.block, line = off >>> 6;
    const recs = s.recs ??= new Array<LineRecord | undefined>(LINES_PER_BLOCK).fill(undefined);
    let l = recs[line];
    if (l === undefined) {
      l = this.recordPool.pop() ?? { block, line, stores: [], units: 0, group: 0, pos: 0 };
      // Emptied by pops: setting length to 0 would drop the array's storage (the next push allocates it again).
      while (l.stores.length > 0) l.stores.pop();
      l.block = block; l.line = line; l.units = 0; l.group = 0; l.pos = this.lineStores.length;
      recs[line] = l;
      this.lineStores.push(l);
    }
    const g = this.atomicGroup;
    if (g !== 0 && l.group === g) l.stores.push(off * 256 + value + STORE_CONT);
    else {
      l.stores.push(off * 256 + value);
      l.units++;
      l.group = g;
    }
    this.lastStorePhys = (this.pfnBase + block) * PAGE_SIZE + off;
  }

  /**
   * Open a failure-atomic unit: the byte stores until endAtomic reach the media together or not at
   * all (an aligned store of at most 8 bytes, SDM vol. 3A §8.1.1). The caller keeps it in 8 bytes.
   */
  beginAtomic(): void {
    if (this.atomicGroup !== 0) panic(`${this.name}: nested failure-atomic store`);
    this.atomicGroup = ++this.atomicSeq;
  }

  endAtomic(): void {
    this.atomicGroup = 0;
  }


  // ---------------------------------------------------------------- driver block interface

  /** CPU view of `block` (= pfn - pfnBase): a fill byte or a fresh 4 KiB copy. */
  readBlock(block: number): Uint8Array | number {
    this.checkBlockRange(block, 1);
    const s = this.blocks.get(block);
    const v = this.media.snapshot(block);
    if (s === undefined) return v;
    const buf = typeof v === 'number' ? new Uint8Array(PAGE_SIZE).fill(v) : v;
    for (let l = 0; l < LINES_PER_BLOCK; l++) {
      if (lineState(s, l) === LINE_CLEAN) continue;
      for (let i = l * CACHE_LINE_BYTES; i < (l + 1) * CACHE_LINE_BYTES; i++) buf[i] = this.cache.readByte(block, i);
    }
    return buf;
  }

  /** readBlock into a DRAM frame's contents (the DataDevice interface; pmem as a plain block device). */
  readBlockTo(block: number, to: ContentStore, page: number): void {
    to.restore(page, this.readBlock(block));
  }

  /** writeBlock from a DRAM frame's contents. */
  writeBlockFrom(block: number, from: ContentStore, page: number): void {
    this.writeBlock(block, from.snapshot(page));
  }

  /**
   * Durable write of a whole block through the driver. Models pmem_do_write ->
   * memcpy_flushcache (drivers/nvdimm/pmem.c, v6.1): non-temporal stores, durable at once, so
   * both views become `v` and the block's dirty and pending lines are dropped. A buffer's
   * ownership passes to the device. Cost accounting is separate (submit).
   */
  writeBlock(block: number, v: Uint8Array | number): void {
    this.checkBlockRange(block, 1);
    if (typeof v === 'number') {
      if ((v & 0xff) !== v) panic(`${this.name}: fill value ${v} for block ${block} is not a byte`);
    } else if (v.length !== PAGE_SIZE) {
      panic(`${this.name}: writeBlock ${block} given ${v.length} bytes, expected ${PAGE_SIZE}`);
    }
    this.setDurable(block, v);
  }

  /** Durable zeroing of [block, block + count), as the fs zeroes newly allocated blocks (non-temporal). */
  zeroBlocks(block: number, count: number): void {
    this.checkBlockRange(block, count);
    if (this.recordLineStores || count <= this.blocks.size) {
      for (let b = block; b < block + count; b++) this.setDurable(b, 0);
      return;
    }
    const end = block + count;
    for (const b of [...this.blocks.keys()]) if (b >= block && b < end) this.setDurable(b, 0);
    this.media.fillRange(block, count, 0);
  }

  /**
   * Completion time of a driver request of `blocks` blocks submitted at `nowNs`. The pmem driver
   * copies synchronously in the submitter's context (pmem_submit_bio, v6.1): no queue, so the
   * cost is a fixed latency plus the bytes moved.
   */
  submit(write: boolean, blocks: number, nowNs: number): number {
    if (!(Number.isInteger(blocks) && blocks > 0 && blocks <= this.totalBlocks)) {
      panic(`${this.name}: request of ${blocks} blocks (device has ${this.totalBlocks})`);
    }
    const bytes = blocks * PAGE_SIZE;
    if (write) {
      this.writeRequests++;
      this.bytesWritten += bytes;
    } else {
      this.readRequests++;
      this.bytesRead += bytes;
    }
    return nowNs + this.requestLatencyNs + Math.round(bytes * this.nsPerByte);
  }

  // ---------------------------------------------------------------- cache-line flushes

  /** CLWB of the line holding physical byte `physAddr`: a dirty line becomes flush-pending. */
  clwb(physAddr: number): void {
    this.writeBackLine(physAddr);
  }

  /** CLFLUSHOPT: the same as CLWB in this model (the line is also evicted, which no one observes). */
  clflushopt(physAddr: number): void {
    this.writeBackLine(physAddr);
  }

  /** CLFLUSH: ordered with other stores, so the line is durable when it completes. */
  clflush(physAddr: number): void {
    const s = this.issueFlush(physAddr);
    if (s === null) return;
    const line = lineOfAddr(physAddr);
    if (lineState(s, line) !== LINE_CLEAN) this.persistLine(s, line);
  }

  /** SFENCE: every flush-pending line becomes durable (with its current content). */
  sfence(): void {
    const list = this.pendingList;
    for (let i = 0; i < this.pendingCount; i++) {
      const s = list[i]!;
      for (let l = 0; l < LINES_PER_BLOCK && s.dirtyLines > 0; l++) {
        if (lineState(s, l) === LINE_PENDING) this.persistLine(s, l);
      }
      // Still marked as listed while its lines persist, so persistLine leaves recycling to here
      // (once: a state pushed twice into the pool would be shared by two blocks).
      s.inPendingList = false;
      if (s.dirtyLines === 0 && this.blocks.get(s.block) !== s) this.recycle(s);
    }
    this.pendingCount = 0;
  }

  /**
   * Models arch_wb_cache_pmem (arch/x86/lib/usercopy_64.c, v6.1) as called by dax_flush for one
   * DAX entry: CLWB on every line of [pfn, pfn + nPages), then SFENCE. Returns the CLWBs issued:
   * 64 per page, or 0 when the write cache is off (dax_flush is skipped).
   */
  writebackPages(pfn: number, nPages: number): number {
    if (!(Number.isInteger(nPages) && nPages >= 0)) panic(`${this.name}: writebackPages of ${nPages} pages`);
    if (!(Number.isInteger(pfn) && pfn >= this.pfnBase && pfn + nPages <= this.pfnEnd)) {
      panic(`${this.name}: writeback of pfns [${pfn}, ${pfn + nPages}) outside the device [${this.pfnBase}, ` +
        `${this.pfnEnd})`);
    }
    if (!this.writeCache) return 0;
    const first = pfn - this.pfnBase;
    for (let b = first; b < first + nPages; b++) {
      const s = this.blocks.get(b);
      if (s === undefined || s.dirtyLines === 0) continue;
      // Every dirty line becomes flush-pending (pending ones stay so).
      s.pd0 = s.nc0; s.pd1 = s.nc1;
      this.addPending(s);
    }
    this.sfence();
    const issued = nPages * LINES_PER_BLOCK;
    this.linesFlushedCount += issued;
    return issued;
  }

  /** Lines dirty in the CPU cache and not yet durable (pending ones included). */
  dirtyLineCount(): number {
    return this.dirtyLinesTotal;
  }

  // ---------------------------------------------------------------- power failure

  /** The byte at (pfn, off) that a power failure now would leave on the media. */
  durableByte(pfn: number, off: number): number {
    this.checkPfnOff(pfn, off);
    return this.media.readByte(pfn - this.pfnBase, off);
  }

  /** Power failure: every non-durable line is lost; the CPU view becomes the durable view. */
  powerFail(): void {
    for (const [b, s] of [...this.blocks]) {
      if (s.dirtyLines > 0) this.dropDirty(s);
      s.inPendingList = false;
      s.recs = null; // its records go back to the pool below
      this.blocks.delete(b);
    }
    this.pendingCount = 0;
    while (this.lineStores.length > 0) this.recordPool.push(this.lineStores.pop()!);
    if (this.dirtyLinesTotal !== 0) panic(`${this.name}: ${this.dirtyLinesTotal} dirty lines left after power failure`);
  }

  /** Lines held: in the media store, in the CPU cache (dirty), and blocks with line states. */
  lineCounts(): { media: number; cached: number; states: number } {
    return { media: this.media.lineCount, cached: this.cache.lineCount, states: this.blocks.size };
  }

  /** Host bytes of the block lookup index (one 512-slot array per 2 MiB that holds data). */
  indexBytes(): number {
    return this.blocks.indexBytes;
  }

  /**
   * Host bytes held: media and cached lines (content stores) and the per-block line states (about
   * 64 B each: an object of eight fields, V8's layout).
   */
  contentBytes(): number {
    return this.media.bytesHeld() + this.cache.bytesHeld() + this.blocks.size * 64;
  }

  // ---------------------------------------------------------------- helpers

  /** CLWB/CLFLUSHOPT: counted and applied only with the write cache on. */
  private writeBackLine(physAddr: number): void {
    const s = this.issueFlush(physAddr);
    if (s === null) return;
    this.markPending(s, lineOfAddr(physAddr));
  }

  /** A dirty line becomes flush-pending: durable at the next SFENCE. */
  private markPending(s: BlockState, line: number): void {
    if (lineState(s, line) === LINE_DIRTY) {
      setLineState(s, line, LINE_PENDING);
      this.addPending(s);
    }
  }

  /**
   * Range-check and count one flush instruction. Returns the state of the block holding the line
   * when the flush can change something (write cache on, block has line state), else null.
   */
  private issueFlush(physAddr: number): BlockState | null {
    const block = this.blockOfAddr(physAddr);
    if (!this.writeCache) return null;
    this.linesFlushedCount++;
    const s = this.blocks.get(block);
    return s === undefined ? null : s;
  }

  private addPending(s: BlockState): void {
    if (s.inPendingList) return;
    s.inPendingList = true;
    this.pendingList[this.pendingCount++] = s;
  }

  /** Copy line `line` of the CPU view into the durable view and mark it clean. */
  private persistLine(s: BlockState, line: number): void {
    this.media.copyLine(s.block, line, this.cache, s.block);
    this.cache.dropLine(s.block, line);
    setLineState(s, line, LINE_CLEAN);
    if (this.recordLineStores) this.forgetLine(s, line);
    if (this.durableLog !== null) this.durableLog[this.durableLogCount++] = s.block;
    s.dirtyLines--;
    this.dirtyLinesTotal--;
    if (s.dirtyLines < 0) panic(`${this.name}: negative dirty line count`);
    // A clean block needs no line state; a stale pending-list entry is harmless (all lines clean).
    if (s.dirtyLines === 0) {
      this.blocks.delete(s.block);
      if (!s.inPendingList) this.recycle(s);
    }
  }

  /** Keep a clean state that nothing refers to any more for the next dirty block (bounded pool). */
  private recycle(s: BlockState): void {
    if (s.dirtyLines !== 0) panic(`${this.name}: recycling block ${s.block}'s state with dirty lines`);
    if (this.statePool.length < STATE_POOL_MAX) this.statePool.push(s);
  }

  /** Every dirty line of `s` is dropped from the cache, unwritten (power failure, durable overwrite). */
  private dropDirty(s: BlockState): void {
    for (let l = 0; l < LINES_PER_BLOCK; l++) {
      if (lineState(s, l) !== LINE_CLEAN) this.cache.dropLine(s.block, l);
    }
    s.nc0 = s.nc1 = s.pd0 = s.pd1 = 0;
    this.dirtyLinesTotal -= s.dirtyLines;
    s.dirtyLines = 0;
  }

  /** Drop the recorded stores of a line that became durable or was overwritten durably. */
  private forgetLine(s: BlockState, line: number): void {
    const recs = s.recs;
    if (recs === null) return;
    const l = recs[line];
    if (l === undefined) return;
    recs[line] = undefined;
    const list = this.lineStores;
    const last = list.pop()!;
    if (last !== l) { list[l.pos] = last; last.pos = l.pos; }
    this.recordPool.push(l);
  }

  /**
   * Lines not yet durable with the stores made to them, for the crash explorer (requires
   * recordLineStores): block, line index, and the packed stores in program order. The array is
   * the device's own live list: valid until the next store, flush or fence (copy what must be kept).
   */
  pendingLineStores(): readonly PendingLine[] {
    return this.lineStores;
  }

  /** Lines not yet durable (recordLineStores on): the size of pendingLineStores() without building it. */
  pendingLineCount(): number {
    return this.lineStores.length;
  }

  /** How many times `block`'s contents changed so far (counted while recordLineStores is on). */
  blockVersion(block: number): number {
    return this.versions.get(block) ?? 0;
  }

  /** Is the block's durable view equal to its CPU view (no dirty line)? */
  blockDurable(block: number): boolean {
    const s = this.blocks.get(block);
    return s === undefined || s.dirtyLines === 0;
  }

  /** A durable byte by block (the media image without any pending line). */
  durableBlockByte(block: number, off: number): number {
    return this.media.readByte(block, off);
  }

  /** Both views of `block` become `v`; dirty/pending lines of the block are dropped. */
  private setDurable(block: number, v: Uint8Array | number): void {
    if (this.recordLineStores) this.versions.set(block, (this.versions.get(block) ?? 0) + 1);
    if (this.durableLog !== null) this.durableLog[this.durableLogCount++] = block;
    const s = this.blocks.get(block);
    if (s !== undefined) {
      this.dropDirty(s);
      if (this.recordLineStores) {
        for (let l = 0; l < LINES_PER_BLOCK; l++) this.forgetLine(s, l);
      }
      // A stale entry in the pending list is harmless: its lines are all clean now.
      this.blocks.delete(block);
    }
    this.media.restore(block, v);
  }

  private checkPfnOff(pfn: number, off: number): void {
    if (!(pfn >= this.pfnBase && pfn < this.pfnEnd && Math.floor(pfn) === pfn)) {
      panic(`${this.name}: pfn ${pfn} outside the device's pfns [${this.pfnBase}, ${this.pfnEnd})`);
    }
    if ((off >>> 0) !== off || off >= PAGE_SIZE) {
      panic(`${this.name}: offset ${off} in pfn ${pfn} is not in [0, ${PAGE_SIZE})`);
    }
  }

  private checkBlockRange(block: number, count: number): void {
    if (!(Number.isInteger(block) && Number.isInteger(count) && block >= 0 && count >= 0
      && block + count <= this.totalBlocks)) {
      panic(`${this.name}: blocks [${block}, ${block + count}) outside the device's ${this.totalBlocks} blocks`);
    }
  }

  /** Device block of a physical byte address; throws if the address is not on this device. */
  private blockOfAddr(physAddr: number): number {
    const pfn = Math.floor(physAddr / PAGE_SIZE);
    if (!(Number.isInteger(physAddr) && pfn >= this.pfnBase && pfn < this.pfnEnd)) {
      panic(`${this.name}: physical address ${physAddr} outside the device [${this.pfnBase * PAGE_SIZE}, ` +
        `${this.pfnEnd * PAGE_SIZE})`);
    }
    return pfn - this.pfnBase;
  }
}

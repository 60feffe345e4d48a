/**
 * Block allocator: where new data blocks land on the device. Models ext4's multiblock allocator
 * (fs/ext4/mballoc.c, v6.1: ext4_mb_new_blocks -> ext4_mb_find_by_goal,
 * ext4_mb_regular_allocator) over free ranges: placement 'mballoc' (the default) follows its
 * buddy orders and group scan; 'aligned' and 'unaligned' are simpler outcome models kept as
 * knobs. Not modelled: the bitmaps themselves, per-group metadata (backup superblocks, bitmaps
 * and inode tables: free space is one run from firstDataBlock), locality-group preallocation of
 * small files.
 *
 * Free space is a sorted list of disjoint, coalesced free ranges, so memory grows with
 * fragmentation, not with the device: a fresh 64 GiB device is one range.
 *
 * Placement decides DAX PMD eligibility (oracle linux-6.1-guest.md §2: a PMD maps only when the
 * 2 MiB file chunk is one extent with a 2 MiB-aligned physical start):
 * - 'aligned': a request of >= pmdBlocks blocks, or one without a goal, starts on a
 *   pmdBlocks-aligned block when a free aligned run exists (mballoc normalising to the stripe /
 *   2 MiB on pmem). Precisely: on a block congruent to the request's logical block modulo
 *   pmdBlocks (the optional `lblk` argument, default 0), which is what a PMD mapping needs; with
 *   lblk a multiple of pmdBlocks that is a pmdBlocks-aligned block. A large request that fits
 *   nowhere whole takes whole pmdBlocks multiples from such a start, then continues.
 * - 'unaligned': runs start wherever free space starts (firstDataBlock is typically not aligned).
 * - 'mballoc': ext4's multiblock allocator itself as far as placement goes (allocMballoc): the
 *   filesystem normalises the request and keeps the preallocation (fs/ext4/ext4.ts); here a
 *   request continues at the goal when it may and fits there, else takes the first free buddy
 *   chunk of its power-of-two order (or the next larger order present), group by group, else the
 *   first free extent that holds it. Freed blocks wait for the journal commit in every mode.
 * In 'aligned' and 'unaligned' a request with a goal continues at the goal when the whole request fits there
 * (ext4_mb_find_by_goal accepts the goal only for the full length); otherwise the first free
 * range at or after the goal (wrapping to the start, as mballoc scans groups from the goal's
 * group) that holds the whole request; otherwise the largest free range, and the rest in further
 * runs. A short result (fewer blocks than asked) happens only when the device runs out.
 */
import { assert } from '../../lib/assert.ts';

export type Placement = 'aligned' | 'unaligned' | 'mballoc';
/** Blocks per ext4 block group (4 KiB blocks: 8 * 4096 bits of block bitmap). */
export const MB_GROUP_BLOCKS = 32768;
/** Largest buddy order mballoc keeps (MB_NUM_ORDERS - 1 for 4 KiB blocks: 8192 blocks). */
const MB_MAX_ORDER = 13;
export const DEFAULT_PMD_BLOCKS = 512; // 2 MiB of 4 KiB blocks
/** Most frees one transaction may set aside before its commit (a bound, far above any workload's). */
const MAX_PENDING_FREES = 1 << 20;
/** Largest device the model accepts: 2^40 blocks (4 PiB). */
export const MAX_DEVICE_BLOCKS = 2 ** 40;

export interface AllocatorOptions {
  totalBlocks: number;
  /** First block available for data (blocks below it hold superblock, group descriptors...). */
  firstDataBlock: number;
  placement: Placement;
  /** Blocks per PMD, default 512. */
  pmdBlocks?: number;
}

export interface BlockRun { pblk: number; lenBlocks: number }

export class BlockAllocator {
  readonly totalBlocks: number;
  readonly firstDataBlock: number;
  readonly placement: Placement;
  readonly pmdBlocks: number;
  private starts: number[] = [];
  private lens: number[] = [];
  private freeCount: number;
  // Freed ranges waiting for a journal commit (freeAfterCommit).
  private pendingStarts: number[] = [];
  private pendingLens: number[] = [];
  private pendingCount = 0;
  // Result of pickRun(), kept in fields so choosing a run allocates nothing.
  private runStart = 0;
  private runLen = 0;

  constructor(opts: AllocatorOptions) {
    const pmdBlocks = opts.pmdBlocks ?? DEFAULT_PMD_BLOCKS;
    assert(Number.isSafeInteger(opts.totalBlocks) && opts.totalBlocks > 0 && opts.totalBlocks <= MAX_DEVICE_BLOCKS,
      `allocator: bad totalBlocks ${opts.totalBlocks}`);
    assert(Number.isSafeInteger(opts.firstDataBlock) && opts.firstDataBlock >= 0 &&
      opts.firstDataBlock < opts.totalBlocks, `allocator: bad firstDataBlock ${opts.firstDataBlock}`);
    assert(opts.placement === 'aligned' || opts.placement === 'unaligned' || opts.placement === 'mballoc',
      `allocator: bad placement ${String(opts.placement)}`);
    assert(Number.isSafeInteger(pmdBlocks) && pmdBlocks > 0, `allocator: bad pmdBlocks ${pmdBlocks}`);
    this.totalBlocks = opts.totalBlocks;
    this.firstDataBlock = opts.firstDataBlock;
    this.placement = opts.placement;
    this.pmdBlocks = pmdBlocks;
    this.starts.push(opts.firstDataBlock);
    this.lens.push(opts.totalBlocks - opts.firstDataBlock);
    this.freeCount = opts.totalBlocks - opts.firstDataBlock;
  }

  get freeBlocks(): number { return this.freeCount; }
  /** Number of free ranges: the allocator's memory footprint. */
  get freeRangeCount(): number { return this.starts.length; }

  /** Copy of the free ranges, ascending. */
  freeRanges(): BlockRun[] {
    return this.starts.map((s, i) => ({ pblk: s, lenBlocks: this.lens[i]! }));
  }

  /** Index of the last free range starting at or before `pblk`, or -1. */
  private rangeIndexOf(pblk: number): number {
    let lo = 0, hi = this.starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= pblk) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  isFree(pblk: number): boolean {
    assert(Number.isSafeInteger(pblk) && pblk >= 0, `allocator: bad block ${pblk}`);
    const i = this.rangeIndexOf(pblk);
    return i >= 0 && pblk < this.starts[i]! + this.lens[i]!;
  }

  /**
   * Allocate up to `lenBlocks` blocks near `goal` (-1: no goal) in as few runs as the rules above
   * give. `lblk` is the file's logical block for the first block asked for (only 'aligned'
   * placement uses it, see the file comment). Returns the runs in allocation order; fewer blocks
   * than asked only when the device is full, [] when nothing is free. Models ext4_mb_new_blocks()
   * (mballoc.c, v6.1) as seen from ext4_ext_map_blocks(), which calls it again for what one call
   * did not cover.
   */
  alloc(goal: number, lenBlocks: number, lblk = 0): BlockRun[] {
    assert(Number.isSafeInteger(lenBlocks) && lenBlocks > 0, `allocator: bad length ${lenBlocks}`);
    assert(Number.isSafeInteger(lblk) && lblk >= 0, `allocator: bad logical block ${lblk}`);
    const runs: BlockRun[] = [];
    let remaining = lenBlocks;
    let g = goal;
    // Each run either satisfies the rest or uses up at least one free range.
    const maxRuns = this.starts.length + 1;
    let l = lblk;
    while (remaining > 0 && this.pickRun(g, remaining, l)) {
      assert(runs.length < maxRuns, 'allocator: run loop exceeded the number of free ranges');
      this.takeRun(this.runStart, this.runLen);
      runs.push({ pblk: this.runStart, lenBlocks: this.runLen });
      remaining -= this.runLen;
      g = this.runStart + this.runLen;
      l += this.runLen;
    }
    return runs;
  }

  /**
   * Placement 'mballoc': allocate one normalised request of `need` blocks (ext4_mb_regular_allocator,
   * fs/ext4/mballoc.c v6.1). `tryGoal` >= 0 (EXT4_MB_HINT_TRY_GOAL, set when the request
   * continues an extent) is taken when the free space there, up to the end of its group, holds
   * all of it (ext4_mb_find_by_goal). Else a power of two of 2 blocks or more takes the first free buddy
   * chunk of exactly its order in a group, or of the next larger order present there, groups
   * scanned from `group` (ext4_mb_simple_scan_group: a buddy chunk is a maximal naturally aligned
   * power-of-two piece of a free range); anything else the first free extent of a group that
   * holds it (ext4_mb_complex_scan_group, first fit). When no single run holds it, the largest
   * free ranges, as alloc() does. Returns the runs.
   */
  allocMballoc(tryGoal: number, group: number, need: number): BlockRun[] {
    assert(Number.isSafeInteger(need) && need > 0, `allocator: bad length ${need}`);
    if (this.freeCount === 0) return [];
    if (tryGoal >= this.firstDataBlock && tryGoal < this.totalBlocks) {
      // A free extent as mballoc sees it ends at its group's end (the buddy is per group).
      const i = this.rangeIndexOf(tryGoal);
      const groupEnd = (Math.floor(tryGoal / MB_GROUP_BLOCKS) + 1) * MB_GROUP_BLOCKS;
      if (i >= 0 && tryGoal + need <= Math.min(this.starts[i]! + this.lens[i]!, groupEnd)) {
        this.takeRun(tryGoal, need);
        return [{ pblk: tryGoal, lenBlocks: need }];
      }
    }
    const groups = Math.ceil(this.totalBlocks / MB_GROUP_BLOCKS);
    const g0 = Math.min(Math.max(group, 0), groups - 1);
    const order = Math.log2(need);
    for (let k = 0; k < groups; k++) {
      const lo = ((g0 + k) % groups) * MB_GROUP_BLOCKS, hi = Math.min(lo + MB_GROUP_BLOCKS, this.totalBlocks);
      const buddy = Number.isInteger(order) && order >= 1 && order <= MB_MAX_ORDER;
      const at = buddy ? this.buddyIn(lo, hi, order) : this.firstFitIn(lo, hi, need);
      if (at >= 0) {
        this.takeRun(at, need);
        return [{ pblk: at, lenBlocks: need }];
      }
    }
    return this.alloc(tryGoal, need);
  }

  /** First free buddy chunk in [lo, hi) of exactly `order`, else of the smallest larger order present; -1 if none. */
  private buddyIn(lo: number, hi: number, order: number): number {
    let best = -1, bestOrder = MB_MAX_ORDER + 1;
    for (let i = this.firstRangeFrom(lo); i < this.starts.length && this.starts[i]! < hi; i++) {
      let b = Math.max(this.starts[i]!, lo);
      const end = Math.min(this.starts[i]! + this.lens[i]!, hi);
      while (b < end) {
        let o = 0;
        while (o < MB_MAX_ORDER && b % 2 ** (o + 1) === 0 && b + 2 ** (o + 1) <= end) o++;
        if (o === order) return b;
        if (o > order && o < bestOrder) { best = b; bestOrder = o; }
        b += 2 ** o;
      }
    }
    return best;
  }

  /** Index of the first free range that ends after `pblk` (may start after it), or the range count. */
  private firstRangeFrom(pblk: number): number {
    const i = this.rangeIndexOf(pblk);
    return i >= 0 && pblk < this.starts[i]! + this.lens[i]! ? i : i + 1;
  }

  /** First free range in [lo, hi) with `need` blocks; its start, or -1. */
  private firstFitIn(lo: number, hi: number, need: number): number {
    for (let i = this.firstRangeFrom(lo); i < this.starts.length && this.starts[i]! < hi; i++) {
      const b = Math.max(this.starts[i]!, lo);
      if (Math.min(this.starts[i]! + this.lens[i]!, hi) - b >= need) return b;
    }
    return -1;
  }

  /** Allocate one block near `goal`; -1 when the device is full. Allocates no objects. */
  allocOne(goal: number, lblk = 0): number {
    if (!this.pickRun(goal, 1, lblk)) return -1;
    this.takeRun(this.runStart, 1);
    return this.runStart;
  }

  /**
   * Return [pblk, pblk+lenBlocks) to free space, coalescing with neighbours (models
   * ext4_free_blocks(), mballoc.c, v6.1). Freeing a block that is already free is an invariant
   * violation (ext4 reports "bit already cleared" as fs corruption).
   */
  free(pblk: number, lenBlocks: number): void {
    assert(Number.isSafeInteger(lenBlocks) && lenBlocks > 0, `allocator free: bad length ${lenBlocks}`);
    assert(Number.isSafeInteger(pblk) && pblk >= this.firstDataBlock && pblk + lenBlocks <= this.totalBlocks,
      `allocator free: range ${pblk}+${lenBlocks} outside the data area`);
    const end = pblk + lenBlocks;
    const i = this.rangeIndexOf(pblk);
    const leftEnd = i >= 0 ? this.starts[i]! + this.lens[i]! : -1;
    const rightStart = i + 1 < this.starts.length ? this.starts[i + 1]! : Infinity;
    assert(leftEnd <= pblk && rightStart >= end, `allocator free: double free in ${pblk}+${lenBlocks}`);
    const joinLeft = i >= 0 && leftEnd === pblk;
    const joinRight = rightStart === end;
    if (joinLeft && joinRight) {
      this.lens[i] = this.lens[i]! + lenBlocks + this.lens[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.lens.splice(i + 1, 1);
    } else if (joinLeft) {
      this.lens[i] = this.lens[i]! + lenBlocks;
    } else if (joinRight) {
      this.starts[i + 1] = pblk;
      this.lens[i + 1] = this.lens[i + 1]! + lenBlocks;
    } else {
      this.starts.splice(i + 1, 0, pblk);
      this.lens.splice(i + 1, 0, lenBlocks);
    }
    this.freeCount += lenBlocks;
  }

  /**
   * Free [pblk, pblk+lenBlocks) once the journal transaction that freed it commits
   * (ext4_free_blocks -> ext4_mb_free_metadata, mballoc.c v6.1: in data=ordered mode freed data
   * blocks stay busy until the commit, so a crash cannot leave a block both in the old file and
   * in a new one). Until `releasePending` they count in `pendingBlocks`, not in `freeBlocks`, and
   * no allocation takes them. Measured on the 6.1 guest: a page refilled right after a hole
   * punch lands elsewhere, not in the block just freed.
   */
  freeAfterCommit(pblk: number, lenBlocks: number): void {
    assert(Number.isSafeInteger(lenBlocks) && lenBlocks > 0, `allocator free: bad length ${lenBlocks}`);
    assert(Number.isSafeInteger(pblk) && pblk >= this.firstDataBlock && pblk + lenBlocks <= this.totalBlocks,
      `allocator free: range ${pblk}+${lenBlocks} outside the data area`);
    assert(this.pendingStarts.length < MAX_PENDING_FREES, 'allocator: too many frees waiting for a commit');
    this.pendingStarts.push(pblk);
    this.pendingLens.push(lenBlocks);
    this.pendingCount += lenBlocks;
  }

  /** The transaction committed: what freeAfterCommit set aside becomes free (ext4_free_data_in_buddy). */
  releasePending(): number {
    const n = this.pendingCount;
    for (let i = 0; i < this.pendingStarts.length; i++) this.free(this.pendingStarts[i]!, this.pendingLens[i]!);
    this.pendingStarts.length = 0;
    this.pendingLens.length = 0;
    this.pendingCount = 0;
    return n;
  }

  /** Blocks freed but waiting for a journal commit. */
  get pendingBlocks(): number { return this.pendingCount; }

  /** Deep copy (the crash model keeps committed snapshots). */
  clone(): BlockAllocator {
    const c = new BlockAllocator({ totalBlocks: this.totalBlocks, firstDataBlock: this.firstDataBlock,
      placement: this.placement, pmdBlocks: this.pmdBlocks });
    c.starts = this.starts.slice();
    c.lens = this.lens.slice();
    c.freeCount = this.freeCount;
    c.pendingStarts = this.pendingStarts.slice();
    c.pendingLens = this.pendingLens.slice();
    c.pendingCount = this.pendingCount;
    return c;
  }

  /** Check every structural invariant (O(ranges)); for tests and debug checks. */
  checkInvariants(): void {
    let sum = 0;
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!, n = this.lens[i]!;
      assert(n > 0, `free range ${i}: empty`);
      assert(s >= this.firstDataBlock && s + n <= this.totalBlocks, `free range ${i}: outside the data area`);
      if (i > 0) {
        assert(this.starts[i - 1]! + this.lens[i - 1]! < s, `free range ${i}: overlapping or not coalesced`);
      }
      sum += n;
    }
    assert(sum === this.freeCount, `allocator: freeBlocks ${this.freeCount} != sum of ranges ${sum}`);
  }

  /** Choose one run for a request of `need` blocks; sets runStart/runLen. False when full. */
  private pickRun(goal: number, need: number, lblk: number): boolean {
    if (this.freeCount === 0) return false;
    assert(Number.isSafeInteger(goal), `allocator: bad goal ${goal}`);
    const hasGoal = goal >= 0;
    // Out-of-range goals fall back to the first data block, as ext4_mb_initialize_context does.
    const from = !hasGoal || goal < this.firstDataBlock || goal >= this.totalBlocks ? this.firstDataBlock : goal;
    if (this.placement === 'aligned' && (need >= this.pmdBlocks || !hasGoal)) {
      if (this.findAligned(from, need, lblk, true)) return true;
      if (need >= this.pmdBlocks && this.findAligned(from, need, lblk, false)) return true;
    }
    if (hasGoal) {
      const i = this.rangeIndexOf(from);
      if (i >= 0 && from + need <= this.starts[i]! + this.lens[i]!) {
        this.runStart = from; this.runLen = need;
        return true;
      }
    }
    if (this.findFirstFit(from, need)) return true;
    // Nothing holds the whole request: take the largest free range (lowest on ties).
    let best = 0;
    for (let i = 1; i < this.lens.length; i++) if (this.lens[i]! > this.lens[best]!) best = i;
    this.runStart = this.starts[best]!;
    this.runLen = Math.min(need, this.lens[best]!);
    return true;
  }

  /** Index of the free range containing `pblk`, else the first one after it (wrapping to 0). */
  private scanStart(pblk: number): number {
    const i = this.rangeIndexOf(pblk);
    if (i >= 0 && pblk < this.starts[i]! + this.lens[i]!) return i;
    return i + 1 < this.starts.length ? i + 1 : 0;
  }

  /** First free range at or after `from` (wrapping) with room for `need` blocks. */
  private findFirstFit(from: number, need: number): boolean {
    const n = this.starts.length;
    const first = this.scanStart(from);
    for (let k = 0; k < n; k++) {
      const i = (first + k) % n;
      if (this.lens[i]! >= need) {
        this.runStart = this.starts[i]!; this.runLen = need;
        return true;
      }
    }
    return false;
  }

  /**
   * Aligned placement; "aligned" means congruent to `lblk` modulo pmdBlocks. whole=true: the
   * first aligned start at or after `from` (wrapping) with `need` free blocks behind it.
   * whole=false: the aligned start with the most free whole PMDs behind it, taking that many
   * (at least one).
   */
  private findAligned(from: number, need: number, lblk: number, whole: boolean): boolean {
    const n = this.starts.length;
    const first = this.scanStart(from);
    const pmd = this.pmdBlocks;
    const phase = lblk % pmd;
    let bestStart = -1, bestLen = 0;
    // n + 1 visits: the first range is visited again at the end from its own start, so free
    // space just below `from` is considered last.
    for (let k = 0; k <= n; k++) {
      const i = (first + k) % n;
      const s = this.starts[i]!, end = s + this.lens[i]!;
      const lo = k === 0 ? Math.max(s, from) : s;
      const a = lo + (((phase - lo) % pmd) + pmd) % pmd;
      const cap = end - a;
      if (whole) {
        if (cap >= need) { this.runStart = a; this.runLen = need; return true; }
      } else {
        const usable = Math.floor(Math.max(cap, 0) / pmd) * pmd;
        if (usable > bestLen) { bestStart = a; bestLen = usable; }
      }
    }
    if (whole || bestLen === 0) return false;
    this.runStart = bestStart;
    this.runLen = Math.min(need, bestLen);
    return true;
  }

  /** Remove [start, start+len) from the free range holding it. */
  private takeRun(start: number, len: number): void {
    const i = this.rangeIndexOf(start);
    assert(i >= 0, `allocator: run at ${start} is not free`);
    const s = this.starts[i]!, end = s + this.lens[i]!;
    assert(start + len <= end && len > 0, `allocator: run ${start}+${len} not inside free range ${s}+${end - s}`);
    if (start === s && start + len === end) {
      this.starts.splice(i, 1);
      this.lens.splice(i, 1);
    } else if (start === s) {
      this.starts[i] = s + len;
      this.lens[i] = end - s - len;
    } else if (start + len === end) {
      this.lens[i] = start - s;
    } else {
      this.lens[i] = start - s;
      this.starts.splice(i + 1, 0, start + len);
      this.lens.splice(i + 1, 0, end - start - len);
    }
    this.freeCount -= len;
  }
}

/**
 * xfs free-space allocation as far as data placement needs it (fs/xfs/libxfs/xfs_alloc.c and
 * xfs_bmap.c, v6.1): the allocation groups a fresh mkfs.xfs leaves, and a near-goal allocator
 * (xfs_alloc_ag_vextent_near's choice among the free extents: the longest piece up to the request,
 * then the nearest to the goal, with xfs_alloc_compute_diff's rule for where in a free extent
 * the piece starts). Free space is a sorted list of extents per AG: a fresh filesystem has a
 * handful, so a scan is exact and cheap.
 */
import type { XfsMkfsOptions } from '../../scenario/types.ts';

/** Inodes per 4 KiB block (512-byte inodes, mkfs.xfs's default since xfsprogs 3.2.3). */
export const XFS_INODES_PER_BLOCK = 8;
/** Inodes per inode chunk (XFS_INODES_PER_CHUNK). */
export const XFS_INODES_PER_CHUNK = 64;
/** Journal size mkfs.xfs gives a 1 GiB filesystem (sb_logblocks, xfsprogs 6.1: 64 MiB). */
const LOG_BLOCKS = 16384;
/**
 * The first block of an AG that holds no header or btree root: superblock, AGF, AGI, AGFL, the
 * bnobt/cntbt/inobt/finobt/rmapbt roots and the AGFL's own blocks, as the kernel leaves them once
 * xfs_alloc_fix_freelist has refilled the free list at the first allocation (xfs_db freesp after
 * mkfs.xfs 6.1 shows blocks 5-15 free; the 6.1 guest's first one-block file got block 12).
 */
const AG_FIRST_FREE = 12;

/** What mkfs.xfs made: AG geometry, root inode, stripe unit and width, extent size hint (blocks). */
export interface XfsGeometry {
  agCount: number;
  agBlocks: number;
  rootIno: number;
  /** sb_unit / sb_width in blocks (0: none). */
  dalignBlocks: number;
  swidthBlocks: number;
  /** The root directory's extent size hint (-d extszinherit), inherited by new files; 0: none. */
  extsizeBlocks: number;
}

/**
 * mkfs.xfs's default geometry (xfsprogs 6.1 calc_default_ag_geometry, align_ag_geometry) for a
 * device of `totalBlocks` 4 KiB blocks: 4 AGs on a single disk, 8 once a stripe unit says
 * "multi-disk" (up to 8 GiB); the root inode chunk follows the AG 0 headers (block 16, inode 128),
 * aligned up to the stripe unit when there is one (block 512, inode 4096 with su=2m: xfs_db on
 * an image made by mkfs.xfs 6.1, and the 6.1 guest's placements).
 */
export function xfsMkfsGeometry(totalBlocks: number, o: XfsMkfsOptions): XfsGeometry {
  const dalign = o.suBytes / 4096;
  const agCount = dalign > 0 ? (totalBlocks > 2 ** 21 ? 16 : 8) : 4;
  const agBlocks = Math.ceil(totalBlocks / agCount);
  const chunkBlock = dalign > 0 ? Math.ceil(16 / dalign) * dalign : 16;
  if (agBlocks < chunkBlock + 2 * LOG_BLOCKS / agCount + 64) {
    throw new Error(`mkfs.xfs: a device of ${totalBlocks * 4096} bytes is too small for the modelled geometry`);
  }
  return { agCount, agBlocks, rootIno: chunkBlock * XFS_INODES_PER_BLOCK, dalignBlocks: dalign,
    swidthBlocks: dalign * o.sw, extsizeBlocks: o.extsizeBytes / 4096 };
}

/** One allocation request (struct xfs_alloc_arg, the fields placement uses). */
export interface AllocReq {
  goal: number;
  maxLen: number;
  minLen: number;
  /** Start alignment in blocks (1: none). */
  alignment: number;
  /** XFS_ALLOC_USERDATA: file data (starts at a free extent's start when it lies before the goal). */
  userdata: boolean;
  /** XFS_ALLOCTYPE_THIS_BNO: exactly at the goal or nothing. */
  exact: boolean;
}

/** An allocated run. */
export interface XfsRun { bno: number; len: number }

export class XfsAllocator {
  readonly geo: XfsGeometry;
  /** Free extents per AG as [start, len, start, len, ...] in AG-block order (absolute block numbers). */
  private readonly free: number[][] = [];
  freeBlocks = 0;

  constructor(geo: XfsGeometry, totalBlocks: number) {
    this.geo = geo;
    const logAg = Math.floor(geo.agCount / 2);
    for (let ag = 0; ag < geo.agCount; ag++) {
      const base = ag * geo.agBlocks;
      const end = Math.min(base + geo.agBlocks, totalBlocks);
      const chunk = geo.rootIno / XFS_INODES_PER_BLOCK;
      const ext: number[] = [];
      if (ag === 0) ext.push(base + AG_FIRST_FREE, chunk - AG_FIRST_FREE, chunk + 8, end - chunk - 8);
      else if (ag === logAg) ext.push(base + AG_FIRST_FREE + LOG_BLOCKS, end - base - AG_FIRST_FREE - LOG_BLOCKS);
      else ext.push(base + AG_FIRST_FREE, end - base - AG_FIRST_FREE);
      this.free.push(ext.filter((_, i) => i % 2 === 1 || ext[i + 1]! > 0));
      for (let i = 1; i < ext.length; i += 2) this.freeBlocks += Math.max(0, ext[i]!);
    }
  }

  agOf(bno: number): number { return Math.floor(bno / this.geo.agBlocks); }

  /**
   * xfs_alloc_vextent with START_BNO / NEAR_BNO / THIS_BNO (v6.1): the goal's AG first, then the
   * others in order; null when nothing of minLen fits anywhere.
   */
  alloc(r: AllocReq): XfsRun | null {
    const first = Math.min(this.agOf(r.goal), this.geo.agCount - 1);
    for (let n = 0; n < this.geo.agCount; n++) {
      const ag = (first + n) % this.geo.agCount;
      const goal = n === 0 ? r.goal : ag * this.geo.agBlocks;
      const got = r.exact ? this.exactIn(ag, goal, r) : this.nearIn(ag, goal, r);
      if (got) { this.take(ag, got); return got; }
      if (r.exact) return null;
    }
    return null;
  }

  /**
   * xfs_alloc_ag_vextent_exact (fs/xfs/libxfs/xfs_alloc.c v6.1): the free extent holding the goal, from the goal
   * on.
   */
  private exactIn(ag: number, goal: number, r: AllocReq): XfsRun | null {
    const ext = this.free[ag]!;
    for (let i = 0; i < ext.length; i += 2) {
      const s = ext[i]!, e = s + ext[i + 1]!;
      if (goal >= s && goal < e) {
        const len = Math.min(r.maxLen, e - goal);
        return len >= r.minLen ? { bno: goal, len } : null;
      }
    }
    return null;
  }

  /**
   * xfs_alloc_ag_vextent_near (v6.1): every free extent is a candidate; the longest piece (up to
   * maxLen) wins, then the smallest distance from the goal, then the lower block.
   */
  private nearIn(ag: number, goal: number, r: AllocReq): XfsRun | null {
    const ext = this.free[ag]!;
    let best: XfsRun | null = null;
    let bestDiff = Infinity;
    for (let i = 0; i < ext.length; i += 2) {
      const s = ext[i]!, e = s + ext[i + 1]!;
      const bno = computeStart(goal, r.maxLen, r.alignment, r.userdata, s, e);
      if (bno < 0) continue;
      const len = Math.min(r.maxLen, e - bno);
      if (len < r.minLen) continue;
      const diff = Math.abs(bno - goal);
      if (!best || len > best.len || (len === best.len && diff < bestDiff)) { best = { bno, len }; bestDiff = diff; }
    }
    return best;
  }

  private take(ag: number, run: XfsRun): void {
    const ext = this.free[ag]!;
    for (let i = 0; i < ext.length; i += 2) {
      const s = ext[i]!, e = s + ext[i + 1]!;
      if (run.bno < s || run.bno + run.len > e) continue;
      const pieces: number[] = [];
      if (run.bno > s) pieces.push(s, run.bno - s);
      if (run.bno + run.len < e) pieces.push(run.bno + run.len, e - run.bno - run.len);
      ext.splice(i, 2, ...pieces);
      this.freeBlocks -= run.len;
      return;
    }
    throw new Error(`xfs alloc: blocks ${run.bno}+${run.len} are not free`);
  }

  /** xfs_free_extent (v6.1): blocks go back to their AG's free space, merged with free neighbours. */
  release(bno: number, len: number): void {
    if (len <= 0) return;
    const ext = this.free[this.agOf(bno)]!;
    let i = 0;
    while (i < ext.length && ext[i]! < bno) i += 2;
    ext.splice(i, 0, bno, len);
    if (i + 2 < ext.length && bno + len === ext[i + 2]) {
      ext[i + 1] = ext[i + 1]! + ext[i + 3]!;
      ext.splice(i + 2, 2);
    }
    if (i >= 2 && ext[i - 2]! + ext[i - 1]! === bno) { ext[i - 1] = ext[i - 1]! + ext[i + 1]!; ext.splice(i, 2); }
    this.freeBlocks += len;
  }
}

/**
 * xfs_alloc_compute_diff (v6.1): where in free extent [s, e) a piece for `want` blocks near `goal`
 * starts: at the extent's (aligned) start when the extent begins at or after the goal, or, for
 * file data, when it ends before the request would (so the file can grow into what is left); at
 * the goal (aligned up, or one alignment down if that fits better) when the extent covers the
 * request; else as late as the extent allows. -1: no aligned start inside the extent.
 */
function computeStart(goal: number, want: number, align: number, userdata: boolean, s: number, e: number): number {
  const up = (x: number): number => Math.ceil(x / align) * align;
  if (s >= goal || (userdata && e < goal + want)) {
    const b = up(s);
    return b < e ? b : -1;
  }
  if (e >= goal + want && align > 1) {
    const b1 = up(goal), b2 = b1 - align;
    const l1 = b1 < e ? Math.min(want, e - b1) : -1;
    const l2 = b2 >= s ? Math.min(want, e - b2) : -1;
    if (l2 > l1 || (l2 === l1 && l2 >= 0 && goal - b2 < b1 - goal)) return b2;
    return l1 >= 0 ? b1 : -1;
  }
  if (e >= goal + want) return goal;
  const b = Math.floor((e - want) / align) * align;
  return b >= s ? b : up(s) < e ? up(s) : -1;
}

/**
 * Per-inode extent map: the leaf contents of an ext4 extent tree, as a sorted array of extents
 * (models the mapping semantics of fs/ext4/extents.c, v6.1; the tree's index levels, which only
 * cost metadata blocks, are not modelled). Memory grows with the number of extents, not the
 * file size. Block size is 4096 bytes (DAX requires block size = page size).
 *
 * Logical block numbers are 32-bit in ext4 (ext4_lblk_t); physical block numbers are 48-bit.
 * Pure data: no journal, no allocator. The caller (the fs) allocates the physical blocks, records
 * the change in the journal and frees what `remove` returns.
 */
import { assert } from '../../lib/assert.ts';

export const EXT4_BLOCK_SIZE_BYTES = 4096;
/** Longest written extent (EXT_INIT_MAX_LEN, fs/ext4/ext4_extents.h): 2^15 blocks = 128 MiB. */
export const EXT_INIT_MAX_LEN = 32768;
/** Longest unwritten extent (EXT_UNWRITTEN_MAX_LEN): the top bit of ee_len marks "unwritten". */
export const EXT_UNWRITTEN_MAX_LEN = 32767;
/** One past the largest logical block (ext4 reserves 0xffffffff as EXT_MAX_BLOCKS). */
export const EXT_MAX_BLOCKS = 0xffffffff;
/** One past the largest physical block (48-bit ee_start_hi:ee_start_lo). */
export const EXT_PBLK_LIMIT = 2 ** 48;

export type ExtentKind = 'hole' | 'written' | 'unwritten';
export type MappedKind = 'written' | 'unwritten';

/**
 * Result of a lookup at `lblk`. For a mapped block: `pblk` is the physical block of `lblk` and
 * `lenBlocks` how many blocks from `lblk` on remain in the same extent. For a hole: `pblk` is -1
 * and `lenBlocks` runs to the next extent, or Infinity when none follows.
 */
export interface ExtentLookup { kind: ExtentKind; lblk: number; pblk: number; lenBlocks: number }

export interface Extent { lblk: number; pblk: number; lenBlocks: number; kind: MappedKind }

/** The fields of a struct iomap that ->iomap_begin fills from one extent lookup (ext4, xfs). */
export interface IomapExtent { type: 'hole' | 'unwritten' | 'mapped'; pblk: number; lenBlocks: number; isNew: boolean }

/**
 * An ->iomap_begin's first step (ext4_set_iomap / xfs_bmbt_to_iomap, 6.1): the extent found at the
 * asked block, cut to the asked length, as an iomap of its type (not new until the caller allocates).
 */
export function iomapFromLookup(m: ExtentLookup, lenPages: number, out: IomapExtent): void {
  out.isNew = false;
  out.lenBlocks = Math.min(m.lenBlocks, lenPages);
  out.pblk = m.pblk;
  out.type = m.kind === 'written' ? 'mapped' : m.kind;
}

/** Largest extent ext4 will build of this kind. */
export function extentMaxLen(kind: MappedKind): number {
  return kind === 'written' ? EXT_INIT_MAX_LEN : EXT_UNWRITTEN_MAX_LEN;
}

function assertRange(lblk: number, lenBlocks: number, what: string): void {
  assert(Number.isSafeInteger(lblk) && lblk >= 0, `${what}: bad logical block ${lblk}`);
  assert(lenBlocks === Infinity || (Number.isSafeInteger(lenBlocks) && lenBlocks > 0),
    `${what}: bad length ${lenBlocks}`);
  assert(lenBlocks === Infinity || lblk + lenBlocks <= EXT_MAX_BLOCKS,
    `${what}: range ${lblk}+${lenBlocks} past EXT_MAX_BLOCKS`);
}

/**
 * Can `b` be appended to `a`? Same kind, logically and physically contiguous, and the sum within
 * the kind's maximum length (models ext4_can_extents_be_merged(), fs/ext4/extents.c, v6.1).
 */
function canMerge(a: Extent, b: Extent): boolean {
  return a.kind === b.kind && a.lblk + a.lenBlocks === b.lblk && a.pblk + a.lenBlocks === b.pblk &&
    a.lenBlocks + b.lenBlocks <= extentMaxLen(a.kind);
}

/** Extents the inode's i_block holds itself (EXT4_EXT_ROOT: 60 bytes = a 12-byte header + 4 entries). */
export const EXT4_ROOT_EXTENTS = 4;
/** Entries of a 4 KiB tree block ((4096 - 12) / 12). */
export const EXT4_BLOCK_EXTENTS = 340;

export class ExtentMap {
  private ext: Extent[] = [];
  private mappedBlocks = 0;
  /** Depth of the on-disk extent tree: 0 while the extents fit in the inode. */
  private depth = 0;

  /** Blocks held by extents, written or unwritten (st_blocks = blocksMapped * 8 sectors). */
  get blocksMapped(): number { return this.mappedBlocks; }
  get extentCount(): number { return this.ext.length; }

  /**
   * Blocks the extent tree itself occupies (counted in st_blocks). Up to EXT4_ROOT_EXTENTS
   * extents live in the inode; the first insert past that moves them into a new leaf block
   * (ext4_ext_grow_indepth, extents.c v6.1), and the tree stays a block deep until an insert or
   * conversion leaves few enough extents to move back into the inode (ext4_ext_try_to_merge_up); removing extents
   * alone never shrinks it, unless none is left. Measured on the 6.1 guest: a fifth extent adds 8
   * sectors to st_blocks, merging back to one extent removes them. Deeper trees are counted as
   * one block per 340 extents plus their index blocks (the model keeps no real tree shape).
   */
  get treeBlocks(): number {
    if (this.depth === 0) return 0;
    const leaves = Math.max(1, Math.ceil(this.ext.length / EXT4_BLOCK_EXTENTS));
    return leaves <= EXT4_ROOT_EXTENTS ? leaves : leaves + Math.ceil(leaves / EXT4_BLOCK_EXTENTS);
  }

  /** After an insert or conversion: grow the tree past the inode's root, or merge a one-leaf tree back up. */
  private settleDepth(): void {
    if (this.ext.length > EXT4_ROOT_EXTENTS) this.depth = Math.max(this.depth, 1);
    else if (this.depth === 1) this.depth = 0;
  }

  /** Index of the last extent starting at or before `lblk`, or -1. */
  private findIndex(lblk: number): number {
    let lo = 0, hi = this.ext.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ext[mid]!.lblk <= lblk) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  /** Index of the first extent that ends after `lblk` (may start after it), or length. */
  private firstEndingAfter(lblk: number): number {
    const i = this.findIndex(lblk);
    if (i < 0) return 0;
    const e = this.ext[i]!;
    return e.lblk + e.lenBlocks > lblk ? i : i + 1;
  }

  /**
   * Map one logical block without allocating: hole, written or unwritten, and the length of the
   * run from there (models ext4_map_blocks() without EXT4_GET_BLOCKS_CREATE, which answers from
   * ext4_ext_map_blocks(), fs/ext4/inode.c + extents.c, v6.1). Fills `out` and returns it, so the
   * fault path can reuse one object and allocate nothing.
   */
  lookupInto(lblk: number, out: ExtentLookup): ExtentLookup {
    assert(Number.isSafeInteger(lblk) && lblk >= 0 && lblk < EXT_MAX_BLOCKS, `extent lookup: bad block ${lblk}`);
    const i = this.findIndex(lblk);
    if (i >= 0) {
      const e = this.ext[i]!;
      const end = e.lblk + e.lenBlocks;
      if (lblk < end) {
        out.kind = e.kind; out.lblk = lblk; out.pblk = e.pblk + (lblk - e.lblk); out.lenBlocks = end - lblk;
        return out;
      }
    }
    const next = this.ext[i + 1];
    out.kind = 'hole'; out.lblk = lblk; out.pblk = -1;
    out.lenBlocks = next === undefined ? Infinity : next.lblk - lblk;
    return out;
  }

  /** As lookupInto, into a new object. */
  lookup(lblk: number): ExtentLookup {
    return this.lookupInto(lblk, { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 0 });
  }

  /**
   * Allocation goal for a new block at `lblk`: the physical block that would continue the nearest
   * extent at or before it (or, before the first extent, precede that extent), so a growing file
   * stays contiguous. -1 when the file has no extents (ext4 then uses a block in the inode's
   * group; the allocator treats -1 as "no goal"). Models ext4_ext_find_goal(), extents.c, v6.1.
   */
  goalFor(lblk: number): number {
    assert(Number.isSafeInteger(lblk) && lblk >= 0, `extent goal: bad block ${lblk}`);
    if (this.ext.length === 0) return -1;
    const i = this.findIndex(lblk);
    const e = this.ext[i < 0 ? 0 : i]!;
    const goal = e.pblk + (lblk - e.lblk);
    return goal >= 0 && goal < EXT_PBLK_LIMIT ? goal : -1;
  }

  /**
   * The nearest mapped block before `lblk` and the first one at or after `lblk + lenBlocks`, as
   * logical/physical pairs (-1 when there is none): ext4_ext_search_left / ext4_ext_search_right
   * (extents.c, v6.1), which fill the allocation request's lleft/pleft and lright/pright.
   */
  neighbours(lblk: number, lenBlocks: number): { lleft: number; pleft: number; lright: number; pright: number } {
    const out = { lleft: -1, pleft: -1, lright: -1, pright: -1 };
    const i = this.findIndex(lblk - 1);
    if (lblk > 0 && i >= 0) {
      const e = this.ext[i]!;
      const last = Math.min(lblk - 1, e.lblk + e.lenBlocks - 1);
      out.lleft = last; out.pleft = e.pblk + (last - e.lblk);
    }
    const j = this.firstEndingAfter(lblk + lenBlocks);
    const r = this.ext[j];
    if (r !== undefined) {
      const first = Math.max(r.lblk, lblk + lenBlocks);
      out.lright = first; out.pright = r.pblk + (first - r.lblk);
    }
    return out;
  }

  /**
   * Map [lblk, lblk+lenBlocks) to [pblk, pblk+lenBlocks). The logical range must be a hole.
   * Longer ranges are stored as several extents of at most the kind's maximum length; each piece
   * merges with a logically and physically contiguous neighbour of the same kind when the result
   * stays within that maximum (models ext4_ext_insert_extent() + ext4_ext_try_to_merge(),
   * extents.c, v6.1).
   */
  insert(lblk: number, pblk: number, lenBlocks: number, kind: MappedKind): void {
    assertRange(lblk, lenBlocks, 'extent insert');
    assert(lenBlocks !== Infinity, 'extent insert: infinite length');
    assert(kind === 'written' || kind === 'unwritten', `extent insert: bad kind ${String(kind)}`);
    assert(Number.isSafeInteger(pblk) && pblk >= 0 && pblk + lenBlocks <= EXT_PBLK_LIMIT,
      `extent insert: bad physical range ${pblk}+${lenBlocks}`);
    const i = this.firstEndingAfter(lblk);
    const next = this.ext[i];
    assert(next === undefined || next.lblk >= lblk + lenBlocks,
      `extent insert: [${lblk}, ${lblk + lenBlocks}) overlaps extent at ${next?.lblk}`);
    const max = extentMaxLen(kind);
    let done = 0;
    while (done < lenBlocks) {
      const n = Math.min(max, lenBlocks - done);
      const at = this.firstEndingAfter(lblk + done);
      this.ext.splice(at, 0, { lblk: lblk + done, pblk: pblk + done, lenBlocks: n, kind });
      this.mergeAround(at);
      done += n;
    }
    this.mappedBlocks += lenBlocks;
    this.settleDepth();
  }

  /**
   * Merge extent `idx` into its left neighbour and then its right neighbour where allowed.
   * Returns the index of the extent now holding the blocks of the original one.
   */
  private mergeAround(idx: number): number {
    const prev = this.ext[idx - 1];
    let cur = this.ext[idx]!;
    if (prev !== undefined && canMerge(prev, cur)) {
      prev.lenBlocks += cur.lenBlocks;
      this.ext.splice(idx, 1);
      idx -= 1;
      cur = prev;
    }
    const next = this.ext[idx + 1];
    if (next !== undefined && canMerge(cur, next)) {
      cur.lenBlocks += next.lenBlocks;
      this.ext.splice(idx + 1, 1);
    }
    return idx;
  }

  /**
   * Mark the unwritten parts of [lblk, lblk+lenBlocks) written, splitting unwritten extents at
   * the range edges, and merge each converted piece with written neighbours (models
   * ext4_convert_unwritten_extents() -> ext4_split_convert_extents() + ext4_ext_try_to_merge(),
   * extents.c, v6.1). Holes and written blocks in the range are left as they are: the kernel only
   * converts ranges it allocated unwritten. Not modelled: ext4's zero-out of small extents
   * (EXT4_EXT_ZERO_LEN) instead of splitting, which changes the extent count but not the mapping.
   */
  convertToWritten(lblk: number, lenBlocks: number): void {
    this.convertKind(lblk, lenBlocks, 'written');
  }

  /**
   * Mark the written parts of [lblk, lblk+lenBlocks) unwritten in place, keeping their blocks:
   * the inverse of convertToWritten, split at the range edges, each piece merged with unwritten
   * neighbours (models ext4_zero_range's ext4_alloc_file_blocks with
   * EXT4_GET_BLOCKS_CONVERT_UNWRITTEN -> ext4_split_convert_extents, extents.c v6.1). Holes in
   * the range are left for the caller to fill.
   */
  convertToUnwritten(lblk: number, lenBlocks: number): void {
    this.convertKind(lblk, lenBlocks, 'unwritten');
  }

  /**
   * Turn the parts of [lblk, lblk+lenBlocks) that are not of kind `to` into `to`, splitting at the
   * edges and merging.
   */
  private convertKind(lblk: number, lenBlocks: number, to: MappedKind): void {
    assertRange(lblk, lenBlocks, 'extent convert');
    const from: MappedKind = to === 'written' ? 'unwritten' : 'written';
    const end = lblk + lenBlocks;
    let i = this.firstEndingAfter(lblk);
    while (i < this.ext.length && this.ext[i]!.lblk < end) {
      const e = this.ext[i]!;
      if (e.kind === to) { i += 1; continue; }
      const eEnd = e.lblk + e.lenBlocks;
      const s = Math.max(lblk, e.lblk);
      const t = Math.min(end, eEnd);
      let mid = i;
      if (s > e.lblk) {
        // The left part keeps its kind in `e`; the converted part becomes a new extent after it.
        this.ext.splice(i + 1, 0, { lblk: s, pblk: e.pblk + (s - e.lblk), lenBlocks: t - s, kind: to });
        e.lenBlocks = s - e.lblk;
        mid = i + 1;
      } else {
        e.kind = to;
        e.lenBlocks = t - s;
      }
      const m = this.ext[mid]!;
      if (t < eEnd) {
        this.ext.splice(mid + 1, 0, { lblk: t, pblk: m.pblk + m.lenBlocks, lenBlocks: eEnd - t, kind: from });
      }
      i = this.mergeAround(mid) + 1;
    }
    this.settleDepth();
  }

  /**
   * Unmap [lblk, lblk+lenBlocks) (hole punch, or truncate with lenBlocks = Infinity), splitting
   * extents at the edges. Returns the physical ranges freed, in logical order, one per extent
   * piece removed; the caller frees them in the allocator. Models ext4_ext_remove_space() /
   * ext4_ext_rm_leaf(), extents.c, v6.1 (which walks from the end backwards; the order returned
   * here is ascending for readability, the freed set is the same).
   */
  remove(lblk: number, lenBlocks: number): Array<{ pblk: number; lenBlocks: number }> {
    assertRange(lblk, lenBlocks, 'extent remove');
    const end = lblk + lenBlocks;
    const freed: Array<{ pblk: number; lenBlocks: number }> = [];
    let i = this.firstEndingAfter(lblk);
    let delFrom = -1, delCount = 0;
    while (i < this.ext.length && this.ext[i]!.lblk < end) {
      const e = this.ext[i]!;
      const eEnd = e.lblk + e.lenBlocks;
      const s = Math.max(lblk, e.lblk);
      const t = Math.min(end, eEnd);
      freed.push({ pblk: e.pblk + (s - e.lblk), lenBlocks: t - s });
      this.mappedBlocks -= t - s;
      if (s > e.lblk && t < eEnd) {
        // Punch inside one extent: it splits in two, nothing else can be affected.
        this.ext.splice(i + 1, 0, { lblk: t, pblk: e.pblk + (t - e.lblk), lenBlocks: eEnd - t, kind: e.kind });
        e.lenBlocks = s - e.lblk;
        break;
      } else if (s > e.lblk) {
        e.lenBlocks = s - e.lblk;
      } else if (t < eEnd) {
        e.pblk += t - e.lblk;
        e.lenBlocks = eEnd - t;
        e.lblk = t;
      } else {
        if (delFrom < 0) delFrom = i;
        delCount += 1;
      }
      i += 1;
    }
    if (delCount > 0) this.ext.splice(delFrom, delCount);
    if (this.ext.length === 0) this.depth = 0; // ext4_ext_remove_space resets eh_depth of an emptied tree
    assert(this.mappedBlocks >= 0, 'extent remove: blocksMapped below zero');
    return freed;
  }

  /**
   * Split the extent holding `lblk` (if one does and starts before it) into two at `lblk`, so no
   * extent straddles the block (ext4_split_extent_at as ext4_insert_range calls it, extents.c,
   * v6.1). Both halves keep the kind.
   */
  splitAt(lblk: number): void {
    assertRange(lblk, 1, 'extent split');
    const i = this.findIndex(lblk);
    const e = i >= 0 ? this.ext[i]! : undefined;
    if (e === undefined || e.lblk === lblk || e.lblk + e.lenBlocks <= lblk) return;
    const head = lblk - e.lblk;
    this.ext.splice(i + 1, 0, { lblk, pblk: e.pblk + head, lenBlocks: e.lenBlocks - head, kind: e.kind });
    e.lenBlocks = head;
    this.settleDepth();
  }

  /**
   * Move every extent starting at or after `startLblk` by `shiftBlocks` logical blocks, left
   * (toward block 0) or right, keeping physical blocks and kinds (ext4_ext_shift_extents,
   * extents.c, v6.1 and 6.18). Left: the blocks [startLblk - shiftBlocks, startLblk) must be
   * free (collapse removed them) and the first moved extent merges with its new left
   * neighbour where the two are contiguous on disk (ext4_ext_try_to_merge); right: no extent may
   * straddle `startLblk` (insert splits first) and none may move past EXT_MAX_BLOCKS.
   */
  shift(startLblk: number, shiftBlocks: number, dir: 'left' | 'right'): void {
    assertRange(startLblk, 1, 'extent shift');
    assert(Number.isSafeInteger(shiftBlocks) && shiftBlocks > 0, `extent shift: bad amount ${shiftBlocks}`);
    const i = this.firstEndingAfter(startLblk);
    const first = this.ext[i];
    if (first === undefined) return;
    assert(first.lblk >= startLblk, `extent shift: extent at ${first.lblk} straddles block ${startLblk}`);
    if (dir === 'left') {
      const prev = this.ext[i - 1];
      assert(startLblk >= shiftBlocks && (prev === undefined || prev.lblk + prev.lenBlocks <= startLblk - shiftBlocks),
        `extent shift: blocks below ${startLblk} are not free for a shift of ${shiftBlocks}`);
      for (let j = i; j < this.ext.length; j++) this.ext[j]!.lblk -= shiftBlocks;
      this.mergeAround(i);
    } else {
      const last = this.ext[this.ext.length - 1]!;
      assert(last.lblk + last.lenBlocks + shiftBlocks <= EXT_MAX_BLOCKS, 'extent shift: past EXT_MAX_BLOCKS');
      for (let j = i; j < this.ext.length; j++) this.ext[j]!.lblk += shiftBlocks;
    }
    this.settleDepth();
  }

  /** Sorted copy of all extents. */
  extents(): ReadonlyArray<Readonly<Extent>> {
    return this.ext.map((e) => ({ lblk: e.lblk, pblk: e.pblk, lenBlocks: e.lenBlocks, kind: e.kind }));
  }

  /** Deep copy (the crash model keeps committed snapshots). */
  clone(): ExtentMap {
    const c = new ExtentMap();
    c.ext = this.ext.map((e) => ({ lblk: e.lblk, pblk: e.pblk, lenBlocks: e.lenBlocks, kind: e.kind }));
    c.mappedBlocks = this.mappedBlocks;
    c.depth = this.depth;
    return c;
  }

  /** Check every structural invariant (O(extents)); for tests and debug checks. */
  checkInvariants(): void {
    let sum = 0;
    for (let i = 0; i < this.ext.length; i++) {
      const e = this.ext[i]!;
      assert(e.lenBlocks > 0 && e.lenBlocks <= extentMaxLen(e.kind), `extent ${i}: length ${e.lenBlocks} out of range`);
      assert(e.lblk >= 0 && e.lblk + e.lenBlocks <= EXT_MAX_BLOCKS, `extent ${i}: logical range out of range`);
      assert(e.pblk >= 0 && e.pblk + e.lenBlocks <= EXT_PBLK_LIMIT, `extent ${i}: physical range out of range`);
      const prev = this.ext[i - 1];
      assert(prev === undefined || prev.lblk + prev.lenBlocks <= e.lblk, `extent ${i}: overlaps or out of order`);
      sum += e.lenBlocks;
    }
    assert(sum === this.mappedBlocks, `extent map: blocksMapped ${this.mappedBlocks} != sum ${sum}`);
  }
}

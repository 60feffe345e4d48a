/**
 * Zeroing the partial blocks at the edges of a range (ext4_zero_partial_blocks and
 * ext4_block_zero_page_range, fs/ext4/inode.c, 6.1 and 6.18), which ext4_zero_range,
 * ext4_punch_hole and ext4_truncate (ext4_block_truncate_page) call after the whole blocks of
 * the range are dealt with. The VFS part (truncate_pagecache_range) zeroes only the folios that
 * are in the page cache; this is the part that reaches the file's blocks:
 * - page cache (__ext4_block_zero_page_range): the folio is looked up or created, the block is
 *   read into it when it is mapped (written or unwritten) and not yet uptodate, the bytes are
 *   zeroed and the buffer marked dirty, so write-back puts the zeros on the disk. A block that
 *   is still a hole needs no zeroing (the kernel leaves the empty folio it created in the cache;
 *   the model creates none: KNOWN-DIFFERENCES.md);
 * - DAX (dax_zero_range with IOMAP_ZERO and no IOMAP_WRITE): ext4_iomap_begin only looks the
 *   block up, so holes and unwritten blocks are skipped and written blocks are zeroed on the
 *   device; nothing is allocated.
 * Measured: test/oracle-runs/falloc-zero-edges.* (6.18 ext4, 6.1 ext4-dax).
 */
import type { Inode } from '../fs.ts';
import type { Ext4 } from './ext4.ts';
import { EXT4_BLOCK_SIZE_BYTES as BLOCK } from './extents.ts';
import { daxZeroBlockRange } from '../../dax/rw.ts';
import { addNewFolio, findFolio, folioMarkDirty, waitFolioUnlocked } from '../../mm/pagemap.ts';

/**
 * ext4_zero_partial_blocks (6.1/6.18): zero the part of [from, from+len) that lies in a block
 * the range covers only partly: one block when the range starts and ends in it, else the head
 * block and the tail block. Whole blocks are the caller's.
 */
export function ext4ZeroPartialBlocks(fs: Ext4, inode: Inode, from: number, len: number): void {
  if (len <= 0) return;
  const end = from + len;
  const first = Math.floor(from / BLOCK), last = Math.floor((end - 1) / BLOCK);
  const headPartial = from % BLOCK !== 0, tailPartial = end % BLOCK !== 0;
  if (first === last) {
    if (headPartial || tailPartial) ext4BlockZeroRange(fs, inode, from, end);
    return;
  }
  if (headPartial) ext4BlockZeroRange(fs, inode, from, (first + 1) * BLOCK);
  if (tailPartial) ext4BlockZeroRange(fs, inode, last * BLOCK, end);
}

/**
 * ext4_block_zero_page_range (6.1/6.18) for [from, to) inside one block: DAX zeroes a written
 * block on the device; the page cache zeroes the block's folio, reading it in first.
 */
export function ext4BlockZeroRange(fs: Ext4, inode: Inode, from: number, to: number): void {
  const lblk = Math.floor(from / BLOCK);
  const ei = fs.ei(inode);
  const m = ei.extents.lookup(lblk);
  if (inode.dax) {
    if (m.kind === 'written') daxZeroBlockRange(fs.pmem!, m.pblk, from - lblk * BLOCK, to - lblk * BLOCK);
    return;
  }
  const k = fs.k, f = k.frames, mapping = inode.mapping;
  let head = findFolio(mapping, lblk);
  if (head < 0) {
    // Delayed-allocation data lives only in the page cache, so an absent folio over a hole
    // holds nothing to zero.
    if (m.kind === 'hole') return;
    head = addNewFolio(k, mapping, lblk, 0, false);
    if (head < 0) return; // no memory: the kernel's -ENOMEM is dropped by its callers too
    fs.readFolios(inode, [head]);
  }
  waitFolioUnlocked(k, head);
  const pfn = head + (lblk - f.index[head]!);
  for (let b = from - lblk * BLOCK; b < to - lblk * BLOCK; b++) f.writeByte(pfn, b, 0);
  folioMarkDirty(k, head);
}

/**
 * FALLOC_FL_COLLAPSE_RANGE and FALLOC_FL_INSERT_RANGE on ext4 (fs/ext4/extents.c
 * ext4_collapse_range, ext4_insert_range, ext4_ext_shift_extents; 6.1 and 6.18): the range is
 * removed from (or a hole is opened in) the file and every extent after it moves by the range's
 * length, so the bytes after the range are seen at new offsets. The page cache cannot follow a
 * shift, so everything from the start of the range on is written back first, then truncated
 * from the page cache and unmapped from every mapping (truncate_pagecache: private COW copies
 * too); the next access reads the shifted blocks. A DAX file is unmapped whole first
 * (ext4_break_layouts), whatever the range.
 *
 * Per version (profile knob ext4FallocBreakLayoutsFirst): 5.10/6.1/6.12 check alignment and
 * i_size before they break layouts, and write back only the page before the range and the data
 * after it (the collapsed pages are dropped unwritten); the refactored ext4_fallocate of 6.18
 * breaks layouts first, for every non-allocating mode, then writes back from the range's start.
 */
import { EFBIG, EINVAL } from '../../lib/errno.ts';
import type { Inode } from '../fs.ts';
import type { Ext4 } from './ext4.ts';
import { PAGE_SIZE } from '../../mm/constants.ts';
import { truncatePagecache } from '../syscalls.ts';
import { sMaxbytes } from '../limits.ts';
import { EXT4_BLOCK_SIZE_BYTES as BLOCK } from './extents.ts';

/**
 * Drop delayed-allocation reservations from block `first` on (pages truncated unwritten; ext4_es_remove_extent's
 * effect in ext4_collapse_range, v6.1).
 */
function dropDelalloc(fs: Ext4, inode: Inode, first: number): void {
  const ei = fs.ei(inode);
  for (const i of [...ei.delalloc]) if (i >= first && ei.delalloc.delete(i)) fs.reservedBlocks--;
}

/**
 * ext4_collapse_range (6.1, 6.18): EINVAL unless offset and len are block-aligned and the range
 * ends before EOF (a collapse reaching EOF would be a truncate); then write back, truncate the
 * page cache from the page holding `offset`, free the range's blocks, shift the extents after it
 * left, and shrink i_size by len. Returns 0 or -errno.
 */
export function ext4CollapseRange(fs: Ext4, inode: Inode, offset: number, len: number): number {
  const k = fs.k;
  const early = k.profile.ext4FallocBreakLayoutsFirst;
  if (early) fs.breakLayouts(inode);
  if (offset % BLOCK !== 0 || len % BLOCK !== 0) return -EINVAL;
  if (offset + len >= inode.sizeBytes) return -EINVAL;
  if (!early) fs.breakLayouts(inode);
  const start = offset / BLOCK, stop = (offset + len) / BLOCK;
  const ipage = Math.floor(offset / PAGE_SIZE);
  if (early) fs.writeAndWait(inode, ipage, Infinity);
  else {
    fs.writeAndWait(inode, ipage, Math.floor(offset / PAGE_SIZE));
    fs.writeAndWait(inode, Math.floor((offset + len) / PAGE_SIZE), Infinity);
  }
  truncatePagecache(k, inode, ipage * PAGE_SIZE);
  const ei = fs.ei(inode);
  fs.journal.startHandle();
  fs.discardPreallocations(inode);
  dropDelalloc(fs, inode, start);
  for (const r of ei.extents.remove(start, stop - start)) fs.alloc.freeAfterCommit(r.pblk, r.lenBlocks);
  ei.extents.shift(stop, stop - start, 'left');
  inode.sizeBytes -= len;
  fs.journal.recordMetadata(inode.ino, 'extent', true, 1);
  fs.journal.recordMetadata(inode.ino, 'size', true, 1);
  fs.journal.stopHandle();
  return 0;
}

/**
 * ext4_insert_range (6.1, 6.18): EINVAL unless offset and len are block-aligned, EFBIG when
 * i_size + len passes s_maxbytes, EINVAL when offset is at or past EOF; then write back and
 * truncate the page cache from the page holding `offset`, grow i_size by len, split the extent
 * holding `offset` and shift it and every later extent right, leaving a hole of len bytes.
 * Returns 0 or -errno.
 */
export function ext4InsertRange(fs: Ext4, inode: Inode, offset: number, len: number): number {
  const k = fs.k;
  const early = k.profile.ext4FallocBreakLayoutsFirst;
  if (early) fs.breakLayouts(inode);
  if (offset % BLOCK !== 0 || len % BLOCK !== 0) return -EINVAL;
  if (len > sMaxbytes(inode) - inode.sizeBytes) return -EFBIG;
  if (offset >= inode.sizeBytes) return -EINVAL;
  if (!early) fs.breakLayouts(inode);
  const start = offset / BLOCK;
  const ipage = Math.floor(offset / PAGE_SIZE);
  fs.writeAndWait(inode, ipage, Infinity);
  truncatePagecache(k, inode, ipage * PAGE_SIZE);
  const ei = fs.ei(inode);
  fs.journal.startHandle();
  inode.sizeBytes += len;
  fs.discardPreallocations(inode);
  dropDelalloc(fs, inode, start);
  ei.extents.splitAt(start);
  ei.extents.shift(start, len / BLOCK, 'right');
  fs.journal.recordMetadata(inode.ino, 'extent', true, 1);
  fs.journal.recordMetadata(inode.ino, 'size', true, 1);
  fs.journal.stopHandle();
  return 0;
}

/**
 * File-size limits the VFS applies before a filesystem sees a call (issue 17): s_maxbytes per
 * filesystem and the checks that use it, so that offsets near or past the maximum file size get
 * Linux's errno instead of reaching the extent tree's invariants.
 */
import type { Inode } from './fs.ts';
import { EFBIG } from '../lib/errno.ts';

/**
 * sb->s_maxbytes: ext4_max_size (fs/ext4/super.c, 6.1 and 6.18) for extent-mapped files with 4 KiB
 * blocks is EXT_MAX_BLOCKS (2^32 - 1) blocks; tmpfs has MAX_LFS_FILESIZE (shmem_fill_super), which
 * the model holds at 2^44 bytes (its page indices; documented in README "Robustness"), as it does
 * for xfs (xfs_fs_fill_super: MAX_LFS_FILESIZE too).
 */
export function sMaxbytes(inode: Inode): number {
  return inode.sb.fs.typeName === 'ext4' ? 0xffffffff * 4096 : 2 ** 44;
}

/** inode_newsize_ok (fs/attr.c, 6.1/6.18): a size past s_maxbytes is EFBIG. Returns 0 or -EFBIG. */
export function newsizeOk(inode: Inode, size: number): number {
  return size > sMaxbytes(inode) ? -EFBIG : 0;
}

/**
 * generic_write_check_limits (mm/filemap.c, 6.1/6.18): a write starting at or past s_maxbytes is
 * EFBIG, one crossing it is cut short there. Returns the count allowed, or -EFBIG.
 */
export function writeLimit(inode: Inode, pos: number, count: number): number {
  const max = sMaxbytes(inode);
  if (pos >= max) return -EFBIG;
  return Math.min(count, max - pos);
}

/** filemap_read (mm/filemap.c, 6.1/6.18): nothing is read at or past s_maxbytes; a read is cut there. */
export function readLimit(inode: Inode, pos: number, count: number): number {
  const max = sMaxbytes(inode);
  return pos >= max ? 0 : Math.min(count, max - pos);
}

/**
 * Read-only mounts and remount (fs/super.c reconfigure_super and sb_prepare_remount_readonly,
 * fs/namespace.c do_remount, fs/sync.c sync_filesystem; 6.1 and 6.18). The model has one mount
 * per superblock, so the superblock's read-only flag stands for both SB_RDONLY and MNT_READONLY.
 * What a read-only mount refuses is checked where the kernel checks it: open for write, O_TRUNC
 * and O_CREAT of a new name (fs/namei.c, sb_permission: EROFS), unlink and mkdir (mnt_want_write).
 */
import { EBUSY, EINVAL } from '../lib/errno.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { SuperBlock } from './fs.ts';

/**
 * mount(2) with MS_REMOUNT on `target`, read-only when `readOnly` (MS_RDONLY), else read-write.
 * EINVAL when no filesystem is mounted there (do_remount, fs/namespace.c v6.1/v6.18: not a mount root). Going read-
 * only is
 * EBUSY while any file of the filesystem is open for write, through a descriptor or a mapping that
 * holds the file (FMODE_WRITER counts on the mount, sb_prepare_remount_readonly), or while an
 * unlinked inode is still open (s_remove_count); otherwise the filesystem is synced first (dirty
 * pages written back, delayed allocations made). Returns 0 or -errno.
 */
export function remount(k: Kernel, target: string, readOnly: boolean): number {
  const sb = k.vfs.mounts.find((m) => m.mountPoint === target);
  if (sb === undefined) return -EINVAL;
  if (!readOnly || sb.readOnly) {
    sb.readOnly = readOnly;
    return 0;
  }
  if (sb.writers > 0 || sb.unlinkedOpen.size > 0) return -EBUSY;
  syncFilesystem(sb);
  sb.readOnly = true;
  return 0;
}

/** sync_filesystem (fs/sync.c): write back every dirty page of every regular file of the filesystem. */
function syncFilesystem(sb: SuperBlock): void {
  for (const inode of sb.inodes.values()) {
    if (inode.isDir || inode.dax) continue;
    sb.fs.writeback(inode, 0, Infinity, true);
  }
}

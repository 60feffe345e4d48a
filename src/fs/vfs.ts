/**
 * The VFS object a kernel holds: the mount table and path resolution (fs/namespace.c,
 * fs/namei.c over a flat namespace per mount), inode references and eviction (fs/inode.c iput and
 * evict, v6.1), vfs_fallocate's entry for callers below the VFS (mm/madvise.c's MADV_REMOVE), and
 * the internal shm mount behind shared anonymous mappings (mm/shmem.c shmem_zero_setup).
 *
 * mm/ never imports this file: it reaches these operations through `k.vfs`, set when the machine
 * is built (api/machine.ts), as Linux's mm reaches the VFS through function pointers and exported
 * entry points rather than through the filesystems' code.
 */
import type { Kernel, Process } from '../kernel/kernel.ts';
import { File, Inode, SuperBlock } from './fs.ts';
import { dropRange, fileFallocate } from './syscalls.ts';
import { Tmpfs } from '../mm/shmem.ts';
import { O_RDWR } from '../mm/constants.ts';

export class Vfs {
  readonly mounts: SuperBlock[] = [];
  readonly k: Kernel;
  /** The internal shmem mount behind shared anonymous mappings (shm_mnt), made on first use. */
  private shmMount: SuperBlock | null = null;
  constructor(k: Kernel) {
    this.k = k;
  }
  mount(sb: SuperBlock): void {
    this.mounts.push(sb);
    this.mounts.sort((a, b) => b.mountPoint.length - a.mountPoint.length);
  }
  /** Resolve a path to (superblock, name inside it); null when no mount covers it. */
  resolve(path: string): { sb: SuperBlock; name: string } | null {
    for (const sb of this.mounts) {
      const mp = sb.mountPoint.endsWith('/') ? sb.mountPoint : sb.mountPoint + '/';
      if (path.startsWith(mp)) return { sb, name: path.slice(mp.length) };
    }
    return null;
  }

  /** A mapping or an open file takes a reference on the inode (get_file / ihold). */
  getMapping(file: File): void {
    file.inode.openCount++;
    if (file.writable) file.inode.sb.writers++;
  }

  /** Drop an inode reference (fput, iput); an unlinked inode with no references left is evicted. */
  putMapping(file: File): void {
    const inode = file.inode;
    inode.openCount--;
    if (file.writable) inode.sb.writers--;
    if (inode.openCount === 0) inode.sb.fs.released?.(inode);
    if (inode.openCount === 0 && inode.nlink === 0) this.evictInode(inode);
  }

  /** evict (fs/inode.c v6.1): drop all page-cache pages and let the filesystem free the blocks. */
  evictInode(inode: Inode): void {
    inode.sb.unlinkedOpen.delete(inode);
    dropRange(this.k, inode.mapping, 0, Infinity);
    inode.sb.fs.evict(inode);
    this.k.unregisterInode(inode);
  }

  /** vfs_fallocate (fs/open.c v6.1) for callers inside the kernel: MADV_REMOVE's hole punch. */
  fallocate(file: File, mode: number, offsetBytes: number, lengthBytes: number): number {
    return fileFallocate(this.k, file, mode, offsetBytes, lengthBytes);
  }

  /**
   * shmem_zero_setup (mm/shmem.c v6.1, v6.18): an unlinked shmem file of `len` bytes for a
   * MAP_SHARED | MAP_ANONYMOUS mapping ("/dev/zero (deleted)" in /proc/PID/maps); freed with its
   * last mapping.
   */
  shmemZeroSetup(proc: Process, len: number): File {
    const k = this.k;
    if (!this.shmMount) this.shmMount = new SuperBlock(new Tmpfs(k), '/dev/zero', []);
    const inode = new Inode(k.allocIno(), this.shmMount);
    inode.sizeBytes = len;
    inode.nlink = 0;
    k.registerInode(inode);
    return new File(inode, O_RDWR, k.profile.readaheadPages, '/dev/zero (deleted)', proc);
  }
}

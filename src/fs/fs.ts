/**
 * The VFS's shapes (include/linux/fs.h): superblocks, inodes with their address_space (page
 * cache XArray + i_mmap), open files with per-file readahead state. Filesystems plug in through
 * the FileSystem interface (the union of what Linux splits into super_operations,
 * inode/file_operations and address_space_operations). Data only: what the VFS does with them is
 * vfs.ts; mm/ may import these shapes, as mm/ includes linux/fs.h.
 */
import { XArray } from '../lib/xarray.ts';
import { SimRwsem } from '../lib/rwsem.ts';
import type { Process } from '../kernel/kernel.ts';
import type { VmOperations, Vma } from '../mm/mm.ts';
import type { BlockLimit } from '../mm/shmem-limit.ts';
import type { DaxLockHolds } from '../dax/entry.ts';
import type { DioTarget } from './iomap-dio.ts';

/** struct file_ra_state (include/linux/fs.h, v6.1): per-open-file readahead state. */
export class FileRaState {
  start = 0;
  size = 0;
  asyncSize = 0;
  /** Folio order readahead last used (ra->order, 6.16+): async windows ask for 2 more. */
  order = 0;
  raPages: number;
  mmapMiss = 0;
  /** Byte position after the last read(2) (prev_pos). */
  prevPos = -1;
  constructor(raPages: number) {
    this.raPages = raPages;
  }
}

/** struct address_space: the page cache of one inode and the VMAs mapping it. */
export class AddressSpace {
  readonly host: Inode;
  /** i_pages: page-cache pages (even entries: (pfn+1)*2), shadow/DAX value entries (odd). */
  readonly pages = new XArray();
  /** nrpages: pages (not value entries) in `pages`. */
  nrpages = 0;
  /** i_mmap: every VMA mapping this file (an interval tree in Linux; a set here). */
  readonly iMmap = new Set<Vma>();
  /** Large folios allowed (mapping_large_folio_support). */
  largeFolios = false;
  /** Sticky writeback error (mapping_set_error). */
  wbErr = 0;
  /** Hold intervals of DAX entry locks, kept only in concurrent runs (dax/entry.ts); null until then. */
  daxLockHolds: DaxLockHolds | null = null;
  /** invalidate_lock (5.15+; ext4's i_mmap_sem before): fallocate exclusive, DAX faults shared. */
  readonly invalidateLock = new SimRwsem();
  /** The filesystem's block limit that this page cache counts against (tmpfs only), or null. */
  readonly blockLimit: BlockLimit | null;
  constructor(host: Inode) {
    this.host = host;
    this.blockLimit = host.sb.fs.blockLimit ?? null;
  }
}

export const S_IFREG = 0o100000;

export class Inode {
  readonly ino: number;
  readonly sb: SuperBlock;
  sizeBytes = 0;
  nlink = 1;
  /** Open file count + mappings; an unlinked inode is freed when this drops to 0. */
  openCount = 0;
  readonly mapping: AddressSpace;
  /** S_DAX. */
  dax = false;
  /** S_IFDIR: a directory (made by mkdir; src/fs/dirs.ts). */
  isDir = false;
  /** Filesystem-private state (extent map, ...). */
  fsPrivate: unknown = null;
  /** i_rwsem: write, fallocate and truncate hold it exclusive (concurrent runs only: lib/rwsem.ts). */
  readonly iRwsem = new SimRwsem();
  constructor(ino: number, sb: SuperBlock) {
    this.ino = ino;
    this.sb = sb;
    this.mapping = new AddressSpace(this);
  }
}

/** What a filesystem provides. Each method's doc names the Linux operation it stands for. */
export interface FileSystem {
  readonly typeName: 'tmpfs' | 'ext4' | 'xfs';
  /** Blocks counted by page-cache pages against a limit (tmpfs `size=`); absent elsewhere. */
  readonly blockLimit?: BlockLimit;
  /** Mounted with -o dax: new regular files get S_DAX (ext4_should_enable_dax with dax=always). */
  readonly daxMount: boolean;
  /** The vm_operations for mappings of `inode` (f_op->mmap sets vma->vm_ops). */
  vmOps(inode: Inode): VmOperations;
  /** f_op->mmap: validate and set up the VMA; returns 0 or -errno. */
  mmap(file: File, vma: Vma): number;
  /** f_op->mmap_supported_flags: extra flags MAP_SHARED_VALIDATE accepts (MAP_SYNC for ext4). */
  readonly mmapSupportedFlags: number;
  /** Whether get_unmapped_area aligns mappings of this inode to 2 MiB (thp_get_unmapped_area). */
  thpUnmappedArea(inode: Inode): boolean;
  /** Initial folio order for page-cache writes of `lenBytes` at `pos` (fgf_set_order), 0 without large folios. */
  writeFolioOrder(inode: Inode, index: number, lenBytes: number): number;
  /**
   * a_ops->read_folio / ->readahead: start reading the given locked, not-uptodate folios (head
   * PFNs, in index order). The fs marks holes uptodate at once and schedules I/O completion for
   * the rest through kernel.schedule; completion sets uptodate and unlocks.
   */
  readFolios(inode: Inode, heads: readonly number[]): void;
  /** Write back dirty folios (a_ops->writepages); `sync` waits for completion (WB_SYNC_ALL). */
  writeback(inode: Inode, startIndex: number, endIndex: number, sync: boolean): number;
  /**
   * Called before the page cache of a size change, hole punch or zero range is truncated (the
   * filesystem's first step in setattr / fallocate: ext4_break_layouts unmaps a DAX file whole).
   */
  breakLayouts?(inode: Inode): void;
  /**
   * The write-back a filesystem's punch hole or zero range does before the page cache is truncated
   * (ext4_punch_hole, ext4_zero_range), so that the folios split cleanly.
   */
  fallocateWriteback?(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): void;
  /**
   * filemap_release_folio before a page-cache folio is split (mm/filemap.c, __folio_split in
   * mm/huge_memory.c): false when the filesystem's private data on it cannot be dropped, and the
   * split fails with EBUSY. Absent: folios of this filesystem carry none (shmem).
   */
  releaseFolio?(inode: Inode, head: number): boolean;
  /** Change i_size, freeing blocks past the new end (setattr ATTR_SIZE after the page cache was truncated). */
  setSize(inode: Inode, newSizeBytes: number, oldSizeBytes?: number): number;
  /**
   * The modes this filesystem's ->fallocate accepts: its first check (shmem_fallocate, ext4_fallocate,
   * xfs_file_fallocate), EOPNOTSUPP for any other bit, made before the page cache is touched.
   * Absent: every mode vfs_fallocate lets through.
   */
  readonly fallocateModes?: number;
  /** fallocate(2) minus the page-cache work the VFS already did; returns 0 or -errno. */
  fallocate(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): number;
  /**
   * f_op->fsync over bytes [startBytes, endBytes] (vfs_fsync_range; fsync(2) passes 0..end of
   * file); returns 0 or -errno.
   */
  fsync(file: File, datasync: boolean, startBytes?: number, endBytes?: number): number;
  /** st_blocks in 512-byte units. */
  stBlocks(inode: Inode): number;
  /** Called when a block of `inode` at `index` is dirtied through write(2) (block reservation); -errno on ENOSPC. */
  reserveForWrite(inode: Inode, index: number): number;
  /** read(2) on an S_DAX inode (dax_iomap_rw); only filesystems that can mount -o dax have it. */
  daxRead?(inode: Inode, pos: number, len: number, out: Uint8Array | null): number;
  /** write(2) on an S_DAX inode; grows i_size. */
  daxWrite?(inode: Inode, pos: number, len: number, src: Uint8Array | number): number;
  /**
   * read(2)/write(2) of a file opened with O_DIRECT (->read_iter / ->write_iter with IOCB_DIRECT);
   * absent: the filesystem's I/O stays buffered. Returns bytes, -errno, or -ENOTBLK: write buffered.
   */
  directIO?(file: File, pos: number, len: number, write: boolean, t: DioTarget): number;
  /** FMODE_CAN_ODIRECT for `inode` (do_dentry_open refuses O_DIRECT with EINVAL without it); absent: true. */
  canODirect?(inode: Inode): boolean;
  /** A new file was created under `name` (the fs journals the inode and the directory entry). */
  created?(inode: Inode, name: string): void;
  /** `name` was unlinked. */
  unlinked?(inode: Inode, name: string): void;
  /**
   * The last open file and mapping of `inode` went (f_op->release of its last writer: ext4 drops
   * its preallocations).
   */
  released?(inode: Inode): void;
  /** Free everything an inode owns when its last reference goes (evict_inode). */
  evict(inode: Inode): void;
}

export class SuperBlock {
  readonly fs: FileSystem;
  readonly mountPoint: string;
  readonly options: readonly string[];
  readonly inodes = new Map<string, Inode>();
  /** Unlinked inodes still open (on sb->s_inodes until evicted; drop_caches walks them too). */
  readonly unlinkedOpen = new Set<Inode>();
  /** The backing device's readahead size in pages (bdi->ra_pages, read_ahead_kb / 4); null: the profile default. */
  raPages: number | null = null;
  /**
   * The device's largest request in pages (bdi->io_pages, max_sectors_kb / 4): a read larger than
   * the window may read up to it.
   */
  ioPages = 320;
  /** SB_RDONLY (and the mount's MNT_READONLY: the model has one mount per superblock); remount.ts. */
  readOnly = false;
  /** References to files open for write on this filesystem (FMODE_WRITER: descriptors and mappings). */
  writers = 0;
  private nextIno = 12;
  constructor(fs: FileSystem, mountPoint: string, options: readonly string[]) {
    this.fs = fs;
    this.mountPoint = mountPoint;
    this.options = options;
    this.readOnly = options.includes('ro');
  }
  allocIno(): number {
    return this.nextIno++;
  }
}

/** struct file. */
export class File {
  readonly inode: Inode;
  readonly flags: number;
  posBytes = 0;
  readonly ra: FileRaState;
  readonly path: string;
  readonly proc: Process;
  constructor(inode: Inode, flags: number, raPages: number, path: string, proc: Process) {
    this.inode = inode;
    this.flags = flags;
    this.ra = new FileRaState(raPages);
    this.path = path;
    this.proc = proc;
  }
  get readable(): boolean { return (this.flags & 3) !== 1; }
  get writable(): boolean { return (this.flags & 3) !== 0; }
}


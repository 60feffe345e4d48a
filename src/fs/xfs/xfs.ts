/**
 * xfs mounted with -o dax on a pmem device (fs/xfs, v6.1): files are extent maps whose blocks
 * come from the AG allocator (alloc.ts), faults and read/write go through the shared DAX code
 * (src/dax/) with xfs's iomap_begin. Only DAX is modelled: every regular file is S_DAX, there is
 * no page cache, no delayed allocation, no reflink (the runner's mkfs.xfs says -m reflink=0).
 *
 * Where data lands is what decides PMD faults. xfs_iomap_write_direct allocates with
 * XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO for DAX, and xfs_bmap_extsize_align does nothing for
 * conversions, so an extent size hint never aligns a DAX write's blocks on the device; only a
 * stripe unit does (xfs_bmap_btalloc's aeof alignment), for requests at least one unit long.
 * Measured on the 6.1 guest (test/oracle-runs/xfs-dax-faults-*.linux-6.1.xfs-dax.jsonl): default
 * and extszinherit=512 geometries take 2048 PTE faults per 8 MiB, su=2m,sw=1 four PMD faults for
 * a sparse file written through a mapping and 2048 PTE faults for one written by 1 MiB pwrites.
 */
import { EINVAL, ENOSPC, EOPNOTSUPP, EFBIG } from '../../lib/errno.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import type { FileSystem, Inode, File } from '../fs.ts';
import type { VmFault, VmOperations, Vma } from '../../mm/mm.ts';
import type { PmemDevice } from '../../hw/pmem.ts';
import type { XfsMkfsOptions } from '../../scenario/types.ts';
import {
  FAULT_FLAG_WRITE, VM_SHARED, VM_HUGEPAGE, VM_FAULT_NEEDDSYNC, MAP_SYNC, VM_SYNC, FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_UNSHARE_RANGE,
} from '../../mm/constants.ts';
import { daxIomapPteFault, daxIomapPmdFault, daxFinishSyncFault, type DaxFs, type DaxIomap } from '../../dax/fault.ts';
import { daxWritebackMappingRange } from '../../dax/writeback.ts';
import { daxIomapRead, daxIomapWrite, daxZeroBlockRange } from '../../dax/rw.ts';
import { unmapMappingPages } from '../../mm/rmap.ts';
import { ExtentMap, iomapFromLookup } from '../ext4/extents.ts';
import { sMaxbytes } from '../limits.ts';
import { COST } from '../../lib/cost-category.ts';
import { XfsAllocator, xfsMkfsGeometry, XFS_INODES_PER_BLOCK, XFS_INODES_PER_CHUNK, type AllocReq } from './alloc.ts';

const BLOCK = 4096;
/** xfs_direct_write_iomap_begin caps one mapping at 1024 pages. */
const IOMAP_MAX_BLOCKS = 1024;
const XFS_FALLOC_FL_SUPPORTED = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
  FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;

/** Per-inode state (struct xfs_inode, the fields modelled). */
export interface XfsInode {
  extents: ExtentMap;
  /** i_ino: xfs inode number (placement goal: the block holding the inode). */
  xfsIno: number;
  /** XFS_DIFLAG_PREALLOC: fallocate made persistent preallocation; release keeps post-EOF blocks. */
  prealloc: boolean;
  /** The inode log item holds changes fsync must force (ili_fsync_fields while pinned). */
  fsyncDirty: boolean;
  /** i_extsize from the parent's extent size hint (XFS_DIFLAG_EXTSIZE), blocks; 0: none. */
  extsizeBlocks: number;
}

export class Xfs implements FileSystem, DaxFs {
  readonly typeName = 'xfs' as const;
  readonly mmapSupportedFlags = MAP_SYNC;
  readonly daxMount = true;
  /** xfs_file_fallocate's first check (v6.1): modes outside XFS_FALLOC_FL_SUPPORTED are EOPNOTSUPP. */
  readonly fallocateModes = XFS_FALLOC_FL_SUPPORTED;
  readonly k: Kernel;
  readonly pmem: PmemDevice;
  readonly alloc: XfsAllocator;
  private readonly ops: VmOperations;
  private nextIno: number;

  constructor(k: Kernel, pmem: PmemDevice, o: XfsMkfsOptions) {
    this.k = k;
    this.pmem = pmem;
    const total = Math.floor(pmem.sizeBytes / BLOCK);
    this.alloc = new XfsAllocator(xfsMkfsGeometry(total, o), total);
    // The root directory, the realtime bitmap and summary inodes take the first three of the root chunk.
    this.nextIno = this.alloc.geo.rootIno + 3;
    this.ops = xfsDaxVmOps(k, this);
  }

  xi(inode: Inode): XfsInode {
    if (!inode.fsPrivate) {
      const chunkEnd = this.alloc.geo.rootIno + XFS_INODES_PER_CHUNK - 1;
      const xfsIno = Math.min(this.nextIno++, chunkEnd);
      inode.fsPrivate = { extents: new ExtentMap(), xfsIno, prealloc: false, fsyncDirty: false,
        extsizeBlocks: this.alloc.geo.extsizeBlocks } satisfies XfsInode;
    }
    return inode.fsPrivate as XfsInode;
  }

  /**
   * xfs_create (fs/xfs/xfs_inode.c v6.1): a new inode from the root directory's chunk (xfs_dialloc near the
   * parent).
   */
  created(inode: Inode): void { this.xi(inode); }

  /**
   * __xfs_filemap_fault (fs/xfs/xfs_file.c v6.1) for a DAX inode: dax_iomap_fault with
   * xfs_dax_write_iomap_ops for write faults on shared mappings, xfs_read_iomap_ops otherwise;
   * a NEEDDSYNC result is completed by dax_finish_sync_fault.
   */
  daxFault(vmf: VmFault, order: number): number {
    const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vmf.vma!.flags & VM_SHARED) !== 0;
    if (write) this.k.charge(this.k.costs.daxWriteFaultOverheadNs, COST.writeFaultFs);
    let r = order === 0 ? daxIomapPteFault(this.k, vmf, this) : daxIomapPmdFault(this.k, vmf, this);
    if (r & VM_FAULT_NEEDDSYNC) r = daxFinishSyncFault(this.k, vmf, this, order);
    return r;
  }

  blockPfn(pblk: number): number { return this.pmem.pfnBase + pblk; }

  /**
   * xfs_read_iomap_begin / xfs_direct_write_iomap_begin with IOMAP_DAX (fs/xfs/xfs_iomap.c v6.1):
   * a read reports the extent as it is (unwritten reads as a hole in the DAX code); a write over
   * written blocks maps them; over unwritten blocks converts and zeroes the asked range; over a
   * hole allocates zeroed written blocks (xfs_iomap_write_direct), IOMAP_F_NEW for both.
   * IOMAP_F_DIRTY while the inode has changes an fsync must still force.
   */
  iomapBegin(inode: Inode, index: number, lenPages: number, write: boolean, out: DaxIomap): number {
    const xi = this.xi(inode);
    const m = xi.extents.lookup(index);
    iomapFromLookup(m, lenPages, out);
    out.dirty = write && xi.fsyncDirty;
    if (!write || m.kind === 'written') return 0;
    const want = Math.min(lenPages, IOMAP_MAX_BLOCKS, m.lenBlocks);
    if (m.kind === 'unwritten') {
      xi.extents.convertToWritten(index, want);
      this.pmem.zeroBlocks(m.pblk, want);
      out.lenBlocks = want;
    } else {
      const end = this.writeEnd(inode, index, want, m.lenBlocks);
      const run = this.allocData(inode, index, end - index);
      if (!run) return -ENOSPC;
      xi.extents.insert(index, run.bno, run.len, 'written');
      this.pmem.zeroBlocks(run.bno, run.len);
      out.pblk = run.bno;
      out.lenBlocks = run.len;
      this.k.charge(this.k.costs.blockAllocNs, COST.blockAlloc);
    }
    this.k.charge(out.lenBlocks * BLOCK * this.k.costs.pmemWriteNsPerByte, COST.zeroing);
    out.type = 'mapped';
    out.isNew = true;
    xi.fsyncDirty = true;
    out.dirty = true;
    return 0;
  }

  /**
   * The end of a DAX write allocation (xfs_direct_write_iomap_begin v6.1): past EOF it is rounded
   * up to the extent size hint, or to the stripe unit once the file is a unit long
   * (xfs_iomap_eof_align_last_fsb, xfs_eof_alignment), unless that would reach back into the last
   * extent; inside EOF it stops at the hole's end.
   */
  private writeEnd(inode: Inode, index: number, want: number, holeBlocks: number): number {
    const xi = this.xi(inode);
    const end = index + want;
    if (end * BLOCK <= inode.sizeBytes) return Math.min(end, index + holeBlocks);
    const geo = this.alloc.geo;
    let align = geo.swidthBlocks || geo.dalignBlocks;
    if (align && inode.sizeBytes < align * BLOCK) align = 0;
    if (xi.extsizeBlocks) align = align ? Math.ceil(align / xi.extsizeBlocks) * xi.extsizeBlocks : xi.extsizeBlocks;
    if (!align) return end;
    const aligned = Math.ceil(end / align) * align;
    const all = xi.extents.extents();
    const last = all[all.length - 1];
    return !last || aligned >= last.lblk + last.lenBlocks ? Math.min(aligned, index + holeBlocks) : end;
  }

  /**
   * xfs_bmap_btalloc (libxfs/xfs_bmap.c v6.1) for `len` blocks of file data at `lblk`: the goal is
   * the block after the previous extent plus the logical gap (xfs_bmap_adjacent), or the inode's
   * own block for a file with none; at EOF a request of at least a stripe unit is aligned to it
   * (offset 0: aligned near the goal; later offsets: exactly at the goal first), falling back to
   * an unaligned allocation. One extent per call (xfs_iomap_write_direct maps one).
   */
  private allocData(inode: Inode, lblk: number, len: number): { bno: number; len: number } | null {
    const xi = this.xi(inode);
    const all = xi.extents.extents();
    let prev: (typeof all)[number] | undefined;
    for (const e of all) if (e.lblk + e.lenBlocks <= lblk) prev = e;
    const geo = this.alloc.geo;
    let goal = Math.floor(xi.xfsIno / XFS_INODES_PER_BLOCK);
    if (prev) {
      const pe = prev.pblk + prev.lenBlocks;
      const adj = pe + (lblk - prev.lblk - prev.lenBlocks);
      goal = this.alloc.agOf(adj) === this.alloc.agOf(prev.pblk) ? adj : pe;
    }
    const atEof = !all.some((e) => e.lblk >= lblk + len);
    const dalign = geo.swidthBlocks || geo.dalignBlocks;
    const base: AllocReq = { goal, maxLen: len, minLen: 1, alignment: 1, userdata: true, exact: false };
    let run = null;
    if (dalign > 0 && atEof && len >= dalign) {
      if (lblk > 0) run = this.alloc.alloc({ ...base, exact: true });
      run ??= this.alloc.alloc({ ...base, alignment: dalign });
    }
    return run ?? this.alloc.alloc(base);
  }

  /** Allocate unwritten blocks over the holes of [first, last] (xfs_alloc_file_space v6.1). */
  private allocFileSpace(inode: Inode, first: number, last: number): number {
    const xi = this.xi(inode);
    for (let i = first; i <= last;) {
      const m = xi.extents.lookup(i);
      const n = Math.min(m.lenBlocks, last - i + 1);
      if (m.kind !== 'hole') { i += n; continue; }
      const run = this.allocData(inode, i, n);
      if (!run) return -ENOSPC;
      xi.extents.insert(i, run.bno, run.len, 'unwritten');
      i += run.len;
    }
    xi.prealloc = true;
    xi.fsyncDirty = true;
    return 0;
  }

  /** Free the whole blocks of [s, e) (xfs_bunmapi, v6.1: freed blocks return to the AG at once). */
  private freeBlocks(inode: Inode, s: number, e: number): void {
    if (e <= s) return;
    for (const r of this.xi(inode).extents.remove(s, e - s)) this.alloc.release(r.pblk, r.lenBlocks);
    this.xi(inode).fsyncDirty = true;
  }

  /** Zero bytes [from, to) of the file on the device where they are written (dax_zero_range, fs/dax.c v6.1). */
  private zeroBytes(inode: Inode, from: number, to: number): void {
    const xi = this.xi(inode);
    for (let p = from; p < to;) {
      const idx = Math.floor(p / BLOCK);
      const e = Math.min(to, (idx + 1) * BLOCK);
      const m = xi.extents.lookup(idx);
      if (m.kind === 'written') daxZeroBlockRange(this.pmem, m.pblk, p - idx * BLOCK, e - idx * BLOCK);
      p = e;
    }
  }

  /**
   * xfs_free_file_space (fs/xfs/xfs_bmap_util.c v6.1): zero the partial blocks at either edge,
   * free the whole blocks inside.
   */
  private freeFileSpace(inode: Inode, offset: number, len: number): void {
    const s = Math.ceil(offset / BLOCK), e = Math.floor((offset + len) / BLOCK);
    this.freeBlocks(inode, s, e);
    if (e < s) { this.zeroBytes(inode, offset, offset + len); return; }
    this.zeroBytes(inode, offset, Math.min(offset + len, s * BLOCK));
    this.zeroBytes(inode, Math.max(offset, e * BLOCK), offset + len);
  }

  daxRead(inode: Inode, pos: number, len: number, out: Uint8Array | null): number {
    return daxIomapRead(this.k, this, inode, pos, len, out);
  }

  /**
   * xfs_file_dax_write (fs/xfs/xfs_file.c v6.1): xfs_file_write_checks zeroes from the old EOF up
   * to a write that starts past it (xfs_zero_range), dax_iomap_rw, then i_size.
   */
  daxWrite(inode: Inode, pos: number, len: number, src: Uint8Array | number): number {
    if (pos > inode.sizeBytes) this.zeroEofTail(inode, pos);
    const n = daxIomapWrite(this.k, this, this.pmem, inode, pos, len, src);
    if (n > 0 && pos + n > inode.sizeBytes) {
      inode.sizeBytes = pos + n;
      this.xi(inode).fsyncDirty = true;
    }
    return n;
  }

  /**
   * Zero the rest of the EOF block from i_size up to `to` (xfs_zero_range over [isize, to), fs/xfs/xfs_iomap.c
   * v6.1).
   */
  private zeroEofTail(inode: Inode, to: number): void {
    const old = inode.sizeBytes;
    if (old % BLOCK !== 0) this.zeroBytes(inode, old, Math.min(to, Math.ceil(old / BLOCK) * BLOCK));
  }

  /** vfs_fsync_range(datasync) for dax_finish_sync_fault (v6.1, xfs_file_fsync): flush dirty entries, force the log. */
  fsyncRange(file: File, startIndex: number, endIndex: number): number {
    daxWritebackMappingRange(this.k, file.inode.mapping, startIndex, endIndex);
    this.xi(file.inode).fsyncDirty = false;
    return 0;
  }

  vmOps(): VmOperations { return this.ops; }

  /** xfs_file_mmap (v6.1): MAP_SYNC needs a synchronous DAX device; DAX VMAs get VM_HUGEPAGE. */
  mmap(file: File, vma: Vma): number {
    if ((vma.flags & VM_SYNC) !== 0 && !this.k.profile.mapSync) return -EOPNOTSUPP;
    if (file.inode.dax) vma.flags |= VM_HUGEPAGE;
    return 0;
  }

  thpUnmappedArea(): boolean { return this.k.profile.thpAlignDax; }
  writeFolioOrder(): number { return 0; }
  readFolios(): void { throw new Error('xfs: no page cache is modelled (every file is DAX)'); }
  writeback(inode: Inode, startIndex: number, endIndex: number): number {
    daxWritebackMappingRange(this.k, inode.mapping, startIndex, endIndex);
    return 0;
  }

  /**
   * xfs_break_layouts with BREAK_UNMAP (fs/xfs/xfs_file.c v6.1) -> dax_layout_busy_page: unmaps
   * the whole DAX file before every size change and fallocate (the 6.1 guest: an extending
   * ftruncate refaults a page below the old EOF).
   */
  breakLayouts(inode: Inode): void {
    if (inode.mapping.iMmap.size > 0) unmapMappingPages(this.k, inode.mapping, 0, Infinity, false);
  }

  /**
   * xfs_setattr_size (fs/xfs/xfs_iops.c v6.1) after the VFS truncated the mappings: growing zeroes
   * the old EOF block's tail; shrinking zeroes the new EOF block's tail (xfs_truncate_page) and
   * frees every block from the next one on (xfs_itruncate_extents), post-EOF preallocation too.
   */
  setSize(inode: Inode, newSizeBytes: number, oldSizeBytes = newSizeBytes): number {
    // xfs_setattr_size: growing, it zeroes from the old EOF (xfs_zero_range: only written blocks
    // hold bytes to clear) and keeps every block past EOF, so a KEEP_SIZE preallocation survives
    // an extending ftruncate (fuzz seed 241 on the 6.1, 6.12 and 7.2 guests: st_blocks 8192);
    // xfs_itruncate_extents frees the blocks past the new EOF only when the size does not grow.
    if (newSizeBytes > oldSizeBytes) {
      this.zeroBytes(inode, oldSizeBytes, Math.min(newSizeBytes, Math.ceil(oldSizeBytes / BLOCK) * BLOCK));
      this.xi(inode).fsyncDirty = true;
      return 0;
    }
    this.zeroBytes(inode, newSizeBytes, Math.ceil(newSizeBytes / BLOCK) * BLOCK);
    this.freeBlocks(inode, Math.ceil(newSizeBytes / BLOCK), Infinity);
    this.xi(inode).fsyncDirty = true;
    return 0;
  }

  /**
   * xfs_file_fallocate (fs/xfs/xfs_file.c v6.1): modes outside punch, collapse, zero, insert,
   * unshare and keep-size are EOPNOTSUPP; the layouts are broken first for every mode. Punch
   * frees (xfs_free_file_space); zero range punches then preallocates the blocks it touches;
   * unshare has nothing to unshare without reflink and then preallocates like the default mode;
   * collapse and insert (block-aligned, inside EOF) first drop post-EOF blocks (xfs_prepare_shift).
   * A size growth zeroes the old EOF block's tail (xfs_vn_setattr_size); the VFS sets i_size.
   */
  fallocate(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): number {
    if (mode & ~XFS_FALLOC_FL_SUPPORTED) return -EOPNOTSUPP;
    this.breakLayouts(inode);
    if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
      return this.shiftRange(inode, mode, offsetBytes, lengthBytes);
    }
    if (mode & FALLOC_FL_PUNCH_HOLE) { this.freeFileSpace(inode, offsetBytes, lengthBytes); return 0; }
    let off = offsetBytes, len = lengthBytes;
    if (mode & FALLOC_FL_ZERO_RANGE) {
      this.freeFileSpace(inode, offsetBytes, lengthBytes);
      off = Math.floor(offsetBytes / BLOCK) * BLOCK;
      len = Math.ceil((offsetBytes + lengthBytes) / BLOCK) * BLOCK - off;
    }
    const r = this.allocFileSpace(inode, Math.floor(off / BLOCK), Math.ceil((off + len) / BLOCK) - 1);
    if (r < 0) return r;
    if (!(mode & FALLOC_FL_KEEP_SIZE) && offsetBytes + lengthBytes > inode.sizeBytes) {
      this.zeroEofTail(inode, offsetBytes + lengthBytes);
    }
    return 0;
  }

  /**
   * xfs_collapse_file_space / xfs_insert_file_space (fs/xfs/xfs_bmap_util.c v6.1) with
   * xfs_file_fallocate's checks: offset and length block-aligned (EINVAL), a collapse must end
   * before EOF, an insert start before it (EINVAL), and i_size + len within s_maxbytes (EFBIG).
   */
  private shiftRange(inode: Inode, mode: number, offset: number, len: number): number {
    if (offset % BLOCK !== 0 || len % BLOCK !== 0) return -EINVAL;
    const collapse = (mode & FALLOC_FL_COLLAPSE_RANGE) !== 0;
    if (collapse && offset + len >= inode.sizeBytes) return -EINVAL;
    if (!collapse && len > sMaxbytes(inode) - inode.sizeBytes) return -EFBIG;
    if (!collapse && offset >= inode.sizeBytes) return -EINVAL;
    const xi = this.xi(inode);
    this.freeBlocks(inode, Math.ceil(inode.sizeBytes / BLOCK), Infinity);
    const start = offset / BLOCK, n = len / BLOCK;
    if (collapse) {
      this.freeBlocks(inode, start, start + n);
      xi.extents.shift(start + n, n, 'left');
      inode.sizeBytes -= len;
    } else {
      xi.extents.splitAt(start);
      xi.extents.shift(start, n, 'right');
      inode.sizeBytes += len;
    }
    xi.fsyncDirty = true;
    return 0;
  }

  /** xfs_file_fsync (v6.1): write back the DAX entries of the range, force the log for the inode. */
  fsync(file: File, _datasync: boolean, startBytes = 0, endBytes = Infinity): number {
    return this.fsyncRange(file, Math.floor(startBytes / BLOCK), Math.floor(endBytes / BLOCK));
  }

  /** st_blocks: the blocks the inode's extents hold (di_nblocks, v6.1; the extent list fits in the inode). */
  stBlocks(inode: Inode): number { return this.xi(inode).extents.blocksMapped * 8; }

  /** DAX writes allocate in iomap_begin (xfs_direct_write_iomap_begin, v6.1); nothing is reserved ahead. */
  reserveForWrite(): number { return 0; }

  /**
   * xfs_release (fs/xfs/xfs_inode.c v6.1): the last close frees blocks past EOF
   * (xfs_free_eofblocks) unless fallocate made them persistent preallocation.
   */
  released(inode: Inode): void {
    const xi = this.xi(inode);
    if (!xi.prealloc) this.freeBlocks(inode, Math.ceil(inode.sizeBytes / BLOCK), Infinity);
  }

  evict(inode: Inode): void { this.freeBlocks(inode, 0, Infinity); }
}

/**
 * xfs_file_vm_ops (fs/xfs/xfs_file.c v6.1) as a DAX inode uses it: fault, page_mkwrite and
 * pfn_mkwrite run the full DAX fault, huge_fault the PMD one. ->map_pages (filemap_map_pages)
 * is left out: a DAX mapping has no page-cache folios for it to map.
 */
function xfsDaxVmOps(k: Kernel, fs: Xfs): VmOperations {
  const fault = (vmf: VmFault) => fs.daxFault(vmf, 0);
  const ops: { -readonly [K in keyof VmOperations]: VmOperations[K] } = {
    name: 'xfs_file_vm_ops', fault, pageMkwrite: fault, pfnMkwrite: fault, canWriteback: true,
  };
  if (k.profile.daxPmd) ops.hugeFault = (vmf, order) => fs.daxFault(vmf, order);
  return ops;
}

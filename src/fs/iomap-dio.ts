/**
 * Direct I/O through iomap (fs/iomap/direct-io.c __iomap_dio_rw and iomap_dio_complete, v6.1 and
 * v6.18; mm/filemap.c kiocb_write_and_wait, kiocb_invalidate_pages and
 * kiocb_invalidate_post_direct_write): the page cache is written back over the range first, a
 * write also invalidates it (and every mapping over it) before and after the I/O, and data moves
 * between the device and the user's pages with no page-cache copy. Extents come from the
 * filesystem's ->iomap_begin one at a time: holes and unwritten extents read as zeros with no
 * alignment rule (iomap_dio_hole_iter), mapped ones (and every write, after its blocks were
 * allocated) need the file offset, the length and the buffer address aligned to the device's
 * logical block (iomap_dio_bio_iter, -EINVAL), and pin the user's pages (GUP) before the bio.
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { File, Inode } from './fs.ts';
import type { DataDevice } from '../hw/blockdev.ts';
import { UserBuffer } from '../mm/uaccess.ts';
import { invalidateInodePages2Range } from '../mm/invalidate.ts';
import { EFAULT, EINVAL } from '../lib/errno.ts';
import { PAGE_SIZE } from '../mm/constants.ts';
import { COST } from '../lib/cost-category.ts';

/** -ENOTBLK: iomap's "fall back to buffered I/O" (invalidation before a direct write failed). */
export const ENOTBLK = 15;

/**
 * bdev_logical_block_size and the queue's dma_alignment + 1 of the model's block devices: 512, as
 * virtio-blk reports for the oracle's disks (the 6.18 host's vda: LOG-SEC 512; the guests' vda).
 */
export const DIO_ALIGN_BYTES = 512;

/** One extent as ->iomap_begin reports it for IOMAP_DIRECT (struct iomap). */
export interface DioIomap {
  type: 'hole' | 'unwritten' | 'mapped';
  pblk: number;
  lenBlocks: number;
  /** IOMAP_F_NEW: blocks allocated by this call (the rest of a partly written block is zeroed). */
  isNew: boolean;
}

/** What a filesystem gives iomap's direct I/O. */
export interface DioFs {
  readonly dev: DataDevice;
  /** ->iomap_begin with IOMAP_DIRECT (| IOMAP_WRITE): the extent at `index`, blocks allocated for writes. */
  dioIomapBegin(inode: Inode, index: number, lenPages: number, write: boolean, out: DioIomap): number;
  /** ->end_io of a direct write of `bytes` at `pos` (unwritten extents converted, i_size moved). */
  dioWriteEnd(inode: Inode, pos: number, bytes: number): void;
  /** filemap_write_and_wait_range (mm/filemap.c v6.1) over file pages [first, last]. */
  writeAndWait(inode: Inode, first: number, last: number): void;
}

/** A direct I/O's user memory: a user buffer inside a mapping, or the runner's own (already touched) buffer. */
export interface DioTarget {
  /** Address of the first byte (only its alignment matters for the runner's own buffer). */
  readonly addr: number;
  /**
   * The user pages of bytes [at, at + n) pinned for the bio (GUP: pin_user_pages_fast via iov_iter_extract_pages,
   * v6.18); 0 or -EFAULT.
   */
  pin(at: number, n: number, write: boolean): number;
  /** Bytes [at, at + src.length) of the buffer take `src` (a read's data); how many did. */
  put(at: number, src: Uint8Array): number;
  /** Byte `at + i` of the buffer for i < n into out[i] (a write's data); how many were read. */
  get(at: number, out: Uint8Array, n: number): number;
}

/** The user buffer inside a mapping as a DioTarget: GUP pins, then the copies find the pages present. */
export function userTarget(ub: UserBuffer): DioTarget {
  return {
    addr: ub.addr,
    pin: (at, n, write) => ub.pin(at, n, write),
    put: (at, src) => ub.copyOutBytes(at, src),
    get: (at, out, n) => ub.copyIn(at, out, n),
  };
}

/**
 * The runner's own buffer, `addr` bytes past a page boundary: a byte array to fill or nothing
 * (reads), bytes or one fill byte (writes).
 */
export function kernelTarget(addr: number, data: Uint8Array | number | null): DioTarget {
  return {
    addr,
    pin: () => 0,
    put: (at, src) => { if (data instanceof Uint8Array) data.set(src, at); return src.length; },
    get: (at, out, n) => {
      if (typeof data === 'number') out.fill(data, 0, n);
      else if (data !== null) out.set(data.subarray(at, at + n));
      return n;
    },
  };
}

const io: DioIomap = { type: 'hole', pblk: -1, lenBlocks: 0, isNew: false };
/** One block's bytes (no allocation per block). */
const BLOCK = new Uint8Array(PAGE_SIZE);

/**
 * __iomap_dio_rw + iomap_dio_complete (v6.1, v6.18) for a synchronous read or write of `len` bytes
 * at `pos` of `file`. A read at or past i_size returns 0 before anything else; a read is cut at
 * i_size. Returns bytes moved, -errno (the first error of any extent fails the whole call:
 * dio->error), or -ENOTBLK when invalidation before a write failed (the caller falls back).
 */
export function iomapDioRw(k: Kernel, fs: DioFs, file: File, pos: number, len: number, write: boolean,
  t: DioTarget): number {
  const inode = file.inode;
  if (len === 0) return 0;
  const iSize = inode.sizeBytes;
  if (!write && pos >= iSize) return 0;
  const first = Math.floor(pos / PAGE_SIZE), last = Math.floor((pos + len - 1) / PAGE_SIZE);
  fs.writeAndWait(inode, first, last);
  if (write && invalidateInodePages2Range(k, inode.mapping, first, last) < 0) return -ENOTBLK;
  let done = 0;
  const end = pos + len;
  for (let p = pos; p < end;) {
    const index = Math.floor(p / PAGE_SIZE);
    const err = fs.dioIomapBegin(inode, index, Math.ceil(end / PAGE_SIZE) - index, write, io);
    if (err < 0) return err;
    const segEnd = Math.min(end, (index + io.lenBlocks) * PAGE_SIZE);
    const n = write || io.type === 'mapped' ? dioBioIter(k, fs, p, segEnd, done, write, t)
      : dioHoleIter(p, segEnd, done, t);
    if (n < 0) return n;
    done += n;
    p = segEnd;
  }
  if (write) {
    fs.dioWriteEnd(inode, pos, done);
    // kiocb_invalidate_post_direct_write: pages a GUP or readahead brought back meanwhile go; a
    // failure only warns (dio_warn_stale_pagecache).
    if (inode.mapping.nrpages > 0) invalidateInodePages2Range(k, inode.mapping, first, last);
  }
  return !write && pos + done > iSize ? iSize - pos : done;
}

/**
 * iomap_dio_hole_iter (fs/iomap/direct-io.c v6.1/v6.18): bytes [p, segEnd) read as zeros (iov_iter_zero,
 * copy_to_user); -EFAULT when none could be.
 */
function dioHoleIter(p: number, segEnd: number, done: number, t: DioTarget): number {
  BLOCK.fill(0);
  let n = 0;
  while (p + n < segEnd) {
    const m = Math.min(PAGE_SIZE, segEnd - p - n);
    const c = t.put(done + n, BLOCK.subarray(0, m));
    n += c;
    if (c < m) break;
  }
  return n > 0 ? n : -EFAULT;
}

/**
 * iomap_dio_bio_iter (fs/iomap/direct-io.c v6.1/v6.18) for one mapped (or just allocated) extent, bytes [p, segEnd):
 * the alignment
 * rule, GUP of the user pages, then the bio: block contents copied between the device and the
 * user's pages (a partly written new or unwritten block is zeroed around the data:
 * iomap_dio_zero), submitted and waited for. Returns bytes moved or -errno.
 */
function dioBioIter(k: Kernel, fs: DioFs, p: number, segEnd: number, done: number, write: boolean,
  t: DioTarget): number {
  const len = segEnd - p;
  if (((p | len | (t.addr + done)) & (DIO_ALIGN_BYTES - 1)) !== 0) return -EINVAL;
  const pinned = t.pin(done, len, !write);
  if (pinned < 0) return pinned;
  const zeroFill = io.isNew || io.type === 'unwritten';
  const index0 = Math.floor(p / PAGE_SIZE);
  let q = p;
  while (q < segEnd) {
    const blk = io.pblk + (Math.floor(q / PAGE_SIZE) - index0);
    const off = q % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, segEnd - q);
    const cur = write && zeroFill ? 0 : fs.dev.readBlock(blk);
    if (typeof cur === 'number') BLOCK.fill(cur); else BLOCK.set(cur);
    if (write) {
      t.get(done + (q - p), BLOCK.subarray(off), n);
      fs.dev.writeBlock(blk, BLOCK.slice());
    } else t.put(done + (q - p), BLOCK.subarray(off, off + n));
    q += n;
  }
  const blocks = Math.ceil(segEnd / PAGE_SIZE) - index0;
  const doneNs = fs.dev.submit(write, blocks, k.now());
  if (write) k.vmstat.pgpgout += Math.ceil(len / 1024); else k.vmstat.pgpgin += Math.ceil(len / 1024);
  k.mightSleep('direct I/O');
  if (doneNs > k.now()) k.waitUntil(k.current, doneNs, COST.ioWait);
  k.runDue();
  return len;
}

/**
 * read(2)/write(2) on DAX files (dax_iomap_rw, fs/dax.c v6.1): no page cache; each extent is
 * looked up (and for writes allocated, zeroed) through iomap_begin, then data is copied straight
 * from or to persistent memory. Writes use memcpy_flushcache (non-temporal stores), so they are
 * durable when the call returns; holes and unwritten extents read as zeros. A write that allocated
 * blocks tears down the mappings of their pages (the zero page a mapping read there).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { Inode } from '../fs/fs.ts';
import type { PmemDevice } from '../hw/pmem.ts';
import type { DaxFs, DaxIomap } from './fault.ts';
import { daxInvalidateRange } from './entry.ts';
import { COST } from '../lib/cost-category.ts';

const m: DaxIomap = { type: 'hole', pblk: -1, lenBlocks: 0, isNew: false, dirty: false };

/** Copy [pos, pos+len) of a DAX file into `out` (if given); returns bytes read (short at EOF). */
export function daxIomapRead(k: Kernel, fs: DaxFs, inode: Inode, pos: number, len: number,
  out: Uint8Array | null): number {
  if (pos >= inode.sizeBytes) return 0;
  const end = Math.min(inode.sizeBytes, pos + len);
  let done = 0;
  for (let p = pos; p < end;) {
    const index = Math.floor(p / 4096);
    k.events.iomapBegin++;
    k.charge(k.costs.iomapBeginNs, COST.iomapBegin);
    const err = fs.iomapBegin(inode, index, Math.ceil((end - p) / 4096), false, m);
    if (err < 0) return done > 0 ? done : err;
    const extentEnd = Math.min(end, (index + m.lenBlocks) * 4096);
    k.charge((extentEnd - p) * k.costs.pmemReadNsPerByte, COST.memcpy);
    for (; p < extentEnd; p++, done++) {
      if (!out) continue;
      const off = p % 4096;
      out[done] = m.type === 'mapped' ? k.readPhys(fs.blockPfn(m.pblk + Math.floor(p / 4096) - index), off) : 0;
    }
  }
  return done;
}

/**
 * Write [pos, pos+len) of a DAX file from `src` (a buffer or one byte repeated), allocating as
 * needed; the caller holds a journal handle and updates i_size. Returns bytes written or -errno.
 */
export function daxIomapWrite(k: Kernel, fs: DaxFs, pmem: PmemDevice, inode: Inode, pos: number, len: number,
  src: Uint8Array | number): number {
  let done = 0;
  const end = pos + len;
  for (let p = pos; p < end;) {
    const index = Math.floor(p / 4096);
    k.events.iomapBegin++;
    k.charge(k.costs.iomapBeginNs, COST.iomapBegin);
    const err = fs.iomapBegin(inode, index, Math.ceil((end - index * 4096) / 4096), true, m);
    if (err < 0) return done > 0 ? done : err;
    if (m.isNew) daxInvalidateRange(k, inode.mapping, index, Math.min(index + m.lenBlocks, Math.ceil(end / 4096)) - 1);
    for (let b = 0; b < m.lenBlocks && p < end; b++) {
      const blk = m.pblk + b;
      const pageStart = (index + b) * 4096;
      const off = p - pageStart;
      const n = Math.min(4096 - off, end - p);
      if (n === 4096 && typeof src === 'number') pmem.writeBlock(blk, src);
      else {
        const cur = pmem.readBlock(blk);
        const buf = new Uint8Array(4096);
        if (typeof cur === 'number') buf.fill(cur); else buf.set(cur);
        for (let i = 0; i < n; i++) buf[off + i] = typeof src === 'number' ? src : src[done + i]!;
        pmem.writeBlock(blk, buf);
      }
      p += n;
      done += n;
    }
  }
  k.charge(len * k.costs.pmemWriteNsPerByte, COST.memcpy);
  return done;
}

/**
 * Zero bytes [from, to) inside block `pblk` of a DAX device, durably (dax_zero_range /
 * dax_truncate_page -> dax_memzero, fs/dax.c v6.1: the kernel writes the zeroes and flushes them).
 */
export function daxZeroBlockRange(pmem: PmemDevice, pblk: number, from: number, to: number): void {
  if (to <= from) return;
  const cur = pmem.readBlock(pblk);
  const buf = new Uint8Array(4096);
  if (typeof cur === 'number') buf.fill(cur); else buf.set(cur);
  buf.fill(0, from, to);
  pmem.writeBlock(pblk, buf);
}

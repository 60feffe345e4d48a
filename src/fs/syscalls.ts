/**
 * File syscalls over the VFS (fs/open.c, fs/read_write.c, mm/filemap.c filemap_read and
 * generic_perform_write, mm/truncate.c, fs/sync.c, mm/msync.c; v6.1). Each returns a
 * non-negative result or -errno, like the raw system call.
 */
import {
  EBADF, EINVAL, ENOENT, EISDIR, ENOTDIR, ENOMEM, EROFS, EFBIG, EEXIST, EBUSY, EFAULT, EOPNOTSUPP, ENOSPC,
} from '../lib/errno.ts';
import { UserBuffer } from '../mm/uaccess.ts';
import { dirStat, openDirCheck, walkParents } from './dirs.ts';
import type { Kernel, Process } from '../kernel/kernel.ts';
import { File, Inode, type SuperBlock } from './fs.ts';
import { O_ACCMODE, O_CREAT, O_DIRECT, O_EXCL, O_TRUNC, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, MS_ASYNC, MS_SYNC, MS_INVALIDATE,
  VM_SHARED, VM_LOCKED, PAGE_SIZE } from '../mm/constants.ts';
import { addNewFolio, findFolio, folioMarkDirty, rangeCached, removeFolio, waitFolioUnlocked } from '../mm/pagemap.ts';
import { shmemFileRead } from '../mm/shmem-read.ts';
import { ondemandReadahead, asyncReadahead, syncRa618 } from '../mm/readahead.ts';
import { PG_locked, PG_uptodate, PG_dirty, PG_readahead, PG_writeback } from '../hw/frames.ts';
import { unmapMappingPages } from '../mm/rmap.ts';
import { xaIsValue } from '../lib/xarray.ts';
import { resolvePath } from './namei.ts';
import { vfsFallocateChecks } from './falloc.ts';
import { COST } from '../lib/cost-category.ts';
import { ENOTBLK, kernelTarget, userTarget } from './iomap-dio.ts';
import { invalidateMappingPages } from '../mm/invalidate.ts';

/** Data for a write: a buffer, one byte value repeated, or a user buffer inside a mapping. */
export type WriteSource = Uint8Array | number | UserBuffer;
/** Where a read's data goes: a buffer, nowhere (the model discards it), or a user buffer inside a mapping. */
export type ReadTarget = Uint8Array | UserBuffer | null;

/** Bounce for one page copied from a user buffer (no allocation per page). */
const USER_COPY_SCRATCH = new Uint8Array(PAGE_SIZE);

/** A DAX read into a user buffer: dax_iomap_rw's copy to the user pages, through a bounce here. */
function daxReadUser(inode: Inode, pos: number, len: number, out: UserBuffer): number {
  const tmp = new Uint8Array(Math.max(0, Math.min(len, inode.sizeBytes - pos)));
  const r = inode.sb.fs.daxRead!(inode, pos, tmp.length, tmp);
  if (r <= 0) return r;
  const c = out.copyOutBytes(0, tmp.subarray(0, r));
  return c > 0 ? c : -EFAULT;
}

/** A DAX write from a user buffer: the source bytes are faulted in and copied first (dax_iomap_rw). */
function daxWriteUser(inode: Inode, pos: number, len: number, src: UserBuffer): number {
  const tmp = new Uint8Array(len);
  const c = src.copyIn(0, tmp, len);
  if (c === 0) return len === 0 ? 0 : -EFAULT;
  return inode.sb.fs.daxWrite!(inode, pos, c, tmp.subarray(0, c));
}

export function sysOpen(k: Kernel, proc: Process, path: string, flags: number): number {
  const res = resolvePath(k.vfs, path);
  if (typeof res === 'number') return res;
  if (res.sb === null) return -EISDIR; // a directory above every mount: no inode to open here
  const r = { sb: res.sb, name: res.name };
  const dir = openDirCheck(k, r.sb, r.name, flags);
  if (typeof dir === 'number') return dir;
  let inode = dir ?? r.sb.inodes.get(r.name);
  if (!inode) {
    if ((flags & O_CREAT) === 0) return -ENOENT;
    const parents = walkParents(r.sb, r.name);
    if (parents < 0) return parents;
    if (r.sb.readOnly) return -EROFS; // lookup_open: O_CREAT of a new name without mnt_want_write
    inode = new Inode(k.allocIno(), r.sb);
    inode.dax = r.sb.fs.daxMount;
    r.sb.inodes.set(r.name, inode);
    k.registerInode(inode);
    r.sb.fs.created?.(inode, r.name);
  } else if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST;
  if ((flags & O_ACCMODE) === 3) return -EINVAL;
  // may_open -> inode_permission -> sb_permission (write access), do_open's mnt_want_write for
  // O_TRUNC (fs/namei.c, 6.1/6.18): EROFS on a read-only mount, after EEXIST and EISDIR.
  if (r.sb.readOnly && ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0)) return -EROFS;
  // do_dentry_open (fs/open.c 6.1, 6.18): O_DIRECT without FMODE_CAN_ODIRECT is EINVAL, after
  // O_CREAT made the inode and before O_TRUNC (tmpfs before 6.6; directories not modelled here).
  if ((flags & O_DIRECT) !== 0 && !inode.isDir && !(inode.sb.fs.canODirect?.(inode) ?? true)) return -EINVAL;
  const file = new File(inode, flags, inode.sb.raPages ?? k.profile.readaheadPages, path, proc);
  // do_open -> handle_truncate (fs/namei.c, 6.1 and 6.18): O_TRUNC truncates whatever the access
  // mode (build_open_flags only adds MAY_WRITE to the permission check; the model's tasks are root).
  if ((flags & O_TRUNC) !== 0) {
    const err = truncateInode(k, inode, 0);
    if (err < 0) return err;
  }
  inode.openCount++;
  if (file.writable) r.sb.writers++;
  let fd = proc.fds.indexOf(null);
  if (fd < 0) { fd = proc.fds.length; proc.fds.push(file); } else proc.fds[fd] = file;
  return fd;
}

function fileOf(proc: Process, fd: number): File | null {
  return (fd >= 0 && proc.fds[fd]) || null;
}

export function sysClose(k: Kernel, proc: Process, fd: number): number {
  const f = fileOf(proc, fd);
  if (!f) return -EBADF;
  proc.fds[fd] = null;
  k.vfs.putMapping(f);
  return 0;
}

/** Make sure folio `head` is uptodate, reading it if needed (filemap_read_folio); false on I/O error. */
function ensureUptodate(k: Kernel, inode: Inode, head: number): boolean {
  const f = k.frames;
  waitFolioUnlocked(k, head);
  if ((f.flags[head]! & PG_uptodate) !== 0) return true;
  f.flags[head] = f.flags[head]! | PG_locked;
  inode.sb.fs.readFolios(inode, [head]);
  waitFolioUnlocked(k, head);
  return (f.flags[head]! & PG_uptodate) !== 0;
}

/**
 * generic_file_buffered_read (mm/filemap.c v5.10), the page after EOF (knob readPageAfterEof): the
 * loop reaches the first page index past the file's last page when the read starts there, or
 * when it goes on past a page-aligned EOF; on a miss it adds that page and has it read (zeroes:
 * no block lies there) before its i_size check ends the read, so the page stays cached.
 */
function readPageAfterEof(k: Kernel, file: File, pos: number, len: number): void {
  const size = file.inode.sizeBytes;
  const lastPage = size === 0 ? -1 : Math.floor((size - 1) / PAGE_SIZE);
  let index = Math.floor(pos / PAGE_SIZE);
  if (pos < size) {
    if (size % PAGE_SIZE !== 0 || pos + len <= size) return;
    index = size / PAGE_SIZE;
  }
  if (index <= lastPage || findFolio(file.inode.mapping, index) >= 0) return;
  const head = addNewFolio(k, file.inode.mapping, index, 0, false);
  if (head >= 0) file.inode.sb.fs.readFolios(file.inode, [head]);
}

/**
 * filemap_read (v6.1): copy [pos, pos+len) out of the page cache into `out` (if given), running
 * synchronous readahead on misses and asynchronous readahead on PG_readahead pages.
 * Returns bytes read (short at EOF) or -errno.
 */
export function fileRead(k: Kernel, file: File, pos: number, len: number, out: ReadTarget, bufAddr = 0): number {
  if (!file.readable) return -EBADF;
  if (file.inode.isDir) return -EISDIR; // generic_read_dir
  const inode = file.inode;
  const mapping = inode.mapping;
  const f = k.frames;
  k.charge(k.costs.syscallNs, COST.syscall);
  if (inode.dax) {
    return out instanceof UserBuffer ? daxReadUser(inode, pos, len, out) : inode.sb.fs.daxRead!(inode, pos, len, out);
  }
  if ((file.flags & O_DIRECT) !== 0 && inode.sb.fs.directIO) {
    return inode.sb.fs.directIO(file, pos, len, false, out instanceof UserBuffer ? userTarget(out)
      : kernelTarget(bufAddr, out));
  }
  // A buffer inside a mapping still takes filemap_read's path below (its faults are what it models).
  if (inode.sb.fs.typeName === 'tmpfs' && !(out instanceof UserBuffer)) return shmemFileRead(k, file, pos, len, out);
  if (k.profile.readPageAfterEof && len > 0) readPageAfterEof(k, file, pos, len);
  if (pos >= inode.sizeBytes) return 0;
  const end = Math.min(inode.sizeBytes, pos + len);
  const lastIndex = Math.floor((end - 1) / PAGE_SIZE);
  let done = 0;
  for (let p = pos; p < end;) {
    const index = Math.floor(p / PAGE_SIZE);
    let head = findFolio(mapping, index);
    if (head < 0) {
      if (k.profile.raFolioOrders) syncRa618(k, mapping, file.ra, index, lastIndex - index + 1);
      else ondemandReadahead(k, mapping, file.ra, index, lastIndex - index + 1, false);
      head = findFolio(mapping, index);
      if (head < 0) {
        head = addNewFolio(k, mapping, index, 0, false);
        if (head < 0) return done > 0 ? done : -ENOMEM;
        inode.sb.fs.readFolios(inode, [head]);
      }
    } else if ((f.flags[head]! & PG_readahead) !== 0) {
      asyncReadahead(k, mapping, file.ra, head, lastIndex - index + 1);
    }
    if (!ensureUptodate(k, inode, head)) return done > 0 ? done : -5;
    const pfn = head + (index - f.index[head]!);
    const off = p % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, end - p);
    if (out instanceof UserBuffer) {
      // copy_folio_to_iter -> copy_to_user, faults enabled: a short copy ends the read (-EFAULT if nothing).
      const c = out.copyOut(done, pfn, off, n);
      if (c < n) {
        file.ra.prevPos = p + c - 1;
        return done + c > 0 ? done + c : -EFAULT;
      }
    } else if (out) for (let i = 0; i < n; i++) out[done + i] = f.readByte(pfn, off + i);
    k.lru.markAccessed(head);
    done += n;
    p += n;
  }
  file.ra.prevPos = end - 1;
  return done;
}

/**
 * ->write_iter (v6.1, v6.18): DAX files write through dax_iomap_rw (O_DIRECT or not); a file
 * opened with O_DIRECT on a filesystem with direct I/O goes to it (`bufAddr`: where the runner's
 * own buffer starts, for the alignment rule), and when that asks for the buffered fallback
 * (-ENOTBLK: ext4_dio_write_iter) the write is buffered, then written back and dropped from the
 * page cache; everything else is generic_perform_write. Returns bytes written or -errno.
 */
export function fileWrite(k: Kernel, file: File, pos: number, len: number, src: WriteSource, bufAddr = 0): number {
  if (!file.writable) return -EBADF;
  const inode = file.inode;
  const fs = inode.sb.fs;
  k.charge(k.costs.syscallNs, COST.syscall);
  if (pos + len > 2 ** 44) return -EFBIG;
  if (inode.dax) {
    return src instanceof UserBuffer ? daxWriteUser(inode, pos, len, src) : fs.daxWrite!(inode, pos, len, src);
  }
  if ((file.flags & O_DIRECT) === 0 || !fs.directIO) return genericPerformWrite(k, file, pos, len, src);
  const r = fs.directIO(file, pos, len, true, src instanceof UserBuffer ? userTarget(src) : kernelTarget(bufAddr, src));
  if (r !== -ENOTBLK) return r;
  const n = genericPerformWrite(k, file, pos, len, src);
  if (n > 0) {
    const first = Math.floor(pos / PAGE_SIZE), last = Math.floor((pos + n - 1) / PAGE_SIZE);
    fs.writeback(inode, first, last, true);
    invalidateMappingPages(k, inode.mapping, first, last);
  }
  return n;
}

/**
 * __filemap_get_folio with FGP_CREAT (mm/filemap.c 6.1/6.18): a folio already in the range of
 * order `order` at `index` makes filemap_add_folio fail with EEXIST and the next smaller order is
 * tried (issue 17: a page zeroed past EOF by ZERO_RANGE was overwritten in the cache and leaked).
 */
function writeOrder(mapping: import('./fs.ts').AddressSpace, order: number, index: number): number {
  while (order > 0 && rangeCached(mapping, index - (index % (1 << order)), 1 << order)) order--;
  return order;
}

/**
 * The folio a buffered write adds at `index`: __filemap_get_folio (mm/filemap.c 6.18) tries
 * smaller orders when a large folio cannot be allocated, down to order 0; only then is the write
 * short (ENOMEM). The model's allocator does not coalesce freed pages, so after memory ran out
 * only order 0 may be left (API fuzzer seed 12001827). Returns the head PFN, or -1.
 */
function allocWriteFolio(k: Kernel, mapping: import('./fs.ts').AddressSpace, index: number, order: number,
  shm: boolean): number {
  let head = addNewFolio(k, mapping, index, order, shm);
  while (head < 0 && order > 0) head = addNewFolio(k, mapping, index, --order, shm);
  return head;
}

/**
 * generic_perform_write (mm/filemap.c v6.1) with ->write_begin / ->write_end: get or create the
 * folio (size from the fs's folio order for this write), read it first when the write covers
 * it partially inside i_size, copy, mark dirty, grow i_size. Returns bytes written or -errno.
 */
function genericPerformWrite(k: Kernel, file: File, pos: number, len: number, src: WriteSource): number {
  const inode = file.inode;
  const mapping = inode.mapping;
  const fs = inode.sb.fs;
  const f = k.frames;
  const shm = fs.typeName === 'tmpfs';
  const asked = len;
  let done = 0;
  for (let p = pos; p < pos + len;) {
    const index = Math.floor(p / PAGE_SIZE);
    if (src instanceof UserBuffer && k.profile.writeSourceFaultIn === 'before-write-begin') {
      const ok = prefaultSource(src, done, p, pos + len);
      if (ok === 0) return done > 0 ? done : -EFAULT;
      len = p + ok - pos;
    }
    let head = findFolio(mapping, index);
    if (head < 0) {
      const order = writeOrder(mapping, fs.writeFolioOrder(inode, index, pos + len - p), index);
      // shmem_write_begin: a tmpfs at its size limit fails the write with ENOSPC (shmem_inode_acct_blocks).
      if (mapping.blockLimit !== null && !mapping.blockLimit.fits(1 << order)) return done > 0 ? done : -ENOSPC;
      head = allocWriteFolio(k, mapping, index, order, shm);
      if (head < 0) return done > 0 ? done : -ENOMEM;
      const n = 1 << f.order[head]!;
      const first = f.index[head]!;
      const wholeFolio = p === first * PAGE_SIZE && pos + len >= (first + n) * PAGE_SIZE;
      if (!wholeFolio && first * PAGE_SIZE < inode.sizeBytes && !shm) {
        inode.sb.fs.readFolios(inode, [head]);
        waitFolioUnlocked(k, head);
      } else {
        for (let j = 0; j < n; j++) f.fillFrame(head + j, 0);
        f.flags[head] = (f.flags[head]! | PG_uptodate) & ~PG_locked;
      }
    } else if (!ensureUptodate(k, inode, head)) return done > 0 ? done : -5;
    if ((f.flags[head]! & PG_writeback) !== 0) k.sleepUntil(() => (f.flags[head]! & PG_writeback) === 0, 'writeback');
    const folioEnd = (f.index[head]! + (1 << f.order[head]!)) * PAGE_SIZE;
    let chunkEnd = Math.min(pos + len, folioEnd);
    // ->write_begin reserves every block of the chunk before anything is copied
    // (ext4_da_write_begin): ENOSPC for one fails the chunk with no byte of it changed.
    for (let idx = Math.floor(p / PAGE_SIZE); idx * PAGE_SIZE < chunkEnd; idx++) {
      const err = fs.reserveForWrite(inode, idx);
      if (err < 0) return done > 0 ? done : err;
    }
    for (let q = p; q < chunkEnd;) {
      const idx = Math.floor(q / PAGE_SIZE);
      const pfn = head + (idx - f.index[head]!);
      const off = q % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, chunkEnd - q);
      if (typeof src === 'number') {
        if (n === PAGE_SIZE) f.fillFrame(pfn, src);
        else for (let i = 0; i < n; i++) f.writeByte(pfn, off + i, src);
      } else if (src instanceof UserBuffer) {
        // copy_page_from_iter (6.1: after the prefault; 6.18: atomic, then fault_in_readable, which
        // the model's copy does in one go): a page that cannot be read makes the copy short.
        const c = src.copyIn(done + (q - p), USER_COPY_SCRATCH, n);
        for (let i = 0; i < c; i++) f.writeByte(pfn, off + i, USER_COPY_SCRATCH[i]!);
        if (c < n) { chunkEnd = q + c; len = chunkEnd - pos; break; }
      } else {
        for (let i = 0; i < n; i++) f.writeByte(pfn, off + i, src[done + (q - p) + i]!);
      }
      q += n;
    }
    folioMarkDirty(k, head);
    k.lru.markAccessed(head);
    done += chunkEnd - p;
    p = chunkEnd;
    if (p > inode.sizeBytes) inode.sizeBytes = p;
  }
  // After a short copy fault_in_readable could bring in nothing: -EFAULT when nothing was written.
  return done === 0 && src instanceof UserBuffer && asked > 0 ? -EFAULT : done;
}

/**
 * generic_perform_write (v6.1): fault_in_iov_iter_readable of the source bytes of this page's
 * chunk [p, end) before ->write_begin. Returns the bytes now readable from p: 0 ends the write
 * (-EFAULT when nothing was written), fewer than the chunk make it short.
 */
function prefaultSource(src: UserBuffer, done: number, p: number, end: number): number {
  const want = Math.min(PAGE_SIZE - (p % PAGE_SIZE), end - p);
  const ok = src.faultInReadable(done, want);
  return ok < want ? ok : end - p;
}

/**
 * truncate_setsize + truncate_pagecache + the fs size change (mm/truncate.c v6.1): shrinking
 * unmaps everything from the new EOF page on, including private COW copies (even_cows); a large
 * folio straddling the new EOF is unmapped whole (truncate_inode_partial_folio ->
 * unmap_mapping_folio, the oracle's 6.18 ext4 truncate row) and split; pages past EOF leave the
 * page cache; the fs then frees blocks.
 */
export function truncateInode(k: Kernel, inode: Inode, newSize: number): number {
  if (newSize < 0) return -EINVAL;
  inode.sb.fs.breakLayouts?.(inode);
  const old = inode.sizeBytes;
  inode.sizeBytes = newSize;
  if (newSize < old) truncatePagecache(k, inode, newSize);
  return inode.sb.fs.setSize(inode, newSize, old);
}

/**
 * truncate_pagecache (mm/truncate.c, 6.1/6.18): unmap every page from `newSize` on in every mapping
 * of the file, private COW copies included (even_cows), drop them from the page cache (a large
 * folio straddling the cut is split where the filesystem lets it go, else zeroed past the cut;
 * the tail of a partial last page is zeroed), and unmap again for pages faulted in meanwhile.
 * ftruncate to a smaller size, and ext4's collapse and insert range from their start, use it.
 */
export function truncatePagecache(k: Kernel, inode: Inode, newSize: number): void {
  const mapping = inode.mapping;
  const f = k.frames;
  const holeStart = Math.ceil(newSize / PAGE_SIZE);
  unmapMappingPages(k, mapping, holeStart, Infinity, true);
  // The folio holding the last byte kept: if it is large and extends past the new EOF, it is
  // unmapped whole and split.
  const straddle = newSize > 0 ? findFolio(mapping, Math.floor((newSize - 1) / PAGE_SIZE)) : -1;
  if (straddle >= 0 && f.order[straddle]! > 0 && f.index[straddle]! + (1 << f.order[straddle]!) > holeStart) {
    unmapMappingPages(k, mapping, f.index[straddle]!, 1 << f.order[straddle]!, true);
    // truncate_inode_partial_folio splits at the page holding the new EOF, unless the filesystem
    // cannot release the folio (try_folio_split fails: the folio stays whole, zeroed past EOF).
    const release = inode.sb.fs.releaseFolio?.(inode, straddle) ?? true;
    if (release) splitFolioInCache(k, mapping, straddle, Math.floor(newSize / PAGE_SIZE));
    else zeroFolioPast(k, straddle, newSize);
  }
  if (newSize % PAGE_SIZE !== 0) {
    // Zero the tail of the last page (truncate_inode_partial_folio / folio_zero_range).
    const h = findFolio(mapping, Math.floor(newSize / PAGE_SIZE));
    if (h >= 0) {
      const pfn = h + (Math.floor(newSize / PAGE_SIZE) - f.index[h]!);
      for (let i = newSize % PAGE_SIZE; i < PAGE_SIZE; i++) f.writeByte(pfn, i, 0);
    }
  }
  dropRange(k, mapping, holeStart, Infinity);
  unmapMappingPages(k, mapping, holeStart, Infinity, true);
}

/**
 * folio_zero_range of truncate_inode_partial_folio (mm/truncate.c 6.18) for a folio kept whole:
 * every byte of it from file offset `from` on reads zero.
 */
function zeroFolioPast(k: Kernel, head: number, from: number): void {
  const f = k.frames;
  const n = 1 << f.order[head]!;
  for (let j = 0; j < n; j++) {
    const start = (f.index[head]! + j) * PAGE_SIZE;
    for (let i = Math.max(0, from - start); i < PAGE_SIZE; i++) f.writeByte(head + j, i, 0);
  }
}

/**
 * Split a large, unmapped folio in the page cache (truncate_inode_partial_folio). With `at`
 * (a file page index inside the folio) on profiles with folioSplitNonUniform (6.15+, folio_split):
 * a buddy split that isolates page `at` as an order-0 folio and keeps the rest in the largest
 * aligned pieces (for a 2 MiB folio split at page 128: orders 7, 0, 0, 1, ..., 6, 8). Otherwise
 * split_folio: every page becomes an order-0 folio.
 */
function splitFolioInCache(k: Kernel, mapping: import('./fs.ts').AddressSpace, head: number, at = -1): void {
  const f = k.frames;
  const order = f.order[head]!;
  const first = f.index[head]!;
  const dirty = (f.flags[head]! & PG_dirty) !== 0;
  const pieces: Array<[number, number]> = [];
  if (at >= 0 && k.profile.folioSplitNonUniform) {
    let base = 0;
    const rel = at - first;
    for (let o = order - 1; o >= 0; o--) {
      // The half without `at` stays one folio of order o; go on splitting the half with it.
      if (rel < base + (1 << o)) pieces.push([base + (1 << o), o]);
      else { pieces.push([base, o]); base += 1 << o; }
    }
    pieces.push([base, 0]);
    pieces.sort((x, y) => x[0] - y[0]);
  } else for (let i = 0; i < 1 << order; i++) pieces.push([i, 0]);
  k.lru.removeFolio(head);
  mapping.pages.erase(first);
  f.splitFolioInto(head, pieces);
  for (const [off, o] of pieces) {
    mapping.pages.store(first + off, (head + off + 1) * 2, o);
    if (dirty) mapping.pages.setMark(first + off, 0);
    k.lru.addFolio(head + off, false);
  }
}

/** truncate_inode_pages_range for whole folios from `start` to `end` (inclusive): drop them from the cache. */
export function dropRange(k: Kernel, mapping: import('./fs.ts').AddressSpace, start: number, end: number): void {
  const heads: number[] = [];
  const values: number[] = [];
  mapping.pages.forEach(start, end, (i, e) => { if (xaIsValue(e)) values.push(i); else heads.push(e / 2 - 1); });
  for (const i of values) mapping.pages.erase(i);
  const f = k.frames;
  for (const h of heads) {
    waitFolioUnlocked(k, h);
    if (f.index[h]! < start) continue; // partial large folio at the start: keep (split earlier)
    f.flags[h] = f.flags[h]! & ~PG_dirty;
    mapping.pages.clearMark(f.index[h]!, 0);
    removeFolio(k, mapping, h, 0);
  }
}

export function sysFtruncate(k: Kernel, proc: Process, fd: number, size: number): number {
  const file = fileOf(proc, fd);
  if (!file) return -EBADF;
  if (!file.writable) return -EINVAL;
  if (size < 0) return -EINVAL;
  k.charge(k.costs.syscallNs, COST.syscall);
  return truncateInode(k, file.inode, size);
}

/** fallocate(2): the descriptor, then vfs_fallocate. */
export function sysFallocate(k: Kernel, proc: Process, fd: number, mode: number, offset: number, len: number): number {
  const file = fileOf(proc, fd);
  if (!file) return -EBADF;
  return fileFallocate(k, file, mode, offset, len);
}

/**
 * vfs_fallocate (fs/open.c, 5.10/6.1/6.18) on an open file (also madvise(MADV_REMOVE)'s punch
 * hole): its checks in the profile's order (falloc.ts), then, for punch hole and zero range, the
 * page-cache part ext4 and shmem share (truncate_pagecache_range, even_cows = 0), then the
 * filesystem's ->fallocate. Collapse and insert do their page-cache work in the filesystem.
 */
export function fileFallocate(k: Kernel, file: import('./fs.ts').File, mode: number, offset: number,
  len: number): number {
  const bad = vfsFallocateChecks(k.profile.fallocateModeCheck, file, mode, offset, len);
  if (bad < 0) return bad;
  const inode = file.inode;
  // The filesystem refuses a mode it does not know before anything is changed: shmem's ZERO_RANGE
  // is EOPNOTSUPP with the page cache untouched (issue 17: it used to be zeroed first).
  const modes = inode.sb.fs.fallocateModes;
  if (modes !== undefined && (mode & ~modes) !== 0) return -EOPNOTSUPP;
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
    inode.sb.fs.fallocateWriteback?.(inode, mode, offset, len);
    inode.sb.fs.breakLayouts?.(inode);
    const s = Math.ceil(offset / PAGE_SIZE), e = Math.floor((offset + len) / PAGE_SIZE);
    const mapping = inode.mapping;
    const f = k.frames;
    if (e > s) {
      // A large folio that reaches past either end of the hole is unmapped and split first
      // (truncate_inode_partial_folio splits it), so only the pages inside the hole go.
      // truncate_inode_partial_folio (6.18): split at the first hole page inside the folio, then
      // split the piece holding the first page after the hole (if large) at that page.
      // The split fails when the filesystem cannot release the folio (ext4: dirty buffers, as
      // after a buffered write, since 6.18's punch and zero range no longer write back first): a
      // dirty folio then stays whole in the cache, zeroed over the hole; a clean one under
      // writeback goes whole. Measured on the 6.18 host (ext4, a 32 KiB folio written by one
      // pwrite, punched over its first 16 KiB: the next load is a minor fault, mincore 1x8;
      // test/oracle-runs/madv-remove-partial.linux-6.18.ext4).
      const kept: Array<[number, number]> = [];
      for (const idx of [s, e - 1]) {
        const h = findFolio(mapping, idx);
        if (h < 0 || f.order[h]! === 0) continue;
        const first = f.index[h]!, n = 1 << f.order[h]!;
        if (first >= s && first + n <= e) continue;
        if (kept.some(([a]) => a === first)) continue;
        waitFolioUnlocked(k, h);
        // Unmapped whole first, split or not (truncate_inode_partial_folio -> unmap_mapping_folio;
        // fuzz seed 37 of fuzz-ext4-s1-n300.linux-6.18).
        unmapMappingPages(k, mapping, first, n, false);
        if (!(inode.sb.fs.releaseFolio?.(inode, h) ?? true)) {
          if ((f.flags[h]! & PG_dirty) === 0) { removeFolio(k, mapping, h, 0); continue; }
          kept.push([first, first + n]);
          for (let i = Math.max(s, first); i < Math.min(e, first + n); i++) f.fillFrame(h + (i - first), 0);
          continue;
        }
        splitFolioInCache(k, mapping, h, Math.max(s, first));
        const end = Math.min(e, first + n);
        const h2 = end < first + n ? findFolio(mapping, end) : -1;
        if (h2 >= 0 && f.order[h2]! > 0) splitFolioInCache(k, mapping, h2, end);
      }
      unmapMappingPages(k, mapping, s, e - s, false);
      let from = s;
      for (const [a, b] of kept.sort((x, y) => x[0] - y[0])) {
        if (a > from) dropRange(k, mapping, from, Math.min(a, e) - 1);
        from = Math.max(from, b);
      }
      if (from < e) dropRange(k, mapping, from, e - 1);
    }
    // Zero the partial pages at the edges in the page cache.
    for (const edge of [[offset, Math.min(offset + len, s * PAGE_SIZE)],
      [Math.max(offset, e * PAGE_SIZE), offset + len]] as const) {
      for (let b = edge[0]; b < edge[1]; b++) {
        const h = findFolio(mapping, Math.floor(b / PAGE_SIZE));
        if (h >= 0) f.writeByte(h + (Math.floor(b / PAGE_SIZE) - f.index[h]!), b % PAGE_SIZE, 0);
      }
    }
  }
  const r = inode.sb.fs.fallocate(inode, mode, offset, len);
  if (r < 0) return r;
  const sizeKept = FALLOC_FL_KEEP_SIZE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE;
  if (!(mode & sizeKept) && offset + len > inode.sizeBytes) inode.sizeBytes = offset + len;
  return 0;
}

export function sysFsync(k: Kernel, proc: Process, fd: number, datasync: boolean): number {
  const file = fileOf(proc, fd);
  if (!file) return -EBADF;
  k.charge(k.costs.syscallNs, COST.syscall);
  if (file.inode.isDir) return 0; // the model keeps no directory blocks to write back
  return file.inode.sb.fs.fsync(file, datasync);
}

export function sysUnlink(k: Kernel, path: string): number {
  const res = resolvePath(k.vfs, path);
  if (typeof res === 'number') return res;
  if (res.sb === null || res.name === '') return -EISDIR; // unlink(2) of a directory (do_unlinkat)
  const r = { sb: res.sb, name: res.name.replace(/\/+$/, '') };
  const parents = walkParents(r.sb, r.name);
  if (parents < 0) return parents;
  if (r.sb.readOnly) return -EROFS; // do_unlinkat: mnt_want_write before the last lookup
  const inode = r.sb.inodes.get(r.name);
  if (!inode) return -ENOENT;
  if (inode.isDir) return -EISDIR; // unlink(2) of a directory (may_delete)
  if (r.name !== res.name) return -ENOTDIR; // a trailing slash on a regular file
  r.sb.inodes.delete(r.name);
  r.sb.fs.unlinked?.(inode, r.name);
  inode.nlink = 0;
  if (inode.openCount === 0) k.vfs.evictInode(inode);
  else r.sb.unlinkedOpen.add(inode);
  return 0;
}

export interface StatResult {
  sizeBytes: number;
  blocks: number;
  ino: number;
  /** DAX files only: entries in the mapping's tree and how many carry the DIRTY mark (not in stat(2); a model view). */
  daxEntries?: number;
  daxDirtyEntries?: number;
}

export function sysStat(k: Kernel, path: string): StatResult | number {
  const res = resolvePath(k.vfs, path);
  if (typeof res === 'number') return res;
  if (res.sb === null) return -ENOENT; // a directory above every mount has no inode in the model
  const r = { sb: res.sb, name: res.name };
  const bare = r.name.replace(/\/+$/, '');
  const parents = bare === '' ? 0 : walkParents(r.sb, bare);
  if (parents < 0) return parents;
  const inode = bare === '' ? r.sb.inodes.get('') : r.sb.inodes.get(bare);
  if (inode && !inode.isDir && bare !== r.name) return -ENOTDIR;
  if (!inode) return -ENOENT;
  if (inode.isDir) return dirStat(r.sb, r.name.replace(/\/+$/, ''), inode.ino);
  const st: StatResult = { sizeBytes: inode.sizeBytes, blocks: inode.sb.fs.stBlocks(inode), ino: inode.ino };
  if (inode.dax) {
    let n = 0, dirty = 0;
    inode.mapping.pages.forEach(0, Infinity, (_i, e) => { if (xaIsValue(e)) n++; });
    inode.mapping.pages.forEach(0, Infinity, (_i, e) => { if (xaIsValue(e)) dirty++; }, 0);
    st.daxEntries = n;
    st.daxDirtyEntries = dirty;
  }
  return st;
}

/**
 * msync (mm/msync.c v6.1): EINVAL for an unaligned address, unknown flags, or MS_ASYNC with
 * MS_SYNC; ENOMEM when part of the range is unmapped; MS_SYNC fsyncs (datasync, vfs_fsync_range)
 * the file bytes each shared VMA maps inside the range, nothing more (6.1 guest: msync of one page
 * of a written DAX mapping write-protects that page, or the PMD holding it, alone); MS_ASYNC does
 * nothing.
 */
export function sysMsync(k: Kernel, proc: Process, addr: number, len: number, flags: number): number {
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  if (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) return -EINVAL;
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return -EINVAL;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const end = addr + len;
  let cur = addr;
  let unmapped = false;
  const mm = proc.mm;
  for (const v of [...mm.vmas]) {
    if (v.end <= cur || cur >= end) continue;
    if (v.start >= end) break; // a VMA wholly past the range (the gap below it is reported as ENOMEM)
    if (v.start > cur) unmapped = true;
    // msync (mm/msync.c v6.1, v6.18): MS_INVALIDATE of a locked mapping is EBUSY.
    if ((flags & MS_INVALIDATE) && (v.flags & VM_LOCKED)) return -EBUSY;
    if ((flags & MS_SYNC) && (v.flags & VM_SHARED) && v.file) {
      // vfs_fsync_range over the file bytes this VMA maps in [cur, end) only.
      const from = Math.max(cur, v.start);
      const fstart = (from - v.start) + v.pgoff * PAGE_SIZE;
      const err = v.file.inode.sb.fs.fsync(v.file, true, fstart, fstart + (Math.min(end, v.end) - from) - 1);
      if (err < 0) return err;
    }
    cur = v.end;
  }
  if (cur < end) unmapped = true;
  return unmapped ? -ENOMEM : 0;
}

/**
 * drop_caches = 3 (fs/drop_caches.c v6.1, v6.18): invalidate_mapping_pages on every inode of
 * sb->s_inodes (unlinked ones still open included)
 * (mapping_try_invalidate): clean, unlocked, unmapped page-cache folios are removed (no shadow
 * entries); locked ones are skipped; dirty and mapped folios stay and are deactivated
 * (deactivate_file_folio: dirty ones get PG_reclaim, so fault-around skips them afterwards; the
 * 6.18 host: test/oracle-runs/tmpfs-drop-caches-reclaim.linux-6.18.tmpfs.jsonl). mapping_evict_folio
 * does not ask whether a folio is swap-backed: a clean shmem folio (a hole read-faulted or COW
 * faulted through a mapping, SGP_CACHE, never written) goes too, and the file's blocks with it
 * (test/oracle-runs/tmpfs-drop-clean.linux-6.18.tmpfs; fuzz seeds 17, 191, 230, 237, 274 on every
 * kernel). Returns pages dropped.
 */
export function dropCaches(k: Kernel, sbs: readonly SuperBlock[]): number {
  k.lru.drain();
  const f = k.frames;
  let n = 0;
  for (const sb of sbs) for (const inode of [...sb.inodes.values(), ...sb.unlinkedOpen]) {
    const mapping = inode.mapping;
    const heads: number[] = [];
    mapping.pages.forEach(0, Infinity, (_i, e) => { if (!xaIsValue(e)) heads.push(e / 2 - 1); });
    for (const h of heads) {
      const fl = f.flags[h]!;
      if (fl & PG_locked) continue;
      let mapped = false;
      for (let j = 0; j < (1 << f.order[h]!); j++) if (f.mapcount[h + j]! > 0) mapped = true;
      if (mapped || (fl & (PG_dirty | PG_writeback)) !== 0) {
        k.lru.deactivateFile(h);
        continue;
      }
      n += 1 << f.order[h]!;
      removeFolio(k, mapping, h, 0);
    }
  }
  return n;
}


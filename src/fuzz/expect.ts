// What Linux answers to the fuzzer's file calls, check by check in the kernel's order (issue 17).
// Each function returns the expected result: a number (a result or -errno), or a list of
// acceptable results, or 'any' where the answer depends on more state than the shadow keeps.
// Arguments no C caller can pass (fractional, NaN, infinite) get EINVAL, the API's convention
// (src/lib/abi.ts), and before every check of the kernel's, the fd's included: the kernel's order
// is one among values a register can hold, and such a value never enters the kernel at all.
// References are to Linux 6.1 and 6.18 (identical in these checks).

import { EBADF, EINVAL, EFBIG, EFAULT, EISDIR, ENOENT, ENOTDIR, EEXIST, EOPNOTSUPP, ENOSPC, ENOMEM }
  from '../lib/errno.ts';

export type Expect = number | number[] | 'any';
/** MAX_RW_COUNT (include/linux/fs.h): INT_MAX & PAGE_MASK, the most one read or write transfers. */
export const MAX_RW_COUNT = 0x7ffff000;
/** ext4_max_size (fs/ext4/super.c) for extent files with 4 KiB blocks: EXT_MAX_BLOCKS blocks. */
export const EXT4_MAXBYTES = 0xffffffff * 4096;
/** MAX_LFS_FILESIZE (include/linux/fs.h), tmpfs's s_maxbytes (shmem_fill_super). */
export const TMPFS_MAXBYTES = 2 ** 44; // the model's limit (src/fs/limits.ts), below Linux's 2^63 - 1

const isInt = Number.isInteger;

/**
 * ksys_pwrite64 -> vfs_write -> rw_verify_area -> generic_write_checks (fs/read_write.c, mm/filemap.c).
 * `off` is the caller's offset (pwrite), `pos` where the write goes (i_size under O_APPEND).
 */
export function expectWrite(open: boolean, writable: boolean, len: number, off: number, pos: number, smax: number,
  bufLen: number, positional: boolean): { e: Expect; count: number } {
  if (!isInt(len) || (positional && !isInt(off))) return { e: -EINVAL, count: 0 }; // the ABI (src/lib/abi.ts)
  if (positional && off < 0) return { e: -EINVAL, count: 0 };
  if (!open || !writable) return { e: -EBADF, count: 0 };
  if (len < 0) return { e: -EINVAL, count: 0 };
  let count = Math.min(len, MAX_RW_COUNT);
  if (count === 0) return { e: 0, count: 0 };
  if (pos >= smax) return { e: -EFBIG, count: 0 };
  count = Math.min(count, smax - pos);
  // copy_from_user stops at the end of the caller's buffer: a short write, or EFAULT for none.
  if (bufLen >= 0 && bufLen < count) count = bufLen;
  if (count === 0) return { e: -EFAULT, count: 0 };
  return { e: count, count };
}

/** ksys_pread64 -> vfs_read -> rw_verify_area -> filemap_read / dax_iomap_rw. */
export function expectRead(open: boolean, readable: boolean, len: number, pos: number, smax: number,
  size: number): Expect {
  if (!isInt(len) || !isInt(pos)) return -EINVAL; // the ABI (src/lib/abi.ts)
  if (pos < 0) return -EINVAL;
  if (!open || !readable) return -EBADF;
  if (len < 0) return -EINVAL;
  const count = Math.min(len, MAX_RW_COUNT);
  if (count === 0 || pos >= smax) return 0;
  return Math.max(0, Math.min(count, size - pos));
}

/** do_sys_ftruncate (fs/open.c) -> inode_newsize_ok (fs/attr.c). */
export function expectTruncate(open: boolean, writable: boolean, length: number, smax: number): Expect {
  if (!isInt(length)) return -EINVAL;
  if (length < 0) return -EINVAL;
  if (!open) return -EBADF;
  if (!writable) return -EINVAL;
  if (length > smax) return -EFBIG;
  return 0;
}

/** vfs_fallocate (fs/open.c) then shmem_fallocate / ext4_fallocate. */
export function expectFallocate(open: boolean, writable: boolean, mode: number, off: number, len: number,
  smax: number, tmpfs: boolean): Expect {
  if (!isInt(off) || !isInt(len) || !isInt(mode)) return -EINVAL; // the ABI (src/lib/abi.ts)
  if (!open) return -EBADF;
  if (off < 0 || len <= 0) return -EINVAL;
  if (mode & ~0x7f) return -EOPNOTSUPP;
  if ((mode & 0x12) === 0x12) return -EOPNOTSUPP;
  if ((mode & 0x02) && !(mode & 0x01)) return -EOPNOTSUPP;
  if (!writable) return -EBADF;
  if (off + len > smax) return -EFBIG;
  if (tmpfs && (mode & ~0x03)) return -EOPNOTSUPP;
  if (!tmpfs && (mode & 0x68)) return -EOPNOTSUPP;
  if (mode & 0x02) return 0;
  return [0, -ENOSPC];
}

export interface PathResult { err: number; name: string; dir: boolean }
/**
 * Path walk as link_path_walk / path_openat do it (fs/namei.c) over the fuzzer's namespace: the
 * directories / and /t (the mount), regular files inside /t.
 */
export function resolvePath(path: string, exists: (name: string) => boolean): PathResult {
  const parts = path.split('/');
  const trailing = path.endsWith('/') && path.length > 1;
  const comps = parts.filter((c) => c !== '' && c !== '.');
  const stack: string[] = [];
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    const last = i === comps.length - 1;
    if (c === '..') { stack.pop(); continue; }
    if (stack.length === 0) { if (c !== 't') return { err: -ENOENT, name: '', dir: false }; stack.push(c); continue; }
    if (stack.length === 2) return { err: -ENOTDIR, name: '', dir: false }; // a file used as a directory
    if (!last && !exists(c)) return { err: -ENOENT, name: '', dir: false };
    if (!last) return { err: -ENOTDIR, name: '', dir: false };
    stack.push(c);
  }
  if (stack.length < 2) return { err: 0, name: '', dir: true };
  const name = stack[1]!;
  if (trailing && exists(name)) return { err: -ENOTDIR, name, dir: false };
  return { err: trailing ? -EISDIR : 0, name, dir: false };
}

/** do_sys_openat2 over resolvePath: O_CREAT, O_EXCL, a directory, a trailing slash. */
export function expectOpen(path: string, flags: number, exists: (name: string) => boolean): PathResult {
  const r = resolvePath(path, exists);
  const creat = (flags & 0x40) !== 0;
  if (r.err === -EISDIR) return { ...r, err: creat ? -EISDIR : -ENOENT };
  if (r.err < 0) return r;
  if (r.dir) return { ...r, err: (flags & 3) !== 0 || creat ? -EISDIR : 0 };
  if (!exists(r.name) && !creat) return { ...r, err: -ENOENT };
  if (exists(r.name) && creat && (flags & 0x80)) return { ...r, err: -EEXIST };
  return r;
}

/** munmap (mm/mmap.c do_vmi_munmap): an unaligned start, a length past TASK_SIZE, or none: EINVAL. */
export function expectMunmap(addr: number, len: number, taskSize: number): Expect {
  if (!isInt(addr) || !isInt(len) || addr < 0 || addr % 4096 !== 0 || addr > taskSize) return -EINVAL;
  if (len < 0 || len > taskSize - addr || len === 0) return -EINVAL;
  return 0;
}

/** do_mprotect_pkey (mm/mprotect.c): EINVAL unaligned, 0 for no length, ENOMEM for a wrapping end. */
export function expectMprotectArgs(addr: number, len: number, prot: number): Expect | null {
  if (!isInt(addr) || !isInt(len) || !isInt(prot) || addr % 4096 !== 0 || addr < 0) return -EINVAL;
  if (len === 0) return 0;
  if (len < 0) return -ENOMEM;
  if (prot & ~0xf) return -EINVAL;
  return null;
}

/** msync (mm/msync.c): flag checks, then an unmapped page anywhere in the range: ENOMEM. */
export function expectMsyncArgs(addr: number, len: number, flags: number): Expect | null {
  if (!isInt(addr) || !isInt(len) || !isInt(flags) || addr % 4096 !== 0 || addr < 0) return -EINVAL;
  if (flags & ~7) return -EINVAL;
  if ((flags & 1) && (flags & 4)) return -EINVAL;
  if (len < 0) return -ENOMEM;
  if (len === 0) return 0;
  return null;
}

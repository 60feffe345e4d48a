// Runs one fuzzer program (src/fuzz/program.ts) on a fresh Machine and checks every call against
// the shadow model (src/fuzz/shadow.ts, src/fuzz/expect.ts) and the model's own invariants:
// counters never decrease, Rss within each mapping, the VMA list equal to the shadow's, memory given
// back at teardown. Any exception is a finding. Each executed call is recorded as the TypeScript
// it was (literal fds and addresses), so a finding prints as a runnable reproducer.

import { Machine, type Process } from '../api/machine.ts';
import type { Call, FuzzProgram } from './program.ts';
import { PATHS } from './program.ts';
import { ShadowFile, ShadowMm, shadowLoad, shadowStore, PAGE, type ShadowVma } from './shadow.ts';
import { expectWrite, expectRead, expectTruncate, expectFallocate, expectOpen, expectMunmap,
  expectMprotectArgs, expectMsyncArgs, EXT4_MAXBYTES, TMPFS_MAXBYTES, type Expect } from './expect.ts';
import { EACCES, EBADF, EBUSY, EINVAL, ENOENT, EISDIR, ENOTDIR, ENOMEM, EOVERFLOW } from '../lib/errno.ts';

export interface Finding { kind: 'exception' | 'mismatch' | 'invariant'; call: number; op: string; message: string }
export interface RunResult { finding: Finding | null; trace: string[]; code: string[]; executed: number }

const MiB = 2 ** 20;
const TASK_SIZE = 0x7ffffffff000;
interface Fd { file: ShadowFile; flags: number; pos: number; name: string }

/** Mismatch: thrown inside a run, caught by runProgram and reported as a finding. */
class Mismatch extends Error {}

export class FuzzRun {
  readonly m: Machine;
  readonly p: Process;
  readonly prog: FuzzProgram;
  readonly files = new Map<string, ShadowFile>();
  readonly fds = new Map<number, Fd>();
  /** Descriptors of directories (open("/t", O_RDONLY)): read is EISDIR, write EBADF, fsync 0. */
  readonly dirFds = new Set<number>();
  readonly fdSlots: number[] = [];
  readonly maps: number[] = [];
  readonly mm = new ShadowMm();
  readonly smax: number;
  readonly code: string[] = [];
  readonly trace: string[] = [];
  private counters: Record<string, number> = {};
  readonly freeAtStart: number;

  constructor(prog: FuzzProgram) {
    this.prog = prog;
    const devType = prog.fs === 'ext4' ? 'block' as const : 'pmem' as const;
    const devs = prog.fs === 'tmpfs' ? [] : [{ name: 'd0', type: devType,
      sizeBytes: 64 * MiB }];
    this.m = new Machine({ profile: prog.profile, memoryBytes: 256 * MiB, devices: devs });
    this.code.push(`const m = new Machine({ profile: ${JSON.stringify(prog.profile)}, memoryBytes: 256 * 2 ** 20, ` +
      `devices: ${JSON.stringify(devs)} });`);
    if (prog.fs === 'tmpfs') {
      this.m.mount('/t', 'tmpfs');
      this.code.push(`m.mount('/t', 'tmpfs');`);
    } else {
      const opts = prog.fs === 'ext4-dax' ? ['dax'] : [];
      this.m.mkfs('d0', 'ext4');
      const r = this.m.mount('/t', 'ext4', 'd0', opts);
      if (r < 0) throw new Error(`fuzz set-up: mount of ${prog.fs} failed: ${r}`);
      this.code.push(`m.mkfs('d0', 'ext4'); m.mount('/t', 'ext4', 'd0', ${JSON.stringify(opts)});`);
    }
    this.p = this.m.process();
    this.code.push(`const p = m.process();`);
    this.smax = prog.fs === 'tmpfs' ? TMPFS_MAXBYTES : EXT4_MAXBYTES;
    this.freeAtStart = this.m.meminfo().MemFree!;
    this.counters = this.m.vmstat();
  }

  fd(slot: number): number {
    if (this.fdSlots.length === 0) return 99;
    return this.fdSlots[slot % this.fdSlots.length]!;
  }
  base(slot: number): number {
    return this.maps.length === 0 ? 0x10000 : this.maps[slot % this.maps.length]!;
  }

  /** Check a result against what Linux gives; record the call. */
  check(op: string, args: string, r: unknown, e: Expect): void {
    this.code.push(`p.${op}(${args}); // -> ${String(r)}`);
    this.trace.push(`${op} ${String(r)}`);
    if (e === 'any') return;
    const ok = Array.isArray(e) ? e.includes(r as number) : r === e;
    // Memory exhausted (page tables of a huge populate, say): Linux fails the allocation (ENOMEM,
    // ENOSPC on tmpfs) or OOM-kills (SIGKILL); the shadow does not model memory, so either is fine.
    if (!ok && (r === -ENOMEM || r === -28 || r === -9) && this.m.meminfo().MemFree! < 2048) return;
    // The tmpfs is at its size limit (half of RAM by default): a call that needs a page gets ENOSPC,
    // a fault SIGBUS (shmem_inode_acct_blocks). The shadow does not model the limit, so it stops
    // following the contents of every file and mapping from here on.
    if (!ok && (r === -28 || r === -7) && this.tmpfsFull()) {
      for (const file of this.files.values()) file.fuzzy = true;
      for (const v of this.mm.vmas) if (v.file) v.prot |= 0x100;
      return;
    }
    const linux = Array.isArray(e) ? e.join(' or ') : e;
    if (!ok) throw new Mismatch(`${op}(${args}) returned ${String(r)}, Linux: ${linux}`);
  }

  exists = (name: string): boolean => this.files.has(name);

  /** Is the tmpfs on /t out of blocks (src/mm/shmem-limit.ts)? */
  tmpfsFull(): boolean {
    const lim = this.m.k.vfs.mounts.find((sb) => sb.mountPoint === '/t')?.fs.blockLimit;
    return lim !== undefined && !lim.fits(1);
  }

  /** The model's invariants after every call. */
  invariants(): void {
    const now = this.m.vmstat();
    for (const [k, v] of Object.entries(now)) {
      if (v < (this.counters[k] ?? 0)) {
        throw new Mismatch(`invariant: vmstat ${k} went down ${this.counters[k]} -> ${v}`);
      }
    }
    this.counters = now;
    const model = mergeRuns(this.p.kp.mm.vmas.map((v) => [v.start, v.end, v.flags & 7] as [number, number, number]));
    const shadow = mergeRuns(this.mm.vmas.map((v) => [v.start, v.end, v.prot & 7] as [number, number, number]));
    if (JSON.stringify(model) !== JSON.stringify(shadow)) {
      throw new Mismatch(`invariant: VMAs ${fmtRuns(model)} but the calls made ${fmtRuns(shadow)}`);
    }
    for (const v of this.p.kp.mm.vmas) {
      if (v.end - v.start > 64 * MiB) continue;
      const s = this.p.smaps(v.start);
      if (typeof s === 'number' || (s.Rss as number) > (s.Size as number)) {
        throw new Mismatch(`invariant: smaps of ${hex(v.start)}: Rss beyond Size (${JSON.stringify(s)})`);
      }
    }
  }
}

export const hex = (a: number): string => Number.isSafeInteger(a) && a >= 0 ? `0x${a.toString(16)}` : String(a);

function mergeRuns(runs: Array<[number, number, number]>): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const r of [...runs].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && last[1] === r[0] && last[2] === r[2]) last[1] = r[1];
    else out.push([...r]);
  }
  return out;
}
const fmtRuns = (rs: Array<[number, number, number]>): string =>
  rs.map(([s, e, p]) => `${hex(s)}-${hex(e)}:${p}`).join(',') || '(none)';

/** Each op: run it on the model and the shadow. */
type OpFn = (f: FuzzRun, a: number[]) => void;
const num = (x: number): string => Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity'
  : Number.isSafeInteger(x) && Math.abs(x) > 65536 ? hex(x) : String(x);

function opOpen(f: FuzzRun, a: number[]): void {
  const path = PATHS[a[0]! % PATHS.length]!;
  const flags = a[1]!;
  const e = expectOpen(path, flags, f.exists);
  const r = f.p.open(path, flags);
  f.check('open', `${JSON.stringify(path)}, 0x${flags.toString(16)}`, r, e.err < 0 ? e.err : e.dir ? 'any' : 'any');
  if (e.dir && r >= 0) { f.dirFds.add(r); f.fdSlots.push(r); }
  if (e.err < 0 || e.dir) return;
  if (r < 0) throw new Mismatch(`open(${path}) returned ${r}, Linux: a file descriptor`);
  let file = f.files.get(e.name);
  if (!file) { file = new ShadowFile(); f.files.set(e.name, file); }
  if (flags & 0x200) truncateShadow(f, file, 0);
  f.fds.set(r, { file, flags, pos: 0, name: e.name });
  f.fdSlots.push(r);
}

function truncateShadow(f: FuzzRun, file: ShadowFile, n: number): void {
  file.truncate(n);
  // truncate_pagecache unmaps private COW copies past the new EOF as well (even_cows).
  const first = Math.ceil(n / PAGE);
  for (const v of f.mm.vmas) {
    if (v.file === file && !v.shared) for (const i of v.priv.keys()) if (i >= first) v.priv.delete(i);
  }
}

function bufferFor(a4: number, count: number, v: number): Uint8Array | number {
  if (a4 === 0 || !Number.isInteger(count) || count < 0 || count > 4 * MiB) return v;
  const n = a4 === 1 ? count : a4 === 2 ? Math.floor(count / 2) : 0;
  return new Uint8Array(n).map((_, i) => (i * 7 + v) & 255);
}

function opPwrite(f: FuzzRun, a: number[], positional: boolean): void {
  const fd = f.fd(a[0]!);
  const len = a[1]!;
  const d = f.fds.get(fd);
  const src = positional ? bufferFor(a[4]!, len, a[3]!) : a[2]!;
  const append = d !== undefined && (d.flags & 0x400) !== 0;
  const off = positional ? a[2]! : d?.pos ?? 0;
  const pos = append ? d.file.size : off;
  const bufLen = typeof src === 'number' ? -1 : src.length;
  const ex = expectWrite(d !== undefined || f.dirFds.has(fd), d !== undefined && (d.flags & 3) !== 0, len, off,
    pos, f.smax, bufLen, positional);
  if (ex.count > 16 * MiB) { f.trace.push('skip big write'); return; }
  const srcText = typeof src === 'number' ? String(src)
    : `new Uint8Array(${src.length}).map((_, i) => (i * 7 + ${a[3]}) & 255)`;
  const r = positional ? f.p.pwrite(fd, len, off, src) : f.p.write(fd, len, src);
  const args = positional ? `${fd}, ${num(len)}, ${num(off)}, ${srcText}` : `${fd}, ${num(len)}, ${srcText}`;
  // ENOSPC, or a short write when the device fills, is the filesystem's answer.
  const e: Expect = typeof ex.e === 'number' && ex.e > 0 ? (r === -28 || (typeof r === 'number' && r >= 0 && r <= ex.e)
    ? r : ex.e) : ex.e;
  f.check(positional ? 'pwrite' : 'write', args, r, e);
  if (r <= 0 || !d) return;
  if (pos + r > f.smax) throw new Mismatch(`write past s_maxbytes`);
  for (let i = 0; i < r; i++) d.file.setByte(pos + i, typeof src === 'number' ? src & 255 : src[i]!);
  if (pos + r > d.file.size) d.file.size = pos + r;
  if (!positional || append) d.pos = pos + r;
}

function opPread(f: FuzzRun, a: number[]): void {
  const fd = f.fd(a[0]!), len = a[1]!, off = a[2]!;
  const d = f.fds.get(fd);
  const dir = f.dirFds.has(fd);
  let e = expectRead(d !== undefined || dir, dir || (d !== undefined && (d.flags & 3) !== 1), len, off, f.smax,
    d?.file.size ?? 0);
  // vfs_read's checks pass on a directory; its f_op->read (generic_read_dir) is EISDIR, for 0 bytes too.
  if (dir && typeof e === 'number' && e >= 0) e = -EISDIR;
  const out = Number.isInteger(len) && len > 0 && len <= 4 * MiB ? new Uint8Array(len).fill(0xee) : null;
  const r = f.p.pread(fd, len, off, out);
  f.check('pread', `${fd}, ${num(len)}, ${num(off)}${out ? `, new Uint8Array(${len})` : ''}`, r, e);
  if (!out || !d || r <= 0 || d.file.fuzzy) return;
  for (let i = 0; i < r; i++) {
    const want = d.file.byte(off + i);
    if (out[i] !== want) throw new Mismatch(`pread data: byte ${off + i} of ${d.name} is ${out[i]}, written ${want}`);
  }
}

function opFtruncate(f: FuzzRun, a: number[]): void {
  const fd = f.fd(a[0]!), n = a[1]!;
  const d = f.fds.get(fd);
  const e = expectTruncate(d !== undefined || f.dirFds.has(fd), d !== undefined && (d.flags & 3) !== 0, n, f.smax);
  const r = f.p.ftruncate(fd, n);
  f.check('ftruncate', `${fd}, ${num(n)}`, r, e);
  if (r === 0 && d) truncateShadow(f, d.file, n);
}

function opFallocate(f: FuzzRun, a: number[]): void {
  const fd = f.fd(a[0]!), mode = a[1]!, off = a[2]!, len = a[3]!;
  const d = f.fds.get(fd);
  if (d && Number.isInteger(len) && len > 8 * MiB && (mode & 2) === 0 && off + len < f.smax) {
    f.trace.push('skip big fallocate');
    return;
  }
  const e = expectFallocate(d !== undefined || f.dirFds.has(fd), d !== undefined && (d.flags & 3) !== 0, mode, off,
    len, f.smax,
    f.prog.fs === 'tmpfs');
  const r = f.p.fallocate(fd, mode, off, len);
  f.check('fallocate', `${fd}, 0x${mode.toString(16)}, ${num(off)}, ${num(len)}`, r, e);
  // ext4_alloc_file_blocks raises i_size chunk by chunk as it allocates, so an ENOSPC part-way
  // leaves the file as long as what it got (fs/ext4/extents.c 6.1-6.18): the shadow, which does
  // not model free space, takes the size the model reports.
  if (r === -28 && d && (mode & 0x3) === 0) {
    const st = f.p.stat(`/t/${d.name}`);
    if (typeof st !== 'number' && st.sizeBytes > d.file.size) d.file.size = st.sizeBytes;
    if (mode & 0x10) d.file.fuzzy = true; // a ZERO_RANGE stopped part-way zeroed an unknown part
    return;
  }
  if (r !== 0 || !d) return;
  const end = off + len;
  if (mode & 0x12) d.file.zero(off, Math.min(end, (mode & 1) ? Math.max(d.file.size, 0) : end));
  if (!(mode & 1) && end > d.file.size) d.file.size = end;
}

function opMmap(f: FuzzRun, a: number[]): void {
  const [hint, len, prot, flags, slot, off] = a as [number, number, number, number, number, number];
  const anon = (flags & 0x20) !== 0;
  const fd = anon ? -1 : f.fd(slot);
  const r = f.p.mmap(hint, len, prot, flags, fd, off);
  const isInt = Number.isInteger(hint) && Number.isInteger(len) && Number.isInteger(off);
  // sys_mmap, ksys_mmap_pgoff, do_mmap (measured on the 6.18 host, test/fuzz-findings.test.ts): offset
  // alignment, then the descriptor, then the length, then (files) the offset's range.
  const open = anon || f.fds.has(fd) || f.dirFds.has(fd);
  const fixed = (flags & 0x100010) !== 0;
  const e: Expect = !isInt ? -EINVAL : off % 4096 !== 0 ? -EINVAL : !open ? -EBADF : len === 0 ? -EINVAL
    : len < 0 ? -ENOMEM : !anon && off < 0 && !fixed && len <= TASK_SIZE ? -EOVERFLOW : 'any';
  f.check('mmap', `${hex(hint)}, ${num(len)}, ${prot}, 0x${flags.toString(16)}, ${fd}, ${num(off)}`, r, e);
  if (r < 0) return;
  if (r % 4096 !== 0 || r + len > TASK_SIZE) throw new Mismatch(`mmap returned ${hex(r)}, not a page in user space`);
  const alen = Math.ceil(len / 4096) * 4096;
  if ((flags & 0x110) === 0 && !f.mm.carve(r, r + alen).every(() => false)) {
    throw new Mismatch(`mmap placed ${hex(r)} over an existing mapping without MAP_FIXED`);
  }
  const shared = (flags & 3) === 1 || (flags & 3) === 3;
  const d = anon ? undefined : f.fds.get(fd);
  if (!anon && !d) throw new Mismatch(`mmap of fd ${fd} that is not open succeeded`);
  const file = anon ? (shared ? Object.assign(new ShadowFile(), { size: alen }) : null) : d!.file;
  const maywrite = shared && (anon || (d!.flags & 3) === 2);
  f.mm.insert({ start: r, end: r + alen, prot: prot & 7, shared, locked: (flags & 0x2000) !== 0, maywrite, file,
    pgoff: anon ? 0 : off / 4096, priv: new Map() });
  f.maps.push(r);
  // MAP_POPULATE and MAP_LOCKED populate the range (mm/gup.c populate_vma_page_range, every version
  // modelled): a writable private mapping is touched with FOLL_WRITE to break COW now, so its pages
  // inside the file become private copies that later writes to the file do not reach. GUP stops at
  // the first page past EOF (SIGBUS), and mmap ignores the error.
  // A populate larger than the shadow follows (64 MiB: memory may run out first, and GUP stops at
  // -ENOMEM) leaves the VMA's contents unpredicted (0x100: loads are not checked).
  if ((flags & 0xa000) !== 0 && !shared && (prot & 2) !== 0 && file) {
    const inFile = Math.max(0, Math.ceil(file.size / PAGE) - off / PAGE);
    if (Math.min(inFile, alen / PAGE) > 16384) f.mm.find(r)!.prot |= 0x100;
    else {
      for (let va = r; va < r + alen; va += PAGE) {
        if (shadowStore(f.mm, va, shadowLoad(f.mm, va)) < 0) break;
      }
    }
  }
}

function opMunmap(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, len = a[2]!;
  const e = expectMunmap(addr, len, TASK_SIZE);
  const r = f.p.munmap(addr, len);
  f.check('munmap', `${hex(addr)}, ${num(len)}`, r, e);
  if (r === 0) f.mm.unmap(addr, addr + Math.ceil(len / 4096) * 4096);
}

function opMprotect(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, len = a[2]!, prot = a[3]!;
  const end = addr + Math.ceil(len / 4096) * 4096;
  let e = expectMprotectArgs(addr, len, prot);
  if (e === null) e = !f.mm.covered(addr, end) ? -ENOMEM : 'any';
  const r = f.p.mprotect(addr, len, prot);
  f.check('mprotect', `${hex(addr)}, ${num(len)}, ${prot}`, r, e);
  if (r === 0 && len > 0) for (const v of f.mm.carve(addr, end)) v.prot = (prot & 7) | (v.prot & 0x100);
}

function opMsync(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, len = a[2]!, flags = a[3]!;
  let e = expectMsyncArgs(addr, len, flags);
  if (e === null) e = msyncWalk(f.mm, addr, addr + Math.ceil(len / 4096) * 4096, flags);
  const r = f.p.msync(addr, len, flags);
  f.check('msync', `${hex(addr)}, ${num(len)}, ${flags}`, r, e);
}

/**
 * msync (mm/msync.c, 6.1/6.18) over the VMAs of [s, e): a gap makes the result ENOMEM at the end,
 * a VM_LOCKED VMA with MS_INVALIDATE is EBUSY at once; else 0 (EIO from writeback also possible).
 */
function msyncWalk(mm: ShadowMm, s: number, e: number, flags: number): Expect {
  let cur = s, gap = false;
  for (const v of mm.vmas) {
    if (v.end <= cur) continue;
    if (v.start >= e) break;
    if (v.start > cur) gap = true;
    if ((flags & 2) && v.locked) return [-EBUSY, -5];
    cur = v.end;
  }
  return gap || cur < e ? -ENOMEM : [0, -5];
}

function opMadvise(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, len = a[2]!, adv = a[3]!;
  // madvise_behavior_valid: MADV_POPULATE_READ/WRITE (22, 23) from 5.14 (knob madvPopulate).
  const known = [0, 1, 2, 3, 4, 8, 9, 10, 11, 14, 15, 20, 21].includes(adv) ||
    ((adv === 22 || adv === 23) && f.m.k.profile.madvPopulate);
  const ok = Number.isInteger(addr) && Number.isInteger(len) && addr % 4096 === 0 && addr >= 0;
  let e: Expect = !known || !ok ? -EINVAL : len < 0 ? -EINVAL : len === 0 ? 0 : 'any';
  const end = addr + Math.ceil(len / 4096) * 4096;
  // madvise_walk_vmas (mm/madvise.c 5.10-6.18) visits the VMAs in address order and returns the
  // first VMA's error at once, after the VMAs below it were done; a gap only makes the end ENOMEM.
  // For DONTNEED, FREE and REMOVE the shadow knows each VMA's verdict, so the walk predicts both the
  // result and which VMAs took effect.
  let stopAt = Infinity;
  if (e === 'any' && (adv === 4 || adv === 8 || adv === 9) && len > 0 && end <= TASK_SIZE) {
    const mayWrite = f.m.k.profile.madvRemoveMayWrite;
    for (const v of f.mm.vmas) {
      if (v.end <= addr || v.start >= end) continue;
      let err = madviseVmaError(v, adv, mayWrite);
      // MADV_REMOVE's vfs_fallocate past s_maxbytes is EFBIG: Linux's tmpfs allows 2^63 - 1, the
      // model stops at TMPFS_MAXBYTES (a documented limit of the model, src/fs/limits.ts).
      if (err === 0 && adv === 9 && (v.pgoff * PAGE + (Math.min(end, v.end) - v.start)) > f.smax) err = -27;
      if (err !== 0) { e = err; stopAt = Math.max(v.start, addr); break; }
    }
    if (e === 'any') e = f.mm.covered(addr, end) ? 0 : -ENOMEM;
  }
  const r = f.p.madvise(addr, len, adv);
  f.check('madvise', `${hex(addr)}, ${num(len)}, ${adv}`, r, e);
  if (len <= 0) return;
  if (r !== 0 && r !== -ENOMEM && stopAt === Infinity) return;
  for (const v of f.mm.carve(addr, Math.min(end, stopAt))) {
    const first = v.file ? v.pgoff : v.start / PAGE, n = (v.end - v.start) / PAGE;
    if (adv === 4 && !v.shared) for (let i = first; i < first + n; i++) v.priv.delete(i);
    if (adv === 8 && !v.file) { for (let i = first; i < first + n; i++) v.priv.delete(i); v.prot |= 0x100; }
    if (adv === 9 && v.shared && v.file) v.file.zero(v.pgoff * PAGE, (v.pgoff + n) * PAGE);
    if (adv === 23 && !v.shared && v.file) {
      for (let i = first; i < first + n && i * PAGE < v.file.size; i++) shadowStore(f.mm, v.start + (i - first) * PAGE,
        shadowLoad(f.mm, v.start + (i - first) * PAGE));
    }
  }
}

/**
 * One VMA's verdict for MADV_DONTNEED (4), MADV_FREE (8) and MADV_REMOVE (9), mm/madvise.c
 * (madvise_dontneed_free, madvise_free_single_vma, madvise_remove; 5.10-6.18): VM_LOCKED is
 * EINVAL for all three; FREE wants private anonymous memory (EINVAL); REMOVE wants a file (EINVAL)
 * behind a shared mapping that is writable now, or since 6.7 (knob madvRemoveMayWrite) may be
 * written (EACCES).
 */
function madviseVmaError(v: ShadowVma, adv: number, mayWrite: boolean): number {
  if (v.locked) return -EINVAL;
  if (adv === 8 && (v.file !== null || v.shared)) return -EINVAL;
  if (adv === 9) {
    if (!v.file) return -EINVAL;
    if (!v.shared || !(mayWrite ? v.maywrite : (v.prot & 2) !== 0)) return -EACCES;
  }
  return 0;
}

/** An address no pointer can hold gets SIGSEGV (the API's convention for load/store). */
function opLoad(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!;
  const v = f.mm.find(addr);
  const fuzzy = v !== null && ((v.prot & 0x100) !== 0 || v.file?.fuzzy === true);
  const e = !Number.isInteger(addr) || addr < 0 ? -11 : fuzzy && (v.prot & 7) !== 0 ? 'any' : shadowLoad(f.mm, addr);
  const r = f.p.load(addr);
  f.check('load', hex(addr), r, e);
}

function opStore(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, v = a[2]!;
  const e = !Number.isInteger(addr) || addr < 0 ? -11 : shadowStore(f.mm, addr, v);
  const r = f.p.store(addr, v);
  f.check('store', `${hex(addr)}, ${v}`, r, e);
}

/** access(): a stride that is not a positive whole number, or a bad length, is refused with EINVAL. */
function opAccess(f: FuzzRun, a: number[]): void {
  const addr = f.base(a[0]!) + a[1]!, len = a[2]!, stride = a[3]!, write = a[4] === 1;
  let e: Expect;
  if (!Number.isInteger(len) || len < 0 || !Number.isInteger(stride) || stride <= 0) e = -EINVAL;
  else if (Math.ceil(len / stride) > 65536) {
    // More pages than the machine's 256 MiB can hold: the kernel may stop with SIGKILL (OOM) at a
    // point the shadow does not model, so the result is not predicted and what the access may
    // have written is no longer followed (every VMA in its range, and their files).
    e = 'any';
    for (const v of f.mm.vmas) {
      if (v.end <= addr || v.start >= addr + len) continue;
      v.prot |= 0x100;
      if (write && v.file) v.file.fuzzy = true;
    }
  } else {
    const n = Math.ceil(len / stride);
    e = n;
    for (let j = 0; j < n; j++) {
      const x = write ? shadowStore(f.mm, addr + j * stride, 1) : shadowLoad(f.mm, addr + j * stride);
      if (x < 0) { e = x; break; }
      const v = f.mm.find(addr + j * stride)!;
      if (!write && ((v.prot & 0x100) !== 0 || v.file?.fuzzy === true)) { e = 'any'; break; }
    }
  }
  const r = f.p.access(addr, len, stride, write);
  f.check('access', `${hex(addr)}, ${num(len)}, ${num(stride)}, ${write}`, r, e);
}

function opClose(f: FuzzRun, a: number[]): void {
  const fd = f.fd(a[0]!);
  const r = f.p.close(fd);
  f.check('close', String(fd), r, f.fds.has(fd) || f.dirFds.has(fd) ? 0 : -EBADF);
  f.fds.delete(fd);
  f.dirFds.delete(fd);
}

function opFsync(f: FuzzRun, a: number[]): void {
  const fd = f.fd(a[0]!);
  const r = f.p.fsync(fd);
  f.check('fsync', String(fd), r, f.fds.has(fd) ? [0, -5] : f.dirFds.has(fd) ? 0 : -EBADF);
}

function opUnlink(f: FuzzRun, a: number[]): void {
  const path = PATHS[a[0]! % PATHS.length]!;
  const res = expectOpen(path, 0, f.exists);
  const e = res.dir ? -EISDIR : res.err === -ENOENT || res.err === -ENOTDIR ? res.err
    : res.err < 0 ? res.err : f.exists(res.name) ? 0 : -ENOENT;
  const r = f.p.unlink(path);
  f.check('unlink', JSON.stringify(path), r, e);
  if (r === 0) f.files.delete(res.name);
}

const OPS: Record<string, OpFn> = {
  open: opOpen, close: opClose, pwrite: (f, a) => opPwrite(f, a, true), write: (f, a) => opPwrite(f, a, false),
  pread: opPread, ftruncate: opFtruncate, fallocate: opFallocate, fsync: opFsync, unlink: opUnlink, mmap: opMmap,
  munmap: opMunmap, mprotect: opMprotect, madvise: opMadvise, msync: opMsync, load: opLoad, store: opStore,
  access: opAccess,
  dropCaches: (f) => { f.m.dropCaches(); f.code.push('m.dropCaches();'); f.trace.push('drop'); },
  fsyncAll: () => {},
};

/**
 * Teardown: close every file, unmap everything, unlink the files, drop the caches: every page the
 * program took must be free again (fs/inode.c evict, mm/mmap.c unmap_region and free_pgtables).
 */
function teardown(f: FuzzRun): void {
  for (const fd of [...f.fds.keys(), ...f.dirFds]) f.p.close(fd);
  f.p.munmap(0, TASK_SIZE);
  for (const name of f.files.keys()) f.p.unlink(`/t/${name}`);
  f.m.dropCaches();
  f.code.push('// teardown: close all, munmap(0, TASK_SIZE), unlink all, m.dropCaches()');
  const mi = f.m.meminfo();
  // PageTables may keep the upper tables of a freed range (not yet checked against a kernel).
  // The huge zero page, once allocated (get_huge_zero_page), stays until the shrinker frees it under
  // memory pressure (shrink_huge_zero_page_scan, mm/huge_memory.c 6.18): it is not the program's.
  const hugeZeroKb = f.m.k.hugeZeroPfn >= 0 ? 2048 : 0;
  if (mi.AnonPages !== 0 || mi.Cached !== 0 || mi.MemFree! + hugeZeroKb !== f.freeAtStart) {
    throw new Mismatch(`invariant: after teardown MemFree ${mi.MemFree} kB (at start ${f.freeAtStart}, ` +
      `huge zero page ${hugeZeroKb} kB), ` +
      `PageTables ${mi.PageTables}, AnonPages ${mi.AnonPages}, Cached ${mi.Cached}`);
  }
}

/** Run `prog`; stop at the first finding. */
export function runProgram(prog: FuzzProgram, calls: readonly Call[] = prog.calls): RunResult {
  let f: FuzzRun;
  try { f = new FuzzRun(prog); } catch (e) {
    const finding = { kind: 'exception' as const, call: -1, op: 'setup', message: String(e) };
    return { finding, trace: [], code: [], executed: 0 };
  }
  let i = 0;
  try {
    for (; i < calls.length; i++) {
      const c = calls[i]!;
      OPS[c.op]!(f, c.a);
      f.invariants();
    }
    teardown(f);
    return { finding: null, trace: f.trace, code: f.code, executed: i };
  } catch (e) {
    const op = i < calls.length ? calls[i]!.op : 'teardown';
    const err = e as Error;
    const kind = e instanceof Mismatch ? (err.message.startsWith('invariant') ? 'invariant' : 'mismatch') : 'exception';
    const message = kind === 'exception' ? `${err.name}: ${err.message}` : err.message;
    f.code.push(`// ${kind}: ${message.split('\n')[0]}`);
    return { finding: { kind, call: i, op, message }, trace: f.trace, code: f.code, executed: i };
  }
}

/** The finding's class, for the shrinker: kind, op and message with numbers and names taken out. */
export function signature(fd: Finding): string {
  return `${fd.kind}|${fd.op}|${fd.message.split('\n')[0]!.replace(/0x[0-9a-f]+|-?\d+(\.\d+)?|"[^"]*"/g, '#')
    .replace(/p\.\w+\(.*?\) returned/, 'call returned')}`;
}

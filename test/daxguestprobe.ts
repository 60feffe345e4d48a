/**
 * A port of test/oracle/daxguestprobe.c (which measured test/oracle/linux-6.1-guest-dax-ops.jsonl
 * on the Linux 6.1 guest, ext4 -o dax on pmem) onto the daxsim API: every scenario on a fresh
 * machine (the probe makes a fresh filesystem for each), the same 8 MiB files, mapped with
 * MAP_FIXED at a 2 MiB-aligned address or 2 MiB + 4 KiB inside a PROT_NONE reservation, the same
 * steps in the same order, and for each step the same figures: getrusage deltas, the
 * thp_fault_fallback and thp_split_pmd deltas, the signal that ended a loop and its page, the
 * syscall result, the sum of the bytes a read pass saw, smaps summed over the mapping's VMAs,
 * st_blocks, and how many 2 MiB file chunks sit on 2 MiB-aligned blocks (written / unwritten).
 */
import type { Machine, Process } from '../src/api/machine.ts';
import type { Ext4 } from '../src/fs/ext4/ext4.ts';
import type { Placement } from '../src/fs/ext4/balloc.ts';
import { errnoName } from '../src/lib/errno.ts';
import {
  O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE, MAP_FIXED,
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
  MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MS_ASYNC, MS_SYNC, MS_INVALIDATE, FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
} from '../src/mm/constants.ts';
import { daxMachine } from './support.ts';

export interface DaxProbeRow {
  scenario: string;
  va: number;
  step: string;
  minflt: number;
  majflt: number;
  fallback: number;
  split: number;
  sig: string;
  sig_page: number;
  ret: number;
  err: string;
  sum: number;
  rss_kb: number;
  anon_kb: number;
  anonhuge_kb: number;
  filepmd_kb: number;
  vmas: number;
  /** The VmFlags of the first VMA that the model knows how to name: here only hg / nh are compared. */
  vmflags: string;
  st_blocks: number;
  pmd_chunks: number;
  pmd_chunks_unwritten: number;
}

const PG = 4096, MiB = 2 ** 20, PMD = 2 * MiB, LEN = 8 * MiB, NPG = LEN / PG;

/** The probe's machine: Linux 6.1, a 1 GiB pmem device with a fresh ext4 mounted -o dax on /mnt. */
export function daxGuestMachine(placement: Placement = 'mballoc'): Machine {
  return daxMachine('linux-6.1', { pmemBytes: 2 ** 30, placement });
}

/** One scenario at one VA skew, as the probe's child process runs it. */
class Run {
  readonly m: Machine;
  readonly p: Process;
  readonly rows: DaxProbeRow[] = [];
  readonly scenario: string;
  readonly va: number;
  readonly base: number;
  fd = -1;
  path = '';
  map = 0;
  private s0 = { minflt: 0, majflt: 0, fallback: 0, split: 0 };

  constructor(scenario: string, va: number, placement: Placement) {
    this.m = daxGuestMachine(placement);
    this.p = this.m.process('daxguestprobe');
    this.scenario = scenario;
    this.va = va;
    const r = this.p.mmap(0, LEN + 4 * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r < 0) throw new Error(`daxguestprobe: reserve failed with ${r}`);
    this.base = Math.ceil(r / PMD) * PMD;
    this.take();
  }

  private take(): void {
    const r = this.p.rusage();
    const v = this.m.vmstat();
    this.s0 = { minflt: r.minflt, majflt: r.majflt, fallback: v['thp_fault_fallback'] ?? 0, split: v['thp_split_pmd'] ?? 0 };
  }

  /** kind 0: fallocate + pwrite 1 MiB chunks of 0x5a + fsync; 1: sparse (ftruncate); 2: pwrite + fsync. */
  mkfile(kind: 0 | 1 | 2): void {
    const p = this.p;
    this.path = `/mnt/dgp-${this.scenario}-${this.va}.dat`;
    this.fd = p.open(this.path, O_RDWR | O_CREAT | O_TRUNC);
    if (this.fd < 0) throw new Error(`daxguestprobe: open failed with ${this.fd}`);
    if (kind === 1) { p.ftruncate(this.fd, LEN); this.take(); return; }
    if (kind === 0 && p.fallocate(this.fd, 0, 0, LEN) !== 0) throw new Error('daxguestprobe: fallocate failed');
    for (let o = 0; o < LEN; o += MiB) if (p.pwrite(this.fd, MiB, o, 0x5a) !== MiB) throw new Error('daxguestprobe: pwrite failed');
    p.fsync(this.fd);
    this.take();
  }

  mmap(prot: number, flags: number): void {
    const a = this.p.mmap(this.base + this.va, LEN, prot, flags | MAP_FIXED, this.fd, 0);
    if (a < 0) throw new Error(`daxguestprobe: mmap failed with ${a}`);
    this.map = a;
    this.take();
  }

  private row(step: string, sig: number, sigPage: number, ret: number, sum: number): void {
    const r = this.p.rusage();
    const v = this.m.vmstat();
    const sm = this.smaps();
    const [pw, pu] = this.pmdChunks();
    const st = this.p.stat(this.path);
    this.rows.push({
      scenario: this.scenario, va: this.va, step,
      minflt: r.minflt - this.s0.minflt, majflt: r.majflt - this.s0.majflt,
      fallback: (v['thp_fault_fallback'] ?? 0) - this.s0.fallback, split: (v['thp_split_pmd'] ?? 0) - this.s0.split,
      sig: sig === 7 ? 'SIGBUS' : sig === 11 ? 'SIGSEGV' : 'none', sig_page: sigPage,
      ret: ret < 0 ? -1 : ret, err: ret < 0 ? errnoName(-ret) : '', sum,
      ...sm, st_blocks: typeof st === 'number' ? -1 : st.blocks, pmd_chunks: pw, pmd_chunks_unwritten: pu,
    });
    this.take();
  }

  /** smaps of the VMAs overlapping the mapping: sums, count, hg/nh of the first. */
  private smaps(): Pick<DaxProbeRow, 'rss_kb' | 'anon_kb' | 'anonhuge_kb' | 'filepmd_kb' | 'vmas' | 'vmflags'> {
    const o = { rss_kb: 0, anon_kb: 0, anonhuge_kb: 0, filepmd_kb: 0, vmas: 0, vmflags: '' };
    if (this.map === 0) return o;
    for (let a = this.map; a < this.map + LEN;) {
      const v = this.p.vmaAt(a);
      if (!v) { a += PG; continue; }
      const s = this.p.smaps(a) as Record<string, number | string>;
      o.rss_kb += s['Rss'] as number;
      o.anon_kb += s['Anonymous'] as number;
      o.anonhuge_kb += s['AnonHugePages'] as number;
      o.filepmd_kb += s['FilePmdMapped'] as number;
      if (o.vmas === 0) o.vmflags = hgNh(String(s['VmFlags']));
      o.vmas++;
      a = v.end;
    }
    return o;
  }

  /** FIEMAP's view: 2 MiB chunks lying in one extent that starts on a 2 MiB-aligned block. */
  private pmdChunks(): [number, number] {
    const f = this.p.kp.fds[this.fd];
    if (!f) return [-1, -1];
    const fs = f.inode.sb.fs as Ext4;
    let w = 0, u = 0;
    for (let c = 0; c < LEN / PMD; c++) {
      const lo = (c * PMD) / PG;
      for (const e of fs.extentsOf(f.inode)) {
        if (e.lblk > lo || e.lblk + e.lenBlocks < lo + 512) continue;
        if ((e.pblk + (lo - e.lblk)) % 512 !== 0) continue;
        if (e.kind === 'unwritten') u++; else w++;
      }
    }
    return [w, u];
  }

  /** Touch one byte per page of pages [from, to): read sums the bytes, write stores 1; stops at a signal. */
  pass(step: string, from: number, to: number, write: boolean): void {
    this.take();
    let sum = 0, sig = 0, page = -1;
    for (let i = from; i < to; i++) {
      const r = write ? this.p.store(this.map + i * PG, 1) : this.p.load(this.map + i * PG);
      if (r < 0) { sig = -r; page = i; break; }
      if (!write) sum += r;
    }
    this.row(step, sig, page, 0, write ? 0 : sum);
  }

  /** A syscall step: the deltas around the call (faults inside it, PMD splits), its result and the state after it. */
  sys(step: string, call: () => number): void {
    this.take();
    this.row(step, 0, -1, call(), 0);
  }
}

type Scenario = { name: string; group: string; bothVas: boolean; run: (r: Run) => void };
const RW = PROT_READ | PROT_WRITE;

const scenarios: Scenario[] = [
  { name: 'pwrite-layout', group: 'p', bothVas: true, run: (r) => {
    r.mkfile(2); r.mmap(RW, MAP_SHARED); r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true);
  } },
  { name: 'priv-read-write', group: 'p', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_PRIVATE);
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('reread', 0, NPG, false);
    r.sys('dontneed', () => r.p.madvise(r.map, LEN, MADV_DONTNEED)); r.pass('read-after-dontneed', 0, NPG, false);
    r.pass('write-after-dontneed', 0, NPG, true);
  } },
  { name: 'priv-write', group: 'p', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_PRIVATE); r.pass('write', 0, NPG, true); r.pass('read', 0, NPG, false);
  } },
  { name: 'priv-hole-read-write', group: 'p', bothVas: true, run: (r) => {
    r.mkfile(1); r.mmap(RW, MAP_PRIVATE);
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('reread', 0, NPG, false);
  } },
  { name: 'priv-hole-write', group: 'p', bothVas: true, run: (r) => { r.mkfile(1); r.mmap(RW, MAP_PRIVATE); r.pass('write', 0, NPG, true); } },
  { name: 'falloc-read-write', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(1); r.sys('fallocate', () => r.p.fallocate(r.fd, 0, 0, LEN)); r.mmap(RW, MAP_SHARED);
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('rewrite', 0, NPG, true);
    r.sys('fsync', () => r.p.fsync(r.fd)); r.pass('write-after-fsync', 0, NPG, true);
  } },
  { name: 'falloc-write', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(1); r.sys('fallocate', () => r.p.fallocate(r.fd, 0, 0, LEN)); r.mmap(RW, MAP_SHARED);
    r.pass('write', 0, NPG, true); r.pass('read', 0, NPG, false);
  } },
  { name: 'punch-mapped', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('read', 0, NPG, false);
    r.sys('punch-1page', () => r.p.fallocate(r.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PMD + 2 * PG, PG));
    r.sys('punch-chunk2', () => r.p.fallocate(r.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * PMD, PMD));
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('read-after-write', 0, NPG, false);
  } },
  { name: 'zero-range-mapped', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('zero-1page', () => r.p.fallocate(r.fd, FALLOC_FL_ZERO_RANGE, PMD + 2 * PG, PG));
    r.sys('zero-chunk2', () => r.p.fallocate(r.fd, FALLOC_FL_ZERO_RANGE, 2 * PMD, PMD));
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('read-after-write', 0, NPG, false);
  } },
  { name: 'falloc-keepsize-past-eof', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(0); r.sys('ftruncate-4M', () => r.p.ftruncate(r.fd, LEN / 2));
    r.sys('fallocate-keepsize', () => r.p.fallocate(r.fd, FALLOC_FL_KEEP_SIZE, 0, LEN)); r.mmap(RW, MAP_SHARED);
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('write-tail', NPG / 2, NPG, true);
    r.sys('ftruncate-8M', () => r.p.ftruncate(r.fd, LEN)); r.pass('read-tail-after-extend', NPG / 2, NPG, false);
    r.pass('write-tail-after-extend', NPG / 2, NPG, true);
  } },
  { name: 'dontneed-shared', group: 'm', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('dontneed', () => r.p.madvise(r.map, LEN, MADV_DONTNEED)); r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true);
    r.sys('dontneed-1page', () => r.p.madvise(r.map + PMD + 3 * PG, PG, MADV_DONTNEED)); r.pass('write-after-1page', 0, NPG, true);
  } },
  { name: 'remove-shared', group: 'm', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('read', 0, NPG, false);
    r.sys('remove-chunk1', () => r.p.madvise(r.map + PMD, PMD, MADV_REMOVE));
    r.sys('remove-1page', () => r.p.madvise(r.map + 2 * PMD + PG, PG, MADV_REMOVE));
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true);
  } },
  { name: 'madvise-errno', group: 'm', bothVas: false, run: (r) => {
    r.mkfile(0);
    const adv: Array<[number, string]> = [[MADV_REMOVE, 'REMOVE'], [MADV_WILLNEED, 'WILLNEED'], [MADV_COLD, 'COLD'],
      [MADV_PAGEOUT, 'PAGEOUT'], [MADV_FREE, 'FREE'], [MADV_DONTFORK, 'DONTFORK'], [MADV_DOFORK, 'DOFORK'], [MADV_RANDOM, 'RANDOM'],
      [MADV_SEQUENTIAL, 'SEQUENTIAL'], [MADV_NORMAL, 'NORMAL'], [MADV_HUGEPAGE, 'HUGEPAGE'], [MADV_NOHUGEPAGE, 'NOHUGEPAGE'],
      [MADV_DONTNEED, 'DONTNEED']];
    const kinds: Array<[string, number, number]> = [['shared-rw', RW, MAP_SHARED], ['shared-ro', PROT_READ, MAP_SHARED], ['private-rw', RW, MAP_PRIVATE]];
    for (const [k, prot, flags] of kinds) {
      r.mmap(prot, flags);
      r.pass(k, 0, 4, false);
      for (const [a, n] of adv) r.sys(`${k}-${n}`, () => r.p.madvise(r.map + 8 * PG, PG, a));
      r.p.munmap(r.map, LEN);
    }
  } },
  { name: 'willneed-cold-pageout', group: 'm', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED);
    r.sys('willneed', () => r.p.madvise(r.map, LEN, MADV_WILLNEED)); r.pass('read', 0, NPG, false);
    r.sys('cold', () => r.p.madvise(r.map, LEN, MADV_COLD)); r.sys('pageout', () => r.p.madvise(r.map, LEN, MADV_PAGEOUT));
    r.pass('reread', 0, NPG, false); r.pass('write', 0, NPG, true);
    r.sys('pageout-dirty', () => r.p.madvise(r.map, LEN, MADV_PAGEOUT)); r.pass('rewrite', 0, NPG, true);
  } },
  { name: 'nohugepage', group: 'm', bothVas: false, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED);
    r.sys('nohugepage', () => r.p.madvise(r.map, LEN, MADV_NOHUGEPAGE)); r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true);
    r.sys('hugepage', () => r.p.madvise(r.map, LEN, MADV_HUGEPAGE)); r.sys('dontneed', () => r.p.madvise(r.map, LEN, MADV_DONTNEED));
    r.pass('read-after-hugepage', 0, NPG, false); r.pass('write-after-hugepage', 0, NPG, true);
    r.sys('nohugepage-chunk1', () => r.p.madvise(r.map + PMD, PMD, MADV_NOHUGEPAGE)); r.sys('dontneed-2', () => r.p.madvise(r.map, LEN, MADV_DONTNEED));
    r.pass('read-after-nohugepage-chunk1', 0, NPG, false);
  } },
  { name: 'hole-read-write-shared', group: 'm', bothVas: true, run: (r) => {
    r.mkfile(1); r.mmap(RW, MAP_SHARED);
    r.pass('read', 0, NPG, false); r.pass('write', 0, NPG, true); r.pass('reread', 0, NPG, false);
  } },
  { name: 'populate', group: 'm', bothVas: true, run: (r) => {
    r.mkfile(1); r.mmap(RW, MAP_SHARED);
    r.sys('populate-read', () => r.p.madvise(r.map, LEN, MADV_POPULATE_READ)); r.pass('read', 0, NPG, false);
    r.sys('populate-write-half', () => r.p.madvise(r.map, LEN / 2, MADV_POPULATE_WRITE)); r.pass('write', 0, NPG, true);
    r.sys('ftruncate-6M', () => r.p.ftruncate(r.fd, 6 * MiB));
    r.sys('populate-write-past-eof', () => r.p.madvise(r.map, LEN, MADV_POPULATE_WRITE));
    r.sys('populate-read-past-eof', () => r.p.madvise(r.map + 6 * MiB, PMD, MADV_POPULATE_READ));
    r.sys('mprotect-ro', () => r.p.mprotect(r.map, LEN, PROT_READ));
    r.sys('populate-write-ro', () => r.p.madvise(r.map, PMD, MADV_POPULATE_WRITE));
    r.sys('populate-read-ro', () => r.p.madvise(r.map, PMD, MADV_POPULATE_READ));
  } },
  { name: 'pwrite-into-mapped-hole', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(1); r.mmap(RW, MAP_SHARED); r.pass('read', 0, NPG, false);
    r.sys('pwrite-page10', () => r.p.pwrite(r.fd, PG, 10 * PG, 0x77));
    r.sys('pwrite-chunk2', () => r.p.pwrite(r.fd, PMD, 2 * PMD, 0x77));
    r.pass('read-after-pwrite', 0, NPG, false);
    r.sys('pwrite-page10-again', () => r.p.pwrite(r.fd, PG, 10 * PG, 0x77));
    r.pass('reread', 0, NPG, false); r.pass('write', 0, NPG, true);
  } },
  { name: 'priv-truncate', group: 'p', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_PRIVATE); r.pass('write', 0, NPG / 2, true); r.pass('read', 0, NPG, false);
    r.sys('ftruncate-5M', () => r.p.ftruncate(r.fd, 5 * MiB)); r.pass('read-after-truncate', 0, NPG, false);
    r.sys('ftruncate-8M', () => r.p.ftruncate(r.fd, LEN)); r.pass('read-after-extend', 0, NPG, false);
  } },
  { name: 'truncate-mapped', group: 'f', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('ftruncate-5M', () => r.p.ftruncate(r.fd, 5 * MiB)); r.pass('read', 0, NPG, false);
    r.sys('ftruncate-8M', () => r.p.ftruncate(r.fd, LEN)); r.pass('read-after-extend', 0, NPG, false);
    r.pass('write-after-extend', 0, NPG, true);
  } },
  { name: 'mprotect-ro-rw', group: 'r', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('mprotect-ro', () => r.p.mprotect(r.map, LEN, PROT_READ)); r.pass('read-ro', 0, NPG, false);
    r.sys('mprotect-rw', () => r.p.mprotect(r.map, LEN, RW)); r.pass('write-after-ro-rw', 0, NPG, true);
    r.sys('fsync', () => r.p.fsync(r.fd)); r.sys('mprotect-ro-2', () => r.p.mprotect(r.map, LEN, PROT_READ));
    r.sys('mprotect-rw-2', () => r.p.mprotect(r.map, LEN, RW)); r.pass('write-after-fsync-ro-rw', 0, NPG, true);
  } },
  { name: 'mprotect-half-pmd', group: 'r', bothVas: false, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('mprotect-ro-half-chunk1', () => r.p.mprotect(r.map + PMD, MiB, PROT_READ)); r.pass('read', 0, NPG, false);
    r.pass('write-ro-half', 512, 513, true); r.pass('write-rw-half', 768, 1024, true);
    r.sys('mprotect-rw-half-chunk1', () => r.p.mprotect(r.map + PMD, MiB, RW)); r.pass('write', 0, NPG, true);
    r.sys('dontneed', () => r.p.madvise(r.map, LEN, MADV_DONTNEED)); r.pass('read-after-dontneed', 0, NPG, false);
  } },
  { name: 'mprotect-none', group: 'r', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('read', 0, NPG, false);
    r.sys('mprotect-none', () => r.p.mprotect(r.map, LEN, PROT_NONE)); r.pass('read-none', 0, 1, false);
    r.sys('mprotect-rw', () => r.p.mprotect(r.map, LEN, RW)); r.pass('read-after', 0, NPG, false); r.pass('write-after', 0, NPG, true);
  } },
  { name: 'msync', group: 's', bothVas: true, run: (r) => {
    r.mkfile(0); r.mmap(RW, MAP_SHARED); r.pass('write', 0, NPG, true);
    r.sys('msync-async', () => r.p.msync(r.map, LEN, MS_ASYNC)); r.pass('write-after-async', 0, NPG, true);
    r.sys('msync-sync-half', () => r.p.msync(r.map, LEN / 2, MS_SYNC)); r.pass('write-after-sync-half', 0, NPG, true);
    r.sys('msync-sync-1page', () => r.p.msync(r.map + PMD + 5 * PG, PG, MS_SYNC)); r.pass('write-after-sync-1page', 0, NPG, true);
    r.sys('msync-invalidate', () => r.p.msync(r.map, LEN, MS_INVALIDATE)); r.pass('write-after-invalidate', 0, NPG, true);
  } },
];

/** smaps VmFlags reduced to the THP flags the comparison uses. */
export function hgNh(flags: string): string {
  return flags.split(' ').filter((f) => f === 'hg' || f === 'nh').join(' ');
}

/** The scenario names in the probe's order. */
export const daxProbeScenarios: readonly string[] = scenarios.map((s) => s.name);

/** Run one scenario at va 0 (2 MiB-aligned) or 4096, on a fresh machine with the given block placement, as the probe's child does. */
export function runDaxGuestScenario(name: string, va: number, placement: Placement = 'mballoc'): DaxProbeRow[] {
  const s = scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`daxguestprobe: no scenario ${name}`);
  const r = new Run(name, va, placement);
  s.run(r);
  return r.rows;
}

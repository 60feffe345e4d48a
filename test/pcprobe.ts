/**
 * A port of ../shared/oracle/pcprobe.c (the program that measured linux-6.18-host.jsonl) onto the
 * daxsim API: the same files, the same mappings placed the same way (a PROT_NONE reservation,
 * then MAP_FIXED at a 2 MiB-aligned address inside it), the same touch loops and the same
 * getrusage deltas, in the same order, so every row comes out of the model the way the real
 * kernel produced it.
 */
import type { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS,
  MAP_NORESERVE, MAP_FIXED, MADV_RANDOM } from '../src/mm/constants.ts';

export interface ProbeRow {
  scenario: string;
  minflt: number;
  majflt: number;
  signal: string;
  signal_page: number;
  st_blocks_after?: number;
}

const PG = 4096;

export function runPcprobe(m: Machine, dir: string): ProbeRow[] {
  const p = m.process('pcprobe' + dir.replace(/\//g, '_'));
  const rows: ProbeRow[] = [];
  const N = 32768;
  const fail = (what: string, r: number) => { if (r < 0) throw new Error(`pcprobe: ${what} failed with ${r}`); return r; };
  const mkfile = (fn: string, bytes: number, sparse: boolean) => {
    const fd = fail('open ' + fn, p.open(fn, O_RDWR | O_CREAT | O_TRUNC));
    if (sparse) fail('ftruncate', p.ftruncate(fd, bytes));
    else for (let o = 0; o < bytes; o += PG) fail('pwrite', p.pwrite(fd, PG, o, ((o / PG) | 1) & 0xff));
    p.close(fd);
  };
  let sigPage = -1;
  let sigName = 'none';
  const touch = (base: number, idx: number[], wr: boolean): [number, number] => {
    const r0 = p.rusage();
    sigPage = -1;
    sigName = 'none';
    for (const i of idx) {
      const r = wr ? p.store(base + i * PG, 1) : p.load(base + i * PG);
      if (r < 0) { sigPage = i; sigName = r === -7 ? 'SIGBUS' : r === -11 ? 'SIGSEGV' : '?'; break; }
    }
    const r1 = p.rusage();
    return [r1.minflt - r0.minflt, r1.majflt - r0.majflt];
  };
  const out = (scenario: string, f: [number, number], extra?: { st_blocks_after: number }) => {
    rows.push({ scenario, minflt: f[0], majflt: f[1], signal: sigPage >= 0 ? sigName : 'none', signal_page: sigPage, ...extra });
  };
  const region = (len: number): number => {
    const r = fail('reserve', p.mmap(0, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    return Math.ceil(r / (2 << 20)) * (2 << 20);
  };
  const mapat = (addr: number, len: number, prot: number, flags: number, fd: number, off: number) =>
    fail('mmap', p.mmap(addr, len, prot, flags | MAP_FIXED, fd, off));
  const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));

  let fn = `${dir}/probe.dat`;
  mkfile(fn, N * PG, false);
  let fd = p.open(fn, O_RDWR);
  let idx = range(N);
  let a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  out('seq-read-aligned', touch(a, idx, false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), (N - 5) * PG, PROT_READ, MAP_SHARED, fd, 5 * PG);
  out('seq-read-pgoff5', touch(a, range(N - 5), false)); p.munmap(a, (N - 5) * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  out('rev-read', touch(a, range(N, (i) => N - 1 - i), false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  out('stride16-read', touch(a, range(N / 16, (i) => i * 16), false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  p.madvise(a, N * PG, MADV_RANDOM);
  out('seq-read-madv-random', touch(a, idx, false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  out('seq-write-shared', touch(a, idx, true));
  out('read-after-write-same-map', touch(a, idx, false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  out('rw-map-read-first', touch(a, idx, false));
  out('rw-map-then-write', touch(a, idx, true)); p.munmap(a, N * PG);
  p.fsync(fd);
  a = mapat(region(N * PG), N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  out('after-fsync-rw-read', touch(a, idx, false));
  out('after-fsync-rw-write', touch(a, idx, true)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  out('private-read', touch(a, idx, false));
  out('private-write-after-read', touch(a, idx, true)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  out('private-write', touch(a, idx, true)); p.munmap(a, N * PG);
  p.close(fd);
  // truncate while mapped: one write() of 10 pages + 100 bytes
  fn = `${dir}/small.dat`;
  fd = fail('open small', p.open(fn, O_RDWR | O_CREAT | O_TRUNC));
  fail('write', p.write(fd, PG * 10 + 100, 7));
  a = mapat(region(20 * PG), 20 * PG, PROT_READ, MAP_SHARED, fd, 0);
  touch(a, range(11), false);
  p.ftruncate(fd, 3 * PG);
  out('truncate-while-mapped', touch(a, range(11), false)); p.munmap(a, 20 * PG);
  p.close(fd);
  // sparse file
  fn = `${dir}/sparse.dat`;
  mkfile(fn, N * PG, true);
  fd = p.open(fn, O_RDWR);
  a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  const blocks = () => { const s = p.stat(fn); return typeof s === 'number' ? -1 : s.blocks; };
  out('sparse-read', touch(a, idx, false), { st_blocks_after: blocks() });
  out('sparse-reread-same-map', touch(a, idx, false)); p.munmap(a, N * PG);
  a = mapat(region(N * PG), N * PG, PROT_READ, MAP_SHARED, fd, 0);
  out('sparse-read-fresh-map', touch(a, idx, false), { st_blocks_after: blocks() }); p.munmap(a, N * PG);
  p.close(fd);
  p.unlink(fn);
  p.unlink(`${dir}/probe.dat`);
  p.unlink(`${dir}/small.dat`);
  idx = [];
  return rows;
}

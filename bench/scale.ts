/**
 * The scale table (npm run bench:scale, or a section of npm run bench): host cost per 4 KiB page of
 * the three passes a large-file program makes, at 16 MiB, 1 GiB, 16 GiB and 64 GiB, on tmpfs, ext4
 * (page cache over a block device) and ext4 -o dax (a sparse 1 TiB pmem device):
 * - create: what a scenario's `create: { content: written }` step does (open, one 4 KiB pwrite(2) per
 *   page filled with its pattern byte, fsync, close);
 * - read: a fresh MAP_SHARED mapping, one byte loaded per page;
 * - write: a fresh MAP_SHARED writable mapping, one byte stored per page, then msync(MS_SYNC).
 * Each (size, fs) runs in its own child process (node --expose-gc) so its peak RSS is its own.
 * Printed per pass: host ns per page and host bytes per page still held after the pass (heap and
 * array buffers, after a full GC); per run: peak RSS (resourceUsage maxRSS). Beside them, the host
 * kernel's time per fault for the same read and write loops (bench/oracle/mmaptime.c) where the
 * host can hold the file. Timings are printed, never asserted.
 *
 *   node bench/scale.ts [--size 16M,1G,16G,64G] [--fs tmpfs,ext4,dax] [--kernel-max 1G] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED } from '../src/mm/constants.ts';
import { createPageByte } from '../src/scenario/steps/files.ts';

const PG = 4096, GiB = 2 ** 30, MiB = 2 ** 20, MS_SYNC = 4;
type FsKind = 'tmpfs' | 'ext4' | 'dax';
const FS_KINDS: readonly FsKind[] = ['tmpfs', 'ext4', 'dax'];

interface PassResult { nsPerPage: number; bytesPerPage: number; faults: number }
interface RunResult {
  size: number; fs: FsKind; create: PassResult; read: PassResult; write: PassResult; peakRssBytes: number;
}

function parseSize(s: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(s.trim());
  if (!m) throw new Error(`--size: "${s}" is not a size like 16M, 1G or 64G`);
  const mult = { '': 1, K: 2 ** 10, M: MiB, G: GiB, T: 2 ** 40 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const v = Number(m[1]) * mult;
  if (v === 0) return 0;
  if (v < MiB || v % (2 * MiB) !== 0) throw new Error(`--size: ${s} must be a multiple of 2 MiB`);
  return v;
}

function sizeName(b: number): string {
  return b >= GiB ? `${b / GiB} GiB` : `${b / MiB} MiB`;
}

function heldBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const u = process.memoryUsage();
  return u.heapUsed + u.external;
}

function machineFor(size: number, fs: FsKind): { m: Machine; path: string } {
  const dram = fs === 'dax' ? 4 * GiB : size + 2 * GiB;
  const devices = fs === 'ext4' ? [{ name: 'vda', type: 'block' as const, sizeBytes: 2 * size + GiB }]
    : fs === 'dax' ? [{ name: 'pmem0', type: 'pmem' as const, sizeBytes: 2 ** 40 }] : [];
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: dram, devices });
  if (fs === 'tmpfs') m.mount('/mnt', 'tmpfs');
  else {
    const dev = fs === 'ext4' ? 'vda' : 'pmem0';
    m.mkfs(dev, 'ext4');
    m.mount('/mnt', 'ext4', dev, fs === 'dax' ? ['dax'] : []);
  }
  return { m, path: '/mnt/data' };
}

/** One (size, fs): create, read and write passes, each timed and its memory measured. */
function runOne(size: number, fs: FsKind): RunResult {
  Machine.setAssertions(false);
  const pages = size / PG;
  const { m, path } = machineFor(size, fs);
  const p = m.process();
  const faults = () => { const r = p.rusage(); return r.minflt + r.majflt; };
  const pass = (fn: () => void): PassResult => {
    const b0 = heldBytes(), f0 = faults();
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    return { nsPerPage: ns / pages, bytesPerPage: (heldBytes() - b0) / pages, faults: faults() - f0 };
  };
  let fd = -1;
  const create = pass(() => {
    fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
    if (fd < 0) throw new Error(`open ${path}: ${fd}`);
    for (let o = 0; o < size; o += PG) {
      const n = p.pwrite(fd, PG, o, createPageByte(o / PG));
      if (n !== PG) throw new Error(`pwrite at ${o}: ${n}`);
    }
    if (p.fsync(fd) !== 0) throw new Error('fsync failed');
  });
  const mapPass = (write: boolean) => pass(() => {
    const a = p.mmap(0, size, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (a < 0) throw new Error(`mmap: ${a}`);
    const n = p.access(a, size, PG, write, false, 0xa5);
    if (n !== pages) throw new Error(`access: ${n}`);
    if (write && p.msync(a, size, MS_SYNC) !== 0) throw new Error('msync failed');
    p.munmap(a, size);
  });
  const read = mapPass(false);
  const write = mapPass(true);
  return { size, fs, create, read, write, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

let oracleBin: string | null | undefined;
function oracleBinary(): string | null {
  if (oracleBin !== undefined) return oracleBin;
  const bin = join(mkdtempSync(join(tmpdir(), 'daxsim-scale-')), 'mmaptime');
  const cc = spawnSync('cc', ['-O2', '-o', bin, new URL('./oracle/mmaptime.c', import.meta.url).pathname]);
  oracleBin = cc.status === 0 ? bin : null;
  return oracleBin;
}

/** Host kernel ns per fault for the read and write loops (best of 3), or null where it cannot run. */
function realKernel(size: number, fs: FsKind): { read: number; write: number } | null {
  if (fs === 'dax') return null; // no pmem on the host; the QEMU guests are too slow to time
  const bin = oracleBinary();
  const dir = fs === 'tmpfs' ? '/dev/shm' : tmpdir();
  if (bin === null || !existsSync(dir)) return null;
  const out: number[] = [];
  for (const wr of ['0', '1']) {
    const file = join(dir, `daxsim-scale-${process.pid}.dat`);
    const r = spawnSync(bin, [file, String(size / MiB), '3', wr], { encoding: 'utf8' });
    rmSync(file, { force: true });
    if (r.status !== 0) return null;
    const runs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { faults: number; wall_us: number });
    out.push(Math.min(...runs.map((x) => (x.wall_us * 1000) / Math.max(x.faults, 1))));
  }
  return { read: out[0]!, write: out[1]! };
}

function row(r: RunResult, k: { read: number; write: number } | null): string {
  const c = (x: PassResult) => `${x.nsPerPage.toFixed(0).padStart(6)} ${x.bytesPerPage.toFixed(1).padStart(7)}`;
  const perFault = (x: PassResult) => (x.nsPerPage * (r.size / PG)) / Math.max(x.faults, 1);
  const kern = k ? `${k.read.toFixed(0).padStart(6)} ${k.write.toFixed(0).padStart(6)}` : '     -      -';
  return `${sizeName(r.size).padStart(7)} ${r.fs.padEnd(5)} | ${c(r.create)} | ${c(r.read)} | ${c(r.write)} | ` +
    `${(r.peakRssBytes / GiB).toFixed(2).padStart(6)} | ${perFault(r.read).toFixed(0).padStart(6)} ` +
    `${perFault(r.write).toFixed(0).padStart(6)} | ${kern}`;
}

function main(): void {
  const { values } = parseArgs({ options: {
    size: { type: 'string', default: '16M,1G,16G,64G' }, fs: { type: 'string', default: 'tmpfs,ext4,dax' },
    'kernel-max': { type: 'string', default: '1G' }, json: { type: 'boolean', default: false },
    one: { type: 'boolean', default: false },
  } });
  const sizes = values.size.split(',').map(parseSize);
  const fss = values.fs.split(',').map((f) => {
    if (!FS_KINDS.includes(f as FsKind)) throw new Error(`--fs: "${f}" is not one of ${FS_KINDS.join(', ')}`);
    return f as FsKind;
  });
  if (values.one) {
    console.log(JSON.stringify(runOne(sizes[0]!, fss[0]!)));
    return;
  }
  const kernelMax = parseSize(values['kernel-max']);
  if (!values.json) {
    console.log('scale: host ns and bytes per 4 KiB page per pass; peak RSS; sim and host-kernel ns per fault');
    console.log('   size fs    | create ns    B/pg | read ns     B/pg | write ns    B/pg | RSS GiB | ' +
      'sim ns/flt r  w | kernel ns/flt r  w');
  }
  for (const size of sizes) {
    for (const fs of fss) {
      const c = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=12288',
        new URL(import.meta.url).pathname, '--one', '--size', String(size), '--fs', fs],
      { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (c.status !== 0) {
        console.log(`${sizeName(size).padStart(7)} ${fs.padEnd(5)} | failed: ` +
          `${(c.stderr.trim().split('\n').slice(-3).join(' / ') || `signal ${c.signal}`).slice(0, 200)}`);
        continue;
      }
      const r = JSON.parse(c.stdout.trim().split('\n').pop()!) as RunResult;
      const k = size <= kernelMax ? realKernel(size, fs) : null;
      console.log(values.json ? JSON.stringify({ ...r, kernelNsPerFault: k }) : row(r, k));
    }
  }
}

main();

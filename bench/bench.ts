/**
 * The simulator's own speed (npm run bench): host time for the 128 MiB sequential read and write
 * through a fresh shared mapping of a cached tmpfs and ext4 file (the oracle's mmapread.c
 * workloads), per simulated fault and per access, with assertions off, and page-table memory per
 * mapped page.
 * The real kernel's time for the same workload is measured here too, where the machine allows: a C
 * compiler builds bench/oracle/mmaptime.c, which writes the same file (4 KiB pwrites, fsync) on
 * /dev/shm (tmpfs) and in the OS temp dir (whatever filesystem that is), and times the same
 * one-byte-per-page loop (best of 5). Without a compiler it falls back to the oracle README's
 * figures (about 6.7 us per read fault, 1.05 us per write fault on tmpfs). Timings are printed,
 * never asserted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED } from '../src/mm/constants.ts';

const MiB = 2 ** 20, PG = 4096, LEN = 128 * MiB;
Machine.setAssertions(false);

function run(write: boolean, fsName: 'tmpfs' | 'ext4'): void {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
  m.mount('/mnt/shm', 'tmpfs');
  m.mkfs('vda', 'ext4');
  m.mount('/mnt/disk', 'ext4', 'vda');
  const p = m.process();
  const dir = fsName === 'tmpfs' ? '/mnt/shm' : '/mnt/disk';
  const fd = p.open(`${dir}/data`, O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < LEN; o += PG) p.pwrite(fd, PG, o, ((o / PG) | 1) & 0xff);
  const runs = 5;
  let best = Infinity, faults = 0, pt = 0, accesses = 0;
  for (let r = 0; r < runs; r++) {
    const a = p.mmap(0, LEN, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    const f0 = p.rusage().minflt;
    const t0 = process.hrtime.bigint();
    accesses = p.access(a, LEN, PG, write);
    const ns = Number(process.hrtime.bigint() - t0);
    faults = p.rusage().minflt - f0;
    pt = p.kp.mm.pgtablePages;
    best = Math.min(best, ns);
    p.munmap(a, LEN);
  }
  const real = realKernel(fsName, write);
  const kernelUsPerFault = real ? real.usPerFault : write ? 1.05 : 6.7;
  const simUsPerFault = best / faults / 1000;
  const src = real
    ? `kernel ${real.release} here: ${real.faults} faults, ${(real.usPerFault * real.faults / 1000).toFixed(1)} ms, ` +
      `${kernelUsPerFault.toFixed(2)} us/fault`
    : `kernel ${kernelUsPerFault} us/fault (oracle README; no C compiler here)`;
  console.log(`${fsName.padEnd(5)} ${write ? 'write' : 'read '} 128 MiB: ${faults} faults, ` +
    `${(best / 1e6).toFixed(1)} ms host, ` +
    `${simUsPerFault.toFixed(2)} us/fault (${src}; ratio ${(simUsPerFault / kernelUsPerFault).toFixed(2)}), ` +
    `${(best / accesses).toFixed(0)} ns/access, ` +
    `page tables ${pt} pages = ${((pt * 4096) / (LEN / PG)).toFixed(2)} B per mapped page`);
}

let oracleBin: string | null | undefined;
/** Build bench/oracle/mmaptime.c once; null when no C compiler is available. */
function oracleBinary(): string | null {
  if (oracleBin !== undefined) return oracleBin;
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-bench-'));
  const bin = join(dir, 'mmaptime');
  const cc = spawnSync('cc', ['-O2', '-o', bin, new URL('./oracle/mmaptime.c', import.meta.url).pathname],
    { encoding: 'utf8' });
  oracleBin = cc.status === 0 ? bin : null;
  return oracleBin;
}

/** The host kernel running the same workload (best of 5 runs), or null where it cannot. */
function realKernel(fsName: 'tmpfs' | 'ext4', write: boolean):
  { usPerFault: number; faults: number; release: string } | null {
  const bin = oracleBinary();
  const dir = fsName === 'tmpfs' ? '/dev/shm' : tmpdir();
  if (!bin || !existsSync(dir)) return null;
  const file = join(dir, `daxsim-bench-${process.pid}.dat`);
  const r = spawnSync(bin, [file, String(LEN / MiB), '5', write ? '1' : '0'], { encoding: 'utf8' });
  rmSync(file, { force: true });
  if (r.status !== 0) return null;
  const runs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { faults: number; wall_us: number });
  const best = runs.reduce((b, x) => (x.wall_us < b.wall_us ? x : b));
  const release = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim() || 'host';
  return { usPerFault: best.wall_us / best.faults, faults: best.faults, release };
}

/**
 * The scale table (issue 16) at the sizes a bench run can afford: `bench/scale.ts` at 16 MiB and
 * 1 GiB on tmpfs, ext4 and ext4-dax, each in its own child process. `npm run bench:scale` runs the
 * 16 and 64 GiB rows (docs/scale.md).
 */
function scaleTable(): void {
  const r = spawnSync(process.execPath, [new URL('./scale.ts', import.meta.url).pathname, '--size', '16M,1G'],
    { stdio: 'inherit' });
  if (r.status !== 0) console.log(`scale table: bench/scale.ts exited with ${r.status ?? r.signal}`);
}

function hitPath(): void {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1 * 2 ** 30 });
  m.mount('/mnt/shm', 'tmpfs');
  const p = m.process();
  const fd = p.open('/mnt/shm/d', O_RDWR | O_CREAT);
  p.ftruncate(fd, 2 * MiB);
  const a = p.mmap(0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  p.access(a, 2 * MiB, PG, true);
  const n = 4_000_000;
  const t0 = process.hrtime.bigint();
  let s = 0;
  for (let i = 0; i < n; i++) s += p.load(a + ((i * 64) % (2 * MiB)));
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`present-PTE load: ${(ns / n).toFixed(1)} ns per access (checksum ${s})`);
}

/** DAX: 128 MiB read and write through a mapping 4 KiB off 2 MiB (PTE faults), and 1 GiB with PMDs. */
function dax(): void {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 4 * 2 ** 30 }] });
  m.mkfs('pmem0', 'ext4');
  m.mount('/mnt', 'ext4', 'pmem0', ['dax']);
  const p = m.process();
  const mk = (path: string, bytes: number) => {
    const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
    // Preallocated first, so its blocks are 2 MiB-aligned (mballoc places a file written by 1 MiB
    // pwrites alone 1 MiB- but not 2 MiB-aligned) and the 1 GiB read maps PMDs.
    p.fallocate(fd, 0, 0, bytes);
    for (let o = 0; o < bytes; o += MiB) p.pwrite(fd, MiB, o, 0x5a);
    return fd;
  };
  const small = mk('/mnt/f', LEN);
  const big = mk('/mnt/g', 1024 * MiB);
  for (const [label, fd, len, off, write] of [['dax PTE read  128 MiB', small, LEN, PG, false],
    ['dax PTE write 128 MiB', small, LEN, PG, true],
    ['dax PMD read    1 GiB', big, 1024 * MiB, 0, false]] as const) {
    let ns = Infinity, faults = 0, n = 0;
    for (let r = 0; r < 3; r++) {
      const a = p.mmap(0x7f0000000000 + off, len - off, PROT_READ | PROT_WRITE, MAP_SHARED | 0x10, fd, 0);
      const f0 = p.rusage();
      const t0 = process.hrtime.bigint();
      n = p.access(a, len - off, PG, write);
      ns = Math.min(ns, Number(process.hrtime.bigint() - t0));
      const f1 = p.rusage();
      faults = f1.minflt - f0.minflt + f1.majflt - f0.majflt;
      if (r < 2) p.munmap(a, len - off);
    }
    const a = 0x7f0000000000 + off;
    console.log(`${label}: ${faults} faults, ${(ns / 1e6).toFixed(1)} ms host, ` +
      `${(ns / faults / 1000).toFixed(2)} us/fault, ` +
      `${(ns / n).toFixed(0)} ns/access, page tables ${p.kp.mm.pgtablePages} pages`);
    p.munmap(a, len - off);
  }
}

/**
 * Random reads over a large sparse DAX file: 65536 seeded-random pages of a 16 GiB file (zero-page
 * PTE faults). Prints host memory split into page tables, page descriptors and file contents, per
 * page mapped: memory must follow pages touched, not file or device size.
 */
function randomSparse(): void {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 32 * 2 ** 30 }] });
  m.mkfs('pmem0', 'ext4');
  m.mount('/mnt', 'ext4', 'pmem0', ['dax']);
  const p = m.process();
  const fd = p.open('/mnt/sparse', O_RDWR | O_CREAT | O_TRUNC);
  const size = 16 * 2 ** 30;
  p.ftruncate(fd, size);
  const a = p.mmap(0x7f0000000000 + PG, size - PG, PROT_READ, MAP_SHARED | 0x10, fd, 0);
  let s = 42;
  const n = 65536;
  const pagesTouched = new Set<number>();
  const f0 = p.rusage().minflt;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // xorshift32: a seeded, well-mixed page order.
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const page = s % (size / PG - 1);
    pagesTouched.add(page);
    p.load(a + page * PG);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const faults = p.rusage().minflt - f0;
  if (faults !== pagesTouched.size) {
    throw new Error(`random read: ${faults} faults for ${pagesTouched.size} distinct pages`);
  }
  const ptBytes = p.kp.mm.pgtablePages * 4096; // each table page: 512 x (4 B flags + 4 B PFN) on the host too
  const descBytes = m.k.frames.descriptorBytes();
  const contentBytes = m.k.frames.contentBytes() + m.k.pmems[0]!.contentBytes() + m.k.pmems[0]!.indexBytes();
  console.log(`dax random read, 16 GiB sparse: ${faults} faults over ${n} accesses, ` +
    `${(ns / faults / 1000).toFixed(2)} us/fault; ` +
    `page tables ${(ptBytes / faults).toFixed(0)} B per mapped page (sparse: one table per touched 2 MiB), ` +
    `descriptors ${(descBytes / 2 ** 20).toFixed(1)} MiB total, contents ${contentBytes} B (data and its block index)`);
}

run(false, 'tmpfs');
run(true, 'tmpfs');
run(false, 'ext4');
run(true, 'ext4');
hitPath();
dax();
randomSparse();
scaleTable();

/**
 * The five seed experiments, re-run in the model and set beside the published figures
 * (issue 4; figures from ../shared/reference/linux-fault-path.md §9.1 and the seed posts).
 * Each row says whether its figure was used to FIT the cost table (src/kernel/costs.ts) or is
 * HELD OUT, and its tolerance; `daxsim reproduce` fails when a held-out figure leaves it.
 */
import { Machine, type Process } from '../api/machine.ts';
import { runConcurrently, type Worker } from '../kernel/sched.ts';
import { iozoneWriteTest, iozoneReadTest, type IozonePass } from './iozone.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED,
  MS_SYNC } from '../mm/constants.ts';

/**
 * fit: used to calibrate the cost table. held-out: checked, never fitted; leaving its tolerance
 * fails `daxsim reproduce`. disputed: a published figure that a real kernel contradicts (its
 * `note` names the measurement); shown and compared, but not a target, because the model follows
 * the kernel. unmodelled: a figure that a real kernel reproduces only through a mechanism the
 * model does not have (its `note` names the mechanism and the measurement that shows it); shown
 * and compared, not a target, and listed in the README's known limits. info: shown without a check.
 */
export type Role = 'fit' | 'held-out' | 'disputed' | 'unmodelled' | 'info';

export interface Row {
  metric: string;
  unit: string;
  published: number | null;
  simulated: number;
  role: Role;
  /** Relative tolerance (0.25 = within 25%), or 0 for an exact figure; null when nothing is compared. */
  tolerance: number | null;
  note?: string;
}

export interface Histogram {
  label: string;
  /** Power-of-two microsecond buckets: [lowUs, count]. */
  published: Array<[number, number]> | null;
  simulated: Array<[number, number]>;
}

export interface Experiment {
  name: string;
  seed: string;
  title: string;
  notes: string[];
  rows: Row[];
  histograms: Histogram[];
}

const MiB = 2 ** 20, PG = 4096, A = 0x7f0000000000;

/** Does a row pass? Rows without a published figure or tolerance always pass. */
export function rowOk(r: Row): boolean {
  if (r.published === null || r.tolerance === null) return true;
  if (r.tolerance === 0) return r.simulated === r.published;
  return Math.abs(r.simulated / r.published - 1) <= r.tolerance + 1e-9;
}

function daxMachine(profile: string, pmemBytes = 2 * 2 ** 30): Machine {
  const m = new Machine({ profile, memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: pmemBytes }] });
  m.mkfs('pmem0', 'ext4');
  m.mount('/mnt', 'ext4', 'pmem0', ['dax']);
  return m;
}

function writeFile(p: Process, path: string, bytes: number, fsync = true): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < bytes; o += MiB) p.pwrite(fd, Math.min(MiB, bytes - o), o, 0x5a);
  if (fsync) p.fsync(fd);
  return fd;
}

function faults(p: Process): number {
  const r = p.rusage();
  return r.minflt + r.majflt;
}

/**
 * Benchmark process faults that iozone itself takes (binary, libraries, buffers) in Kani's
 * counts: ONE constant, fitted to the 128 MB map_pages count (8,312 - 2 x 4,097: the kernel-chosen
 * address starts at the last PTE of a page table, so each pass takes one extra fault) and used for
 * every row.
 */
export const IOZONE_OWN_FAULTS = 118;

/**
 * Re-read speed-ups (median read time / median re-read time, 10 runs) that a real Linux 6.18 host
 * measured for iozone -B's sequence with fault-around (test/oracle/rereadprobe.c, 2 MiB-aligned
 * mapping; data in test/oracle/linux-6.18-host-reread.jsonl, which test/reproduce.test.ts checks
 * these against). `evict`: a 256 MiB buffer was written between the write and the read test, so
 * the read test started with cold CPU caches.
 */
export const HOST_REREAD_SPEEDUP: ReadonlyArray<{
  fs: 'tmpfs' | 'ext4'; fileKb: 64 | 131072; evict: boolean; speedup: number;
}> = [
  { fs: 'tmpfs', fileKb: 64, evict: false, speedup: 1.00 },
  { fs: 'tmpfs', fileKb: 131072, evict: false, speedup: 1.00 },
  { fs: 'ext4', fileKb: 64, evict: false, speedup: 1.58 },
  { fs: 'ext4', fileKb: 131072, evict: false, speedup: 1.00 },
  { fs: 'tmpfs', fileKb: 64, evict: true, speedup: 5.21 },
  { fs: 'tmpfs', fileKb: 131072, evict: true, speedup: 1.00 },
];

const REREAD_DISPUTE = 'no re-read gain on a real kernel doing the same per-pass work: the post\'s own base DAX ' +
  '1.00x; the 6.18 host with fault-around 1.00x at 128 MiB on tmpfs and ext4, with warm or cold caches; see the ' +
  'real-kernel rows';

/**
 * The same iozone sequence on the page cache of linux-6.18, re-read speed-up in the model beside
 * the host's. Where the host's first pass starts with data or kernel state out of the CPU caches
 * (evicted, or ext4 after writeback), its gain comes from a mechanism the model lacks.
 */
function hostRereadRows(): Row[] {
  const rows: Row[] = [];
  for (const h of HOST_REREAD_SPEEDUP) {
    // The host's disk: read_ahead_kb 8192, max_sectors_kb 4096 (they decide ext4's folio sizes).
    const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30,
      devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30, readAheadKb: 8192, maxSectorsKb: 4096 }] });
    if (h.fs === 'ext4') { m.mkfs('vda', 'ext4'); m.mount('/mnt', 'ext4', 'vda'); } else m.mount('/mnt', 'tmpfs');
    const p = m.process('iozone');
    iozoneWriteTest(p, '/mnt/iozone.tmp', h.fileKb * 1024, { addr: A });
    const [r1, r2] = iozoneReadTest(p, '/mnt/iozone.tmp', h.fileKb * 1024, { addr: A });
    const cold = h.fileKb === 64 && (h.evict || h.fs === 'ext4');
    rows.push({ metric: `real kernel, same sequence: ${h.fs} ` +
      `${h.fileKb === 64 ? '64 KiB' : '128 MiB'}${h.evict ? ', caches evicted first,' : ''} re-read speed-up`,
      unit: 'x', published: h.speedup, simulated: r1!.ns / r2!.ns, role: cold ? 'unmodelled' : 'held-out',
      tolerance: 0.1,
      note: !cold ? 'Linux 6.18 host, test/oracle/rereadprobe.c' : h.evict
        ? 'Linux 6.18 host; its first pass starts with cold CPU caches: no CPU cache for loads in the model'
        : 'Linux 6.18 host; its first pass follows the writeback of the file (without msync and fsync the host ' +
          'measures 1.03x), a cost the model does not charge' });
  }
  return rows;
}

interface IozoneResult { read: number; reread: number; faults: number }

/**
 * iozone -B's read and re-read passes (KB/s) and the read test's faults (with iozone's own), per
 * "profile size": 64KB and 128MB files on dax-2014 and rfc-kani-2014.
 */
function kaniIozoneRuns(): Record<string, IozoneResult> {
  const sizes = [[64 * 1024, '64KB'], [128 * MiB, '128MB']] as const;
  const sim: Record<string, IozoneResult> = {};
  for (const profile of ['dax-2014', 'rfc-kani-2014']) {
    for (const [bytes, label] of sizes) {
      const m = daxMachine(profile);
      const p = m.process();
      // The file as iozone -i 0 -w leaves it (sized by its last record, then stored through a
      // MAP_SHARED mapping twice); the post's fault counts are those of the read test alone.
      iozoneWriteTest(p, '/mnt/iozone.tmp', bytes);
      const f0 = faults(p);
      const [r1, r2] = iozoneReadTest(p, '/mnt/iozone.tmp', bytes);
      const kbps = (r: IozonePass) => (bytes / 1024) / (r.ns / 1e9);
      const read = kbps(r1!), reread = kbps(r2!);
      sim[`${profile} ${label}`] = { read, reread, faults: faults(p) - f0 + IOZONE_OWN_FAULTS };
    }
  }
  return sim;
}

/** Seed 000: iozone-style mmap read and re-read on DAX ext4, base DAX vs DAX with map_pages. */
export function kani2014(): Experiment {
  const sim = kaniIozoneRuns();
  const k = (l: string) => sim[`rfc-kani-2014 ${l}`]!, b = (l: string) => sim[`dax-2014 ${l}`]!;
  const rows: Row[] = [
    { metric: '64KB read, map_pages', unit: 'KB/s', published: 3560777, simulated: k('64KB').read, role: 'held-out',
      tolerance: 0.25 },
    { metric: '64KB read speed-up', unit: 'x', published: 1.6, simulated: k('64KB').read / b('64KB').read,
      role: 'held-out', tolerance: 0.25 },
    { metric: '64KB re-read, map_pages', unit: 'KB/s', published: 9086412, simulated: k('64KB').reread,
      role: 'unmodelled', tolerance: 0.25,
      note: 'the post\'s first 64 KB pass costs 11 us (base: 16 us) more than its second; the 6.18 host running the ' +
        'same sequence pays 12 us more in its first 64 KiB pass when the CPU caches are cold (5.21x), none when warm ' +
        '(1.00x); the model has no CPU cache for loads or kernel code' },
    { metric: '64KB re-read speed-up', unit: 'x', published: 1.8, simulated: k('64KB').reread / b('64KB').reread,
      role: 'held-out', tolerance: 0.25 },
    { metric: '64KB page faults, map_pages', unit: 'faults', published: 121, simulated: k('64KB').faults,
      role: 'held-out', tolerance: 0.05,
      note: 'the post\'s -20% implies 1 fault per pass for 64 KB; the posted loop bound gives 2' },
    { metric: '64KB fault reduction', unit: '%', published: -20,
      simulated: Math.round(100 * (k('64KB').faults / b('64KB').faults - 1)), role: 'held-out', tolerance: 0.25 },
    { metric: '128MB read, map_pages', unit: 'KB/s', published: 4374906, simulated: k('128MB').read, role: 'fit',
      tolerance: 0.25 },
    { metric: '128MB read speed-up', unit: 'x', published: 1.7, simulated: k('128MB').read / b('128MB').read,
      role: 'fit', tolerance: 0.25 },
    { metric: '128MB re-read, map_pages', unit: 'KB/s', published: 6137189, simulated: k('128MB').reread,
      role: 'disputed', tolerance: 0.25, note: REREAD_DISPUTE },
    { metric: '128MB re-read speed-up', unit: 'x', published: 2.4, simulated: k('128MB').reread / b('128MB').reread,
      role: 'disputed', tolerance: 0.25, note: REREAD_DISPUTE },
    { metric: '128MB page faults, map_pages', unit: 'faults', published: 8312, simulated: k('128MB').faults,
      role: 'fit', tolerance: 0 },
    { metric: '128MB fault reduction', unit: '%', published: -87,
      simulated: Math.round(100 * (k('128MB').faults / b('128MB').faults - 1)), role: 'held-out', tolerance: 0 },
    ...hostRereadRows(),
  ];
  return {
    name: 'kani-2014', seed: '000_ba8593c1ef956fff.txt', title: 'Kani: map_pages for DAX, iozone mmap read/re-read',
    notes: [`Profiles dax-2014 (base) and rfc-kani-2014; ext4 -o dax on pmem; iozone -B's passes ` +
      `(src/reproduce/iozone.ts): the write test sizes the file by its last record and stores every 4 KiB record ` +
      `through a MAP_SHARED mapping, twice; each read pass maps the file afresh (MAP_PRIVATE), fsyncs, reads the ` +
      `first record with read(2), then copies the file out in 4 KiB records (timed); msync and munmap follow, untimed.`,
      `Fault counts add ${IOZONE_OWN_FAULTS} faults of the iozone process itself (one constant, fitted to the 128 MB ` +
        `count).`,
      'Both passes run the same kernel code, so the model charges a re-read what a read costs. The post\'s 128 MB ' +
        'map_pages re-read is 1.40x its read, but its own base DAX shows no re-read gain on the same work (read ' +
        '2.57, re-read 2.56 GB/s, from its ratios), and a real Linux 6.18 kernel running the same iozone sequence ' +
        'with fault-around re-reads 128 MiB at 1.00x its read, on tmpfs and ext4, with warm or cold caches: ' +
        '"disputed". The 64 KB re-read gain (2.55x; the first pass costs 11 us more) is what cold CPU caches at the ' +
        'first pass give: the 6.18 host pays 12 us more in its first 64 KiB pass after the caches are evicted, and ' +
        'none when they are warm. The model has no CPU cache for loads: "unmodelled" (docs/calibration.md).',
      'The real-kernel rows run the same iozone sequence in the model (linux-6.18, page cache, 2 MiB-aligned ' +
        'mapping) beside the 6.18 host\'s medians (test/oracle/rereadprobe.c, 10 runs each).'],
    rows, histograms: [],
  };
}

/** Power-of-two histogram of microsecond latencies, as in Kara's post. */
function histogram(latUs: number[]): Array<[number, number]> {
  const b = new Map<number, number>();
  for (const l of latUs) {
    let lo = 1;
    while (lo * 2 <= l) lo *= 2;
    b.set(lo, (b.get(lo) ?? 0) + 1);
  }
  return [...b.entries()].sort((x, y) => x[0] - y[0]);
}

interface KaraCase { label: string; prealloc: boolean; sync: boolean; background: boolean;
  published: { min: number; avg: number; max: number; hist: Array<[number, number]> } }

const karaCases: KaraCase[] = [
  { label: 'File preallocated, no background load, no MAP_SYNC', prealloc: true, sync: false, background: false,
    published: { min: 5, avg: 6, max: 42, hist: [[4, 398], [8, 110], [16, 2], [32, 2]] } },
  { label: 'File preallocated, no background load, MAP_SYNC', prealloc: true, sync: true, background: false,
    published: { min: 10, avg: 10, max: 43, hist: [[8, 509], [16, 2], [32, 1]] } },
  { label: 'File empty, no background load, no MAP_SYNC', prealloc: false, sync: false, background: false,
    published: { min: 21, avg: 23, max: 76, hist: [[16, 503], [32, 8], [64, 1]] } },
  { label: 'File empty, no background load, MAP_SYNC', prealloc: false, sync: true, background: false,
    published: { min: 91, avg: 108, max: 234, hist: [[64, 467], [128, 45]] } },
  { label: 'File empty, background load, no MAP_SYNC', prealloc: false, sync: false, background: true,
    published: { min: 21, avg: 23, max: 67, hist: [[16, 507], [32, 4], [64, 1]] } },
  { label: 'File empty, background load, MAP_SYNC', prealloc: false, sync: true, background: true,
    published: { min: 94, avg: 112, max: 181, hist: [[64, 489], [128, 23]] } },
];

/** Latencies (us) of 512 write faults into a 2 MiB file, per Kara's test (seed 003), on linux-4.15. */
export function karaLatencies(c: KaraCase): number[] {
  const m = daxMachine('linux-4.15');
  const p = m.process('fault-timer');
  const fd = c.prealloc ? writeFile(p, '/mnt/f', 2 * MiB)
    : (() => { const f = p.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC); p.ftruncate(f, 2 * MiB); return f; })();
  // 4 KiB past a 2 MiB boundary: every fault is a PTE fault, as the post timed 512 of them.
  const a = p.mmap(A + PG, 2 * MiB - PG, PROT_READ | PROT_WRITE,
    (c.sync ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED) | MAP_FIXED, fd, 0);
  const lat: number[] = [];
  let page = 0;
  const timer: Worker = {
    task: p.task,
    step: () => {
      const t0 = p.clockNs;
      p.store(a + page * PG, 1);
      lat.push((p.clockNs - t0) / 1000);
      // The test program does a little work between faults (it writes its timing record).
      p.task.clockNs += 2000;
      return ++page < 511;
    },
  };
  const workers: Worker[] = [timer];
  if (c.background) {
    // A second process copying a 64 MiB file with read/write in 1 MiB chunks, over and over: its
    // block allocations join the running transaction that each MAP_SYNC fault must commit.
    const q = m.process('cp');
    const src = writeFile(q, '/mnt/src', 64 * MiB);
    let dst = q.open('/mnt/dst', O_RDWR | O_CREAT | O_TRUNC);
    let off = 0;
    const buf = new Uint8Array(MiB);
    workers.push({
      task: q.task,
      step: () => {
        q.pread(src, MiB, off, buf);
        q.pwrite(dst, MiB, off, buf);
        off += MiB;
        if (off >= 64 * MiB) {
          off = 0;
          q.close(dst);
          q.unlink('/mnt/dst');
          dst = q.open('/mnt/dst', O_RDWR | O_CREAT | O_TRUNC);
        }
        return true;
      },
    });
  }
  // Both start together: setup work (writing the source file) advanced the copier's clock.
  const startNs = Math.max(...workers.map((w) => w.task.clockNs));
  for (const w of workers) w.task.clockNs = startNs;
  runConcurrently(m.k, workers, [timer], 2);
  return lat;
}

export function kara2017(): Experiment {
  const rows: Row[] = [];
  const histograms: Histogram[] = [];
  const fit = new Set([0, 2, 3]);
  const avgs: number[] = [];
  karaCases.forEach((c, i) => {
    const lat = karaLatencies(c);
    const avg = lat.reduce((s, x) => s + x, 0) / lat.length;
    const disputed = c.prealloc && c.sync;
    rows.push({ metric: `${c.label}: avg`, unit: 'us', published: c.published.avg, simulated: avg,
      role: fit.has(i) ? 'fit' : disputed ? 'disputed' : 'held-out', tolerance: 0.25,
      ...(disputed
        ? { note: 'real kernels measure no MAP_SYNC cost on a committed file: 6.1 guest 9.6 vs 9.9 us, Kara v4-v6 10 ' +
            'vs 10 us; see the ratio row' }
        : {}) });
    avgs.push(avg);
    rows.push({ metric: `${c.label}: min`, unit: 'us', published: c.published.min, simulated: Math.min(...lat),
      role: 'info', tolerance: null });
    rows.push({ metric: `${c.label}: max`, unit: 'us', published: c.published.max, simulated: Math.max(...lat),
      role: 'info', tolerance: null });
    histograms.push({ label: c.label, published: c.published.hist, simulated: histogram(lat) });
  });
  // What MAP_SYNC costs on a preallocated (written and committed) file, as a ratio of averages:
  // compared with the real Linux 6.1 guest (../shared/oracle/linux-6.1-guest.md §5, ext4-dax,
  // 9.6 / 9.9 us), the measurement that settles the v2 post's 10 / 6 (the v4-v6 posts: 10 / 10).
  rows.push({ metric: 'MAP_SYNC / no MAP_SYNC, preallocated file (avg ratio)', unit: 'x', published: 9.6 / 9.9,
    simulated: avgs[1]! / avgs[0]!,
    role: 'held-out', tolerance: 0.25, note: 'published = Linux 6.1 guest oracle, ext4-dax' });
  return {
    name: 'kara-2017', seed: '003_bb8db76651de6932.txt',
    title: 'Kara: latency of 512 write faults, with and without MAP_SYNC',
    notes: ['Profile linux-4.15; ext4 -o dax on pmem; a 2 MiB file mapped 4 KiB past a 2 MiB boundary, so every ' +
      'fault is a PTE fault (at an aligned address 6.1 takes one PMD fault for the whole file, see the 6.1 guest ' +
      'figures).',
      'Timed: the 511 faults of the pages inside the mapping.',
      '"Preallocated" is a file written and fsynced (blocks written and committed), not fallocate: unwritten extents ' +
        'would need a commit per MAP_SYNC fault.',
      'Background load: a second process copying a 64 MiB file with read/write in 1 MiB chunks on the same filesystem.',
      'The model has no noise source (interrupts, cache misses), so min/max and the histogram spread are ' +
        'informational; only averages are compared.',
      'Preallocated with MAP_SYNC is "disputed": the v2 post measured 10 us against 6 us without MAP_SYNC, but a ' +
        'committed file takes the same fault path either way (ext4_iomap_begin reports IOMAP_F_DIRTY only for ' +
        'uncommitted metadata), the real 6.1 guest measures 9.6 vs 9.9 us, and the v4-v6 posts 10 vs 10 us ' +
        '(reference §9.2). The model follows the kernels; the ratio row checks it against the 6.1 guest.'],
    rows, histograms,
  };
}

/** Seed 004: reading 1 GiB of DAX holes with zeroed page-cache pages (4.13) vs the shared zero page (4.15). */
export function zwisler2017(): Experiment {
  const res: Record<string, { usedKb: number; cachedKb: number; latUs: number }> = {};
  for (const profile of ['linux-4.13', 'linux-4.15']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = p.open('/mnt/holes', O_RDWR | O_CREAT);
    p.ftruncate(fd, 1024 * MiB);
    const a = p.mmap(A + PG, 1024 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    const free0 = m.meminfo()['MemFree']!;
    const f0 = faults(p);
    const t0 = p.clockNs;
    p.access(a, 1024 * MiB, PG, false);
    const n = faults(p) - f0;
    res[profile] = { usedKb: free0 - m.meminfo()['MemFree']!, cachedKb: m.meminfo()['Cached']!,
      latUs: (p.clockNs - t0) / n / 1000 };
  }
  const GiBkB = 1024 * 1024;
  return {
    name: 'zwisler-2017', seed: '004_0ac0d0aae1ff63bb.txt', title: 'Zwisler: DAX holes on the shared zero page',
    notes: ['1 GiB sparse file on ext4 -o dax, mapped 4 KiB past a 2 MiB boundary (PTE faults; 2 MiB-congruent reads ' +
      'would map the huge zero page on both kernels), one read per 4 KiB page.',
      'The post gives memory only ("you end up using 1GiB of zeroed memory"; none with the zero page) and says ' +
        'latency decreases without a figure.'],
    rows: [
      { metric: 'page cache after reading 1 GiB of holes, linux-4.13', unit: 'kB', published: GiBkB,
        simulated: res['linux-4.13']!.cachedKb, role: 'held-out', tolerance: 0 },
      { metric: 'page cache after reading 1 GiB of holes, linux-4.15', unit: 'kB', published: 0,
        simulated: res['linux-4.15']!.cachedKb, role: 'held-out', tolerance: 0 },
      { metric: 'memory used (MemFree drop), linux-4.13', unit: 'kB', published: null,
        simulated: res['linux-4.13']!.usedKb, role: 'info', tolerance: null },
      { metric: 'memory used (MemFree drop), linux-4.15', unit: 'kB', published: null,
        simulated: res['linux-4.15']!.usedKb, role: 'info', tolerance: null },
      { metric: 'hole read fault latency, linux-4.13', unit: 'us', published: null,
        simulated: res['linux-4.13']!.latUs, role: 'info', tolerance: null },
      { metric: 'hole read fault latency, linux-4.15', unit: 'us', published: null,
        simulated: res['linux-4.15']!.latUs, role: 'info', tolerance: null },
    ],
    histograms: [],
  };
}

/** Seed 001: page-cache fault-around off, the 32-page RFC, and the merged 16-page fault_around_bytes. */
export function shutemov2014(): Experiment {
  const variants: Array<[string, string, Record<string, unknown>]> = [
    ['no fault-around (fault_around_bytes=4096)', 'linux-6.18', { faultAroundBytes: 4096 }],
    ['32-page RFC (seed 001)', 'rfc-shutemov-2014', {}],
    ['merged 16-page fault-around', 'linux-6.18', {}],
  ];
  const rows: Row[] = [];
  for (const [label, profile, knobs] of variants) {
    for (const order of ['sequential', 'random'] as const) {
      const m = new Machine({ profile, knobs, memoryBytes: 4 * 2 ** 30,
        devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
      m.mkfs('vda', 'ext4');
      m.mount('/mnt', 'ext4', 'vda');
      const p = m.process();
      const fd = p.open('/mnt/f', O_RDWR | O_CREAT);
      for (let o = 0; o < 128 * MiB; o += PG) p.pwrite(fd, PG, o, ((o / PG) | 1) & 0xff);
      const a = p.mmap(A, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
      const pages = Array.from({ length: 32768 }, (_, i) => i);
      if (order === 'random') {
        let s = 12345; // seeded LCG: the same order every run
        for (let i = pages.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2 ** 31;
          const j = s % (i + 1);
          [pages[i], pages[j]] = [pages[j]!, pages[i]!];
        }
      }
      const f0 = faults(p), t0 = p.clockNs;
      for (const i of pages) p.load(a + i * PG);
      const n = faults(p) - f0;
      const merged = label.startsWith('merged');
      rows.push({ metric: `${label}, ${order} read of a cached 128 MiB file: faults`, unit: 'faults',
        published: merged ? 2048 : null, simulated: n,
        role: merged ? 'held-out' : 'info', tolerance: merged ? 0 : null,
        note: merged ? 'linux-6.18 host oracle, seq-read-aligned (random order: same windows)' : undefined });
      rows.push({ metric: `${label}, ${order}: time`, unit: 'ms', published: null, simulated: (p.clockNs - t0) / 1e6,
        role: 'info', tolerance: null });
    }
  }
  return {
    name: 'shutemov-2014', seed: '001_ad77fedee397ef72.txt', title: 'Shutemov: page-cache fault-around',
    notes: ['The RFC published no figures; the merged form is compared with the real 6.18 kernel (oracle: one fault ' +
      'per 16-page window in every order).',
      'ext4 page-cache file written with 4 KiB pwrites (cached, uptodate), mapped at a 2 MiB-aligned address. The ' +
        'RFC applies to filemap_fault only, so tmpfs would see none of it.'],
    rows, histograms: [],
  };
}

/** Seed 002: repeat faults with and without the PFN cached in the entry; msync flushing only dirty pages. */
export function wilcox2014(): Experiment {
  const rows: Row[] = [];
  for (const profile of ['dax-2014', 'rfc-wilcox-2014']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = writeFile(p, '/mnt/f', 16 * MiB);
    let a = p.mmap(A, 16 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 16 * MiB, PG, false);
    p.munmap(a, 16 * MiB);
    const g0 = m.modelEvents()['iomapBegin']!, t0 = p.clockNs, f0 = faults(p);
    a = p.mmap(A, 16 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 16 * MiB, PG, false);
    const n = faults(p) - f0;
    rows.push({ metric: `${profile}: get_block calls for ${n} repeat faults`, unit: 'calls', published: null,
      simulated: m.modelEvents()['iomapBegin']! - g0, role: 'info', tolerance: null });
    rows.push({ metric: `${profile}: repeat fault latency`, unit: 'us', published: null,
      simulated: (p.clockNs - t0) / n / 1000, role: 'info', tolerance: null });
    for (let i = 0; i < 16; i++) p.store(a + i * 64 * PG, 1);
    const l0 = m.modelEvents()['cacheLinesFlushed']!;
    p.msync(a, 16 * MiB, MS_SYNC);
    rows.push({ metric: `${profile}: cache lines written back by msync after dirtying 16 of 4096 pages`, unit: 'lines',
      published: null, simulated: m.modelEvents()['cacheLinesFlushed']! - l0, role: 'info', tolerance: null });
    rows.push({ metric: `${profile}: dirty lines left in the CPU cache after msync`, unit: 'lines', published: null,
      simulated: m.k.pmems[0]!.dirtyLineCount(), role: 'info', tolerance: null });
  }
  return {
    name: 'wilcox-2014', seed: '002_0e92a8341add88db.txt',
    title: 'Wilcox: tree entries caching the PFN, with Dirty and Lock bits',
    notes: ['No figures were published: this shows the comparison only.',
      'The 2014 base DAX had no dirty tracking, so msync flushed nothing and data written through a mapping stayed ' +
        'in the CPU cache.'],
    rows, histograms: [],
  };
}

export const experiments: Record<string, () => Experiment> = {
  'kani-2014': kani2014,
  'kara-2017': kara2017,
  'zwisler-2017': zwisler2017,
  'shutemov-2014': shutemov2014,
  'wilcox-2014': wilcox2014,
};



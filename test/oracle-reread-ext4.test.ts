/**
 * iozone -B's write/re-write/read/re-read sequence on Linux 6.18, tmpfs and ext4, against two host
 * oracles measured on the 6.18 host (ext4 on a virtio disk whose read_ahead_kb is 8192 and
 * max_sectors_kb 4096, the host's own settings; tmpfs mounted without huge pages):
 * - test/oracle/linux-6.18-host-reread.jsonl (test/oracle/rereadprobe.c, port test/rereadprobe.ts,
 *   10 reps per case, with and without EVICT=1): the faults of every pass. Rep 0's write pass
 *   carries 1-2 first-touch faults of the probe itself, so reps >= 1 are compared, at their most
 *   frequent value (they all agree).
 * - test/oracle/linux-6.18-host-reread-folios.jsonl (test/oracle/rrfolioprobe.c, the same
 *   sequence, identical in three runs): the faults of every pass at read_ahead_kb 8192 and 128, the
 *   folios the page cache holds after each pass (from /proc/self/pagemap and /proc/kpageflags),
 *   and smaps FilePmdMapped of each pass's mapping. The model replays it with the same port, then
 *   walks the file's page cache and runs one more read pass like the probe's.
 *
 * The mechanism: the first write fault on the sparse ext4 file misses the page cache, so
 * do_sync_mmap_readahead reads around it (ra_pages from index 0) in order-0 folios of holes; each
 * PG_readahead hit starts page_cache_async_ra, which raises ra->order by 2 per window, up to
 * min(log2(window), PMD order); the window that reaches the last page, cached by the sizing
 * pwrite, falls back to order 0 from the first folio that would contain it (page_cache_ra_order's
 * -EEXIST fallback). At read_ahead_kb 8192 that gives 2048xo0 512xo2 128xo4 32xo6 8xo8 43xo9 512xo0;
 * at 128, 32xo0 8xo2 2xo4 1020xo5 32xo0. msync writeback and the read passes keep those folios.
 * Each write fault maps a whole folio (finish_fault, do_set_pmd for the 2 MiB ones) and each read
 * fault maps whole folios (filemap_map_pages, filemap_map_pmd), except where a folio would cross a
 * page table, as a 4 KiB VA skew makes the last folio of every 2 MiB block do (and every 2 MiB
 * folio: no PMD, 512 single-page write faults). So the readahead window alone turns 1094 write
 * faults into 3283, and skew 4096 turns 3283 into 26600.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine } from '../src/api/machine.ts';
import { runRereadprobe, type RereadPass } from './rereadprobe.ts';
import { findFolio } from '../src/mm/pagemap.ts';
import { O_RDONLY, PROT_NONE, PROT_READ, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE, MAP_FIXED
  } from '../src/mm/constants.ts';

interface HostRow { fs: string; rep: number; file_kb: number; va_skew: number; pass: RereadPass; faults: number; evict?: number }
interface FolioRow extends HostRow { read_ahead_kb: number; max_sectors_kb: number; pages_mapped: number; file_pmd_mapped_kb: number; folios: string }

const load = <T>(name: string): T[] => readFileSync(new URL(`./oracle/${name}`, import.meta.url), 'utf8')
  .trim().split('\n').map((l) => JSON.parse(l) as T);
const oracle = load<HostRow>('linux-6.18-host-reread.jsonl');
const folioOracle = load<FolioRow>('linux-6.18-host-reread-folios.jsonl');

const PASSES: readonly RereadPass[] = ['write', 'rewrite', 'read', 'reread'];
const DIRS: Readonly<Record<string, string>> = { ext4: '/mnt', tmpfs: '/dev/shm' };

/** A 6.18 machine with the host's disk: read_ahead_kb and max_sectors_kb as measured. */
function machine(readAheadKb = 8192): Machine {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30, readAheadKb, maxSectorsKb: 4096 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  m.mount('/dev/shm', 'tmpfs');
  return m;
}

/** The most frequent value of the host's reps >= 1 for one case and pass (rows without EVICT, the sequence the port runs). */
function modal(fs: string, fileKb: number, skew: number, pass: RereadPass, evict = 0): number {
  const vs = oracle.filter((r) => r.fs === fs && r.file_kb === fileKb && r.va_skew === skew && r.pass === pass && r.rep >= 1 &&
    (r.evict ?? 0) === evict).map((r) => r.faults);
  assert.ok(vs.length >= 2, `host rows for ${fs} ${fileKb} KiB skew ${skew} ${pass}`);
  const n = new Map<number, number>();
  for (const v of vs) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1])[0]![0];
}

/** The file's page-cache folios in index order, run-length encoded as the host probe prints them. */
function folioLayout(m: Machine, path: string, fileKb: number): string {
  const r = m.k.vfs.resolve(path);
  assert.ok(r);
  const inode = r.sb.inodes.get(r.name);
  assert.ok(inode, path);
  const f = m.k.frames;
  const runs: [number, number][] = [];
  for (let i = 0; i < fileKb / 4;) {
    const head = findFolio(inode.mapping, i);
    assert.ok(head >= 0, `${path}: page ${i} is not cached`);
    const order = f.order[head]!;
    const last = runs[runs.length - 1];
    if (last && last[1] === order) last[0]++;
    else runs.push([1, order]);
    i = f.index[head]! + (1 << order);
  }
  return runs.map(([n, o]) => `${n}xo${o}`).join(' ');
}

/**
 * Run the probe's sequence (2 reps) on a fresh machine and check rep 1 against the host: the faults
 * of every pass, the folios the page cache holds afterwards, and one more read pass as the probe's
 * (fsync, read(2) of a record, copy every record out of a MAP_PRIVATE mapping at the same skew),
 * whose faults and smaps FilePmdMapped must be the host's reread row.
 */
function checkCase(fs: string, raKb: number, fileKb: number, skew: number, faults: readonly number[]): void {
  const key = `${fs} read_ahead_kb ${raKb} ${fileKb} KiB skew ${skew}`;
  const want = folioOracle.filter((r) => r.fs === fs && (fs === 'tmpfs' || r.read_ahead_kb === raKb) && r.file_kb === fileKb &&
    r.va_skew === skew && r.rep === 1);
  assert.equal(want.length, 4, key);
  const m = machine(raKb);
  const rows = runRereadprobe(m, DIRS[fs]!, fs, fileKb, 2, skew);
  assert.deepEqual(PASSES.map((pass) => rows.find((r) => r.rep === 1 && r.pass === pass)!.faults), faults, `${key}: faults per pass`);
  const path = `${DIRS[fs]!}/rereadprobe.dat`;
  assert.equal(folioLayout(m, path, fileKb), want[0]!.folios, `${key}: folios`);
  const p = m.process('reader');
  const bytes = fileKb * 1024;
  const res = p.mmap(0, bytes + (4 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  const at = Math.ceil(res / (2 << 20)) * (2 << 20) + skew;
  const fd = p.open(path, O_RDONLY);
  assert.equal(p.mmap(at, bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), at);
  p.fsync(fd);
  assert.equal(p.read(fd, 4096), 4096);
  const u0 = p.rusage();
  for (let o = 0; o < bytes; o += 4096) assert.ok(p.memcpyFrom(at + o, 4096) >= 0);
  const u1 = p.rusage();
  const sm = p.smaps(at);
  assert.ok(typeof sm !== 'number');
  const reread = want.find((r) => r.pass === 'reread')!;
  assert.deepEqual({ faults: u1.minflt - u0.minflt + u1.majflt - u0.majflt, pmdKb: sm['FilePmdMapped'] },
    { faults: reread.faults, pmdKb: reread.file_pmd_mapped_kb }, `${key}: a further read pass`);
}

const cases = [
  { fs: 'tmpfs', fileKb: 64 }, { fs: 'tmpfs', fileKb: 131072 }, { fs: 'ext4', fileKb: 64 }, { fs: 'ext4', fileKb: 131072 },
].flatMap((c) => [0, 4096].map((skew) => ({ ...c, skew })));

for (const { fs, fileKb, skew } of cases) {
  test(`linux-6.18 iozone -B passes, ${fs} ${fileKb} KiB at VA skew ${skew}: every pass's faults (rereadprobe.c) and `
    + `the folios (rrfolioprobe.c) match the host`, () => {
    checkCase(fs, 8192, fileKb, skew, PASSES.map((pass) => modal(fs, fileKb, skew, pass)));
  });
}

/**
 * The window size is the mechanism: at read_ahead_kb 128 the same sequence builds folios of order
 * 5 at most (32xo0 8xo2 2xo4 1020xo5 32xo0) and the host takes 1094 write and 1028 read faults at
 * skew 0, 3047 and 1092 at skew 4096.
 */
for (const fileKb of [64, 131072]) {
  for (const skew of [0, 4096]) {
    test(`linux-6.18 iozone -B passes, ext4 ${fileKb} KiB at VA skew ${skew}, read_ahead_kb 128: faults and folios `
      + `match the host (rrfolioprobe.c)`, () => {
      const want = folioOracle.filter((r) => r.fs === 'ext4' && r.read_ahead_kb === 128 && r.file_kb === fileKb && r.va_skew === skew && r.rep === 1);
      checkCase('ext4', 128, fileKb, skew, PASSES.map((pass) => want.find((r) => r.pass === pass)!.faults));
    });
  }
}

test('host oracles: every pass leaves the same folios, and the fault counts agree across probes and with '
  + 'EVICT=1', () => {
  assert.equal(folioOracle.length, 96);
  // EVICT=1 writes 256 MiB of anonymous memory between the write and read tests: it moves timings,
  // not faults, so the port's sequence stands for both.
  for (const c of cases) for (const pass of PASSES) assert.equal(modal(c.fs, c.fileKb, c.skew, pass, 1), modal(c.fs, c.fileKb, c.skew, pass));
  for (const e of folioOracle) {
    const same = folioOracle.filter((r) => r.fs === e.fs && r.read_ahead_kb === e.read_ahead_kb && r.file_kb === e.file_kb && r.va_skew === e.va_skew);
    assert.ok(same.every((r) => r.folios === e.folios), `${e.fs} ra ${e.read_ahead_kb} ${e.file_kb} KiB skew ${e.va_skew}`);
    assert.equal(e.pages_mapped, e.file_kb / 4);
    if (e.rep >= 1 && (e.fs === 'tmpfs' || e.read_ahead_kb === 8192)) assert.equal(e.faults, modal(e.fs, e.file_kb, e.va_skew, e.pass));
  }
});

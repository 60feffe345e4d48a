/**
 * The DAX figures of ../shared/oracle/linux-6.1-guest.md, from the linux-6.1 profile on ext4
 * mounted -o dax on a pmem device: no fault-around (§1), when a PMD fault succeeds and the
 * E + (64 - E) x 512 rule with the allocator's placement as the knob (§2), holes, allocation and
 * write-protect faults after fsync (§3), smaps Rss, MAP_SYNC/flag errno (§4) and SIGBUS (§4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { EOPNOTSUPP, EINVAL } from '../src/lib/errno.ts';
import { O_RDWR, O_RDONLY, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED,
  MAP_POPULATE, MAP_FIXED_NOREPLACE, MAP_ANONYMOUS, MAP_PRIVATE } from '../src/mm/constants.ts';
import { daxMachine, written, sparse, faults, blocks, MiB, GiB, PG, A } from './support.ts';

/** The 6.1 guest's DAX machine: ext4 -o dax on a 1 GiB pmem device, blocks placed 'aligned' unless asked. */
function guestMachine(placement: 'aligned' | 'unaligned' = 'aligned', profile = 'linux-6.1'): Machine {
  return daxMachine(profile, { pmemBytes: GiB, placement });
}

test('§1: DAX has no fault-around: a 64 KiB file takes 16 faults whatever fault_around_bytes is', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/small', 64 * 1024);
  const a = p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 64 * 1024, PG, false)), [16, 0]);
});

test('§2: PMD faults: E + (64 - E) x 512 with E set by the allocator placement; VA 2M+4K always 32768 PTE faults after '
  + '65 fallbacks', () => {
  for (const [placement, e] of [['aligned', 64], ['unaligned', 0]] as const) {
    const m = guestMachine(placement);
    const p = m.process();
    const fd = written(p, '/mnt/f');
    const a = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    assert.equal(a % (2 * MiB), 0, 'thp_get_unmapped_area placed the DAX mapping 2 MiB-aligned');
    assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [e + (64 - e) * 512, 0], placement);
    assert.equal(m.vmstat().thp_fault_fallback, 64 - e);
    p.munmap(a, 128 * MiB);
    const f0 = m.vmstat().thp_fault_fallback!;
    const b = p.mmap(A + PG, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    assert.deepEqual(faults(p, () => p.access(b, 128 * MiB, PG, false)), [32768, 0]);
    assert.equal(m.vmstat().thp_fault_fallback! - f0, 65);
  }
});

test('§3: sparse file, read: zero page at VA 2M+4K (32768), huge zero page at the default VA (64); no blocks, no Rss, '
  + 'zeros', () => {
  const m = guestMachine();
  const p = m.process();
  let fd = sparse(p, '/mnt/s');
  const a = p.mmap(A + PG, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [32768, 0]);
  assert.equal(blocks(p, '/mnt/s'), 0);
  assert.equal((p.smaps(a) as Record<string, number>)['Rss'], 0);
  assert.equal(m.meminfo()['Cached'], 0);
  assert.equal(p.load(a + 77), 0);
  // ... then write, same map: one major fault per page (zero page -> new block, IOMAP_F_NEW)
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [0, 32768]);
  assert.equal(blocks(p, '/mnt/s'), 262144);
  fd = sparse(p, '/mnt/t');
  const b = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(b, 128 * MiB, PG, false)), [64, 0]);
  assert.equal(m.vmstat().thp_zero_page_alloc, 1);
  assert.equal(blocks(p, '/mnt/t'), 0);
  assert.equal((p.smaps(b) as Record<string, number>)['Rss'], 0);
});

test('§3: sparse file, write: PTE write faults allocate and are major; PMD write faults are minor; st_blocks '
  + '262144', () => {
  const m = guestMachine();
  const p = m.process();
  let fd = sparse(p, '/mnt/s');
  const a = p.mmap(A + PG, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [0, 32768]);
  assert.equal(blocks(p, '/mnt/s'), 262144);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [0, 0], 'rewrite same map, no fsync');
  assert.equal(p.fsync(fd), 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [32768, 0], 'rewrite after fsync: write-protect faults');
  fd = sparse(p, '/mnt/t');
  const b = p.mmap(0, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(b, 128 * MiB, PG, true)), [64, 0]);
  assert.equal(blocks(p, '/mnt/t'), 262144);
  assert.equal((p.smaps(b) as Record<string, number>)['Rss'], 64 * 4, 'each PMD-mapped DAX page adds 4 kB to Rss');
  assert.equal(p.fsync(fd), 0);
  assert.deepEqual(faults(p, () => p.access(b, 128 * MiB, PG, true)), [64, 0], 'rewrite after fsync, default VA');
  assert.equal(p.load(b + 3 * PG), 1);
});

test('§3: written file at VA 2M+4K: 32768 read faults, 32768 write faults; DAX PTEs add nothing to Rss', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/f');
  const a = p.mmap(A + PG, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [32768, 0]);
  assert.equal((p.smaps(a) as Record<string, number>)['Rss'], 0);
  assert.equal(p.load(a + 9 * PG + 3), 0x5a);
  const b = p.mmap(A + 256 * MiB + PG, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(b, 128 * MiB, PG, true)), [32768, 0]);
});

test('§4: MAP_SYNC and flag validation on ext4-dax', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/f', 64 * 1024);
  const ro = p.open('/mnt/f', O_RDONLY);
  for (const [prot, f] of [[PROT_READ | PROT_WRITE, fd], [PROT_READ, fd], [PROT_READ, ro]] as const) {
    const a = p.mmap(0, 64 * 1024, prot, MAP_SHARED_VALIDATE | MAP_SYNC, f, 0);
    assert.ok(a > 0, `MAP_SYNC prot ${prot}`);
    assert.match(String((p.smaps(a) as Record<string, string>)['VmFlags']), /\bsf\b/);
  }
  assert.ok(p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_POPULATE, fd, 0) > 0);
  assert.ok(p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED_VALIDATE, fd, 0) > 0);
  assert.equal(p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0), -EOPNOTSUPP);
  assert.ok(p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED | 0x200000, fd, 0) > 0);
  assert.ok(p.mmap(0, 64 * 1024, PROT_READ, MAP_PRIVATE | 0x200000, fd, 0) > 0);
  assert.equal(p.mmap(A, 64 * 1024, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd, 0), -EOPNOTSUPP);
  assert.equal(p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
});

test('§4: SIGBUS past EOF, truncate while mapped keeps data below the new size, extension reads zeros', () => {
  const m = guestMachine();
  const p = m.process();
  let fd = p.open('/mnt/six', O_RDWR | O_CREAT);
  assert.equal(p.write(fd, 6000, 0x33), 6000);
  let a = p.mmap(0, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.equal(p.load(a + 5999), 0x33);
  assert.equal(p.load(a + 6000), 0);
  assert.equal(p.load(a + 8191), 0);
  for (const off of [8192, 12288, 16383]) {
    assert.equal(p.load(a + off), -7, `read at ${off}`);
    assert.equal(p.lastSignal!.addr, a + off);
    assert.equal(p.store(a + off, 1), -7, `write at ${off}`);
  }
  fd = written(p, '/mnt/sixtyfour', 64 * 1024);
  a = p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED, fd, 0);
  p.access(a, 64 * 1024, PG, false);
  assert.equal(p.ftruncate(fd, 16384), 0);
  assert.equal(p.load(a + 16383), 0x5a);
  for (const off of [16384, 32768, 61440]) assert.equal(p.load(a + off), -7, `after truncate, ${off}`);
  assert.equal(p.ftruncate(fd, 64 * 1024), 0);
  assert.equal(p.load(a + 32768), 0);
  assert.equal(blocks(p, '/mnt/sixtyfour'), 32);
});

test('truncate and punch hole inside a block zero the cut bytes on pmem (dax_zero_range)', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/z', 64 * 1024);
  assert.equal(p.ftruncate(fd, 5000), 0);
  assert.equal(p.ftruncate(fd, 64 * 1024), 0);
  const a = p.mmap(0, 64 * 1024, PROT_READ, MAP_SHARED, fd, 0);
  assert.equal(p.load(a + 4999), 0x5a);
  assert.equal(p.load(a + 5000), 0);
  assert.equal(p.fallocate(fd, 0x03, 100, 50), 0);
  assert.equal(p.load(a + 99), 0x5a);
  assert.equal(p.load(a + 100), 0);
  assert.equal(p.load(a + 150), 0x5a);
});

test('MAP_PRIVATE on DAX: reads map pmem read-only, the first write copies into an anonymous page, the file is '
  + 'unchanged (reference §4.7)', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/f', 4 * MiB);
  const a = p.mmap(A, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
  // Private writes fall back from PMD (thp_fault_fallback) and COW at 4 KiB.
  assert.deepEqual(faults(p, () => p.store(a + 5, 1)), [1, 0]);
  assert.ok(m.vmstat().thp_fault_fallback! >= 1);
  assert.equal(p.load(a + 5), 1);
  assert.equal(p.load(a + 6), 0x5a);
  assert.deepEqual(faults(p, () => p.load(a + PG)), [1, 0]);
  assert.deepEqual(faults(p, () => p.store(a + PG, 2)), [1, 0], 'write to a read-only DAX PTE: wp_page_copy');
  const q = p.mmap(0, 4 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  assert.equal(p.load(q + 5), 0x5a, 'the file is unchanged');
  assert.equal(p.load(q + PG), 0x5a);
  assert.equal((p.smaps(a) as Record<string, number>)['Anonymous'], 8);
  const st = p.stat('/mnt/f');
  assert.ok(typeof st !== 'number' && st.blocks === 8192);
});

test('ENOSPC on an allocating DAX write fault is SIGBUS; reads of holes still work', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 2 ** 30, devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 8 * MiB }] });
  m.mkfs('pmem0', 'ext4');
  m.mount('/mnt', 'ext4', 'pmem0', ['dax']);
  const p = m.process();
  const fd = sparse(p, '/mnt/s', 64 * MiB);
  const a = p.mmap(A + PG, 64 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  let sig = 0, page = 0;
  for (; page < 16384; page++) { const r = p.store(a + page * PG, 1); if (r < 0) { sig = -r; break; } }
  assert.equal(sig, 7);
  assert.ok(page > 0 && page < 2048, `SIGBUS after ${page} pages on an 8 MiB device`);
  assert.equal(p.load(a + 10000 * PG), 0);
});

test('fsync cleans DIRTY entries: stat shows the dirty count before and after', () => {
  const m = guestMachine();
  const p = m.process();
  const fd = written(p, '/mnt/f', 4 * MiB);
  const a = p.mmap(A + PG, 4 * MiB - PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  p.access(a, 10 * PG, PG, true);
  const s1 = p.stat('/mnt/f');
  assert.ok(typeof s1 !== 'number' && s1.daxDirtyEntries === 10 && s1.daxEntries === 10);
  p.fsync(fd);
  const s2 = p.stat('/mnt/f');
  assert.ok(typeof s2 !== 'number' && s2.daxDirtyEntries === 0);
  assert.equal(m.k.pmems[0]!.dirtyLineCount(), 0);
});

test('§5: MAP_SYNC on a sparse 2 MiB file at VA 2M+4K: 512 NEEDDSYNC faults, 512 commits, 511 dax_writeback_range (the '
  + 'first fsync finds nothing tagged dirty)', () => {
  // linux-6.1-guest.md §5: every fault traced MAJOR|NEEDDSYNC then dax_insert_pfn_mkwrite, with
  // 511 dax_writeback_range events per 512 faults. The sync fault inserts its entry clean; only
  // dax_insert_pfn_mkwrite dirties it, so the first fault's vfs_fsync_range has no DIRTY tag to
  // write back and __filemap_fdatawrite_range (5.4+) skips ->writepages.
  const count = (profile: string) => {
    const m = guestMachine('aligned', profile);
    const p = m.process();
    const fd = sparse(p, '/mnt/e', 2 * MiB);
    const a = p.mmap(A + 2 * MiB + PG, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED, fd, 0);
    const e0 = m.modelEvents();
    const f = faults(p, () => { for (let i = 0; i < 512; i++) assert.equal(p.store(a + i * PG, 1), 0); });
    const e1 = m.modelEvents();
    const d = (k: string) => e1[k]! - e0[k]!;
    return { faults: f[0] + f[1], commits: d('journalCommits'), mkwrite: d('daxInsertPfnMkwrite'), writebackRanges: d('daxWritebackRange') };
  };
  assert.deepEqual(count('linux-6.1'), { faults: 512, commits: 512, mkwrite: 512, writebackRanges: 511 });
  // 4.15 had no such check: dax_writeback_mapping_range ran (and traced) on every fsync.
  assert.equal(count('linux-4.15').writebackRanges, 512);
});

test('legacy MAP_SHARED | MAP_SYNC on DAX: VM_SYNC is computed before the mask, so it is honoured (reference §5.2 †); '
  + 'MAP_PRIVATE | MAP_SYNC has no effect', () => {
  const m = daxMachine('linux-6.1');
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT);
  p.ftruncate(fd, 2 * MiB);
  const a = p.mmap(A + PG, 2 * MiB - PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_SYNC | MAP_FIXED, fd, 0);
  assert.match(String((p.smaps(a) as Record<string, string>)['VmFlags']), /\bsf\b/);
  const c0 = m.modelEvents().journalCommits!;
  p.access(a, 4 * PG, PG, true);
  assert.equal(m.modelEvents().journalCommits! - c0, 4);
  const b = p.mmap(A + 64 * MiB + PG, 2 * MiB - PG, PROT_READ | PROT_WRITE, 0x02 | MAP_SYNC | MAP_FIXED, fd, 0);
  const c1 = m.modelEvents().journalCommits!;
  p.access(b + 8 * PG, 4 * PG, PG, true);
  assert.equal(m.modelEvents().journalCommits! - c1, 0);
});

/**
 * Each seed post's behaviour, shown by running one workload on two profiles (issue 3 "Done when";
 * ../shared/seeds/README.md lists what each post changes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED, MS_SYNC } from '../src/mm/constants.ts';
import type { Ext4 } from '../src/fs/ext4/ext4.ts';

const MiB = 2 ** 20, PG = 4096, A = 0x7f0000000000;

function daxMachine(profile: string, knobs: Record<string, unknown> = {}): Machine {
  const m = new Machine({ profile, knobs, memoryBytes: 4 * 2 ** 30, devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 4 * 2 ** 30 }] });
  assert.equal(m.mkfs('pmem0', 'ext4'), 0);
  assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
  return m;
}

function written(p: Process, path: string, bytes: number): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < bytes; o += MiB) p.pwrite(fd, Math.min(MiB, bytes - o), o, 0x5a);
  p.fsync(fd);
  return fd;
}

function faults(p: Process, fn: () => void): number {
  const a = p.rusage();
  fn();
  const b = p.rusage();
  return b.minflt - a.minflt + b.majflt - a.majflt;
}

test('seed 000 (Kani): dax_map_pages cuts faults of a sequential DAX read from one per page to two per 16-page window, with a lockdep report', () => {
  const results: Record<string, number> = {};
  for (const profile of ['dax-2014', 'rfc-kani-2014']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = written(p, '/mnt/f', 128 * MiB);
    const a = p.mmap(A, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    results[profile] = faults(p, () => p.access(a, 128 * MiB, PG, false));
    assert.equal(p.load(a + 15 * PG + 1), 0x5a);
    if (profile === 'rfc-kani-2014') assert.ok(m.modelEvents().lockdepWarnings! > 0, 'i_mmap_mutex under the PTE lock is reported');
    else assert.equal(m.modelEvents().lockdepWarnings, 0);
  }
  // The posted loop bound (pgoff < max_pgoff) never maps a window's last page: it faults on its own.
  assert.deepEqual(results, { 'dax-2014': 32768, 'rfc-kani-2014': 4096 });
});

test('seed 004 (Zwisler): reading 1 GiB of DAX holes costs 1 GiB of page cache before 4.14 and nothing with the zero page', () => {
  const cached: Record<string, number> = {};
  for (const profile of ['linux-4.13', 'linux-4.15']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = p.open('/mnt/holes', O_RDWR | O_CREAT);
    p.ftruncate(fd, 1024 * MiB);
    // A VA that is not 2 MiB-congruent forces PTE faults (PMD holes use the huge zero page on both).
    const a = p.mmap(A + PG, 1024 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    const before = m.meminfo()['MemFree']!;
    assert.equal(faults(p, () => p.access(a, 1024 * MiB, PG, false)), 262144);
    cached[profile] = m.meminfo()['Cached']!;
    const used = before - m.meminfo()['MemFree']!;
    if (profile === 'linux-4.13') assert.ok(used >= 1024 * 1024, `4.13 used ${used} kB`);
    else assert.ok(used < 4096, `4.15 used ${used} kB`);
  }
  assert.deepEqual(cached, { 'linux-4.13': 1024 * 1024, 'linux-4.15': 0 });
});

test('seed 004 (Zwisler): a write after a hole read takes one fault with vm_insert_mixed_mkwrite, two with the pfn_mkwrite round trip', () => {
  const counts: Record<string, number> = {};
  for (const profile of ['linux-4.13', 'linux-4.15']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = p.open('/mnt/h', O_RDWR | O_CREAT);
    p.ftruncate(fd, 4 * MiB);
    const a = p.mmap(A + PG, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 4 * MiB, PG, false);
    counts[profile] = faults(p, () => p.access(a, 4 * MiB, PG, true));
    assert.equal(p.load(a + 3 * PG), 1);
    assert.equal(m.meminfo()['Cached'], 0, 'the hole pages were replaced by blocks');
  }
  assert.deepEqual(counts, { 'linux-4.13': 2048, 'linux-4.15': 1024 });
});

test('seed 002 (Wilcox): a repeat fault uses the PFN cached in the entry instead of get_block; a PFN that does not fit falls back', () => {
  const calls: Record<string, number> = {};
  for (const [name, profile, knobs] of [['base', 'dax-2014', {}], ['wilcox', 'rfc-wilcox-2014', {}],
    ['wilcox-narrow-pfn', 'rfc-wilcox-2014', { daxEntryPfnBits: 20 }]] as const) {
    const m = daxMachine(profile, knobs);
    const p = m.process();
    const fd = written(p, '/mnt/f', 4 * MiB);
    let a = p.mmap(A, 4 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 4 * MiB, PG, false);
    p.munmap(a, 4 * MiB);
    const before = m.modelEvents().iomapBegin!;
    a = p.mmap(A, 4 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    assert.equal(faults(p, () => p.access(a, 4 * MiB, PG, false)), 1024);
    calls[name] = m.modelEvents().iomapBegin! - before;
  }
  assert.deepEqual(calls, { base: 1024, wilcox: 0, 'wilcox-narrow-pfn': 1024 });
});

test('seed 002 (Wilcox): msync writes back only the dirty pages; the 2014 base flushes nothing and the data stays in the CPU cache', () => {
  for (const profile of ['dax-2014', 'rfc-wilcox-2014']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = written(p, '/mnt/f', 4 * MiB);
    const a = p.mmap(A, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 4 * MiB, PG, false);
    for (const page of [3, 700]) p.store(a + page * PG + 5, 9);
    const pmem = m.k.pmems[0]!;
    const before = pmem.linesFlushed;
    assert.equal(p.msync(a, 4 * MiB, MS_SYNC), 0);
    if (profile === 'rfc-wilcox-2014') {
      assert.equal(pmem.linesFlushed - before, 2 * 64, 'two dirty pages, 64 cache lines each');
      assert.equal(pmem.dirtyLineCount(), 0);
      // Written again after msync: the entry is dirtied again and the next msync flushes it.
      p.store(a + 3 * PG, 7);
      p.msync(a, 4 * MiB, MS_SYNC);
      assert.equal(pmem.linesFlushed - before, 3 * 64);
    } else {
      assert.equal(pmem.linesFlushed - before, 0);
      assert.equal(pmem.dirtyLineCount(), 2);
    }
  }
});

test('seed 003 (Kara): with MAP_SYNC every writably mapped block is already committed; without it a block is writable while uncommitted', () => {
  for (const sync of [true, false]) {
    const m = daxMachine('linux-4.15');
    const p = m.process();
    const fd = p.open('/mnt/f', O_RDWR | O_CREAT);
    p.ftruncate(fd, 2 * MiB);
    const a = p.mmap(A + PG, 2 * MiB, PROT_READ | PROT_WRITE, (sync ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED) | MAP_FIXED, fd, 0);
    const ext4 = m.k.vfs.mounts[0]!.fs as Ext4;
    const ino = m.k.vfs.mounts[0]!.inodes.get('f')!.ino;
    let uncommittedWritable = 0;
    for (let i = 0; i < 512; i++) {
      assert.equal(p.store(a + i * PG, 1), 0);
      if (ext4.journal.needsCommitForDatasync(ino)) uncommittedWritable++;
    }
    if (sync) {
      assert.equal(uncommittedWritable, 0);
      assert.equal(m.modelEvents().journalCommits, 512, 'one commit per allocating fault');
    } else {
      assert.equal(uncommittedWritable, 512);
      assert.equal(m.modelEvents().journalCommits, 0);
    }
  }
});

test('seed 003 (Kara): MAP_SYNC on a preallocated (written and fsynced) file needs no commit', () => {
  const m = daxMachine('linux-4.15');
  const p = m.process();
  const fd = written(p, '/mnt/f', 2 * MiB);
  const a = p.mmap(A + PG, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED, fd, 0);
  const before = m.modelEvents().journalCommits!;
  assert.equal(faults(p, () => p.access(a, 2 * MiB, PG, true)), 512);
  assert.equal(m.modelEvents().journalCommits! - before, 0);
});

test('legacy MAP_SHARED | MAP_SYNC on DAX: VM_SYNC is computed before the mask, so it is honoured (reference §5.2 †); MAP_PRIVATE | MAP_SYNC has no effect', () => {
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

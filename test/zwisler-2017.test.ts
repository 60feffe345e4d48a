/**
 * Seed 004 (Zwisler, Sep 2017, ../shared/seeds/004_0ac0d0aae1ff63bb.txt, merged in 4.14): DAX read
 * faults on holes map the one shared zero page instead of a zeroed page-cache page, and a later write
 * fault inserts the new block writable and dirty in one step (vm_insert_mixed_mkwrite). Base
 * linux-4.13 against linux-4.15, which has the change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { daxMachine, faultCount, MiB, PG, A } from './support.ts';

test('seed 004 (Zwisler): reading 1 GiB of DAX holes costs 1 GiB of page cache before 4.14 and nothing with the '
  + 'zero page', () => {
  const cached: Record<string, number> = {};
  for (const profile of ['linux-4.13', 'linux-4.15']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = p.open('/mnt/holes', O_RDWR | O_CREAT);
    p.ftruncate(fd, 1024 * MiB);
    // A VA that is not 2 MiB-congruent forces PTE faults (PMD holes use the huge zero page on both).
    const a = p.mmap(A + PG, 1024 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    const before = m.meminfo()['MemFree']!;
    assert.equal(faultCount(p, () => p.access(a, 1024 * MiB, PG, false)), 262144);
    cached[profile] = m.meminfo()['Cached']!;
    const used = before - m.meminfo()['MemFree']!;
    if (profile === 'linux-4.13') assert.ok(used >= 1024 * 1024, `4.13 used ${used} kB`);
    else assert.ok(used < 4096, `4.15 used ${used} kB`);
  }
  assert.deepEqual(cached, { 'linux-4.13': 1024 * 1024, 'linux-4.15': 0 });
});

test('seed 004 (Zwisler): a write after a hole read takes one fault with vm_insert_mixed_mkwrite, two with the '
  + 'pfn_mkwrite round trip', () => {
  const counts: Record<string, number> = {};
  for (const profile of ['linux-4.13', 'linux-4.15']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = p.open('/mnt/h', O_RDWR | O_CREAT);
    p.ftruncate(fd, 4 * MiB);
    const a = p.mmap(A + PG, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 4 * MiB, PG, false);
    counts[profile] = faultCount(p, () => p.access(a, 4 * MiB, PG, true));
    assert.equal(p.load(a + 3 * PG), 1);
    assert.equal(m.meminfo()['Cached'], 0, 'the hole pages were replaced by blocks');
  }
  assert.deepEqual(counts, { 'linux-4.13': 2048, 'linux-4.15': 1024 });
});

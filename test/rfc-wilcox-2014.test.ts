/**
 * Seed 002 (Wilcox, Mar 2014, ../shared/seeds/002_0e92a8341add88db.txt): one tree entry per DAX page
 * that caches the PFN, with Dirty and Lock bits. A repeat fault need not call get_block (unless the
 * PFN does not fit the entry), and the Dirty bit lets msync write back only the dirty pages. The
 * base, dax-2014, calls get_block on every fault and has no dirty tracking at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED, MS_SYNC } from '../src/mm/constants.ts';
import { daxMachine, written, faultCount, MiB, PG, A } from './support.ts';

test('seed 002 (Wilcox): a repeat fault uses the PFN cached in the entry instead of get_block; a PFN that does not '
  + 'fit falls back', () => {
  const calls: Record<string, number> = {};
  for (const [name, profile, knobs] of [['base', 'dax-2014', {}], ['wilcox', 'rfc-wilcox-2014', {}],
    ['wilcox-narrow-pfn', 'rfc-wilcox-2014', { daxEntryPfnBits: 20 }]] as const) {
    const m = daxMachine(profile, { knobs });
    const p = m.process();
    const fd = written(p, '/mnt/f', 4 * MiB);
    let a = p.mmap(A, 4 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 4 * MiB, PG, false);
    p.munmap(a, 4 * MiB);
    const before = m.modelEvents().iomapBegin!;
    a = p.mmap(A, 4 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    assert.equal(faultCount(p, () => p.access(a, 4 * MiB, PG, false)), 1024);
    calls[name] = m.modelEvents().iomapBegin! - before;
  }
  assert.deepEqual(calls, { base: 1024, wilcox: 0, 'wilcox-narrow-pfn': 1024 });
});

test('seed 002 (Wilcox): msync writes back only the dirty pages; the 2014 base flushes nothing and the data stays '
  + 'in the CPU cache', () => {
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

/**
 * Seed 000 (Kani, Mar 2014, ../shared/seeds/000_ba8593c1ef956fff.txt): dax_map_pages gives DAX files
 * fault-around. The base, dax-2014 (the 2014 DAX patchset on 3.15), has no ->map_pages for DAX, so
 * every page of a DAX mapping takes its own fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROT_READ, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { daxMachine, written, faultCount, MiB, PG, A } from './support.ts';

test('seed 000 (Kani): dax_map_pages cuts faults of a sequential DAX read from one per page to two per 16-page '
  + 'window, with a lockdep report', () => {
  const results: Record<string, number> = {};
  for (const profile of ['dax-2014', 'rfc-kani-2014']) {
    const m = daxMachine(profile);
    const p = m.process();
    const fd = written(p, '/mnt/f', 128 * MiB);
    const a = p.mmap(A, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    results[profile] = faultCount(p, () => p.access(a, 128 * MiB, PG, false));
    assert.equal(p.load(a + 15 * PG + 1), 0x5a);
    if (profile === 'rfc-kani-2014') {
      assert.ok(m.modelEvents().lockdepWarnings! > 0, 'i_mmap_mutex under the PTE lock is reported');
    } else assert.equal(m.modelEvents().lockdepWarnings, 0);
  }
  // The posted loop bound (pgoff < max_pgoff) never maps a window's last page: it faults on its own.
  assert.deepEqual(results, { 'dax-2014': 32768, 'rfc-kani-2014': 4096 });
});

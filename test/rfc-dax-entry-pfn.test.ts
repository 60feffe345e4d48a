/**
 * The example RFC of issue 10 (rfc-dax-entry-pfn on the linux-6.18 base; src/dax/map-pages.ts):
 * ext4_dax_vm_ops gain a ->map_pages that maps the pages whose XArray entry already holds a media
 * PFN, without iomap_begin. On the base, a DAX file has no fault-around (ext4_dax_vm_ops has no
 * ->map_pages in any release, reference §2 table "ext4, DAX file"), so every page faults; with
 * the RFC a first pass is unchanged (no entry exists yet: write(2) on DAX makes none) and a second
 * pass after MADV_DONTNEED (entries kept, PTEs gone) takes one fault per 16-page window.
 * A 1 MiB file cannot be PMD-mapped, so every fault is a PTE fault on both profiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROT_READ, MAP_SHARED, MAP_FIXED, MADV_DONTNEED } from '../src/mm/constants.ts';
import { daxMachine, written, faultCount, MiB, PG, A } from './support.ts';

function twoPasses(profile: string): { first: number; second: number; iomap: number; lastByte: number } {
  const m = daxMachine(profile);
  const p = m.process();
  const fd = written(p, '/mnt/f', 1 * MiB);
  const a = p.mmap(A, 1 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  const first = faultCount(p, () => p.access(a, 1 * MiB, PG, false));
  assert.equal(p.madvise(a, 1 * MiB, MADV_DONTNEED), 0);
  const iomap0 = m.modelEvents().iomapBegin!;
  const second = faultCount(p, () => p.access(a, 1 * MiB, PG, false));
  return { first, second, iomap: m.modelEvents().iomapBegin! - iomap0, lastByte: p.load(a + 1 * MiB - 1) };
}

test('rfc-dax-entry-pfn: a re-read after MADV_DONTNEED takes one fault per 16-page window and no iomap_begin;'
  + ' the base (linux-6.18) faults every page', () => {
  const base = twoPasses('linux-6.18');
  const rfc = twoPasses('rfc-dax-entry-pfn');
  assert.deepEqual({ first: base.first, second: base.second, iomap: base.iomap }, { first: 256, second: 256, iomap: 256 });
  assert.deepEqual({ first: rfc.first, second: rfc.second, iomap: rfc.iomap }, { first: 256, second: 16, iomap: 0 });
  // Each of the 16 faults is served by ->map_pages alone (the faulting page's entry is there too, so
  // do_fault_around returns NOPAGE and ->fault never runs): no iomap_begin at all.
  assert.equal(rfc.lastByte, base.lastByte, 'the RFC maps the same media pages the fault would');
});

test('rfc-dax-entry-pfn maps nothing past EOF and leaves holes (zero-page entries) to the fault', () => {
  const m = daxMachine('rfc-dax-entry-pfn');
  const p = m.process();
  const fd = written(p, '/mnt/f', 1 * MiB);
  assert.equal(p.ftruncate(fd, 2 * MiB - 10 * PG), 0); // pages 256..501 are a hole inside i_size
  const a = p.mmap(A, 2 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.equal(faultCount(p, () => p.access(a, 2 * MiB - 10 * PG, PG, false)), 502);
  assert.equal(p.madvise(a, 2 * MiB, MADV_DONTNEED), 0);
  // Data pages come back 16 at a time (16 windows); hole pages hold zero-page entries: one fault each.
  assert.equal(faultCount(p, () => p.access(a, 2 * MiB - 10 * PG, PG, false)), 16 + 246);
  assert.equal(p.load(a + 2 * MiB - 10 * PG), -7, 'a load past EOF is SIGBUS');
});

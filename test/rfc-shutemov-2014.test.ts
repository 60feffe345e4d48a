/**
 * Seed 001 (Shutemov, Feb 2014, ../shared/seeds/001_ad77fedee397ef72.txt): the RFC extends ->fault
 * so that filemap_fault fills a naturally aligned array of FAULT_AROUND_PAGES (32) cached pages and
 * sets VM_FAULT_AROUND; only filemap_fault is converted, so shmem/tmpfs keeps one page per fault.
 * The base, linux-3.15, has the merged form instead: do_fault_around calls ->map_pages over a
 * 16-page window (fault_around_order 4), and shmem_vm_ops uses filemap_map_pages too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROT_READ, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { pageCacheMachine, written, faults, MiB, PG, A } from './support.ts';

/** Read faults of a sequential read of a cached 128 MiB file on ext4 and on tmpfs. */
function sequentialReads(profile: string): { ext4: [number, number]; tmpfs: [number, number] } {
  const m = pageCacheMachine(profile);
  const p = m.process();
  const e = p.mmap(A, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, written(p, '/disk/f'), 0);
  const ext4 = faults(p, () => p.access(e, 128 * MiB, PG, false));
  const t = p.mmap(A + 256 * MiB, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, written(p, '/tmp/f'), 0);
  const tmpfs = faults(p, () => p.access(t, 128 * MiB, PG, false));
  return { ext4, tmpfs };
}

test('rfc-shutemov-2014: a 32-page naturally aligned array on page-cache files, none on tmpfs (seed 001: only '
  + 'filemap_fault converted); linux-3.15 maps 16-page windows on both', () => {
  const rfc = sequentialReads('rfc-shutemov-2014');
  assert.deepEqual(rfc, { ext4: [1024, 0], tmpfs: [32768, 0] });
  // 3.15 do_read_fault -> do_fault_around: one fault per aligned 16-page window (fault_around_order 4)
  // on both filesystems: generic_file_vm_ops and shmem_vm_ops both set .map_pages = filemap_map_pages.
  const base = sequentialReads('linux-3.15');
  assert.deepEqual(base, { ext4: [2048, 0], tmpfs: [2048, 0] });
});

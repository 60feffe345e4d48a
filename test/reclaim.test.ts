/**
 * LRU and reclaim (mm/vmscan.c, mm/workingset.c, mm/swap.c v6.1): when free memory falls under
 * the low watermark, clean page-cache pages are evicted from the inactive list, leaving shadow
 * entries; reading them again is a workingset refault. New pages sit in the per-CPU add batch
 * (PAGEVEC_SIZE 15 on 6.1) before they reach a list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_RDONLY, PROT_READ, MAP_SHARED, MAP_LOCKED } from '../src/mm/constants.ts';
import { LRU_UNEVICTABLE } from '../src/mm/lru.ts';
import { PG_lru } from '../src/hw/frames.ts';
import { findFolio } from '../src/mm/pagemap.ts';

const MiB = 2 ** 20;

test('a file larger than memory is read through the page cache by evicting clean pages, leaving shadows', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 64 * MiB, devices: [{ name: 'vda', type: 'block', sizeBytes: 512 * MiB }] });
  m.mkfs('vda', 'ext4');
  m.mount('/d', 'ext4', 'vda');
  const p = m.process();
  const fd = p.open('/d/big', O_RDWR | O_CREAT);
  for (let o = 0; o < 128 * MiB; o += MiB) { p.pwrite(fd, MiB, o, 9); if (o % (16 * MiB) === 0) p.fsync(fd); }
  p.fsync(fd);
  const before = m.vmstat().pgsteal_kswapd!;
  const r = p.open('/d/big', O_RDONLY);
  for (let o = 0; o < 128 * MiB; o += MiB) assert.equal(p.pread(r, MiB, o), MiB);
  assert.ok(m.vmstat().pgsteal_kswapd! > before, 'reclaim evicted page-cache pages');
  assert.ok(m.k.frames.freePages > 0);
  const refaults = m.vmstat().workingset_refault_file!;
  const buf = new Uint8Array(16);
  assert.equal(p.pread(r, 16, 0, buf), 16);
  assert.equal(buf[3], 9, 'data evicted and read back from the device is intact');
  assert.ok(m.vmstat().workingset_refault_file! > refaults, 'reading an evicted page is a workingset refault');
});

test('new page-cache pages wait in the per-CPU add batch before PG_lru is set (folio_add_lru)', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 256 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/f', O_RDWR | O_CREAT);
  p.pwrite(fd, 4096 * 3, 0, 1);
  const mapping = m.k.vfs.mounts[0]!.inodes.get('f')!.mapping;
  const pfn = findFolio(mapping, 0);
  assert.equal(m.k.frames.flags[pfn]! & PG_lru, 0, 'still in the batch');
  p.pwrite(fd, 4096 * 20, 4096 * 3, 1); // more than 15 new pages drain the batch
  assert.notEqual(m.k.frames.flags[pfn]! & PG_lru, 0);
  const a = p.mmap(0, 23 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  assert.equal(p.load(a), 1);
});

test('reclaim culls mlocked page-cache folios to the unevictable list once, and gives them back after munmap ' +
  '(try_to_unmap stopping at VM_LOCKED -> mlock_vma_folio, munlock_folio; mm/vmscan.c, mm/mlock.c 6.1)', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 64 * MiB, devices: [{ name: 'vda', type: 'block', sizeBytes: 512 * MiB }] });
  m.mkfs('vda', 'ext4');
  m.mount('/d', 'ext4', 'vda');
  const p = m.process();
  const fd = p.open('/d/sparse', O_RDWR | O_CREAT);
  assert.equal(p.ftruncate(fd, 256 * MiB), 0);
  const lockedPages = (32 * MiB) / 4096;
  const a = p.mmap(0, 32 * MiB, PROT_READ, MAP_SHARED | MAP_LOCKED, fd, 0);
  assert.ok(a > 0);
  // Read 192 MiB more of the file than memory holds: reclaim must evict those pages, never the locked ones.
  const scan0 = m.vmstat().pgscan_kswapd!;
  for (let o = 32 * MiB; o < 224 * MiB; o += MiB) assert.equal(p.pread(fd, MiB, o), MiB);
  const scanned = m.vmstat().pgscan_kswapd! - scan0;
  assert.ok(m.k.lru.count[LRU_UNEVICTABLE]! > 0, 'locked folios were culled to the unevictable list');
  for (let o = 0; o < 32 * MiB; o += 4096) assert.equal(p.load(a + o), 0); // still mapped: no SIGSEGV, no refault
  // Each read page is scanned about once and each locked one once more; rescanning the locked pages
  // on every allocation near the watermark (the old model) scans them thousands of times.
  assert.ok(scanned < 2 * (192 * MiB / 4096) + 2 * lockedPages, `pgscan_kswapd ${scanned}`);
  assert.equal(p.munmap(a, 32 * MiB), 0);
  for (let o = 0; o < 64 * MiB; o += MiB) assert.equal(p.pread(fd, MiB, 224 * MiB + (o % (32 * MiB))), MiB);
  assert.equal(m.k.lru.count[LRU_UNEVICTABLE], 0, 'after munmap no folio stays unevictable');
});

/**
 * Edge cases of huge PMD mappings (anonymous THP and PMD-mapped page-cache folios) found in review:
 * partial mprotect splits the PMD (vma_adjust_trans_huge / __split_huge_pmd, mm/huge_memory.c),
 * a PROT_NONE THP can be split, a retried fault does not leave its preallocated PTE table behind
 * (do_fault frees prealloc_pte), writes after mprotect RO->RW reuse an exclusive split THP
 * (wp_can_reuse_anon_folio), punch hole keeps the data of a large folio outside the hole
 * (truncate_inode_partial_folio), and truncate's folio split frees every frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE,
  MAP_FIXED, MADV_HUGEPAGE, MADV_DONTNEED, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE } from '../src/mm/constants.ts';

const MiB = 2 ** 20;

function aligned(p: Process, len: number): number {
  const r = p.mmap(0, len + 8 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return Math.ceil(r / (2 * MiB)) * (2 * MiB);
}

function thp(p: Process, len: number): number {
  const a = aligned(p, len);
  assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a);
  assert.equal(p.madvise(a, len, MADV_HUGEPAGE), 0);
  for (let o = 0; o < len; o += 4096) assert.equal(p.store(a + o, 7), 0);
  return a;
}

test('mprotect of half a THP splits it: the read-only half refuses writes, PROT_NONE half refuses loads, the rest '
  + 'works', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 256 * MiB });
  const p = m.process();
  const a = thp(p, 2 * MiB);
  assert.equal(m.meminfo()['AnonHugePages'], 2048);
  assert.equal(p.mprotect(a, MiB, PROT_READ), 0);
  assert.equal(m.meminfo()['AnonHugePages'], 0, 'split into PTEs');
  assert.equal(p.store(a + MiB, 1), 0);
  assert.equal(p.store(a, 1), -11);
  assert.equal(p.load(a), 7);
  assert.equal(p.mprotect(a, MiB, PROT_NONE), 0);
  assert.equal(p.load(a), -11);
  assert.equal(p.load(a + MiB), 1);
  assert.equal(p.munmap(a, 2 * MiB), 0);
  assert.equal(m.meminfo()['AnonPages'], 0);
});

test('a PROT_NONE THP can be split by MADV_DONTNEED of 4 KiB and unmapped in part, with consistent accounting', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 256 * MiB });
  const p = m.process();
  const a = thp(p, 2 * MiB);
  assert.equal(p.mprotect(a, 2 * MiB, PROT_NONE), 0);
  assert.equal(p.madvise(a + 4096, 4096, MADV_DONTNEED), 0);
  assert.equal(m.meminfo()['AnonPages'], 2044);
  assert.equal(p.munmap(a, MiB), 0);
  assert.equal(m.meminfo()['AnonPages'], 1024);
  assert.equal(p.mprotect(a + MiB, MiB, PROT_READ), 0);
  assert.equal(p.load(a + MiB), 7);
  assert.equal(p.munmap(a + MiB, MiB), 0);
  assert.equal(m.meminfo()['AnonPages'], 0);
});

test('writes after mprotect RO->RW reuse an exclusive split THP: no copies, every frame back after munmap', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 256 * MiB });
  const p = m.process();
  const free0 = m.meminfo()['MemFree']!;
  const a = thp(p, 2 * MiB);
  assert.equal(p.madvise(a, 4096, MADV_DONTNEED), 0); // split it
  assert.equal(p.mprotect(a, 2 * MiB, PROT_READ), 0);
  assert.equal(p.mprotect(a, 2 * MiB, PROT_READ | PROT_WRITE), 0);
  const before = m.meminfo()['MemFree']!;
  for (let o = 4096; o < 2 * MiB; o += 4096) assert.equal(p.store(a + o, 9), 0);
  assert.equal(m.meminfo()['MemFree'], before, 'no page copied');
  assert.equal(p.munmap(a, 2 * MiB), 0);
  assert.ok(m.meminfo()['MemFree']! >= free0 - 2048 - 16, 'the THP frames came back (the huge zero page and page tables may stay)');
});

test('a cold read with 8 MiB readahead maps every 2 MiB folio with a PMD, also those whose fault was retried', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * MiB,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * MiB, readAheadKb: 8192, maxSectorsKb: 4096 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  const p = m.process();
  const len = 128 * MiB;
  const fd = p.open('/mnt/x', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < len; o += 4096) p.pwrite(fd, 4096, o, 1);
  p.fsync(fd);
  m.dropCaches();
  const a = aligned(p, len);
  assert.equal(p.mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), a);
  for (let o = 0; o < len; o += 4096) assert.equal(p.load(a + o), 1);
  let order9 = 0;
  const f = m.k.frames;
  for (let pfn = 0; pfn < f.totalPages; pfn++) if (f.owner[pfn]! > 0 && f.head[pfn] === pfn && f.order[pfn] === 9) order9++;
  assert.ok(order9 > 0);
  assert.equal(m.meminfo()['FilePmdMapped'], order9 * 2048);
});

test('punch hole inside a large folio keeps the data around the hole; truncate of one frees every frame', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 512 * MiB, devices: [{ name: 'vda', type: 'block', sizeBytes: 512 * MiB }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC);
  assert.equal(p.pwrite(fd, 4 * MiB, 0, 77), 4 * MiB);
  assert.equal(p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * MiB, MiB / 2), 0);
  const b = new Uint8Array(1);
  assert.equal(p.pread(fd, 1, 2 * MiB + 3 * MiB / 4, b), 1);
  assert.equal(b[0], 77, 'data after the hole, in the same 2 MiB folio');
  assert.equal(p.pread(fd, 1, 2 * MiB + 1000, b), 1);
  assert.equal(b[0], 0, 'inside the hole');
  // Written back first: a dirty folio's buffer heads cannot be released, so truncate could not split
  // it and would keep it whole (ext4_release_folio; 6.18 host, truncate-sigbus.linux-6.18.ext4).
  assert.equal(p.fsync(fd), 0);
  const free0 = m.meminfo()['MemFree']!;
  assert.equal(p.ftruncate(fd, 3 * MiB + 4096), 0);
  // Pages 769..1023 go (the 2 MiB folio straddling the new EOF is split): 255 pages, the split head included.
  assert.equal(m.meminfo()['MemFree']! - free0, 255 * 4, 'pages past the new EOF are freed, none leaked');
});

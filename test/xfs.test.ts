// xfs -o dax (src/fs/xfs/): mkfs.xfs geometry, where the allocator puts file data, and what that
// means for DAX faults. Each figure was measured on the 6.1 guest (the runs named per test,
// test/oracle-runs/xfs-dax-*.linux-6.1.xfs-dax.jsonl; block numbers from the guest's
// `xfs_io -c 'bmap -vp'` dump after each run) or read with xfs_db from an image made by mkfs.xfs 6.1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XfsAllocator, xfsMkfsGeometry } from '../src/fs/xfs/alloc.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';

const GIB_BLOCKS = 262144;
const none = { suBytes: 0, sw: 0, extsizeBytes: 0 };

test('mkfs.xfs geometry of 1 GiB: 4 AGs and root inode 128; with su=2m 8 AGs, root inode 4096 (xfs_db sb 0)', () => {
  const d = xfsMkfsGeometry(GIB_BLOCKS, none);
  assert.deepEqual([d.agCount, d.agBlocks, d.rootIno, d.dalignBlocks], [4, 65536, 128, 0]);
  const s = xfsMkfsGeometry(GIB_BLOCKS, { suBytes: 2 << 20, sw: 1, extsizeBytes: 0 });
  assert.deepEqual([s.agCount, s.agBlocks, s.rootIno, s.dalignBlocks, s.swidthBlocks], [8, 32768, 4096, 512, 512]);
});

test('near-goal placement: 1 MiB from the inode goal lands after the root chunk, one block in the gap before it', () => {
  // xfs-dax-faults-default: /mnt/w (1 MiB pwrites) at block 24, /mnt/p's first block at 12, its
  // block at 3 MiB (goal 780 taken) at 13: xfs_alloc_compute_diff starts file data at a free
  // extent's start when the extent lies before the goal.
  const a = new XfsAllocator(xfsMkfsGeometry(GIB_BLOCKS, none), GIB_BLOCKS);
  const req = { minLen: 1, alignment: 1, userdata: true, exact: false };
  assert.deepEqual(a.alloc({ ...req, goal: 16, maxLen: 256 }), { bno: 24, len: 256 });
  assert.deepEqual(a.alloc({ ...req, goal: 280, maxLen: 5376 }), { bno: 280, len: 5376 });
  assert.deepEqual(a.alloc({ ...req, goal: 16, maxLen: 1 }), { bno: 12, len: 1 });
  assert.deepEqual(a.alloc({ ...req, goal: 780, maxLen: 1 }), { bno: 13, len: 1 });
});

test('stripe alignment: a 2 MiB request is placed on a 2 MiB boundary (su=2m: /mnt/s at block 3072)', () => {
  const a = new XfsAllocator(xfsMkfsGeometry(GIB_BLOCKS, { suBytes: 2 << 20, sw: 1, extsizeBytes: 0 }), GIB_BLOCKS);
  const req = { minLen: 1, userdata: true, exact: false };
  assert.deepEqual(a.alloc({ ...req, goal: 512, maxLen: 2048, alignment: 1 }), { bno: 520, len: 2048 });
  assert.deepEqual(a.alloc({ ...req, goal: 512, maxLen: 512, alignment: 512 }), { bno: 3072, len: 512 });
  a.release(3072, 512);
  assert.deepEqual(a.alloc({ ...req, goal: 512, maxLen: 512, alignment: 512 }), { bno: 3072, len: 512 });
});

function run(mkfs: string, steps: string): ReturnType<typeof runScenario> {
  return runScenario(parseScenario(`
name: t
machine: { memoryBytes: 4GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 1GiB } ] }
kernel: { profile: linux-6.1 }
steps:
  - mkfs: { device: pmem0, fs: xfs${mkfs} }
  - mount: { device: pmem0, target: /mnt, options: [dax] }
  - create: { path: /mnt/s, sizeBytes: 8MiB, content: sparse }
  - open: { path: /mnt/s, flags: [O_RDWR], fd: s }
${steps}`, 't.yaml'));
}

const WRITE_ALL = `
  - mmap: { fd: s, lengthBytes: 8MiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED, MAP_FIXED], addrBytes: 0x7f0000000000, map: m }
  - access: { map: m, op: write, strideBytes: 4KiB }
  - report: { name: r }`;

test('write faults on a sparse 8 MiB file: 2048 PTE faults on default and extszinherit=512, 4 PMD faults with su=2m', () => {
  // xfs-dax-faults-{default,extsize,su}.linux-6.1.xfs-dax.jsonl, step 13 (there after 4 MiB of reads).
  const faults = (mkfs: string): number => {
    const r = run(mkfs, WRITE_ALL).reports.r!;
    return r.rusage.minflt + r.rusage.majflt;
  };
  assert.equal(faults(''), 2048);
  assert.equal(faults(', extsizeBytes: 2MiB'), 2048);
  assert.equal(faults(', suBytes: 2MiB, sw: 1'), 4);
});

test('an extent size hint rounds a DAX write past EOF up to it, and the last close trims post-EOF blocks', () => {
  // xfs-dax-faults-extsize: a 4 KiB pwrite gives st_blocks 4096, one of 100 bytes at 3 MiB 6144
  // (1 MiB, not backwards: conversions skip xfs_bmap_extsize_align); the bmap after close keeps 1 block at 3 MiB.
  const r = run(', extsizeBytes: 2MiB', `
  - create: { path: /mnt/p, sizeBytes: 0, content: sparse }
  - open: { path: /mnt/p, flags: [O_RDWR], fd: p }
  - pwrite: { fd: p, offsetBytes: 0, lengthBytes: 4KiB }
  - stat: { path: /mnt/p, expect: { result: 0 } }
  - pwrite: { fd: p, offsetBytes: 3MiB, lengthBytes: 100 }
  - report: { name: open }
  - close: { fd: p }
  - report: { name: closed }`);
  const blocks = (n: string): number | undefined => r.reports[n]!.files['/mnt/p']?.blocks;
  assert.equal(blocks('open'), 6144);
  assert.equal(blocks('closed'), 4096 + 8);
});

test('fallocate: UNSHARE_RANGE preallocates (no reflink), punch without KEEP_SIZE is EOPNOTSUPP', () => {
  // xfs-dax-falloc-truncate.linux-6.1.xfs-dax.jsonl steps 21-24 (ext4 refuses UNSHARE_RANGE).
  const r = run('', `
  - fallocate: { fd: s, mode: [FALLOC_FL_UNSHARE_RANGE], offsetBytes: 0, lengthBytes: 64KiB, expect: { result: 0 } }
  - fallocate: { fd: s, mode: [FALLOC_FL_PUNCH_HOLE], offsetBytes: 0, lengthBytes: 4KiB, expect: { errno: EOPNOTSUPP } }
  - report: { name: r }`);
  assert.equal(r.reports.r!.files['/mnt/s']?.blocks, 128);
});

test('xfs is refused where it is not modelled: mkfs on a block device, mount without -o dax', () => {
  assert.throws(() => runScenario(parseScenario(`
name: t
machine: { memoryBytes: 1GiB, devices: [ { name: vda, type: block, sizeBytes: 1GiB } ] }
steps:
  - mkfs: { device: vda, fs: xfs }`, 't.yaml')), /xfs is modelled only on pmem/);
  assert.throws(() => runScenario(parseScenario(`
name: t
machine: { memoryBytes: 1GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 1GiB } ] }
steps:
  - mkfs: { device: pmem0, fs: xfs }
  - mount: { device: pmem0, target: /mnt }`, 't.yaml')), /xfs is modelled only with -o dax/);
});

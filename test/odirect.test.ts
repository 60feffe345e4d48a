// O_DIRECT (issue 12): ext4 page-cache files through iomap direct I/O, DAX files that ignore it,
// tmpfs that refuses it before 6.6 and buffers it after. Every figure asserted here was measured
// by the real-kernel runner (examples/odirect.yaml, examples/odirect-open.yaml) and is recorded in
// test/oracle-runs/odirect*.jsonl (6.18 host tmpfs and ext4; 6.1 guest ext4 and ext4-dax; 7.2
// guest ext4-dax), which test/oracle-runs.test.ts replays figure by figure; these tests pin each
// mechanism on its own. Sources: fs/iomap/direct-io.c (__iomap_dio_rw, iomap_dio_bio_iter,
// iomap_dio_hole_iter, iomap_dio_complete), mm/truncate.c invalidate_inode_pages2_range,
// mm/filemap.c kiocb_invalidate_pages, fs/ext4/file.c ext4_dio_write_iter and ext4_dax_read_iter,
// fs/ext4/inode.c ext4_iomap_alloc, mm/shmem.c shmem_file_open (6.6+), fs/open.c do_dentry_open.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';
import { ScenarioError } from '../src/scenario/types.ts';
import { dataDigest } from '../src/lib/data.ts';

const EXT4 = `
kernel: { profile: PROFILE }
machine:
  memoryBytes: 1GiB
  devices: [{ name: vda, type: block, sizeBytes: 256MiB }, { name: pmem0, type: pmem, sizeBytes: 256MiB }]
mounts: [MOUNT]
steps:
`;
const MOUNTS = {
  ext4: '{ fs: ext4, device: vda, target: /mnt }',
  dax: '{ fs: ext4, device: pmem0, target: /mnt, options: [dax] }',
  tmpfs: '{ fs: tmpfs, target: /mnt }',
};

function run(steps: string, profile = 'linux-6.18', mount: keyof typeof MOUNTS = 'ext4') {
  const s = parseScenario(EXT4.replace('PROFILE', profile).replace('MOUNT', MOUNTS[mount]) + steps, 'test');
  const r = runScenario(s, { collectHostTime: false });
  assert.deepEqual(r.failures, []);
  return r;
}

const FILE = `
  - create: { path: /mnt/f, sizeBytes: 64KiB, writeChunkBytes: 64KiB, fsync: true }
  - open: { path: /mnt/f, flags: [O_RDWR, O_DIRECT], fd: d }
`;

test('offset, length and buffer address must be 512-aligned over a mapped extent (EINVAL; 6.18 and 6.1 steps 9-14)', () => {
  for (const profile of ['linux-6.18', 'linux-6.1']) {
    run(`${FILE}
  - pread: { fd: d, lengthBytes: 4KiB, expect: { result: 4096 } }
  - pread: { fd: d, lengthBytes: 4KiB, bufferOffsetBytes: 1, expect: { errno: EINVAL } }
  - pread: { fd: d, lengthBytes: 4KiB, bufferOffsetBytes: 512, expect: { result: 4096 } }
  - pread: { fd: d, offsetBytes: 512, lengthBytes: 1KiB, expect: { result: 1024 } }
  - pread: { fd: d, offsetBytes: 100, lengthBytes: 4KiB, expect: { errno: EINVAL } }
  - pread: { fd: d, lengthBytes: 1000, expect: { errno: EINVAL } }
  - pwrite: { fd: d, offsetBytes: 100, lengthBytes: 4KiB, expect: { errno: EINVAL } }
`, profile);
  }
});

test('a hole or unwritten extent reads as zeros with no alignment rule (iomap_dio_hole_iter; steps 31, 36, 38)', () => {
  const r = run(`
  - create: { path: /mnt/g, sizeBytes: 64KiB, content: sparse }
  - open: { path: /mnt/g, flags: [O_RDWR, O_DIRECT], fd: g }
  - pread: { fd: g, offsetBytes: 4KiB, lengthBytes: 100, bufferOffsetBytes: 3, expect: { result: 100 } }
  - fallocate: { fd: g, offsetBytes: 40KiB, lengthBytes: 8KiB }
  - pread: { fd: g, offsetBytes: 40KiB, lengthBytes: 100, bufferOffsetBytes: 1, expect: { result: 100 } }
`);
  assert.equal(r.steps[2]!.data, dataDigest(new Uint8Array(100)));
  assert.equal(r.steps[4]!.data, dataDigest(new Uint8Array(100)));
  // A read crossing into a mapped block is checked there: the same misaligned read over data fails.
  run(`${FILE}  - pread: { fd: d, offsetBytes: 4KiB, lengthBytes: 100, bufferOffsetBytes: 3, expect: { errno: EINVAL } }`);
});

test('a direct write drops the range from the page cache and zaps its mappings: the next load is a major fault', () => {
  // 6.18 ext4 keeps the file in one 64 KiB folio, which goes whole; 6.1 has 4 KiB folios (step 16).
  const cases: Array<[string, number[]]> = [['linux-6.18', Array<number>(16).fill(0)],
    ['linux-6.1', [1, 1, 0, ...Array<number>(13).fill(1)]]];
  for (const [profile, after] of cases) {
    run(`${FILE}
  - open: { path: /mnt/f, flags: [O_RDWR], fd: b }
  - mmap: { fd: b, lengthBytes: 64KiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read }
  - pwrite: { fd: d, offsetBytes: 8KiB, lengthBytes: 4KiB, byte: 0x5a, expect: { result: 4096 } }
  - mincore: { map: m, expect: { data: { bytes: [${after.join(', ')}] } } }
  - load: { map: m, offsetBytes: 8KiB, expect: { result: 0x5a, rusage: { majflt: 1, minflt: 0 } } }
`, profile);
  }
});

test('dirty pages are written back before a direct read or write (kiocb_write_and_wait; steps 18-24)', () => {
  const r = run(`${FILE}
  - open: { path: /mnt/f, flags: [O_RDWR], fd: b }
  - mmap: { fd: b, lengthBytes: 64KiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED], map: m }
  - store: { map: m, offsetBytes: 16KiB, byte: 7 }
  - pwrite: { fd: b, offsetBytes: 24KiB, lengthBytes: 4KiB, byte: 0x44 }
  - pread: { fd: d, offsetBytes: 16KiB, lengthBytes: 512 }
  - pread: { fd: d, offsetBytes: 24KiB, lengthBytes: 512, expect: { data: { bytes: [0x44] } } }
  - pwrite: { fd: d, offsetBytes: 16KiB, lengthBytes: 4KiB, byte: 0x33 }
  - load: { map: m, offsetBytes: 16KiB, expect: { result: 0x33, rusage: { majflt: 1 } } }
`);
  // The stored byte, then create's pattern for page 4 (4 * 7 + 1 = 29): the mapping's dirty page was written back.
  const want = new Uint8Array(512).fill(29);
  want[0] = 7;
  assert.equal(r.steps[6]!.data, dataDigest(want));
});

test('a misaligned write into a hole fails only after ext4 allocated its blocks (st_blocks 8 -> 24; step 34)', () => {
  const r = run(`
  - create: { path: /mnt/g, sizeBytes: 64KiB, content: sparse }
  - open: { path: /mnt/g, flags: [O_RDWR, O_DIRECT], fd: g }
  - pwrite: { fd: g, offsetBytes: 8KiB, lengthBytes: 4KiB, byte: 9, expect: { result: 4096 } }
  - stat: { path: /mnt/g }
  - pwrite: { fd: g, offsetBytes: 32868, lengthBytes: 4KiB, byte: 9, expect: { errno: EINVAL } }
  - stat: { path: /mnt/g }
  - pread: { fd: g, offsetBytes: 32KiB, lengthBytes: 100, expect: { result: 100 } }
`);
  assert.equal((r.steps[3]!.result as { blocks: number }).blocks, 8);
  assert.equal((r.steps[5]!.result as { blocks: number }).blocks, 24);
});

test('reads at or past EOF return 0 before any alignment check; one crossing EOF is short (steps 28-29, 41-42)', () => {
  const r = run(`${FILE}
  - pread: { fd: d, offsetBytes: 1MiB, lengthBytes: 100, bufferOffsetBytes: 3, expect: { result: 0 } }
  - create: { path: /mnt/h, sizeBytes: 5000 }
  - open: { path: /mnt/h, flags: [O_RDWR, O_DIRECT], fd: h }
  - pread: { fd: h, lengthBytes: 8KiB, expect: { result: 5000 } }
  - pread: { fd: h, offsetBytes: 4KiB, lengthBytes: 4KiB, expect: { result: 904 } }
  - pwrite: { fd: d, offsetBytes: 64KiB, lengthBytes: 8KiB, byte: 2, expect: { result: 8192 } }
  - stat: { path: /mnt/f }
`);
  assert.deepEqual({ ...(r.steps[8]!.result as object), ino: 0 }, { sizeBytes: 73728, blocks: 144, ino: 0 });
});

test('buffers inside mappings are pinned by GUP: write faults for a read, EFAULT for a read-only VMA (steps 43-56)', () => {
  run(`${FILE}
  - mmap: { flags: [MAP_PRIVATE, MAP_ANONYMOUS], prot: [PROT_READ, PROT_WRITE], lengthBytes: 64KiB, map: a }
  - pread: { fd: d, lengthBytes: 16KiB, buffer: { map: a }, expect: { result: 16384, rusage: { minflt: 4 } } }
  - mmap: { flags: [MAP_PRIVATE, MAP_ANONYMOUS], prot: [PROT_READ], lengthBytes: 16KiB, map: ro }
  - pread: { fd: d, lengthBytes: 4KiB, buffer: { map: ro }, expect: { errno: EFAULT, rusage: { minflt: 0 } } }
  - pwrite: { fd: d, offsetBytes: 32KiB, lengthBytes: 8KiB, buffer: { map: ro }, expect: { result: 8192, rusage: { minflt: 2 } } }
  - create: { path: /mnt/k, sizeBytes: 64KiB, fsync: true }
  - open: { path: /mnt/k, flags: [O_RDWR], fd: kb }
  - mmap: { fd: kb, lengthBytes: 64KiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED], map: km }
  - dropCaches: {}
  - pread: { fd: d, lengthBytes: 16KiB, buffer: { map: km }, expect: { rusage: { minflt: 3, majflt: 1 } } }
`);
});

test('ext4 -o dax ignores O_DIRECT: any alignment, no page cache (ext4_dax_read_iter; 6.1 and 7.2 ext4-dax runs)', () => {
  run(`${FILE}
  - pread: { fd: d, offsetBytes: 100, lengthBytes: 1000, bufferOffsetBytes: 1, expect: { result: 1000 } }
  - pwrite: { fd: d, offsetBytes: 100, lengthBytes: 4KiB, byte: 1, expect: { result: 4096 } }
`, 'linux-6.1', 'dax');
});

test('tmpfs: O_DIRECT open is EINVAL before 6.6 (the file O_CREAT made stays), buffered after (odirect-open)', () => {
  const old = run(`
  - open: { path: /mnt/n, flags: [O_RDWR, O_CREAT, O_DIRECT], fd: n, expect: { errno: EINVAL } }
  - stat: { path: /mnt/n }
`, 'linux-6.1', 'tmpfs');
  assert.equal((old.steps[1]!.result as { sizeBytes: number }).sizeBytes, 0);
  run(`
  - create: { path: /mnt/t, sizeBytes: 16KiB }
  - open: { path: /mnt/t, flags: [O_RDWR, O_DIRECT], fd: d }
  - pread: { fd: d, offsetBytes: 100, lengthBytes: 1000, bufferOffsetBytes: 1, expect: { result: 1000 } }
`, 'linux-6.18', 'tmpfs');
});

test('bufferOffsetBytes: 0-4095, not with buffer (a clear parse error)', () => {
  const bad = (steps: string, re: RegExp) => assert.throws(() => parseScenario(EXT4.replace('PROFILE', 'linux-6.18')
    .replace('MOUNT', MOUNTS.tmpfs) + steps, 'test'), (e: unknown) => e instanceof ScenarioError && re.test(e.message));
  const open = `  - open: { path: /mnt/t, flags: [O_RDWR, O_CREAT, O_DIRECT], fd: d }
  - mmap: { flags: [MAP_PRIVATE, MAP_ANONYMOUS], prot: [PROT_READ, PROT_WRITE], lengthBytes: 4KiB, map: a }
`;
  bad(`${open}  - pread: { fd: d, lengthBytes: 1, bufferOffsetBytes: 4096 }`, /expected 0 to 4095/);
  bad(`${open}  - pread: { fd: d, lengthBytes: 1, bufferOffsetBytes: 1, buffer: { map: a } }`, /not both/);
});

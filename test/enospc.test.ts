// A full filesystem answers with ENOSPC and keeps what the kernel keeps (issue 17: "allocator
// ENOSPC", "huge DAX fallocate"). Kernel source read: ext4_alloc_file_blocks (fs/ext4/extents.c,
// 6.1/6.18: no rollback, i_size grown after each allocated run through ext4_update_inode_size
// unless KEEP_SIZE), ext4_da_write_begin (reservation before the copy), shmem_fallocate
// (mm/shmem.c 6.1: shmem_undo_range(unfalloc) frees what the failed call allocated, i_size kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';

const MiB = 2 ** 20;
const ENOSPC = -28, O_RDWR_CREAT = 0x42, KEEP = 1;

function fs(kind: 'ext4' | 'dax' | 'tmpfs', memoryMiB = 256): { m: Machine; p: Process } {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: memoryMiB * MiB,
    devices: [{ name: 'd0', type: kind === 'dax' ? 'pmem' : 'block', sizeBytes: 16 * MiB }] });
  if (kind === 'tmpfs') m.mount('/t', 'tmpfs');
  else { m.mkfs('d0', 'ext4'); assert.equal(m.mount('/t', 'ext4', 'd0', kind === 'dax' ? ['dax'] : []), 0); }
  return { m, p: m.process() };
}

function stat(p: Process, path: string): { sizeBytes: number; blocks: number } {
  const st = p.stat(path);
  assert.ok(typeof st !== 'number', `${path} exists`);
  return st;
}

for (const kind of ['ext4', 'dax'] as const) {
  test(`ext4${kind === 'dax' ? ' -o dax' : ''}: fallocate past the free space is ENOSPC; the blocks and i_size it got stay`, () => {
    const { p } = fs(kind);
    const fd = p.open('/t/a', O_RDWR_CREAT);
    assert.equal(p.fallocate(fd, 0, 0, 64 * MiB), ENOSPC);
    const st = stat(p, '/t/a');
    assert.ok(st.blocks > 0 && st.blocks * 512 < 16 * MiB, `part of the device is allocated (${st.blocks} sectors)`);
    assert.equal(st.sizeBytes, st.blocks * 512, 'i_size reaches the end of the allocated blocks');
    const fd2 = p.open('/t/b', O_RDWR_CREAT);
    assert.equal(p.fallocate(fd2, KEEP, 0, 64 * MiB), ENOSPC);
    assert.equal(stat(p, '/t/b').sizeBytes, 0, 'KEEP_SIZE: i_size stays');
    assert.equal(p.fallocate(fd2, 0, 0, 2 ** 40), ENOSPC, 'a 1 TiB fallocate fails, it does not run for ever');
    assert.equal(p.fallocate(fd2, 0x10, 0, 2 ** 40), ENOSPC, 'so does a 1 TiB ZERO_RANGE');
    assert.equal(p.fallocate(fd2, 3, 0, 2 ** 40), 0, 'a 1 TiB punch needs no space');
    // Unwritten blocks are the file's own: writing over them needs no new block.
    // (A page-cache write fails a whole large-folio chunk that reaches past them.)
    const len = stat(p, '/t/a').sizeBytes;
    const n = p.pwrite(fd, len + 8192, 0, 3);
    assert.ok(n <= len && n > len - 2 * MiB, `${n} of the ${len} allocated bytes written`);
    const out = new Uint8Array(1);
    assert.equal(p.pread(fd, 1, n - 1, out), 1);
    assert.equal(out[0], 3);
    // Space comes back with the file.
    assert.equal(p.close(fd), 0);
    assert.equal(p.unlink('/t/a'), 0);
    assert.equal(p.fsync(fd2), 0);
    assert.equal(p.fallocate(fd2, 0, 0, 4 * MiB), 0);
  });
}

test('ext4: a buffered write that runs out of space changes no byte it does not report (ext4_da_write_begin)', () => {
  const { p } = fs('ext4');
  const fd = p.open('/t/a', O_RDWR_CREAT);
  const n = p.pwrite(fd, 64 * MiB, 0, 9);
  assert.ok(n > 0 && n < 16 * MiB, `a short write (${n})`);
  assert.equal(stat(p, '/t/a').sizeBytes, n);
  // The failed chunk's folio is in the page cache: none of its bytes past n may have changed.
  assert.equal(p.ftruncate(fd, n + 65536), 0);
  const out = new Uint8Array(65536);
  assert.equal(p.pread(fd, 65536, n, out), 65536);
  assert.equal(out.findIndex((b) => b !== 0), -1, 'zeros past the bytes written');
});

test('tmpfs: fallocate that runs out of memory is ENOSPC and gives back the pages it took (shmem_undo_range)', () => {
  const { m, p } = fs('tmpfs', 64);
  const fd = p.open('/t/a', O_RDWR_CREAT);
  assert.equal(p.pwrite(fd, 8192, 0, 4), 8192);
  const free = m.meminfo().MemFree!;
  assert.equal(p.fallocate(fd, 0, 0, 128 * MiB), ENOSPC);
  const st = stat(p, '/t/a');
  assert.equal(st.sizeBytes, 8192, 'i_size unchanged');
  assert.equal(st.blocks, 16, 'only the written pages remain');
  assert.equal(m.meminfo().MemFree, free, 'every page it allocated is free again');
  const out = new Uint8Array(1);
  p.pread(fd, 1, 4096, out);
  assert.equal(out[0], 4, 'written pages keep their data');
});

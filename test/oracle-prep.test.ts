/**
 * How a file was made decides the faults of touching it through a mapping, on Linux 6.18, against
 * test/oracle/linux-6.18-host-prep.jsonl (test/oracle/prepprobe.c on a 6.18 host, identical in
 * three runs; ext4 on a virtio disk with read_ahead_kb 8192 and max_sectors_kb 4096). Rows this
 * checks, among others:
 * - tmpfs: fallocate leaves folios not uptodate (SGP_FALLOC), so fault-around skips them and
 *   every page faults (16384), against one fault per 16 pages (1024) for a written file;
 * - ext4: reads of holes and unwritten extents go through readahead, whose folios grow;
 * - ext4: a shared write fault on a hole reserves delayed allocation for the whole folio it maps
 *   (ext4_page_mkwrite -> block_page_mkwrite), so st_blocks covers the file (131072) at once;
 * - ext4: a file written in 1 MiB pwrites holds 1 MiB folios: 64 write faults, 64 + 15 reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE,
  MAP_FIXED } from '../src/mm/constants.ts';
import { oracleRows } from './support.ts';

interface PrepRow { fs: 'tmpfs' | 'ext4'; prep: string; op: string; map: string; minflt: number; majflt: number; st_blocks_after: number }
const oracle = oracleRows<PrepRow>('linux-6.18-host-prep.jsonl');

test('linux-6.18: every prepprobe row (tmpfs and ext4; ftruncate, fallocate, pwrite; read, write, private write) '
  + 'matches the host oracle', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30, readAheadKb: 8192, maxSectorsKb: 4096 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt/ext4', 'ext4', 'vda');
  m.mount('/dev/shm', 'tmpfs');
  const p = m.process('prepprobe');
  assert.equal(oracle.length, 18);
  for (const e of oracle) {
    const len = 64 << 20;
    const path = `${e.fs === 'tmpfs' ? '/dev/shm' : '/mnt/ext4'}/prepprobe.dat`;
    const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
    if (e.prep === 'ftruncate') assert.equal(p.ftruncate(fd, len), 0);
    else if (e.prep === 'fallocate') assert.equal(p.fallocate(fd, 0, 0, len), 0);
    else for (let o = 0; o < len; o += 1 << 20) assert.equal(p.pwrite(fd, 1 << 20, o, 1), 1 << 20);
    const r = p.mmap(0, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    const a = Math.ceil(r / (2 << 20)) * (2 << 20);
    const wr = e.op === 'write';
    assert.equal(p.mmap(a, len, PROT_READ | (wr ? PROT_WRITE : 0), (e.map === 'private' ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0), a);
    const u0 = p.rusage();
    for (let o = 0; o < len; o += 4096) assert.ok((wr ? p.store(a + o, 1) : p.load(a + o)) >= 0);
    const u1 = p.rusage();
    const st = p.stat(path);
    assert.ok(typeof st !== 'number');
    assert.deepEqual({ minflt: u1.minflt - u0.minflt, majflt: u1.majflt - u0.majflt, st_blocks_after: st.blocks },
      { minflt: e.minflt, majflt: e.majflt, st_blocks_after: e.st_blocks_after }, `${e.fs} ${e.prep} ${e.op} ${e.map}`);
    p.munmap(a, len);
    p.munmap(r, len + (8 << 20));
    p.close(fd);
    p.unlink(path);
  }
});

/**
 * Where ext4's mballoc puts a 128 MiB file on a fresh ext4 -o dax, and the DAX faults that follow,
 * on the Linux 6.1 guest (test/oracle/daxplaceprobe.c, test/oracle/linux-6.1-guest-dax-place.jsonl:
 * two boots, the same in both), measured to check the 'mballoc' placement built on the 8 MiB files
 * of test/oracle-dax-guest-ops.test.ts. Three rows held; two corrected it (a goal's free extent
 * ends at its block group; fallocate is not normalised up to EXT_UNWRITTEN_MAX_LEN blocks, and
 * beyond 8 MiB the window is always 8 MiB). What they show: a file written by 1 MiB
 * pwrites starts 1 MiB- but not 2 MiB-aligned and stays contiguous until its 8 MiB window no longer
 * fits in the block group, where it moves on to an aligned run (4 PMDs of 64: 30724 faults);
 * fallocate of more than EXT_UNWRITTEN_MAX_LEN blocks is normalised to 8 MiB windows (aligned, 64
 * PMDs); sparse files filled by PTE or PMD faults get aligned windows too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daxGuestMachine } from './daxguestprobe.ts';
import type { Ext4 } from '../src/fs/ext4/ext4.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { oracleRows, faultCount } from './support.ts';

interface Row { kernel: string; boot: number; scenario: string; faults: number; pmd_chunks: number; st_blocks: number; extents: string }
const guest = oracleRows<Row>('linux-6.1-guest-dax-place.jsonl');

const MiB = 2 ** 20, LEN = 128 * MiB, PG = 4096, A = 0x7f0000000000;

/** The probe's scenario on a fresh machine: faults of its pass, st_blocks, PMD-eligible chunks. */
function run(scenario: string): { faults: number; pmd_chunks: number; st_blocks: number } {
  const m = daxGuestMachine();
  const p = m.process();
  const fd = p.open('/mnt/place.dat', O_RDWR | O_CREAT | O_TRUNC);
  const count = (fn: () => void) => faultCount(p, fn);
  let faults = 0;
  if (scenario === 'pwrite-128M-read' || scenario === 'fallocate-pwrite-128M-read') {
    if (scenario.startsWith('fallocate')) assert.equal(p.fallocate(fd, 0, 0, LEN), 0);
    for (let o = 0; o < LEN; o += MiB) assert.equal(p.pwrite(fd, MiB, o, 0x5a), MiB);
    p.fsync(fd);
    const a = p.mmap(A, LEN, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    faults = count(() => p.access(a, LEN, PG, false));
  } else if (scenario === 'fallocate-128M') {
    assert.equal(p.fallocate(fd, 0, 0, LEN), 0);
  } else {
    p.ftruncate(fd, LEN);
    const a = p.mmap(A + (scenario === 'sparse-128M-pte-write' ? PG : 0), LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    faults = count(() => p.access(a, LEN, PG, true));
  }
  const fs = m.k.vfs.mounts.find((s) => s.mountPoint === '/mnt')!.fs as Ext4;
  const ext = fs.extentsOf(p.kp.fds[fd]!.inode);
  let pmd = 0;
  for (let lo = 0; lo < LEN / PG; lo += 512) {
    for (const e of ext) if (e.lblk <= lo && e.lblk + e.lenBlocks >= lo + 512 && (e.pblk + lo - e.lblk) % 512 === 0) pmd++;
  }
  return { faults, pmd_chunks: pmd, st_blocks: (p.stat('/mnt/place.dat') as { blocks: number }).blocks };
}

test('the guest data: Linux 6.1, five scenarios, the same in both boots', () => {
  assert.ok(guest.every((r) => r.kernel.startsWith('6.1.')));
  const b1 = guest.filter((r) => r.boot === 1), b2 = guest.filter((r) => r.boot === 2);
  assert.equal(b1.length, 5);
  b1.forEach((r, i) => assert.deepEqual({ ...r, boot: 0 }, { ...b2[i]!, boot: 0 }));
});

for (const w of guest.filter((r) => r.boot === 1)) {
  test(`linux-6.1 fresh ext4-dax, ${w.scenario}: faults, st_blocks and PMD-eligible chunks as on the guest `
    + `(${w.extents})`, () => {
    assert.deepEqual(run(w.scenario), { faults: w.faults, pmd_chunks: w.pmd_chunks, st_blocks: w.st_blocks });
  });
}

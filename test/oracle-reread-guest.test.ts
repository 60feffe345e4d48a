/**
 * iozone -B's write/re-write/read/re-read passes (test/oracle/rereadprobe.c) on the Linux 6.1
 * guest of ../shared/oracle/guest-harness (QEMU, memmap=1G!4G pmem), against
 * test/oracle/linux-6.1-guest-reread.jsonl (3 reps per case, run through
 * test/oracle/guest/rereadprobe-guest.c; rep 0's write pass carries 2 first-touch faults of the
 * probe itself, so reps >= 1 are compared). The model runs the same passes (test/rereadprobe.ts)
 * on the linux-6.1 profile, every pass's faults exact:
 * - tmpfs, ext4 on a virtio disk and ext4 on pmem without DAX: one write fault per page (6.1 has
 *   no large ext4 folios) and one read fault per 16-page fault-around window (2049 at 4 KiB skew);
 * - ext4 -o dax (plain or with a 2 MiB stripe): no fault-around, so 16 read faults for 64 KiB; for
 *   128 MiB at a 2 MiB-aligned address, 63 PMD faults plus 512 PTE faults in every pass, because
 *   the block that iozone's sizing pwrite allocated first leaves the last 2 MiB of the file
 *   without an aligned 2 MiB extent (dax_iomap_pmd_fault falls back); at 4 KiB skew no PMD fits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { runRereadprobe, type RereadPass } from './rereadprobe.ts';
import { oracleRows } from './support.ts';

interface GuestRow { kernel: string; fs: string; rep: number; file_kb: number; va_skew: number; pass: RereadPass; faults: number }
const guest = oracleRows<GuestRow>('linux-6.1-guest-reread.jsonl');

function machine(fs: string): Machine {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 ** 30 }, { name: 'pmem0', type: 'pmem', sizeBytes: 2 ** 30 }] });
  if (fs === 'tmpfs') assert.equal(m.mount('/mnt', 'tmpfs'), 0);
  else if (fs === 'ext4') { assert.equal(m.mkfs('vda', 'ext4'), 0); assert.equal(m.mount('/mnt', 'ext4', 'vda'), 0); }
  else {
    assert.equal(m.mkfs('pmem0', 'ext4'), 0);
    assert.equal(m.mount('/mnt', 'ext4', 'pmem0', fs.startsWith('ext4-dax') ? ['dax'] : []), 0);
  }
  return m;
}

const cases = [...new Set(guest.map((r) => `${r.fs} ${r.file_kb} ${r.va_skew}`))];

test('the guest data: 6.1, five filesystems, two sizes, two skews, every pass the same in reps >= 1', () => {
  assert.equal(cases.length, 20);
  assert.ok(guest.every((r) => r.kernel.startsWith('6.1.')));
  for (const c of cases) {
    for (const pass of ['write', 'rewrite', 'read', 'reread'] as const) {
      const v = new Set(guest.filter((r) => `${r.fs} ${r.file_kb} ${r.va_skew}` === c && r.pass === pass && r.rep >= 1).map((r) => r.faults));
      assert.equal(v.size, 1, `${c} ${pass}`);
    }
  }
});

for (const c of cases) {
  const [fs, kb, skew] = c.split(' ') as [string, string, string];
  test(`linux-6.1 ${fs}, ${Number(kb) === 64 ? '64 KiB' : '128 MiB'}, VA skew ${skew}: faults of every pass as on the `
    + `guest`, () => {
    const rows = runRereadprobe(machine(fs), '/mnt', fs, Number(kb), 2, Number(skew));
    for (const pass of ['write', 'rewrite', 'read', 'reread'] as const) {
      const want = guest.find((r) => `${r.fs} ${r.file_kb} ${r.va_skew}` === c && r.pass === pass && r.rep === 1)!.faults;
      const got = rows.find((r) => r.rep === 1 && r.pass === pass)!.faults;
      assert.equal(got, want, `${pass}`);
    }
  });
}
